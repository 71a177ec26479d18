// `idp users ...`: the local user store: list (keyset pages), show, create, set, delete, import and export.
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import { validEmail, validUsername } from '../../core/user-fields.js';
import { profilePatch } from '../../flow/profile.js';
import type { User } from '../../core/types.js';
import { action } from '../context.js';
import { registerMfa } from './mfa.js';
import { requireUser } from '../lookup.js';
import { collectPair, parseEnum, parsePositiveInt } from '../parse.js';
import { shortTime, userView } from '../views.js';

export function registerUsers(program: Command): void {
  const users = program.command('users').description('the local user store');
  registerMfa(users, program);

  users
    .command('list')
    .description('list users, a page at a time')
    .option('--source <source>', "'local', or the connection that provisioned them")
    .option('--search <text>', 'match username, email or name')
    .option('--limit <n>', 'page size (default 50, at most 1000)', parsePositiveInt('--limit', 1000), 50)
    .option('--after <cursor>', 'the next page: the cursor printed by the previous one')
    .addHelpText('after', '\nExamples:\n  idp users list\n  idp users list --source github --json\n  idp users list --search example.com --limit 20')
    .action(
      action(async (ctx, opts: { source?: string; search?: string; limit: number; after?: string }) => {
        const store = await ctx.store();
        const page = store.users.list(opts);
        ctx.out.result({ users: page.users.map(userView), next: page.next }, () => {
          if (page.users.length === 0) return opts.search || opts.source || opts.after ? 'no users match' : 'no users yet';
          const table = ctx.out.table(page.users, [
            { header: 'USERNAME', value: (u) => u.username },
            { header: 'EMAIL', value: (u) => u.email ?? '-' },
            { header: 'SOURCE', value: (u) => u.source },
            { header: 'STATUS', value: (u) => u.status },
            { header: 'CREATED', value: (u) => shortTime(u.createdAt) },
            { header: 'LAST LOGIN', value: (u) => shortTime(u.lastLoginAt) },
          ]);
          return page.next ? `${table}\nmore: idp users list --after ${page.next}` : table;
        });
      }),
    );

  users
    .command('show')
    .argument('<user>', 'id, username or email')
    .description('show a user with linked connections and MFA factors (never secrets)')
    .addHelpText('after', '\nExample:\n  idp users show alice')
    .action(
      action(async (ctx, ref: string) => {
        const store = await ctx.store();
        const user = requireUser(store, ref);
        const associations = store.associations.forUser(user.id);
        const factors = store.factors.forUser(user.id);
        const view = {
          ...userView(user),
          associations: associations.map((a) => ({ connection: a.connection, subject: a.subject, linked_at: a.linkedAt, last_login_at: a.lastLoginAt })),
          mfa_factors: factors,
        };
        ctx.out.result(view, () =>
          [
            `${ctx.out.paint.bold(user.username)} (${user.id})`,
            `  email        ${user.email ?? '-'}${user.email ? (user.emailVerified ? ' (verified)' : ' (not verified)') : ''}`,
            `  name         ${user.name ?? '-'}`,
            `  status       ${user.status}`,
            `  source       ${user.source}`,
            `  password     ${user.hasPassword ? 'set' : 'none'}`,
            `  attributes   ${Object.entries(user.attributes).map(([k, v]) => `${k}=${v}`).join(', ') || '-'}`,
            `  created      ${shortTime(user.createdAt)}   last login ${shortTime(user.lastLoginAt)}`,
            `  linked       ${associations.map((a) => `${a.connection} (subject ${a.subject})`).join(', ') || '-'}`,
            `  MFA          ${factors.map((f) => `${f.type}${f.confirmed_at ? '' : ' (unconfirmed)'}`).join(', ') || '-'}`,
          ].join('\n'),
        );
      }),
    );

  users
    .command('create')
    .argument('<username>', 'username')
    .requiredOption('--email <email>', 'email address')
    .option('--email-verified', 'mark the email as verified')
    .option('--name <name>', 'display name')
    .option('--password-stdin', 'read a password from stdin')
    .description('create a local user')
    .addHelpText('after', "\nExample:\n  printf 's3cret-pass' | idp users create dave --email dave@example.com --password-stdin")
    .action(
      action(async (ctx, username: string, opts: { email: string; emailVerified?: boolean; name?: string; passwordStdin?: boolean }) => {
        if (!validUsername(username)) throw new IdpError('INVALID_VALUE', `'${username}' is not a valid username`, 'use letters, digits and . _ @ + - (up to 64)');
        if (!validEmail(opts.email)) throw new IdpError('INVALID_VALUE', `'${opts.email}' is not a valid email address`, 'e.g. --email dave@example.com');
        const store = await ctx.store();
        if (store.users.usernameTaken(username)) throw new IdpError('USER_EXISTS', `username '${username}' is taken`, 'choose another username');
        if (store.users.byEmail(opts.email)) throw new IdpError('USER_EXISTS', `email ${opts.email} belongs to another user`, `see idp users show ${opts.email}`);
        let passwordHash: string | null = null;
        if (opts.passwordStdin) {
          const password = await ctx.secret({ stdin: true, prompt: 'Password', flags: '--password-stdin' });
          if (password.length < 8) throw new IdpError('INVALID_VALUE', 'the password must have at least 8 characters', 'pipe a longer one to --password-stdin');
          const { hashPassword } = await import('../../core/password.js');
          passwordHash = await hashPassword(password);
        }
        const user = store.tx(() => {
          const created = store.users.insert({ username, email: opts.email, emailVerified: !!opts.emailVerified, name: opts.name ?? null, passwordHash, source: 'local' });
          store.events.recordConfig({ actor: ctx.actor, action: 'users.create', target: `user ${username}`, detail: `created local user ${username}`, before: null, after: userView(created) });
          return created;
        });
        ctx.out.result(userView(user), () => `created user ${username} (${user.id})`);
      }),
    );

  users
    .command('set')
    .argument('<user>', 'id, username or email')
    .option('--attr <key=value>', 'set an attribute (name, given_name, family_name, picture, email, or any custom key; key= removes); repeatable', collectPair('--attr'))
    .option('--lock', 'lock the account (sign-in refused)')
    .option('--unlock', 'unlock the account')
    .option('--disable', 'disable the account (sign-in refused)')
    .option('--enable', 'enable a disabled account')
    .option('--status <status>', 'active | locked | disabled', parseEnum('--status', ['active', 'locked', 'disabled'] as const))
    .description('change a user')
    .addHelpText('after', '\nExamples:\n  idp users set alice --attr department=finance\n  idp users set alice --lock')
    .action(
      action(async (ctx, ref: string, opts: { attr?: [string, string][]; lock?: boolean; unlock?: boolean; disable?: boolean; enable?: boolean; status?: User['status'] }) => {
        const statusFlags = [opts.lock && 'locked', opts.unlock && 'active', opts.disable && 'disabled', opts.enable && 'active', opts.status].filter(Boolean) as User['status'][];
        if (new Set(statusFlags).size > 1) throw new IdpError('USAGE', 'conflicting status flags', 'pass one of --lock, --unlock, --disable, --enable');
        const store = await ctx.store();
        const user = requireUser(store, ref);
        const patch = profilePatch(store, user, opts.attr ?? []);
        const status = statusFlags[0] ?? user.status;
        const before = userView(user);
        const after = userView({ ...user, ...patch, status });
        const changed = JSON.stringify(before) !== JSON.stringify(after);
        if (changed) {
          store.tx(() => {
            store.users.updateProfile(user.id, patch);
            if (status !== user.status) store.users.setStatus(user.id, status);
            store.events.recordConfig({ actor: ctx.actor, action: 'users.set', target: `user ${user.username}`, detail: `changed user ${user.username}`, before, after });
          });
        }
        ctx.out.result({ changed, before, after }, () => (changed ? `changed user ${user.username}` : `user ${user.username}: no change`));
      }),
    );

  users
    .command('delete')
    .argument('<user>', 'id, username or email')
    .option('-y, --yes', 'do not ask for confirmation')
    .description('delete a user with their associations and MFA factors')
    .addHelpText('after', '\nExample:\n  idp users delete octocat --yes')
    .action(
      action(async (ctx, ref: string, opts: { yes?: boolean }) => {
        const store = await ctx.store();
        const user = requireUser(store, ref);
        await ctx.confirm(`Delete user ${user.username} (${user.email ?? 'no email'})?`, opts.yes, `delete user ${user.username}`);
        store.tx(() => {
          store.users.delete(user.id);
          store.events.recordConfig({ actor: ctx.actor, action: 'users.delete', target: `user ${user.username}`, detail: `deleted user ${user.username}`, before: userView(user), after: null });
        });
        ctx.out.result({ deleted: user.id, username: user.username }, () => `deleted user ${user.username}`);
      }),
    );

  users
    .command('import')
    .argument('<file>', 'JSON array, JSON lines, or CSV with a header row')
    .description('import users in one transaction: all or nothing')
    .addHelpText('after', '\nExamples:\n  idp users import people.csv\n  idp users import people.json --json\n\nFields: username (required), email, email_verified, name, given_name, family_name, picture, status, password_hash (idp scrypt format), attributes; other columns become attributes. A password column is refused; size limits: README, "users import".')
    .action(
      action(async (ctx, file: string) => {
        const { readText } = await import('../../flow/read-text.js');
        const { parseUserFile } = await import('../../core/user-records.js');
        const text = readText(file, 'import');
        const records = parseUserFile(text, file);
        const store = await ctx.store();
        const started = performance.now();
        const { importUsers } = await import('../../store/import.js');
        const count = importUsers(store, records, file, ctx.actor);
        const seconds = (performance.now() - started) / 1000;
        ctx.out.result({ imported: count, seconds: Number(seconds.toFixed(3)) }, () => `imported ${count} user(s) from ${file}`);
      }),
    );

  users
    .command('export')
    .description('print every user as JSON (default) or CSV; password hashes only when asked')
    .option('--format <format>', 'json | csv', parseEnum('--format', ['json', 'csv'] as const), 'json')
    .option('--with-password-hashes', 'include scrypt password hashes (treat the output as a secret)')
    .addHelpText('after', '\nExamples:\n  idp users export > users.json\n  idp users export --format csv > users.csv')
    .action(
      action(async (ctx, opts: { format: 'json' | 'csv'; withPasswordHashes?: boolean }) => {
        const { writeExport } = await import('../user-export.js');
        const store = await ctx.store();
        await writeExport(store.users.iterate(), opts.format, !!opts.withPasswordHashes, process.stdout);
      }),
    );
}
