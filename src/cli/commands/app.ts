// `idp app ...`: list, show (with the SDK configuration), create, set and delete applications and their sign-in
// methods, and rotate a web app's client secret.
import type { Command } from 'commander';
import { APP_TYPES, ID_TOKEN_ALGS, type App, type AppType, type IdTokenAlg } from '../../core/types.js';
import { formatMethod, type MfaConflict } from '../../core/signin.js';
import * as apps from '../../app/apps.js';
import { appView } from '../../app/views.js';
import type { Store } from '../../ports.js';
import { sdkText } from '../sdk-text.js';
import { action, type CliContext } from '../context.js';
import { registerAppScript } from './app-script.js';
import { collect, collectStep, parseEnum, parseList } from '../parse.js';
import { formatChanges, shortTime } from '../views.js';

interface AppOptions {
  type?: AppType;
  origin?: string[];
  idTokenAlg?: IdTokenAlg;
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
        const list = await apps.listApps(await ctx.store());
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
        const store = await ctx.store();
        await show(ctx, store, await apps.showApp(store, name));
      }),
    );

  addAppOptions(
    app
      .command('create')
      .argument('<app>', 'application name')
      .description('create an application (a spa unless --type web; step 1 offers a password and every connection)')
      .addHelpText(
        'after',
        [
          '\nExamples:',
          '  idp app create shop --type spa --redirect-uri http://localhost:5173 --origin http://localhost:5173',
          '  idp app create api-ui --type web --redirect-uri http://localhost:3000/callback   # prints its secret once',
          '  idp app create kiosk --redirect-uri http://localhost:3000/callback --step 1=password,github',
        ].join('\n'),
      ),
  ).action(
    action(async (ctx, name: string, opts: AppOptions) => {
      const admin = await ctx.admin();
      const created = await apps.createApp(admin, name, settingsOf(opts));
      ctx.out.success(`created app ${name} (${created.app.type})`);
      await show(ctx, admin.store, created.app, created.clientSecret);
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
        '\nExamples:\n  idp app set thrift --step 1=password,google,github --step 2=totp\n  idp app set thrift --step 2=          # remove step 2\n  idp app set thrift --origin http://localhost:5173 --id-token-alg ES256',
      ),
  ).action(
    action(async (ctx, name: string, opts: AppOptions & { dryRun?: boolean }) => {
      const result = await apps.setApp(await ctx.admin(), name, settingsOf(opts), { dryRun: !!opts.dryRun });
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
    .command('secret')
    .description("a web app's client secret")
    .command('rotate')
    .argument('<app>', 'a web application')
    .description('make a new client secret, printed once; the old one stops working')
    .addHelpText('after', '\nExample:\n  idp app secret rotate api-ui --json')
    .action(
      action(async (ctx, name: string) => {
        const secret = await apps.rotateAppSecret(await ctx.admin(), name);
        ctx.out.result({ app: name, client_secret: secret }, () =>
          [`app ${name}: new client secret (the old one no longer works)`, ...secretLines(secret, name)].join('\n'),
        );
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
        await apps.deletableApp(admin.store, name);
        await ctx.confirm(`Delete app ${name}?`, opts.yes, `delete app ${name}`);
        await apps.deleteApp(admin, name);
        ctx.out.result({ deleted: name }, () => `deleted app ${name}`);
      }),
    );
}

function addAppOptions(command: Command): Command {
  return command
    .option(
      '--type <type>',
      'spa: a browser app, public client with PKCE; web: a server app with a client secret (fixed at creation)',
      parseEnum('--type', APP_TYPES),
    )
    .option(
      '--origin <origin>',
      "browser origin allowed CORS, exact scheme://host[:port]; repeatable (replaces the list; a spa defaults to its redirect URIs' origins)",
      collect,
    )
    .option('--id-token-alg <alg>', 'RS256 (default) or ES256', parseEnum('--id-token-alg', ID_TOKEN_ALGS))
    .option(
      '--step <N=OPTIONS>',
      'sign-in step N offers OPTIONS (password, email-otp, totp, passkey, or connection names); N= removes it; repeatable',
      collectStep,
    )
    .option('--redirect-uri <uri>', 'allowed redirect URI, exact match; repeatable (replaces the list)', collect)
    .option('--attributes <list>', 'attributes the app receives, e.g. email,name', parseList);
}

function settingsOf(opts: AppOptions): apps.AppSettings {
  return {
    type: opts.type,
    origins: opts.origin,
    idTokenAlg: opts.idTokenAlg,
    steps: opts.step,
    redirectUris: opts.redirectUri,
    attributes: opts.attributes,
  };
}

/** The JIT-off-before-MFA conflict as `app set` and `apply` warn about it. */
export function warnMfaConflict(ctx: CliContext, c: MfaConflict): void {
  ctx.out.warn(
    `${c.connection} has JIT off, so its users reach step ${c.mfaStep} of ${c.app} (MFA) without a local user and fail`,
    `fix: idp connection set ${c.connection} --jit=true, or a script that runs step ${c.mfaStep} only when context.steps[${c.step}].idp == 'LOCAL'`,
  );
}

/** The secret's only showing, and how to get another. */
function secretLines(secret: string, name: string): string[] {
  return [
    `  client secret   ${secret}`,
    `  this secret will not be shown again: it is stored sealed; store it now (idp app secret rotate ${name} makes a new one)`,
  ];
}

/** An app, with its SDK configuration; a client secret only right after creation. */
async function show(ctx: CliContext, store: Store, app: App, clientSecret: string | null = null): Promise<void> {
  const sdk = await apps.sdkConfig(store, app);
  const view = { ...appView(app), ...(clientSecret !== null && { client_secret: clientSecret }), sdk };
  ctx.out.result(view, () =>
    [
      `${ctx.out.paint.bold(app.name)}${app.builtIn ? ' (built in)' : ''}`,
      `  type            ${app.type === 'spa' ? 'spa (public client, PKCE)' : `web (confidential client, ${app.hasSecret ? 'has a secret' : `no secret yet: idp app secret rotate ${app.name}`})`}`,
      `  client id       ${app.clientId}`,
      ...(clientSecret === null ? [] : secretLines(clientSecret, app.name)),
      `  sign-in method  ${formatMethod(app.steps)}`,
      `  redirect URIs   ${app.redirectUris.join(', ') || '-'}`,
      `  origins (CORS)  ${app.origins.join(', ') || '-'}`,
      `  ID token        ${app.idTokenAlg}`,
      `  attributes      ${app.attributes.join(', ')}`,
      `  script          ${app.script ? `yes (idp app script show ${app.name})` : 'none'}`,
      `  updated         ${shortTime(app.updatedAt)}`,
      '',
      sdkText(sdk),
    ].join('\n'),
  );
}
