// `idp app script set|show|clear` and `idp app check`: an app's conditional-authentication script, and the hazards
// of its sign-in policy (checked before any login runs into them).
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import { action } from '../context.js';
import { requireApp } from '../lookup.js';

export function registerAppScript(app: Command): void {
  const script = app.command('script').description("an app's conditional-authentication script (Asgardeo subset)");

  script
    .command('set')
    .argument('<app>', 'application name')
    .requiredOption('--file <file>', 'the script (JavaScript defining onLoginRequest)')
    .description('set the script, after checking that it compiles')
    .addHelpText('after', '\nExample:\n  idp app script set thrift --file fixtures/scripts/skip-mfa-for-federated.js')
    .action(
      action(async (ctx, name: string, opts: { file: string }) => {
        const { readFileSync } = await import('node:fs');
        const { compileIsolated } = await import('../../script/isolated.js');
        let source: string;
        try {
          source = readFileSync(opts.file, 'utf8');
        } catch (err) {
          throw new IdpError('FILE_INVALID', `cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path');
        }
        const compiled = await compileIsolated(source);
        if (!compiled.ok) throw new IdpError('FILE_INVALID', `${opts.file}${compiled.line ? `:${compiled.line}` : ''}: ${compiled.message}`, 'fix the script; the app was not changed');
        const store = await ctx.store();
        const current = requireApp(store, name);
        store.tx(() => {
          store.apps.update(name, { script: source });
          store.events.recordConfig({ actor: ctx.actor, action: 'app.script.set', target: `app ${name}`, detail: `set the script of ${name} from ${opts.file}`, before: current.script, after: source });
        });
        ctx.out.result({ app: name, script: true, changed: current.script !== source }, () => `script of ${name} set from ${opts.file}`);
      }),
    );

  script
    .command('show')
    .argument('<app>', 'application name')
    .description('print the script')
    .action(
      action(async (ctx, name: string) => {
        const app = requireApp(await ctx.store(), name);
        ctx.out.result({ app: name, script: app.script }, () => app.script ?? `${name} has no script: every step runs in order`);
      }),
    );

  script
    .command('clear')
    .argument('<app>', 'application name')
    .description('remove the script: every step runs in order')
    .action(
      action(async (ctx, name: string) => {
        const store = await ctx.store();
        const current = requireApp(store, name);
        if (current.script !== null) {
          store.tx(() => {
            store.apps.update(name, { script: null });
            store.events.recordConfig({ actor: ctx.actor, action: 'app.script.clear', target: `app ${name}`, detail: `cleared the script of ${name}`, before: current.script, after: null });
          });
        }
        ctx.out.result({ app: name, changed: current.script !== null }, () => (current.script === null ? `${name} had no script` : `script of ${name} cleared`));
      }),
    );

  app
    .command('check')
    .argument('<app>', 'application name')
    .option('--strict', 'exit 9 when there is any hazard')
    .description('list the hazards of the sign-in policy: JIT-off connections before MFA, unknown options, broken scripts, linking that cannot work')
    .addHelpText('after', '\nExamples:\n  idp app check thrift\n  idp app check thrift --strict --json')
    .action(
      action(async (ctx, name: string, opts: { strict?: boolean }) => {
        const { checkApp } = await import('../../flow/app-check.js');
        const { scriptRunner } = await import('../../script/runner.js');
        const store = await ctx.store();
        const hazards = await checkApp(store, requireApp(store, name), scriptRunner);
        ctx.out.result({ app: name, ok: hazards.length === 0, hazards }, () =>
          hazards.length === 0
            ? `${name}: no hazards found`
            : hazards.map((h) => `${h.severity === 'error' ? ctx.out.paint.red('✗') : ctx.out.paint.yellow('!')} ${h.message}\n    fix: ${h.fix}`).join('\n'),
        );
        if (opts.strict && hazards.length > 0) {
          ctx.out.error(new IdpError('CHECKS_FAILED', `${hazards.length} hazard(s) in ${name}'s sign-in policy`, 'fix them, or run without --strict'), { document: false });
          process.exitCode = 9;
        }
      }),
    );
}
