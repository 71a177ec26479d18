// `idp doctor`: runs the environment checks (cli/doctor-checks.ts) and prints one line per check with its fix;
// exit 9 when any check failed. Never creates an organisation.
import type { Command } from 'commander';
import type { Paint } from '../paint.js';
import { IdpError } from '../../core/errors.js';
import type { Check } from '../doctor-checks.js';
import { action } from '../context.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the data directory, database, loopback server, browser, clock and every connection, each problem with its fix',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  idp doctor\n  idp doctor --json\n  idp doctor --home ./sandbox-org\n  IDP_STORE=postgres://idp@127.0.0.1:5432/idp idp doctor',
    )
    .action(
      action(async (ctx) => {
        const { runDoctor } = await import('../doctor-checks.js');
        const { location } = ctx;
        const database =
          location.engine === 'postgres'
            ? { url: location.value, shown: location.shown, password: await ctx.storePassword() }
            : undefined;
        const report = await runDoctor({ home: ctx.home, database });
        ctx.out.result(report, () => renderChecks(report.checks, ctx.out.paint));
        const failed = report.checks.filter((c) => c.status === 'failed');
        const warnings = report.checks.filter((c) => c.status === 'warning').length;
        if (failed.length > 0) {
          const names = failed.map((c) => c.name).join(', ');
          ctx.out.error(
            new IdpError(
              'CHECKS_FAILED',
              `${failed.length} check(s) failed: ${names}`,
              'apply the fixes above, then run `idp doctor` again',
            ),
            { document: false },
          );
          process.exitCode = 9;
        } else {
          ctx.out.info(warnings > 0 ? `no check failed (${warnings} warning(s))` : 'every check passed');
        }
      }),
    );
}

function renderChecks(checks: Check[], paint: Paint): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const mark = { ok: paint.green('✓'), warning: paint.yellow('!'), failed: paint.red('✗') };
  return checks
    .map((c) => {
      const detail = c.detail.split('\n').join(`\n${' '.repeat(width + 5)}`);
      const fix = c.fix ? `\n    ${paint.dim('fix:')} ${c.fix}` : '';
      return `${mark[c.status]} ${c.name.padEnd(width)}   ${detail}${fix}`;
    })
    .join('\n');
}
