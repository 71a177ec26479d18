// `idp account`: My Account. Signs in through the built-in myaccount app (local users only), then shows the profile
// and offers self-service: edit attributes, enrol or remove TOTP, unlink connections. Flags do the same without prompts.
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import type { User } from '../../core/types.js';
import type { Admin } from '../../app/deps.js';
import type { Store } from '../../ports.js';
import { action, type CliContext } from '../context.js';
import { printEnrolment } from '../enrolment.js';
import { collectPair } from '../parse.js';
import { addLoginOptions, reportFailure, runLogin, type LoginOptions } from './login.js';
import { inert } from '../render.js';

interface AccountOptions extends Omit<LoginOptions, 'app'> {
  attr?: [string, string][];
  unlink?: string;
  enrollTotp?: boolean;
  removeTotp?: boolean;
}

export function registerAccount(program: Command): void {
  addLoginOptions(
    program
      .command('account')
      .description('My Account: sign in, then see and manage your profile, MFA and linked connections'),
  )
    .option(
      '--attr <key=value>',
      'edit an attribute (name, given_name, family_name, picture, email, or a custom key); repeatable',
      collectPair('--attr'),
    )
    .option('--unlink <connection>', 'unlink a connection (never the last way to sign in)')
    .option('--enroll-totp', 'enrol a TOTP factor')
    .option('--remove-totp', 'remove your TOTP factor')
    .addHelpText(
      'after',
      `
Examples:
  idp account
  idp account --headless --connection github --as octocat --json
  printf 'thrift-demo' | idp account --option password --username alice --password-stdin --attr department=finance`,
    )
    .action(
      action(async (ctx, opts: AccountOptions) => {
        const { view } = await runLogin(ctx, { ...opts, app: 'myaccount' });
        // Thrown rather than only reported: with --json the refusal is then the command's one document on stdout.
        if (view.status === 'failed')
          throw new IdpError(view.error.code, view.error.message, view.error.hint ?? undefined);
        if (view.status !== 'done') return reportFailure(ctx, view);
        const store = await ctx.store();
        let user = (await store.users.byId(view.result.user!.id))!;
        const my = await import('../../app/account.js');
        const self = await ctx.admin(user.username);
        const acted = !!(opts.attr || opts.unlink || opts.enrollTotp || opts.removeTotp);
        if (opts.attr) user = await my.editProfile(store, user, opts.attr);
        if (opts.unlink) await my.unlink(store, user, opts.unlink);
        if (opts.removeTotp) await my.removeFactors(self, user);
        if (opts.enrollTotp) return printEnrolment(ctx, user.username, await my.enrolTotp(self, user));
        if (!acted && ctx.interactive && !opts.headless) await menu(ctx, self, user);
        await showAccount(ctx, store, (await store.users.byId(user.id))!);
      }),
    );
}

async function showAccount(ctx: CliContext, store: Store, user: User): Promise<void> {
  const { accountView } = await import('../../app/account.js');
  const view = await accountView(store, user);
  ctx.out.result(view, () =>
    [
      `${ctx.out.paint.bold(inert(user.username))}  ${inert(user.email ?? '')}${user.email ? (user.emailVerified ? ' (verified)' : ' (not verified)') : ''}`,
      `  name        ${inert(user.name ?? '-')}`,
      `  attributes  ${
        Object.entries(user.attributes)
          .map(([k, v]) => inert(`${k}=${v}`))
          .join(', ') || '-'
      }`,
      `  password    ${view.password ? 'set' : 'none'}`,
      `  MFA         ${view.mfa.map((f) => f.type).join(', ') || 'none'}`,
      `  linked      ${view.linked.map((l) => l.connection).join(', ') || 'none'}`,
    ].join('\n'),
  );
}

async function menu(ctx: CliContext, self: Admin, start: User): Promise<void> {
  const { select, input } = await import('@inquirer/prompts');
  const my = await import('../../app/account.js');
  const { store } = self;
  const io = { output: process.stderr };
  let user = start;
  for (;;) {
    const hasTotp = !!(await store.factors.totpFor(user.id));
    const linked = await store.associations.forUser(user.id);
    const choice = await select(
      {
        message: `My Account: ${user.username}`,
        choices: [
          { value: 'edit', name: 'Edit an attribute' },
          { value: hasTotp ? 'remove-totp' : 'enrol-totp', name: hasTotp ? 'Remove TOTP' : 'Enrol TOTP' },
          ...linked.map((l) => ({ value: `unlink:${l.connection}`, name: `Unlink ${l.connection}` })),
          { value: 'done', name: 'Done' },
        ],
      },
      io,
    );
    try {
      if (choice === 'done') return;
      if (choice === 'edit') {
        const key = await input(
          { message: 'Attribute (name, given_name, family_name, picture, email, or a custom key)' },
          io,
        );
        const value = await input({ message: `New value for ${key} (empty removes it)` }, io);
        user = await my.editProfile(store, user, [[key.trim(), value.trim()]]);
      } else if (choice === 'enrol-totp') await printEnrolment(ctx, user.username, await my.enrolTotp(self, user));
      else if (choice === 'remove-totp') await my.removeFactors(self, user);
      else await my.unlink(store, user, choice.slice('unlink:'.length));
      ctx.out.success('saved');
    } catch (err) {
      ctx.out.error(err, { document: false });
    }
  }
}
