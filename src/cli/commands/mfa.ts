// `idp users mfa ...` (enrol, list, remove factors) and `idp outbox` (the local mailbox email OTPs are delivered to).
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import { action } from '../context.js';
import { requireUser } from '../lookup.js';
import { parseEnum, parsePositiveInt } from '../parse.js';
import { shortTime } from '../views.js';

export function registerMfa(users: Command, program: Command): void {
  const mfa = users.command('mfa').description("a user's MFA factors");

  mfa
    .command('enroll')
    .argument('<user>', 'id, username or email')
    .argument('<method>', 'totp', parseEnum('method', ['totp'] as const))
    .description('enrol a TOTP factor: prints the otpauth URI and a QR code (--json: {secret, uri})')
    .addHelpText('after', '\nExamples:\n  idp users mfa enroll alice totp\n  export ALICE_TOTP=$(idp users mfa enroll alice totp --json | jq -r .secret)')
    .action(
      action(async (ctx, ref: string) => {
        const { newTotpSecret, otpauthUri } = await import('../../mfa/totp.js');
        const store = await ctx.store();
        const user = requireUser(store, ref);
        if (store.factors.totpFor(user.id)) throw new IdpError('USAGE', `${user.username} already has a TOTP factor`, `remove it first: idp users mfa remove ${user.username}`);
        const secret = newTotpSecret();
        const uri = otpauthUri({ secret, account: user.email ?? user.username, issuer: 'idp' });
        const id = store.tx(() => {
          const factorId = store.factors.addTotp(user.id, store.seal(secret));
          store.events.recordConfig({ actor: ctx.actor, action: 'users.mfa.enroll', target: `user ${user.username}`, detail: `enrolled TOTP for ${user.username}`, before: null, after: { factor: factorId, type: 'totp' } });
          return factorId;
        });
        if (ctx.out.opts.json) {
          ctx.out.result({ factor: id, user: user.username, secret, uri }, () => undefined);
          return;
        }
        const { default: qrcode } = await import('qrcode-terminal');
        const qr = await new Promise<string>((resolve) => qrcode.generate(uri, { small: true }, resolve));
        ctx.out.result(null, () => `${qr}\n${uri}\nsecret ${secret}\nenrolled TOTP for ${user.username}: scan the QR code or enter the secret in an authenticator app`);
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
        const user = requireUser(store, ref);
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
        const store = await ctx.store();
        const user = requireUser(store, ref);
        await ctx.confirm(`Remove ${opts.factor ? 'that factor' : 'every MFA factor'} of ${user.username}?`, opts.yes, `remove MFA factors of ${user.username}`);
        const removed = store.tx(() => {
          const n = store.factors.remove(user.id, opts.factor);
          if (n) store.events.recordConfig({ actor: ctx.actor, action: 'users.mfa.remove', target: `user ${user.username}`, detail: `removed ${n} MFA factor(s) of ${user.username}`, before: { factors: n }, after: null });
          return n;
        });
        if (opts.factor && removed === 0) throw new IdpError('USAGE', `${user.username} has no factor ${opts.factor}`, `see idp users mfa list ${user.username}`);
        ctx.out.result({ removed }, () => `removed ${removed} factor(s) of ${user.username}`);
      }),
    );

  program
    .command('outbox')
    .description('the local mailbox: email OTPs and other mail idp "sent"')
    .option('--to <email>', 'only mail to this address')
    .option('--limit <n>', 'how many (default 20)', parsePositiveInt('--limit', 1000), 20)
    .addHelpText('after', '\nExamples:\n  idp outbox\n  idp outbox --to alice@example.com --json')
    .action(
      action(async (ctx, opts: { to?: string; limit: number }) => {
        const messages = (await ctx.store()).codes.outbox(opts);
        ctx.out.result({ messages }, () =>
          messages.length === 0
            ? 'the outbox is empty'
            : messages.map((m) => `${shortTime(m.created_at)}  to ${m.to}  ${m.subject}${m.flow ? `  (flow ${m.flow})` : ''}\n  ${m.body}`).join('\n'),
        );
      }),
    );
}
