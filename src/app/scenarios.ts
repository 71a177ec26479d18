// Scenario files for `idp check`: reading and validating them (errors name the file and the path inside it), running
// their logins on a throwaway copy of the org, and comparing each outcome with what the scenario expects.
import { IdpError, isIdpError } from '../core/errors.js';
import type { PlanItem, PolicyDoc } from '../core/policy.js';
import { fileRefusal, parseWith } from '../core/schemas/base.js';
import { scenarioFileSchema, type Expectation, type Scenario, type ScenarioLogin } from '../core/schemas/scenario.js';
import type { JitDecisionKind, Stage, StageEvent } from '../core/types.js';
import type { ScriptRunner, Store, TotpVerifier, Upstreams } from '../ports.js';
import { applyPolicy } from './policy.js';
import type { JUnitSuite } from './junit.js';
import { parsePolicy } from './policy-file.js';
import { readText } from './files.js';
import type { FlowError, FlowState, FlowView } from '../flow/types.js';

export type { Expectation, Scenario, ScenarioLogin };

export interface ScenarioFile {
  file: string;
  name: string;
  config: PolicyDoc | null;
  scenarios: Scenario[];
}

export interface Mismatch {
  field: string;
  expected: unknown;
  got: unknown;
}

export interface ScenarioResult {
  name: string;
  passed: boolean;
  ms: number;
  mismatches: Mismatch[];
  flow: string | null;
  stages: { stage: Stage; status: string; ms: number; detail: string }[];
  error: FlowError | null;
}

export interface FileReport {
  file: string;
  name: string;
  ms: number;
  scenarios: ScenarioResult[];
}

/** Drivers sit above the flow layer, so the CLI hands in the headless login and the upstreams (src/cli/commands/check.ts). */
export interface ScenarioDeps {
  login(copy: Store, login: ScenarioLogin, upstreams: Upstreams): Promise<{ view: FlowView; stages: StageEvent[] }>;
  upstreams(copy: Store): Promise<Upstreams>;
  actor: string;
  /** Checks the scripts a file's config sets, as `idp apply` does. */
  scripts: ScriptRunner;
  /** Ctrl-C: the running login is abandoned, no further scenario starts, and the copy is still removed. */
  signal?: AbortSignal;
}

const HINT = 'see "Scenario file" in the README; nothing was run';

export function readScenarioFile(file: string): ScenarioFile {
  return parseScenarioFile(readText(file), file);
}

export function parseScenarioFile(text: string, file: string): ScenarioFile {
  const { name, config, scenarios } = parseWith(
    scenarioFileSchema,
    parsePolicy(text, file),
    '(top level)',
    fileRefusal(file, HINT),
  );
  return { file, name, config: config ?? null, scenarios };
}

/** Policy errors name paths from the root of a policy file; here the policy sits under `config`. */
async function underConfig<T>(file: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const prefix = `${file}: `;
    if (!isIdpError(err) || !err.message.startsWith(prefix)) throw err;
    const rest = err.message.slice(prefix.length);
    const path = /^(apps|connections)\./.test(rest) ? `config.${rest}` : `config: ${rest}`;
    throw new IdpError(err.code, `${prefix}${path}`, err.hint);
  }
}

/**
 * What the file's config changes in `store`, through the rules `idp apply` enforces (names, steps, scripts, protected
 * claims); `apply: false` only checks. A config may change a connection's upstream: the copy then forgets its links.
 */
export async function applyConfig(
  store: Store,
  sf: ScenarioFile,
  deps: Pick<ScenarioDeps, 'actor' | 'scripts'>,
  opts: { apply: boolean },
): Promise<PlanItem[]> {
  const doc = sf.config;
  if (!doc) return [];
  const policy = { file: sf.file, prune: false, dryRun: !opts.apply, forgetAssociations: true };
  return (await underConfig(sf.file, () => applyPolicy({ store, ...deps }, doc, policy))).plan;
}

/** Runs a file's scenarios in order on one fresh copy of the org; `store` itself is only read. */
export async function runScenarioFile(store: Store, sf: ScenarioFile, deps: ScenarioDeps): Promise<FileReport> {
  const started = performance.now();
  const scenarios = await store.withThrowawayCopy(async (copy) => {
    // Checks send no mail: their codes are read from the copy's outbox, never relayed to the org's mail catcher.
    await copy.org.setSmtpRelay(null);
    await applyConfig(copy, sf, deps, { apply: true });
    const upstreams = await deps.upstreams(copy);
    try {
      const results: ScenarioResult[] = [];
      for (const scenario of sf.scenarios) {
        if (deps.signal?.aborted)
          throw new IdpError('INTERRUPTED', 'interrupted', 'the org was not changed; run the checks again');
        results.push(await runScenario(copy, scenario, deps, upstreams));
      }
      return results;
    } finally {
      await upstreams.close();
    }
  });
  return { file: sf.file, name: sf.name, ms: Math.round(performance.now() - started), scenarios };
}

async function runScenario(
  copy: Store,
  scenario: Scenario,
  deps: ScenarioDeps,
  upstreams: Upstreams,
): Promise<ScenarioResult> {
  const before = await copy.users.count();
  const started = performance.now();
  let view: FlowView | null = null;
  let stages: StageEvent[] = [];
  let thrown: FlowError | null = null;
  try {
    ({ view, stages } = await deps.login(copy, scenario.login, upstreams));
  } catch (err) {
    // Refusals before any flow exists (an unknown app, say) are outcomes a scenario may expect too.
    if (!isIdpError(err)) throw err;
    thrown = err.toJSON();
  }
  const ms = Math.round(performance.now() - started);
  const done = view?.status === 'done' ? view : undefined;
  const failed = view?.status === 'failed' ? view : undefined;
  const observed: Observed = {
    outcome: done ? 'success' : 'failed',
    jit: (done?.result.jit ?? failed?.jit)?.decision ?? null,
    error: failed?.error ?? thrown,
    users: (await copy.users.count()) - before,
    claims: done?.result.claims ?? null,
    stages: stages.map((s) => s.stage),
  };
  const mismatches = compare(scenario.expect, observed);
  return {
    name: scenario.name,
    passed: mismatches.length === 0,
    ms,
    mismatches,
    flow: view?.flow ?? null,
    stages: stages.map(({ stage, status, ms: took, detail }) => ({ stage, status, ms: took, detail })),
    error: observed.error,
  };
}

export interface Observed {
  outcome: 'success' | 'failed';
  jit: JitDecisionKind | null;
  error: FlowError | null;
  users: number;
  claims: Record<string, unknown> | null;
  stages: Stage[];
}

/** Every way `got` differs from what the scenario expects; empty means the scenario passes. */
export function compare(expect: Expectation, got: Observed): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const check = (field: string, expected: unknown, actual: unknown): void => {
    if (expected !== undefined && !same(expected, actual)) mismatches.push({ field, expected, got: actual ?? null });
  };
  check('outcome', expect.outcome, got.outcome);
  check('jit', expect.jit, got.jit);
  check('error', expect.error, got.error?.code);
  check('users', expect.users, got.users);
  const subset = (expected: Record<string, unknown>, actual: Record<string, unknown> | null, prefix: string): void => {
    for (const [key, value] of Object.entries(expected)) {
      const inner = actual?.[key];
      if (isMap(value) && isMap(inner)) subset(value, inner, `${prefix}.${key}`);
      else check(`${prefix}.${key}`, value, inner);
    }
  };
  if (expect.claims) subset(expect.claims, got.claims, 'claims');
  if (expect.stages?.some((s) => !got.stages.includes(s)))
    mismatches.push({ field: 'stages', expected: expect.stages, got: [...new Set(got.stages)] });
  return mismatches;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `expected jit provision, got pass-through` */
export function describeMismatch(m: Mismatch): string {
  if (m.field === 'stages')
    return `expected stages to include ${(m.expected as string[]).join(', ')}, got ${(m.got as string[]).join(', ') || '(none)'}`;
  const show = (v: unknown): string => {
    if (v === null || v === undefined) return '(none)';
    if (m.field === 'users' && typeof v === 'number') return v < 0 ? String(v) : `+${v}`;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  return `expected ${m.field} ${show(m.expected)}, got ${show(m.got)}`;
}

/** `app ✓ options ✓ redirect ✓ ... jit ✗` */
function stagesLine(stages: ScenarioResult['stages']): string {
  if (stages.length === 0) return '(no flow started)';
  return stages.map((s) => `${s.stage} ${s.status === 'ok' ? '✓' : s.status === 'failed' ? '✗' : '·'}`).join(' ');
}

/** What a failed scenario prints under its line (and puts in a JUnit failure): stages, then the flow's error. */
export function failureDetail(result: ScenarioResult): string[] {
  return [
    `stages: ${stagesLine(result.stages)}`,
    ...(result.error ? [`error: ${result.error.code}: ${result.error.message}`] : []),
  ];
}

export function junitSuites(reports: FileReport[]): JUnitSuite[] {
  return reports.map((report) => ({
    name: report.file,
    cases: report.scenarios.map((s) => {
      const summary = s.mismatches.map(describeMismatch).join('; ');
      return {
        classname: report.name,
        name: s.name,
        ms: s.ms,
        ...(!s.passed && {
          failure: { message: summary, text: [...s.mismatches.map(describeMismatch), ...failureDetail(s)].join('\n') },
        }),
      };
    }),
  }));
}

/**
 * `otp: totp`: the code of the TOTP factor of the user the flow identified. When this 30 s step's code was already
 * used (two scenarios in a row), the next step's code: still inside the one-step window, and not a replay.
 */
export async function totpForFlow(store: Store, flowId: string, totp: TotpVerifier): Promise<string | undefined> {
  const row = await store.flows.get(flowId);
  const identity = row && (JSON.parse(row.state) as FlowState).identity;
  const factor = identity?.kind === 'local' ? await store.factors.totpFor(identity.userId) : undefined;
  if (!factor) return undefined;
  const stepMs = 30_000;
  const at = Math.max(store.clock().getTime(), ((factor.lastUsedStep ?? -1) + 1) * stepMs);
  return totp.code(store.unseal(factor.secretSealed), new Date(at));
}
