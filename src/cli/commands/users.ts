// `idp users ...`: the local user store: list (keyset pages), show, create, set, unlink, delete, import and export.
// Only listing's use case loads with the command (scripts page through users); the others load in their actions.
import type { Command } from 'commander';
import { listUsers } from '../../app/user-list.js';
import { userView } from '../../app/views.js';
import { IdpError } from '../../core/errors.js';
import type { User } from '../../core/types.js';
import { action } from '../context.js';
import { registerMfa } from './mfa.js';
import { collectPair, parseBool, parseEnum, parsePositiveInt } from '../parse.js';
import { inert } from '../render.js';
import { passkeyJson, shortTime } from '../views.js';

/** The admin use cases on users, loaded by the actions that run one. */
const userCases = () => import('../../app/users.js');

export function registerUsers(program: Command): void {
  const group = program.command('users').description('the local user store');
  registerMfa(group, program);

  group
    .command('list')
    .description('list users, a page at a time')
    .option('--source <source>', "'local', or the connection that provisioned them")
    .option('--search <text>', 'match username, email or name')
    .option('--limit <n>', 'page size (at most 1000)', parsePositiveInt('--limit', 1000), 50)
    .option('--after <cursor>', 'the next page: the cursor printed by the previous one')
    .addHelpText(
      'after',
      '\nExamples:\n  idp users list\n  idp users list --source github --json\n  idp users list --search example.com --limit 20',
    )
    .action(
      action(async (ctx, opts: { source?: string; search?: string; limit: number; after?: string }) => {
        const page = await listUsers(await ctx.store(), opts);
        ctx.out.result({ users: page.users.map(userView), next: page.next }, () => {
          if (page.users.length === 0)
            return opts.search || opts.source || opts.after ? 'no users match' : 'no users yet';
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

  group
    .command('show')
    .argument('<user>', 'id, username or email')
    .description('show a user with linked connections and MFA factors (never secrets)')
    .addHelpText('after', '\nExample:\n  idp users show alice')
    .action(
      action(async (ctx, ref: string) => {
        const { showUser } = await userCases();
        const { user, associations, factors, passkeys } = await showUser(await ctx.store(), ref);
        const view = {
          ...userView(user),
          associations: associations.map((a) => ({
            connection: a.connection,
            subject: a.subject,
            linked_at: a.linkedAt,
            last_login_at: a.lastLoginAt,
          })),
          mfa_factors: factors,
          passkeys: passkeys.map(passkeyJson),
        };
        ctx.out.result(view, () =>
          [
            `${ctx.out.paint.bold(user.username)} (${user.id})`,
            `  email        ${inert(user.email ?? '-')}${user.email ? (user.emailVerified ? ' (verified)' : ' (not verified)') : ''}`,
            `  name         ${inert(user.name ?? '-')}`,
            `  status       ${user.status}`,
            `  source       ${user.source}`,
            `  password     ${user.hasPassword ? 'set' : 'none'}`,
            `  attributes   ${
              Object.entries(user.attributes)
                .map(([k, v]) => inert(`${k}=${v}`))
                .join(', ') || '-'
            }`,
            `  created      ${shortTime(user.createdAt)}   last login ${shortTime(user.lastLoginAt)}`,
            `  linked       ${associations.map((a) => `${a.connection} (subject ${inert(a.subject)})`).join(', ') || '-'}`,
            `  MFA          ${
              [
                ...factors.map((f) => `${f.type}${f.confirmed_at ? '' : ' (unconfirmed)'}`),
                ...passkeys.map((p) => `${p.factor} "${inert(p.name)}"${p.software ? ' (software: testing aid)' : ''}`),
              ].join(', ') || '-'
            }`,
          ].join('\n'),
        );
      }),
    );

  group
    .command('create')
    .argument('<username>', 'username')
    .requiredOption('--email <email>', 'email address')
    .option('--email-verified', 'mark the email as verified')
    .option('--name <name>', 'display name')
    .option('--password-stdin', 'read a password from stdin')
    .description('create a local user')
    .addHelpText(
      'after',
      "\nExample:\n  printf 's3cret-pass' | idp users create dave --email dave@example.com --password-stdin",
    )
    .action(
      action(
        async (
          ctx,
          username: string,
          opts: { email: string; emailVerified?: boolean; name?: string; passwordStdin?: boolean },
        ) => {
          const { createUser } = await userCases();
          const admin = await ctx.admin();
          const password = opts.passwordStdin
            ? await ctx.secret({ stdin: true, prompt: 'Password', flags: '--password-stdin' })
            : null;
          const input = {
            username,
            email: opts.email,
            emailVerified: !!opts.emailVerified,
            name: opts.name ?? null,
            password,
          };
          const user = await createUser(admin, input);
          ctx.out.result(userView(user), () => `created user ${username} (${user.id})`);
        },
      ),
    );

  group
    .command('set')
    .argument('<user>', 'id, username or email')
    .option(
      '--attr <key=value>',
      'set an attribute (name, given_name, family_name, picture, email, or any custom key; key= removes); repeatable',
      collectPair('--attr'),
    )
    .option(
      '--email-verified <bool>',
      'mark the email as verified (true) or not (false)',
      parseBool('--email-verified'),
    )
    .option('--password-stdin', 'set or reset the password, read from stdin (8+ characters; stored as a scrypt hash)')
    .option('--lock', 'lock the account (sign-in refused)')
    .option('--unlock', 'lift a lockout: active again, failed-attempt counters reset')
    .option('--disable', 'disable the account (sign-in refused)')
    .option('--enable', 'enable a disabled account')
    .option(
      '--status <status>',
      'active | locked | disabled',
      parseEnum('--status', ['active', 'locked', 'disabled'] as const),
    )
    .description('change a user: attributes, email verification, password, lock state')
    .addHelpText(
      'after',
      "\nExamples:\n  idp users set alice --attr department=finance\n  idp users set alice --lock\n  idp users set alice --unlock\n  printf 'new-pass-123' | idp users set alice --password-stdin\n  idp users set alice --email-verified true",
    )
    .action(
      action(
        async (
          ctx,
          ref: string,
          opts: {
            attr?: [string, string][];
            emailVerified?: boolean;
            passwordStdin?: boolean;
            lock?: boolean;
            unlock?: boolean;
            disable?: boolean;
            enable?: boolean;
            status?: User['status'];
          },
        ) => {
          const statusFlags = [
            opts.lock && 'locked',
            opts.unlock && 'active',
            opts.disable && 'disabled',
            opts.enable && 'active',
            opts.status,
          ].filter(Boolean) as User['status'][];
          if (new Set(statusFlags).size > 1)
            throw new IdpError(
              'USAGE',
              'conflicting status flags',
              'pass one of --lock, --unlock, --disable, --enable',
            );
          const { setUser } = await userCases();
          const admin = await ctx.admin();
          const password = opts.passwordStdin
            ? await ctx.secret({ stdin: true, prompt: 'Password', flags: '--password-stdin' })
            : undefined;
          const settings = {
            attributes: opts.attr,
            status: statusFlags[0],
            unlock: opts.unlock,
            emailVerified: opts.emailVerified,
            password,
          };
          const { user, changed, before, after } = await setUser(admin, ref, settings);
          ctx.out.result({ changed, before, after }, () =>
            changed ? `changed user ${user.username}` : `user ${user.username}: no change`,
          );
        },
      ),
    );

  group
    .command('unlink')
    .argument('<user>', 'id, username or email')
    .argument('<connection>', 'the connection to forget for this user')
    .option('--force', 'unlink even when it is the last way the user can sign in')
    .description("drop a user's link to a connection (the next sign-in through it is a new person to JIT)")
    .addHelpText(
      'after',
      '\nExamples:\n  idp users unlink octocat github\n  idp users unlink octocat github --force --json',
    )
    .action(
      action(async (ctx, ref: string, connection: string, opts: { force?: boolean }) => {
        const { unlinkConnection } = await import('../../app/account.js');
        const { requireUser } = await import('../../app/lookup.js');
        const admin = await ctx.admin();
        const user = await requireUser(admin.store, ref);
        const link = await unlinkConnection(admin, user, connection, { by: 'admin', force: !!opts.force });
        ctx.out.result(
          { user: user.username, unlinked: { connection: link.connection, subject: link.subject } },
          () => `unlinked ${connection} (subject ${inert(link.subject)}) from ${user.username}`,
        );
      }),
    );

  group
    .command('delete')
    .argument('<user>', 'id, username or email')
    .option('-y, --yes', 'do not ask for confirmation')
    .description('delete a user with their associations and MFA factors')
    .addHelpText('after', '\nExample:\n  idp users delete octocat --yes')
    .action(
      action(async (ctx, ref: string, opts: { yes?: boolean }) => {
        const { showUser, deleteUser } = await userCases();
        const admin = await ctx.admin();
        const { user } = await showUser(admin.store, ref);
        await ctx.confirm(
          `Delete user ${user.username} (${user.email ?? 'no email'})?`,
          opts.yes,
          `delete user ${user.username}`,
        );
        await deleteUser(admin, user.id);
        ctx.out.result({ deleted: user.id, username: user.username }, () => `deleted user ${user.username}`);
      }),
    );

  group
    .command('import')
    .argument('<file>', 'JSON array, JSON lines, or CSV with a header row')
    .description('import users in one transaction: all or nothing')
    .addHelpText(
      'after',
      '\nExamples:\n  idp users import people.csv\n  idp users import backup.json --json\n\nFields: username (required), email, email_verified, name, given_name, family_name, picture, status, password_hash (idp scrypt format), attributes, and what users export writes: id, source, created_at, updated_at, last_login_at, associations, mfa; other columns become attributes. A password column is refused; size limits: README, "users import".',
    )
    .action(
      action(async (ctx, file: string) => {
        const { checkImportRecords } = await userCases();
        const { readText } = await import('../../app/files.js');
        const { parseUserFile } = await import('../../core/user-records.js');
        const text = readText(file, 'import');
        const records = parseUserFile(text, file);
        const store = await ctx.store();
        await checkImportRecords(store, records, file);
        const started = performance.now();
        const done =
          'db' in store
            ? await (await import('../../store/import.js')).importUsers(store, records, file, ctx.actor)
            : await (await import('../../store-pg/store.js')).importUsers(store, records, file, ctx.actor);
        const seconds = (performance.now() - started) / 1000;
        const view = {
          imported: done.imported,
          associations: done.associations,
          mfa_factors: done.factors,
          passkeys: done.passkeys,
          mfa_to_enrol: done.mfaToEnrol,
          password_to_set: done.passwordToSet,
          seconds: Number(seconds.toFixed(3)),
        };
        ctx.out.result(view, () => {
          const linked =
            done.associations || done.factors || done.passkeys
              ? ` (${done.associations} linked connection(s), ${done.factors} MFA factor(s)${done.passkeys ? `, ${done.passkeys} passkey(s)` : ''})`
              : '';
          const notes = [
            importNote(
              done.mfaToEnrol,
              'had TOTP exported without its secret and enrol again at their next MFA sign-in',
              'export with --with-secrets to keep factors',
            ),
            importNote(
              done.passwordToSet,
              'had a password exported without its hash and have none here',
              'export with --with-password-hashes, or idp users set USER --password-stdin',
            ),
          ];
          return [`imported ${done.imported} user(s) from ${file}${linked}`, ...notes.filter(Boolean)].join('\n');
        });
      }),
    );

  group
    .command('export')
    .description(
      'print every user as JSON (default) or CSV, with linked connections and MFA enrolments; secrets only when asked',
    )
    .option('--format <format>', 'json | csv', parseEnum('--format', ['json', 'csv'] as const), 'json')
    .option('--with-password-hashes', 'include scrypt password hashes (treat the output as a secret)')
    .option(
      '--with-secrets',
      "include MFA secrets, sealed with this org's secret.key: only an org holding the same key can import them",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  idp users export > users.json\n  idp users export --with-password-hashes --with-secrets > backup.json   # a lossless backup\n  idp users export --format csv > users.csv',
    )
    .action(
      action(async (ctx, opts: { format: 'json' | 'csv'; withPasswordHashes?: boolean; withSecrets?: boolean }) => {
        const { writeExport } = await import('../user-export.js');
        const store = await ctx.store();
        await writeExport(
          store.users.iterateForExport(),
          opts.format,
          { hashes: !!opts.withPasswordHashes, secrets: !!opts.withSecrets },
          process.stdout,
        );
      }),
    );
}

/** A note after an import naming (the first few of) the users something was left behind for, and the remedy. */
function importNote(usernames: string[], what: string, remedy: string): string {
  if (usernames.length === 0) return '';
  const named = `${usernames.slice(0, 5).map(inert).join(', ')}${usernames.length > 5 ? ', ...' : ''}`;
  return `note: ${usernames.length} user(s) ${what}: ${named} (${remedy})`;
}
