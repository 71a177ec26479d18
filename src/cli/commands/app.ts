// `idp app ...`: list, show, create, set and delete applications and their sign-in methods.
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import { validName } from '../../core/names.js';
import type { App } from '../../core/types.js';
import { action, type CliContext } from '../context.js';
import { registerAppScript } from './app-script.js';
import { collect, collectStep, parseList } from '../parse.js';
import { editSteps, effectiveSteps, formatMethod, mfaConflicts } from '../../core/signin.js';
import { validateRedirectUri } from '../../core/urls.js';
import { newClientId } from '../../core/ids.js';
import { requireApp } from '../lookup.js';
import { appView, shortTime } from '../views.js';
import { diff, formatChanges } from '../diff.js';

const DEFAULT_ATTRIBUTES = ['username', 'email', 'email_verified', 'name'];

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
        const store = await ctx.store();
        const connections = store.connections.names();
        const apps = store.apps.list().map((a) => ({ ...a, steps: effectiveSteps(a, connections) }));
        ctx.out.result({ apps: apps.map(appView) }, () =>
          ctx.out.table(apps, [
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
        const found = requireApp(store, name);
        show(ctx, { ...found, steps: effectiveSteps(found, store.connections.names()) });
      }),
    );

  addAppOptions(
    app
      .command('create')
      .argument('<app>', 'application name')
      .description('create an application (step 1 defaults to password)')
      .addHelpText('after', '\nExample:\n  idp app create shop --redirect-uri http://localhost:3000/callback --step 1=password,github'),
  ).action(
    action(async (ctx, name: string, opts: AppOptions) => {
      const store = await ctx.store();
      if (!validName(name)) {
        throw new IdpError('INVALID_VALUE', `'${name}' is not a valid app name`, 'use letters, digits, - and _ (up to 63), e.g. shop');
      }
      if (store.apps.get(name)) throw new IdpError('APP_EXISTS', `an app named '${name}' already exists`, `change it with \`idp app set ${name}\``);
      const steps = editSteps([['password']], opts.step ?? [], store.connections.names());
      const record = {
        name,
        clientId: newClientId(),
        redirectUris: (opts.redirectUri ?? []).map(validateRedirectUri),
        steps,
        attributes: opts.attributes ?? DEFAULT_ATTRIBUTES,
      };
      store.tx(() => {
        store.apps.insert(record);
        store.events.recordConfig({ actor: ctx.actor, action: 'app.create', target: `app ${name}`, detail: `created app ${name}`, before: null, after: record });
      });
      ctx.out.success(`created app ${name}`);
      show(ctx, store.apps.get(name)!);
    }),
  );

  addAppOptions(
    app
      .command('set')
      .argument('<app>', 'application name')
      .description('change only the given settings of an application')
      .option('--dry-run', 'print what would change, change nothing')
      .addHelpText('after', '\nExamples:\n  idp app set thrift --step 1=password,google,github --step 2=totp\n  idp app set thrift --step 2=          # remove step 2'),
  ).action(
    action(async (ctx, name: string, opts: AppOptions & { dryRun?: boolean }) => {
      const store = await ctx.store();
      const current = requireApp(store, name);
      const patch = {
        steps: opts.step ? editSteps(current.steps, opts.step, store.connections.names()) : current.steps,
        redirectUris: opts.redirectUri ? opts.redirectUri.map(validateRedirectUri) : current.redirectUris,
        attributes: opts.attributes ?? current.attributes,
      };
      const before = appView(current);
      const after = appView({ ...current, ...patch });
      const changes = diff(before, after);
      if (changes.length > 0 && !opts.dryRun) {
        store.tx(() => {
          store.apps.update(name, patch);
          store.events.recordConfig({ actor: ctx.actor, action: 'app.set', target: `app ${name}`, detail: changes.map((c) => c.path).join(', '), before, after });
        });
      }
      for (const c of mfaConflicts([{ ...current, ...patch }], store.connections.list())) {
        ctx.out.warn(
          `${c.connection} has JIT off, so its users reach step ${c.mfaStep} of ${c.app} (MFA) without a local user and fail`,
          `fix: idp connection set ${c.connection} --jit=true, or a script that runs step ${c.mfaStep} only when context.steps[${c.step}].idp == 'LOCAL'`,
        );
      }
      ctx.out.result({ changed: changes.length > 0, dry_run: !!opts.dryRun, before, after }, () => {
        if (changes.length === 0) return `app ${name}: no change`;
        const verb = opts.dryRun ? 'would change' : 'changed';
        return `app ${name}: ${verb}\n${formatChanges(changes)}\n  sign-in method: ${formatMethod(patch.steps)}`;
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
        const store = await ctx.store();
        const current = requireApp(store, name);
        if (current.builtIn) throw new IdpError('APP_PROTECTED', `${name} is built in and cannot be deleted`, 'change its settings with `idp app set` instead');
        await ctx.confirm(`Delete app ${name}?`, opts.yes, `delete app ${name}`);
        store.tx(() => {
          store.apps.delete(name);
          store.events.recordConfig({ actor: ctx.actor, action: 'app.delete', target: `app ${name}`, detail: `deleted app ${name}`, before: appView(current), after: null });
        });
        ctx.out.result({ deleted: name }, () => `deleted app ${name}`);
      }),
    );
}

function addAppOptions(command: Command): Command {
  return command
    .option('--step <N=OPTIONS>', 'sign-in step N offers OPTIONS (password, email-otp, totp, or connection names); N= removes it; repeatable', collectStep)
    .option('--redirect-uri <uri>', 'allowed redirect URI, exact match; repeatable (replaces the list)', collect)
    .option('--attributes <list>', 'attributes the app receives, e.g. email,name', parseList);
}

function show(ctx: CliContext, app: App): void {
  ctx.out.result(appView(app), () =>
    [
      `${ctx.out.paint.bold(app.name)}${app.builtIn ? ' (built in)' : ''}`,
      `  client id       ${app.clientId}`,
      `  sign-in method  ${formatMethod(app.steps)}`,
      `  redirect URIs   ${app.redirectUris.join(', ') || '-'}`,
      `  attributes      ${app.attributes.join(', ')}`,
      `  script          ${app.script ? 'yes (idp app script show ' + app.name + ')' : 'none'}`,
      `  updated         ${shortTime(app.updatedAt)}`,
    ].join('\n'),
  );
}
