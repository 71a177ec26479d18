// Conditional-authentication scripts (the Asgardeo subset: onLoginRequest, executeStep, fail, Log) run in QuickJS.
// The engine runs each step synchronously through runStep; the script only decides which steps run and whether to fail.

import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { IdpError } from '../core/errors.js';
import { fixTheScript } from './fix.js';
import type { CompileResult, ScriptStepInfo } from '../ports.js';
import { asText, ScriptFault, truncate, withSandbox, type Sandbox, type SandboxLimits } from './sandbox.js';

export interface ScriptDecision {
  /** The steps (1-based) the script executed, in order. */
  steps: number[];
  failed?: { errorCode?: string; errorMessage?: string };
  logs: string[];
}

export interface ScriptRunOptions {
  request: Record<string, unknown>;
  /** Called synchronously when the script calls executeStep(n); its result becomes context.steps[n]. */
  runStep: (n: number) => ScriptStepInfo;
  /** The app the script belongs to, named in the fix of a failure. */
  app?: string;
  /** Wall-clock budget for the script's own work; default 100. */
  cpuMs?: number;
  /** Default 8 MiB: plenty for a sign-in decision, and reached sooner by a runaway allocation. */
  memoryBytes?: number;
}

const DEFAULTS = { cpuMs: 100, memoryBytes: 8 * 1024 * 1024, stackBytes: 256 * 1024 } as const;
const MAX_LOG_LINES = 200;
const LOG_LEVELS = ['info', 'debug', 'warn', 'error'] as const;

interface RunState {
  /** The context handed to onLoginRequest; null while the top level runs. */
  context: QuickJSHandle | null;
  steps: number[];
  failed: ScriptDecision['failed'];
  logs: string[];
  /** A host failure inside runStep: rethrown as is, never disguised as a script error. */
  hostError: { error: unknown } | null;
}

/** Loads the script (its top level runs) without running onLoginRequest. Off the main thread: compileIsolated. */
export async function compileCheck(source: string): Promise<CompileResult> {
  try {
    await withSandbox(limitsOf({}), (sandbox) => {
      installApi(sandbox, newState(), () => {
        throw new IdpError('INTERNAL', 'compileCheck never runs steps');
      });
      loadScript(sandbox, source);
    });
    return { ok: true };
  } catch (err) {
    if (err instanceof ScriptFault) return { ok: false, message: err.message, line: err.line };
    throw err;
  }
}

export async function runConditionalScript(source: string, opts: ScriptRunOptions): Promise<ScriptDecision> {
  const state = newState();
  try {
    return await withSandbox(limitsOf(opts), (sandbox) => {
      installApi(sandbox, state, opts.runStep);
      const onLoginRequest = loadScript(sandbox, source);
      const context = sandbox.fromJson({ request: opts.request, steps: {} });
      state.context = context;
      sandbox.call(onLoginRequest, context);
      if (state.hostError) throw state.hostError.error;
      sandbox.assertInTime();
      return decisionOf(state);
    });
  } catch (err) {
    if (state.hostError) throw state.hostError.error;
    if (err instanceof ScriptFault) throw scriptError(err, opts.app);
    throw err;
  }
}

function limitsOf(opts: { cpuMs?: number; memoryBytes?: number }): SandboxLimits {
  return {
    cpuMs: opts.cpuMs ?? DEFAULTS.cpuMs,
    memoryBytes: opts.memoryBytes ?? DEFAULTS.memoryBytes,
    stackBytes: DEFAULTS.stackBytes,
  };
}

function newState(): RunState {
  return { context: null, steps: [], failed: undefined, logs: [], hostError: null };
}

function decisionOf(state: RunState): ScriptDecision {
  return { steps: state.steps, logs: state.logs, ...(state.failed ? { failed: state.failed } : {}) };
}

/** Runs the top level and returns the onLoginRequest function it must define. */
function loadScript(sandbox: Sandbox, source: string): QuickJSHandle {
  sandbox.evaluate(source);
  const handler = sandbox.own(sandbox.vm.getProp(sandbox.vm.global, 'onLoginRequest'));
  if (sandbox.vm.typeof(handler) !== 'function') {
    throw new ScriptFault(
      'the script does not define onLoginRequest (var onLoginRequest = function (context) { ... })',
      null,
    );
  }
  return handler;
}

function scriptError(fault: ScriptFault, app: string | undefined): IdpError {
  const where = fault.line === null ? '' : ` at line ${fault.line}`;
  return new IdpError(
    'SCRIPT_ERROR',
    `the conditional-authentication script failed${where}: ${fault.message}`,
    fixTheScript(app),
  );
}

function installApi(sandbox: Sandbox, state: RunState, runStep: (n: number) => ScriptStepInfo): void {
  const { vm } = sandbox;
  define(sandbox, vm.global, 'executeStep', (...args) => executeStep(sandbox, state, runStep, args));
  define(sandbox, vm.global, 'fail', (params) => {
    state.failed ??= failureOf(sandbox, params);
  });
  const log = sandbox.own(vm.newObject());
  for (const level of LOG_LEVELS) {
    define(sandbox, log, level, (...args) => {
      if (state.logs.length >= MAX_LOG_LINES) return;
      state.logs.push(`[${level}] ${truncate(args.map((a) => asText(sandbox.read(a))).join(' '), 1000)}`);
    });
  }
  vm.setProp(vm.global, 'Log', log);
}

type HostFunction = (...args: QuickJSHandle[]) => QuickJSHandle | { error: QuickJSHandle } | undefined;

function define(sandbox: Sandbox, target: QuickJSHandle, name: string, fn: HostFunction): void {
  sandbox.vm.setProp(target, name, sandbox.own(sandbox.vm.newFunction(name, fn)));
}

/** executeStep(n[, options][, { onSuccess, onFail }]): callbacks are in the last object argument. */
function executeStep(
  sandbox: Sandbox,
  state: RunState,
  runStep: (n: number) => ScriptStepInfo,
  [stepArg, ...rest]: QuickJSHandle[],
): { error: QuickJSHandle } | undefined {
  const { vm } = sandbox;
  if (state.hostError) return { error: vm.newError('the login step failed') };
  if (state.failed) return;
  if (!state.context) return typeError(vm, 'executeStep() can only be called inside onLoginRequest');
  const n = stepArg && vm.typeof(stepArg) === 'number' ? vm.getNumber(stepArg) : NaN;
  if (!Number.isInteger(n) || n < 1) return typeError(vm, 'executeStep(n) needs a step number (1, 2, ...)');

  let info: ScriptStepInfo;
  try {
    info = sandbox.hostCall(() => runStep(n));
  } catch (error) {
    state.hostError = { error };
    return { error: vm.newError('the login step failed') };
  }
  state.steps.push(n);
  recordStep(sandbox, state.context, n, info);
  const onSuccess = onSuccessOf(sandbox, rest);
  if (!onSuccess) return;
  const result = vm.callFunction(onSuccess, vm.undefined, state.context);
  if (result.error) return { error: result.error };
  sandbox.own(result.value);
}

/** Fills context.steps[n] on the one context object every callback receives. */
function recordStep(sandbox: Sandbox, context: QuickJSHandle, n: number, info: ScriptStepInfo): void {
  const { vm } = sandbox;
  const steps = sandbox.own(vm.getProp(context, 'steps'));
  const step = sandbox.fromJson({
    idp: info.idp,
    subject: {
      username: info.subject?.username,
      localClaims: info.subject?.localClaims ?? {},
      remoteClaims: info.subject?.remoteClaims ?? {},
    },
  });
  vm.setProp(steps, n, step);
}

/** onFail is accepted but never called: a step that fails makes runStep throw, which ends the run. */
function onSuccessOf(sandbox: Sandbox, args: QuickJSHandle[]): QuickJSHandle | null {
  const last = args.at(-1);
  if (!last || sandbox.vm.typeof(last) !== 'object') return null;
  const fn = sandbox.own(sandbox.vm.getProp(last, 'onSuccess'));
  return sandbox.vm.typeof(fn) === 'function' ? fn : null;
}

function failureOf(sandbox: Sandbox, params: QuickJSHandle | undefined): NonNullable<ScriptDecision['failed']> {
  const value = params ? sandbox.read(params) : undefined;
  if (typeof value !== 'object' || value === null) return {};
  const { errorCode, errorMessage } = value as Record<string, unknown>;
  return {
    ...(typeof errorCode === 'string' ? { errorCode: truncate(errorCode, 200) } : {}),
    ...(typeof errorMessage === 'string' ? { errorMessage: truncate(errorMessage, 1000) } : {}),
  };
}

function typeError(vm: QuickJSContext, message: string): { error: QuickJSHandle } {
  return { error: vm.newError({ name: 'TypeError', message }) };
}
