// `idp app script set|show|clear` and `idp app check`: an app's conditional-authentication script, and the hazards
// of its sign-in policy (checked before any login runs into them).
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import { requireApp } from '../../app/lookup.js';
import { action } from '../context.js';
import { renderHint } from '../hints.js';

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
        const { readText } = await import('../../app/files.js');
        const { setScript } = await import('../../app/app-script.js');
        const source = readText(opts.file);
        const { changed } = await setScript(await ctx.admin(), name, source, opts.file);
        ctx.out.result({ app: name, script: true, changed }, () => `script of ${name} set from ${opts.file}`);
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
        const { clearScript } = await import('../../app/app-script.js');
        const { changed } = clearScript(await ctx.admin(), name);
        ctx.out.result({ app: name, changed }, () => (changed ? `script of ${name} cleared` : `${name} had no script`));
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
        const { checkApp } = await import('../../app/app-check.js');
        const { store, scripts } = await ctx.admin();
        const hazards = (await checkApp(store, scripts, requireApp(store, name))).map((h) => ({ ...h, fix: renderHint(h.fix)! }));
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
