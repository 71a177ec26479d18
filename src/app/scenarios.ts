// Scenario files for `idp check`: reading and validating them (errors name the file and the path inside it), running
// their logins on a throwaway copy of the org, and comparing each outcome with what the scenario expects.
import { ERROR_CODES, IdpError, isIdpError, type ErrorCode } from '../core/errors.js';
import { MFA_OPTIONS } from '../core/signin.js';
import { planPolicy, validatePolicy, type PlanItem, type PolicyDoc } from '../core/policy.js';
import { JIT_DECISIONS, STAGES, type JitDecisionKind, type Stage, type StageEvent } from '../core/types.js';
import type { Store, TotpVerifier, Upstreams } from '../ports.js';
import { FileChecker } from '../core/file-checker.js';
import { applyPlan } from './apply.js';
import type { JUnitSuite } from './junit.js';
import { readText } from './files.js';
import { parsePolicy } from './policy-file.js';
import type { FlowError, FlowState, FlowView } from '../flow/types.js';

/** One login, in the headless driver's terms (`otp`: 'outbox', 'totp' or a code). */
export interface ScenarioLogin {
  app: string;
  connection?: string;
  option?: string;
  /** A later step's option when it offers several (totp or email-otp); else the one `otp` can answer. */
  mfa?: (typeof MFA_OPTIONS)[number];
  as?: string;
  consent: 'approve' | 'deny';
  username?: string;
  password?: string;
  otp?: string;
  jitConsent?: 'approve' | 'deny';
  jitUsername?: string;
}

export interface Expectation {
  outcome?: 'success' | 'failed';
  jit?: JitDecisionKind;
  error?: ErrorCode;
  /** The change in the number of local users. */
  users?: number;
  /** A subset of the ID token's claims (maps compared key by key, arrays whole). */
  claims?: Record<string, unknown>;
  /** Stage names that must appear. */
  stages?: Stage[];
}

export interface Scenario {
  name: string;
  login: ScenarioLogin;
  expect: Expectation;
}

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
  /** Ctrl-C: the running login is abandoned, no further scenario starts, and the copy is still removed. */
  signal?: AbortSignal;
}

const TOP_KEYS = ['name', 'config', 'scenarios'] as const;
const SCENARIO_KEYS = ['name', 'login', 'expect'] as const;
const LOGIN_KEYS = ['app', 'connection', 'option', 'as', 'consent', 'username', 'password', 'otp', 'jit_consent', 'jit_username', 'mfa'] as const;
const EXPECT_KEYS = ['outcome', 'jit', 'error', 'users', 'claims', 'stages'] as const;
const ANSWERS = ['approve', 'deny'] as const;
const OUTCOMES = ['success', 'failed'] as const;
const HINT = 'see "Scenario file" in the README; nothing was run';

export function readScenarioFile(file: string): ScenarioFile {
  return parseScenarioFile(readText(file), file);
}

export function parseScenarioFile(text: string, file: string): ScenarioFile {
  const c: FileChecker = new FileChecker(file, HINT); // annotated: fail() narrows only through a declared type
  const root = c.mapping(parsePolicy(text, file), '(top level)', TOP_KEYS);
  const name = c.string(root.name, 'name');
  if (!Array.isArray(root.scenarios) || root.scenarios.length === 0) c.fail('scenarios', 'must be a non-empty list of scenarios', 'each scenario has name, login and expect');
  const scenarios = root.scenarios.map((s, i) => parseScenario(c, s, `scenarios[${i}]`));
  const seen = new Set<string>();
  scenarios.forEach((s, i) => {
    if (seen.has(s.name)) c.fail(`scenarios[${i}].name`, `'${s.name}' names an earlier scenario too`, 'give every scenario of a file its own name (CI reports tell them apart by it)');
    seen.add(s.name);
  });
  const config = root.config === undefined ? null : underConfig(file, () => validatePolicy(root.config, file));
  return { file, name, config, scenarios };
}

function parseScenario(c: FileChecker, raw: unknown, path: string): Scenario {
  const s = c.mapping(raw, path, SCENARIO_KEYS);
  return { name: c.string(s.name, `${path}.name`), login: parseLogin(c, s.login, `${path}.login`), expect: parseExpect(c, s.expect, `${path}.expect`) };
}

function parseLogin(c: FileChecker, raw: unknown, path: string): ScenarioLogin {
  const l = c.mapping(raw, path, LOGIN_KEYS);
  if (l.connection !== undefined && l.option !== undefined) c.fail(path, 'give connection or option, not both', 'e.g. connection: github, or option: password');
  const otp = c.optionalString(l.otp, `${path}.otp`);
  if (otp !== undefined && !['outbox', 'totp'].includes(otp) && !/^\d{6}$/.test(otp)) c.fail(`${path}.otp`, `'${otp}' is not outbox, totp or a six-digit code`, 'otp: outbox reads the emailed code, otp: totp computes the code of the user\'s factor; quote a literal code: otp: "000000"');
  return {
    app: c.string(l.app, `${path}.app`),
    connection: c.optionalString(l.connection, `${path}.connection`),
    option: c.optionalString(l.option, `${path}.option`),
    mfa: l.mfa === undefined ? undefined : c.oneOf(l.mfa, `${path}.mfa`, MFA_OPTIONS),
    as: c.optionalString(l.as, `${path}.as`),
    consent: l.consent === undefined ? 'approve' : c.oneOf(l.consent, `${path}.consent`, ANSWERS),
    username: c.optionalString(l.username, `${path}.username`),
    password: c.optionalString(l.password, `${path}.password`),
    otp,
    jitConsent: l.jit_consent === undefined ? undefined : c.oneOf(l.jit_consent, `${path}.jit_consent`, ANSWERS),
    jitUsername: c.optionalString(l.jit_username, `${path}.jit_username`),
  };
}

function parseExpect(c: FileChecker, raw: unknown, path: string): Expectation {
  const e = c.mapping(raw, path, EXPECT_KEYS);
  if (Object.keys(e).length === 0) c.fail(path, 'expects nothing', `name at least one of ${EXPECT_KEYS.join(', ')}`);
  const out: Expectation = {};
  if (e.outcome !== undefined) out.outcome = c.oneOf(e.outcome, `${path}.outcome`, OUTCOMES);
  if (e.jit !== undefined) out.jit = c.oneOf(e.jit, `${path}.jit`, JIT_DECISIONS);
  if (e.error !== undefined) out.error = c.oneOf(e.error, `${path}.error`, Object.keys(ERROR_CODES) as ErrorCode[]);
  if (e.users !== undefined) out.users = userDelta(c, e.users, `${path}.users`);
  if (e.claims !== undefined) out.claims = c.mapping(e.claims, `${path}.claims`);
  if (e.stages !== undefined) {
    if (!Array.isArray(e.stages)) c.fail(`${path}.stages`, 'must be a list of stage names', `stages: ${STAGES.join(', ')}`);
    out.stages = e.stages.map((s, i) => c.oneOf(s, `${path}.stages[${i}]`, STAGES));
  }
  return out;
}

/** "+1", "-1", "+0" (YAML reads an unquoted +1 as the number 1, which means the same). */
function userDelta(c: FileChecker, value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value)) return Number(value);
  c.fail(path, `'${String(value)}' is not a change in the number of users`, 'e.g. users: "+1", users: "+0" or users: "-1"');
}

/** Policy errors name paths from the root of a policy file; here the policy sits under `config`. */
function underConfig<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    const prefix = `${file}: `;
    if (!isIdpError(err) || err.code !== 'FILE_INVALID' || !err.message.startsWith(prefix)) throw err;
    const rest = err.message.slice(prefix.length);
    const path = /^(apps|connections)\./.test(rest) ? `config.${rest}` : rest.startsWith('(top level)') ? `config${rest.slice('(top level)'.length)}` : `config: ${rest}`;
    throw new IdpError('FILE_INVALID', `${prefix}${path}`, err.hint);
  }
}

/** The changes the file's config makes to `store`; throws FILE_INVALID when they cannot apply (e.g. an unknown option). */
export function planConfig(store: Store, sf: ScenarioFile): PlanItem[] {
  if (!sf.config) return [];
  const doc = sf.config;
  return underConfig(sf.file, () => planPolicy({ apps: store.apps.list(), connections: store.connections.list() }, doc, { prune: false, file: sf.file }));
}

/** Runs a file's scenarios in order on one fresh copy of the org; `store` itself is only read. */
export async function runScenarioFile(store: Store, sf: ScenarioFile, deps: ScenarioDeps): Promise<FileReport> {
  const started = performance.now();
  const scenarios = await store.withThrowawayCopy(async (copy) => {
    // Checks send no mail: their codes are read from the copy's outbox, never relayed to the org's mail catcher.
    copy.org.setSmtpRelay(null);
    const plan = planConfig(copy, sf);
    if (plan.length) applyPlan(copy, plan, deps.actor, sf.file);
    const upstreams = await deps.upstreams(copy);
    try {
      const results: ScenarioResult[] = [];
      for (const scenario of sf.scenarios) {
        if (deps.signal?.aborted) throw new IdpError('INTERRUPTED', 'interrupted', 'the org was not changed; run the checks again');
        results.push(await runScenario(copy, scenario, deps, upstreams));
      }
      return results;
    } finally {
      await upstreams.close();
    }
  });
  return { file: sf.file, name: sf.name, ms: Math.round(performance.now() - started), scenarios };
}

async function runScenario(copy: Store, scenario: Scenario, deps: ScenarioDeps, upstreams: Upstreams): Promise<ScenarioResult> {
  const before = copy.users.count();
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
    users: copy.users.count() - before,
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
  if (expect.stages?.some((s) => !got.stages.includes(s))) mismatches.push({ field: 'stages', expected: expect.stages, got: [...new Set(got.stages)] });
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
  if (m.field === 'stages') return `expected stages to include ${(m.expected as string[]).join(', ')}, got ${(m.got as string[]).join(', ') || '(none)'}`;
  const show = (v: unknown): string => {
    if (v === null || v === undefined) return '(none)';
    if (m.field === 'users' && typeof v === 'number') return v < 0 ? String(v) : `+${v}`;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  return `expected ${m.field} ${show(m.expected)}, got ${show(m.got)}`;
}

/** `app ✓ options ✓ redirect ✓ ... jit ✗` */
export function stagesLine(stages: ScenarioResult['stages']): string {
  if (stages.length === 0) return '(no flow started)';
  return stages.map((s) => `${s.stage} ${s.status === 'ok' ? '✓' : s.status === 'failed' ? '✗' : '·'}`).join(' ');
}

/** What a failed scenario prints under its line (and puts in a JUnit failure): stages, then the flow's error. */
export function failureDetail(result: ScenarioResult): string[] {
  return [`stages: ${stagesLine(result.stages)}`, ...(result.error ? [`error: ${result.error.code}: ${result.error.message}`] : [])];
}

export function junitSuites(reports: FileReport[]): JUnitSuite[] {
  return reports.map((report) => ({
    name: report.file,
    cases: report.scenarios.map((s) => {
      const summary = s.mismatches.map(describeMismatch).join('; ');
      return { classname: report.name, name: s.name, ms: s.ms, ...(!s.passed && { failure: { message: summary, text: [...s.mismatches.map(describeMismatch), ...failureDetail(s)].join('\n') } }) };
    }),
  }));
}

/**
 * `otp: totp`: the code of the TOTP factor of the user the flow identified. When this 30 s step's code was already
 * used (two scenarios in a row), the next step's code: still inside the one-step window, and not a replay.
 */
export async function totpForFlow(store: Store, flowId: string, totp: TotpVerifier): Promise<string | undefined> {
  const row = store.flows.get(flowId);
  const identity = row && (JSON.parse(row.state) as FlowState).identity;
  const factor = identity?.kind === 'local' ? store.factors.totpFor(identity.userId) : undefined;
  if (!factor) return undefined;
  const stepMs = 30_000;
  const at = Math.max(store.clock().getTime(), ((factor.lastUsedStep ?? -1) + 1) * stepMs);
  return totp.code(store.unseal(factor.secretSealed), new Date(at));
}
