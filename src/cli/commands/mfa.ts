// `idp users mfa ...` (enrol, list, remove, reset factors) and `idp outbox` (the local mailbox email OTPs are delivered to).
import type { Command } from 'commander';
import type { User } from '../../core/types.js';
import type { Store } from '../../ports.js';
import { action } from '../context.js';
import { printEnrolment } from '../enrolment.js';
import { parseEnum, parsePositiveInt } from '../parse.js';
import { shortTime } from '../views.js';
import { inert } from '../render.js';

export function registerMfa(users: Command, program: Command): void {
  const mfa = users.command('mfa').description("a user's MFA factors");

  mfa
    .command('enroll')
    .argument('<user>', 'id, username or email')
    .argument('<method>', 'totp', parseEnum('method', ['totp'] as const))
    .description('enrol a TOTP factor: prints the otpauth URI and a QR code (--json: {secret, uri})')
    .addHelpText(
      'after',
      '\nExamples:\n  idp users mfa enroll alice totp\n  export ALICE_TOTP=$(idp users mfa enroll alice totp --json | jq -r .secret)',
    )
    .action(
      action(async (ctx, ref: string) => {
        const { enrolTotp } = await import('../../app/account.js');
        const admin = await ctx.admin();
        const user = await userNamed(admin.store, ref);
        const enrolled = await enrolTotp(admin, user);
        await printEnrolment(ctx, user.username, enrolled);
      }),
    );

  mfa
    .command('list')
    .argument('<user>', 'id, username or email')
    .description("list a user's factors (never their secrets)")
    .addHelpText('after', '\nExample:\n  idp users mfa list alice')
    .action(
      action(async (ctx, ref: string) => {
        const store = await ctx.store();
        const user = await userNamed(store, ref);
        const factors = store.factors.forUser(user.id);
        ctx.out.result({ user: user.username, factors }, () =>
          factors.length === 0
            ? `${user.username} has no MFA factors`
            : ctx.out.table(factors, [
                { header: 'ID', value: (f) => f.id },
                { header: 'TYPE', value: (f) => f.type },
                { header: 'CREATED', value: (f) => shortTime(f.created_at) },
              ]),
        );
      }),
    );

  mfa
    .command('remove')
    .argument('<user>', 'id, username or email')
    .option('--factor <id>', 'only this factor (default: all)')
    .option('-y, --yes', 'do not ask for confirmation')
    .description("remove a user's factors")
    .addHelpText('after', '\nExample:\n  idp users mfa remove alice --yes')
    .action(
      action(async (ctx, ref: string, opts: { factor?: string; yes?: boolean }) => {
        const admin = await ctx.admin();
        const user = await userNamed(admin.store, ref);
        await ctx.confirm(
          `Remove ${opts.factor ? 'that factor' : 'every MFA factor'} of ${user.username}?`,
          opts.yes,
          `remove MFA factors of ${user.username}`,
        );
        const { removeFactors } = await import('../../app/account.js');
        const removed = removeFactors(admin, user, opts.factor);
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
        const removed = resetMfa(admin, user);
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
        const messages = (await ctx.store()).codes.outbox(opts);
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

/** The user a subcommand names, the lookup loaded with it: listing users loads this module too. */
async function userNamed(store: Store, ref: string): Promise<User> {
  const { requireUser } = await import('../../app/lookup.js');
  return requireUser(store, ref);
}
