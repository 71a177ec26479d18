// `idp check FILE...`: scenario files (logins and what must come out of them) run against a throwaway copy of the
// org, with one line per scenario, a --json summary, a --junit report for CI, and exit 9 when any scenario fails.
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import type { FileReport, ScenarioDeps } from '../../app/scenarios.js';
import type { ScriptRunner, Store } from '../../ports.js';
import type { HeadlessAnswers } from '../drivers/headless.js';
import { action, upstreamsFor, type CliContext } from '../context.js';
import { codeInOutbox, softwarePasskey } from './login.js';

type ScenarioText = Pick<typeof import('../../app/scenarios.js'), 'describeMismatch' | 'failureDetail'>;

interface CheckOptions {
  junit?: string;
  personas?: string;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('run scenario files against a throwaway copy of the org: logins and what must come out of them')
    .argument('<file...>', 'scenario files (YAML or JSON)')
    .option('--junit <file>', 'also write a JUnit XML report (one testcase per scenario)')
    .option('--personas <file>', 'extra sandbox personas (JSON, same shape as fixtures/sandbox/personas.json)')
    .addHelpText(
      'after',
      `
Each file gets its own copy of the org (its config: applies to that copy only); its scenarios run in order on it.
The org itself never changes. Exit 0 when every scenario passes, 9 when one fails, 2 when a file is invalid.

Examples:
  idp check fixtures/scenarios/*.yaml
  idp check checks.yaml --junit reports/idp-check.xml
  idp check checks.yaml --json`,
    )
    .action(
      action(async (ctx, files: string[], opts: CheckOptions) => {
        const { applyConfig, readScenarioFile, runScenarioFile } = await import('../../app/scenarios.js');
        const parsed = files.map(readScenarioFile);
        const { store, scripts } = await ctx.admin();
        // Every file is checked, config included, before anything runs: an invalid file fails fast with exit 2.
        for (const sf of parsed) await applyConfig(store, sf, { actor: ctx.actor, scripts }, { apply: false });
        const controller = new AbortController();
        // A second Ctrl-C stops waiting for the clean-up (the copy of the org in the temp directory).
        const onSigint = (): void => (controller.signal.aborted ? process.exit(130) : controller.abort());
        process.on('SIGINT', onSigint);
        // CI cancels with SIGTERM: exit at once; the store removes the copy of the org on exit.
        const onSigterm = (): never => process.exit(143);
        process.on('SIGTERM', onSigterm);
        const reports: FileReport[] = [];
        try {
          const deps = await scenarioDeps({
            actor: ctx.actor,
            scripts,
            personasFile: opts.personas,
            signal: controller.signal,
          });
          for (const sf of parsed) reports.push(await runScenarioFile(store, sf, deps));
        } finally {
          process.off('SIGINT', onSigint);
          process.off('SIGTERM', onSigterm);
        }
        await report(ctx, reports, opts);
      }),
    );
}

/** The headless driver as the scenario runner's login: sandbox providers in-process, answers from the scenario. */
export async function scenarioDeps(opts: {
  actor: string;
  scripts: ScriptRunner;
  personasFile?: string;
  signal?: AbortSignal;
}): Promise<ScenarioDeps> {
  const { headlessLogin } = await import('../drivers/headless.js');
  const { totpForFlow } = await import('../../app/scenarios.js');
  const { totp } = await import('../../mfa/totp.js');
  const otpSource = (copy: Store, otp: string | undefined): HeadlessAnswers['otp'] => {
    if (otp === 'outbox') return { fromOutbox: (flowId) => codeInOutbox(copy, flowId) };
    if (otp === 'totp') return { fromFactor: (flowId) => totpForFlow(copy, flowId, totp) };
    return otp === undefined ? undefined : { code: otp };
  };
  return {
    actor: opts.actor,
    scripts: opts.scripts,
    signal: opts.signal,
    upstreams: (copy) => upstreamsFor(copy, { personasFile: opts.personasFile }),
    login: async (copy, login, upstreams) => {
      const { app, as, otp, passkeyKeyEnv, ...answers } = login;
      const passkey = passkeyKeyEnv === undefined ? undefined : await softwarePasskey(passkeyKeyEnv, copy);
      return headlessLogin({
        store: copy,
        app,
        upstreams,
        personasFile: opts.personasFile,
        signal: opts.signal,
        answers: { ...answers, persona: as, otp: otpSource(copy, otp), passkey },
      });
    },
  };
}

async function report(ctx: CliContext, reports: FileReport[], opts: CheckOptions): Promise<void> {
  const results = reports.flatMap((r) => r.scenarios);
  const failed = results.filter((s) => !s.passed).length;
  const passed = results.length - failed;
  const text = await import('../../app/scenarios.js');
  if (opts.junit) {
    const { writeFileSync } = await import('node:fs');
    const { junitXml } = await import('../../app/junit.js');
    writeFileSync(opts.junit, junitXml(text.junitSuites(reports), 'idp check'));
  }
  ctx.out.result({ files: reports, passed, failed }, () =>
    human(ctx, reports, text, `${passed} passed, ${failed} failed`),
  );
  if (failed) {
    const hint = `the lines marked ✗ say what was expected and what happened${opts.junit ? `; details in ${opts.junit}` : ''}`;
    ctx.out.error(new IdpError('CHECKS_FAILED', `${failed} of ${results.length} scenario(s) failed`, hint), {
      document: false,
    });
    process.exitCode = 9;
  }
}

/** Per file a header, per scenario a line (✗ with expected vs got, the stages and the error), then the tally last. */
function human(ctx: CliContext, reports: FileReport[], text: ScenarioText, tally: string): string {
  const p = ctx.out.paint;
  const { describeMismatch, failureDetail } = text;
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(p.bold(`${r.file}: ${r.name}`));
    for (const s of r.scenarios) {
      if (s.passed) {
        lines.push(`  ${p.green('✓')} ${s.name} ${p.dim(`(${s.ms} ms)`)}`);
        continue;
      }
      lines.push(
        `  ${p.red('✗')} ${s.name}: ${s.mismatches.map(describeMismatch).join('; ')}`,
        ...failureDetail(s).map((l) => `      ${p.dim(l)}`),
      );
    }
  }
  lines.push(tally);
  return lines.join('\n');
}
