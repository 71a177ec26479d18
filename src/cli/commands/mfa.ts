// `idp users mfa ...` (enrol, list, rename, remove, reset factors and passkeys) and `idp outbox` (the local mailbox
// email OTPs are delivered to).
import type { Command } from 'commander';
import type { Admin } from '../../app/deps.js';
import { IdpError } from '../../core/errors.js';
import { passkeyFactorId } from '../../core/passkeys.js';
import type { User } from '../../core/types.js';
import type { Store } from '../../ports.js';
import { action, type CliContext } from '../context.js';
import { printEnrolment } from '../enrolment.js';
import { parseEnum, parsePositiveInt } from '../parse.js';
import { passkeyJson, shortTime } from '../views.js';
import { inert } from '../render.js';

export function registerMfa(users: Command, program: Command): void {
  const mfa = users.command('mfa').description("a user's MFA factors");

  mfa
    .command('enroll')
    .argument('<user>', 'id, username or email')
    .argument('<method>', 'totp | passkey', parseEnum('method', ['totp', 'passkey'] as const))
    .option('--software', "passkey: made by idp's software authenticator, a TESTING AID for headless CI (sandbox orgs)")
    .option('--name <name>', 'passkey: its name (default: Software passkey N)')
    .description(
      'enrol a TOTP factor (prints the otpauth URI and a QR code; --json: {secret, uri}), or a software passkey for CI',
    )
    .addHelpText(
      'after',
      `
Examples:
  idp users mfa enroll alice totp
  export ALICE_TOTP=$(idp users mfa enroll alice totp --json | jq -r .secret)
  export ALICE_PASSKEY=$(idp users mfa enroll alice passkey --software --json | jq -r .key)

A passkey on a device is enrolled in a browser (My Account in idp serve, or during a sign-in). --software makes one
whose private key is printed once, for --passkey-key-env in headless logins and passkey_key_env in scenario files:
a testing aid, refused in an organisation with a real (non-sandbox) connection.`,
    )
    .action(
      action(async (ctx, ref: string, method: 'totp' | 'passkey', opts: { software?: boolean; name?: string }) => {
        const ignored = [opts.software && '--software', opts.name !== undefined && '--name'].filter(Boolean);
        if (method === 'totp' && ignored.length > 0)
          throw new IdpError(
            'USAGE',
            `${ignored.join(' and ')} ${ignored.length > 1 ? 'are' : 'is'} for a passkey, not a TOTP factor`,
            `enrol TOTP without it (idp users mfa enroll ${ref} totp), or a software passkey: idp users mfa enroll ${ref} passkey --software`,
          );
        const admin = await ctx.admin();
        const user = await userNamed(admin.store, ref);
        if (method === 'passkey') return enrolPasskey(ctx, admin, user, opts);
        const { enrolTotp } = await import('../../app/account.js');
        const enrolled = await enrolTotp(admin, user);
        await printEnrolment(ctx, user.username, enrolled);
      }),
    );

  mfa
    .command('list')
    .argument('<user>', 'id, username or email')
    .description("list a user's factors and passkeys (never their secrets)")
    .addHelpText('after', '\nExamples:\n  idp users mfa list alice\n  idp users mfa list alice --json')
    .action(
      action(async (ctx, ref: string) => {
        const { mfaList } = await import('../../app/passkeys.js');
        const { user, factors, passkeys } = await mfaList(await ctx.store(), ref);
        const rows = [
          ...factors.map((f) => ({
            id: f.id,
            type: f.type,
            name: '-',
            created: f.created_at,
            used: null,
            aaguid: '-',
          })),
          ...passkeys.map((p) => ({
            id: p.factor,
            type: p.software ? 'passkey (software: testing aid)' : 'passkey',
            name: inert(p.name),
            created: p.createdAt,
            used: p.lastUsedAt,
            aaguid: p.aaguid,
          })),
        ];
        ctx.out.result({ user: user.username, factors, passkeys: passkeys.map(passkeyJson) }, () =>
          rows.length === 0
            ? `${user.username} has no MFA factors`
            : ctx.out.table(rows, [
                { header: 'ID', value: (r) => r.id },
                { header: 'TYPE', value: (r) => r.type },
                { header: 'NAME', value: (r) => r.name },
                { header: 'CREATED', value: (r) => shortTime(r.created) },
                { header: 'LAST USED', value: (r) => (r.used ? shortTime(r.used) : '-') },
                { header: 'AAGUID', value: (r) => r.aaguid },
              ]),
        );
      }),
    );

  mfa
    .command('rename')
    .argument('<user>', 'id, username or email')
    .argument('<passkey>', 'passkey:<id>, as users mfa list shows it')
    .requiredOption('--name <name>', 'the new name (1 to 64 characters)')
    .description("rename one of a user's passkeys")
    .addHelpText('after', '\nExample:\n  idp users mfa rename alice passkey:3f0c... --name "Work laptop"')
    .action(
      action(async (ctx, ref: string, passkey: string, opts: { name: string }) => {
        const admin = await ctx.admin();
        const user = await userNamed(admin.store, ref);
        const { renamePasskey } = await import('../../app/passkeys.js');
        const renamed = await renamePasskey(admin, user.id, passkey, opts.name);
        ctx.out.result(
          { user: user.username, passkey: passkeyJson(renamed) },
          () => `renamed ${passkeyFactorId(renamed.id)} of ${user.username} to "${inert(renamed.name)}"`,
        );
      }),
    );

  mfa
    .command('remove')
    .argument('<user>', 'id, username or email')
    .argument('[factor]', 'only this factor: its id, or passkey:<id> (as users mfa list shows them)')
    .option('--factor <id>', 'the same as the [factor] argument')
    .option('-y, --yes', 'do not ask for confirmation')
    .description("remove one of a user's factors or passkeys, or all of them")
    .addHelpText(
      'after',
      '\nExamples:\n  idp users mfa remove alice passkey:3f0c... --yes\n  idp users mfa remove alice --yes   (every factor and passkey)',
    )
    .action(
      action(async (ctx, ref: string, named: string | undefined, opts: { factor?: string; yes?: boolean }) => {
        if (named !== undefined && opts.factor !== undefined && named !== opts.factor)
          throw new IdpError('USAGE', 'name one factor: as an argument or with --factor, not two', 'e.g. passkey:<id>');
        const factor = named ?? opts.factor;
        const admin = await ctx.admin();
        const user = await userNamed(admin.store, ref);
        await ctx.confirm(
          `Remove ${factor ? `${factor}` : 'every MFA factor and passkey'} of ${user.username}?`,
          opts.yes,
          `remove MFA factors of ${user.username}`,
        );
        const { removeFactors } = await import('../../app/account.js');
        const removed = await removeFactors(admin, user, factor);
        ctx.out.result({ removed }, () => `removed ${removed} factor(s) of ${user.username}`);
      }),
    );

  mfa
    .command('reset')
    .argument('<user>', 'id, username or email')
    .option('-y, --yes', 'do not ask for confirmation')
    .description('drop every factor of a user (a lost authenticator): the next sign-in asking for TOTP enrols again')
    .addHelpText('after', '\nExample:\n  idp users mfa reset alice --yes')
    .action(
      action(async (ctx, ref: string, opts: { yes?: boolean }) => {
        const admin = await ctx.admin();
        const user = await userNamed(admin.store, ref);
        await ctx.confirm(
          `Reset MFA of ${user.username} (remove every factor)?`,
          opts.yes,
          `reset MFA of ${user.username}`,
        );
        const { resetMfa } = await import('../../app/account.js');
        const removed = await resetMfa(admin, user);
        ctx.out.result(
          { user: user.username, removed },
          () => `reset MFA of ${user.username}: removed ${removed} factor(s)`,
        );
      }),
    );

  program
    .command('outbox')
    .description('the local mailbox: email OTPs and other mail idp "sent"')
    .option('--to <email>', 'only mail to this address')
    .option('--limit <n>', 'how many', parsePositiveInt('--limit', 1000), 20)
    .addHelpText('after', '\nExamples:\n  idp outbox\n  idp outbox --to alice@example.com --json')
    .action(
      action(async (ctx, opts: { to?: string; limit: number }) => {
        const messages = await (await ctx.store()).codes.outbox(opts);
        ctx.out.result({ messages }, () =>
          messages.length === 0
            ? 'the outbox is empty'
            : messages
                .map(
                  (m) =>
                    `${shortTime(m.created_at)}  to ${inert(m.to)}  ${m.subject}${m.flow ? `  (flow ${m.flow})` : ''}\n  ${m.body}`,
                )
                .join('\n'),
        );
      }),
    );
}

/** A software passkey (a testing aid) for CI; a device's passkey needs a browser, which a terminal is not. */
async function enrolPasskey(
  ctx: CliContext,
  admin: Admin,
  user: User,
  opts: { software?: boolean; name?: string },
): Promise<void> {
  if (!opts.software)
    throw new IdpError(
      'USAGE',
      'a passkey on a device is enrolled in a browser: the terminal cannot reach an authenticator',
      `enrol it in My Account (idp serve), or make a software passkey for CI: idp users mfa enroll ${user.username} passkey --software`,
    );
  const { enrolSoftwarePasskey } = await import('../../app/passkeys.js');
  const { softwareAuthenticator } = await import('../../webauthn/software.js');
  const { passkey, key } = await enrolSoftwarePasskey(admin, user.id, {
    name: opts.name,
    authenticator: softwareAuthenticator,
  });
  const factor = passkeyFactorId(passkey.id);
  ctx.out.result(
    { user: user.username, factor, passkey: passkeyJson(passkey), key, testing_aid: true },
    () =>
      `${key}\nenrolled a software passkey (${factor}) for ${user.username}: a TESTING AID, not a device.\nThe key above is shown once; keep it in a CI secret and sign in with: idp login --headless --passkey-key-env VAR`,
  );
}

/** The user a subcommand names, the lookup loaded with it: listing users loads this module too. */
async function userNamed(store: Store, ref: string): Promise<User> {
  const { requireUser } = await import('../../app/lookup.js');
  return requireUser(store, ref);
}
