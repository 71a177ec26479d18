// `idp app ...`: list, show, create, set and delete applications and their sign-in methods.
import type { Command } from 'commander';
import type { App } from '../../core/types.js';
import { formatMethod, type MfaConflict } from '../../core/signin.js';
import * as apps from '../../app/apps.js';
import { appView } from '../../app/views.js';
import { action, type CliContext } from '../context.js';
import { registerAppScript } from './app-script.js';
import { collect, collectStep, parseList } from '../parse.js';
import { formatChanges, shortTime } from '../views.js';

interface AppOptions {
  step?: [number, string[]][];
  redirectUri?: string[];
  attributes?: string[];
}

export function registerApp(program: Command): void {
  const app = program.command('app').description('manage applications and their sign-in methods');
  registerAppScript(app);

  app
    .command('list')
    .description('list applications')
    .addHelpText('after', '\nExample:\n  idp app list --json')
    .action(
      action(async (ctx) => {
        const list = apps.listApps(await ctx.store());
        ctx.out.result({ apps: list.map(appView) }, () =>
          ctx.out.table(list, [
            { header: 'NAME', value: (a) => a.name },
            { header: 'CLIENT ID', value: (a) => a.clientId },
            { header: 'SIGN-IN METHOD', value: (a) => formatMethod(a.steps) },
          ]),
        );
      }),
    );

  app
    .command('show')
    .argument('<app>', 'application name')
    .description('show an application')
    .addHelpText('after', '\nExample:\n  idp app show thrift')
    .action(
      action(async (ctx, name: string) => {
        show(ctx, apps.showApp(await ctx.store(), name));
      }),
    );

  addAppOptions(
    app
      .command('create')
      .argument('<app>', 'application name')
      .description('create an application (step 1 defaults to password)')
      .addHelpText(
        'after',
        '\nExample:\n  idp app create shop --redirect-uri http://localhost:3000/callback --step 1=password,github',
      ),
  ).action(
    action(async (ctx, name: string, opts: AppOptions) => {
      const created = apps.createApp(await ctx.admin(), name, settingsOf(opts));
      ctx.out.success(`created app ${name}`);
      show(ctx, created);
    }),
  );

  addAppOptions(
    app
      .command('set')
      .argument('<app>', 'application name')
      .description('change only the given settings of an application')
      .option('--dry-run', 'print what would change, change nothing')
      .addHelpText(
        'after',
        '\nExamples:\n  idp app set thrift --step 1=password,google,github --step 2=totp\n  idp app set thrift --step 2=          # remove step 2',
      ),
  ).action(
    action(async (ctx, name: string, opts: AppOptions & { dryRun?: boolean }) => {
      const result = apps.setApp(await ctx.admin(), name, settingsOf(opts), { dryRun: !!opts.dryRun });
      for (const c of result.conflicts) warnMfaConflict(ctx, c);
      const { changes, before, after } = result;
      ctx.out.result({ changed: changes.length > 0, dry_run: !!opts.dryRun, before, after }, () => {
        if (changes.length === 0) return `app ${name}: no change`;
        const verb = opts.dryRun ? 'would change' : 'changed';
        return `app ${name}: ${verb}\n${formatChanges(changes)}\n  sign-in method: ${formatMethod(result.steps)}`;
      });
    }),
  );

  app
    .command('delete')
    .argument('<app>', 'application name')
    .option('-y, --yes', 'do not ask for confirmation')
    .description('delete an application')
    .addHelpText('after', '\nExample:\n  idp app delete shop --yes')
    .action(
      action(async (ctx, name: string, opts: { yes?: boolean }) => {
        const admin = await ctx.admin();
        apps.deletableApp(admin.store, name);
        await ctx.confirm(`Delete app ${name}?`, opts.yes, `delete app ${name}`);
        apps.deleteApp(admin, name);
        ctx.out.result({ deleted: name }, () => `deleted app ${name}`);
      }),
    );
}

function addAppOptions(command: Command): Command {
  return command
    .option(
      '--step <N=OPTIONS>',
      'sign-in step N offers OPTIONS (password, email-otp, totp, or connection names); N= removes it; repeatable',
      collectStep,
    )
    .option('--redirect-uri <uri>', 'allowed redirect URI, exact match; repeatable (replaces the list)', collect)
    .option('--attributes <list>', 'attributes the app receives, e.g. email,name', parseList);
}

function settingsOf(opts: AppOptions): apps.AppSettings {
  return { steps: opts.step, redirectUris: opts.redirectUri, attributes: opts.attributes };
}

/** The JIT-off-before-MFA conflict as `app set` and `apply` warn about it. */
export function warnMfaConflict(ctx: CliContext, c: MfaConflict): void {
  ctx.out.warn(
    `${c.connection} has JIT off, so its users reach step ${c.mfaStep} of ${c.app} (MFA) without a local user and fail`,
    `fix: idp connection set ${c.connection} --jit=true, or a script that runs step ${c.mfaStep} only when context.steps[${c.step}].idp == 'LOCAL'`,
  );
}

function show(ctx: CliContext, app: App): void {
  ctx.out.result(appView(app), () =>
    [
      `${ctx.out.paint.bold(app.name)}${app.builtIn ? ' (built in)' : ''}`,
      `  client id       ${app.clientId}`,
      `  sign-in method  ${formatMethod(app.steps)}`,
      `  redirect URIs   ${app.redirectUris.join(', ') || '-'}`,
      `  attributes      ${app.attributes.join(', ')}`,
      `  script          ${app.script ? `yes (idp app script show ${app.name})` : 'none'}`,
      `  updated         ${shortTime(app.updatedAt)}`,
    ].join('\n'),
  );
}
