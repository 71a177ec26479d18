// `idp app script set|show|clear|templates` and `idp app check`: an app's conditional-authentication script (from a
// file, stdin or a shipped template), and the hazards of its sign-in policy (checked before any login runs into them).
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import { requireApp } from '../../app/lookup.js';
import { action } from '../context.js';
import { renderHint } from '../hints.js';
import type { ScriptSource } from '../../app/app-script.js';

export function registerAppScript(app: Command): void {
  const script = app.command('script').description("an app's conditional-authentication script (Asgardeo subset)");

  script
    .command('set')
    .argument('<app>', 'application name')
    .option('--file <file>', "the script (JavaScript defining onLoginRequest); '-' reads it from stdin")
    .option('--template <name>', 'a script idp ships (idp app script templates lists them)')
    .description('set the script, after checking that it compiles')
    .addHelpText(
      'after',
      '\nExamples:\n  idp app script set thrift --template skip-mfa-for-federated\n  idp app script set thrift --file my-script.js\n  cat my-script.js | idp app script set thrift --file -',
    )
    .action(
      action(async (ctx, name: string, opts: { file?: string; template?: string }) => {
        const { setScript } = await import('../../app/app-script.js');
        const { changed, from } = await setScript(await ctx.admin(), name, await scriptSource(name, opts));
        ctx.out.result({ app: name, script: true, changed }, () => `script of ${name} set from ${from}`);
      }),
    );

  script
    .command('templates')
    .description('list the scripts idp ships, for app script set --template')
    .action(
      action(async (ctx) => {
        const { scriptTemplates } = await import('../../app/app-script.js');
        const templates = scriptTemplates().map(({ name, description }) => ({ name, description }));
        ctx.out.result({ templates }, () => templates.map((t) => `${t.name}  ${t.description}`).join('\n'));
      }),
    );

  script
    .command('show')
    .argument('<app>', 'application name')
    .description('print the script')
    .action(
      action(async (ctx, name: string) => {
        const app = await requireApp(await ctx.store(), name);
        ctx.out.result(
          { app: name, script: app.script },
          () => app.script ?? `${name} has no script: every step runs in order`,
        );
      }),
    );

  script
    .command('clear')
    .argument('<app>', 'application name')
    .description('remove the script: every step runs in order')
    .action(
      action(async (ctx, name: string) => {
        const { clearScript } = await import('../../app/app-script.js');
        const { changed } = await clearScript(await ctx.admin(), name);
        ctx.out.result({ app: name, changed }, () => (changed ? `script of ${name} cleared` : `${name} had no script`));
      }),
    );

  app
    .command('check')
    .argument('<app>', 'application name')
    .option('--strict', 'exit 9 when there is any hazard')
    .description(
      'list the hazards of the sign-in policy: JIT-off connections before MFA, unknown options, broken scripts, linking that cannot work',
    )
    .addHelpText('after', '\nExamples:\n  idp app check thrift\n  idp app check thrift --strict --json')
    .action(
      action(async (ctx, name: string, opts: { strict?: boolean }) => {
        const { checkApp } = await import('../../app/app-check.js');
        const { store, scripts } = await ctx.admin();
        const hazards = (await checkApp(store, scripts, await requireApp(store, name))).map((h) => ({
          ...h,
          fix: renderHint(h.fix)!,
        }));
        ctx.out.result({ app: name, ok: hazards.length === 0, hazards }, () =>
          hazards.length === 0
            ? `${name}: no hazards found`
            : hazards
                .map(
                  (h) =>
                    `${h.severity === 'error' ? ctx.out.paint.red('✗') : ctx.out.paint.yellow('!')} ${h.message}\n    fix: ${h.fix}`,
                )
                .join('\n'),
        );
        if (opts.strict && hazards.length > 0) {
          ctx.out.error(
            new IdpError(
              'CHECKS_FAILED',
              `${hazards.length} hazard(s) in ${name}'s sign-in policy`,
              'fix them, or run without --strict',
            ),
            { document: false },
          );
          process.exitCode = 9;
        }
      }),
    );
}

/** --file FILE, --file - (stdin, read whole: a script keeps its last line break) or --template NAME: exactly one. */
async function scriptSource(app: string, opts: { file?: string; template?: string }): Promise<ScriptSource> {
  if (opts.file !== undefined && opts.template !== undefined)
    throw new IdpError('USAGE', 'pass --file or --template, not both', 'e.g. --template skip-mfa-for-federated');
  if (opts.template !== undefined) return { template: opts.template };
  if (opts.file === undefined)
    throw new IdpError(
      'USAGE',
      'the script comes from --file FILE, --file - (stdin) or --template NAME',
      `e.g. idp app script set ${app} --template skip-mfa-for-federated (idp app script templates lists them)`,
    );
  if (opts.file !== '-') return { file: opts.file };
  if (process.stdin.isTTY)
    throw new IdpError(
      'USAGE',
      '--file - reads the script from stdin, which is a terminal',
      `pipe the script in: cat script.js | idp app script set ${app} --file -`,
    );
  const { text } = await import('node:stream/consumers');
  return { text: await text(process.stdin), from: 'stdin' };
}
