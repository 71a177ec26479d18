// The QuickJS/WASM sandbox scripts run in: one fresh runtime per run, with a deadline, a memory limit and a stack limit.
// The WASM module is loaded lazily, once per process; script failures come back as ScriptFault with a line number.

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';

export interface SandboxLimits {
  cpuMs: number;
  memoryBytes: number;
  stackBytes: number;
}

const SCRIPT_FILE = 'script.js';

/** A failure of the script itself (as opposed to the host): what went wrong and where. */
export class ScriptFault extends Error {
  constructor(
    message: string,
    readonly line: number | null,
  ) {
    super(message);
    this.name = 'ScriptFault';
  }
}

let loading: Promise<QuickJSWASMModule> | null = null;

export function loadQuickJS(): Promise<QuickJSWASMModule> {
  loading ??= import('quickjs-emscripten').then((lib) => lib.getQuickJS());
  return loading;
}

export async function withSandbox<T>(limits: SandboxLimits, use: (sandbox: Sandbox) => T): Promise<T> {
  const wasm = await loadQuickJS();
  const sandbox = new Sandbox(wasm.newRuntime(), limits);
  try {
    return use(sandbox);
  } finally {
    sandbox.dispose();
  }
}

/** The wall-clock backstop: generous, so a busy machine does not fail scripts that are within their CPU budget. */
const WALL_FACTOR = 10;
const MIN_WALL_MS = 1000;

export class Sandbox {
  readonly vm: QuickJSContext;
  private readonly cpuStart = process.cpuUsage();
  private readonly wallStart = Date.now();
  /** Host work (login steps) done while the script waits: not charged to the script. */
  private hostCpuUs = 0;
  private hostWallMs = 0;
  private timedOut = false;
  /** Every handle the host creates, freed before the runtime: QuickJS aborts the whole WASM module on a leak. */
  private readonly owned: QuickJSHandle[] = [];

  constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly limits: SandboxLimits,
  ) {
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(limits.stackBytes);
    runtime.setInterruptHandler(() => {
      if (this.overBudget()) this.timedOut = true;
      return this.timedOut;
    });
    this.vm = runtime.newContext();
  }

  /** CPU time (the budget: "100 ms of CPU per call") with a wall-clock backstop, both net of host work. */
  private overBudget(): boolean {
    const cpu = process.cpuUsage(this.cpuStart);
    const cpuMs = (cpu.user + cpu.system - this.hostCpuUs) / 1000;
    const wallMs = Date.now() - this.wallStart - this.hostWallMs;
    return cpuMs > this.limits.cpuMs || wallMs > Math.max(MIN_WALL_MS, this.limits.cpuMs * WALL_FACTOR);
  }

  own(handle: QuickJSHandle): QuickJSHandle {
    this.owned.push(handle);
    return handle;
  }

  /** Runs host work (a login step) without charging its time to the script's budget. */
  hostCall<T>(work: () => T): T {
    const started = Date.now();
    const cpu = process.cpuUsage();
    try {
      return work();
    } finally {
      const used = process.cpuUsage(cpu);
      this.hostCpuUs += used.user + used.system;
      this.hostWallMs += Date.now() - started;
    }
  }

  /** Evaluates the script's top level. */
  evaluate(source: string): void {
    this.settle(this.vm.evalCode(source, SCRIPT_FILE));
  }

  /** Calls a script function; a failure inside it becomes a ScriptFault. */
  call(fn: QuickJSHandle, ...args: QuickJSHandle[]): void {
    this.settle(this.vm.callFunction(fn, this.vm.undefined, ...args));
  }

  /** A VM copy of a JSON-compatible host value (owned by the sandbox). */
  fromJson(value: unknown): QuickJSHandle {
    const json = this.own(this.vm.newString(JSON.stringify(value ?? null)));
    const JSON_ = this.own(this.vm.getProp(this.vm.global, 'JSON'));
    const parse = this.own(this.vm.getProp(JSON_, 'parse'));
    return this.own(this.vm.unwrapResult(this.vm.callFunction(parse, JSON_, json)));
  }

  /** A VM value as the host sees it; undefined when it cannot be read (e.g. out of memory). */
  read(handle: QuickJSHandle): unknown {
    try {
      return this.vm.dump(handle);
    } catch {
      return undefined;
    }
  }

  /** Throws if the run went over its deadline, even when the script swallowed the interruption. */
  assertInTime(): void {
    if (this.timedOut) throw new ScriptFault(`it ran longer than its ${this.limits.cpuMs} ms budget`, null);
  }

  dispose(): void {
    for (const handle of this.owned) if (handle.alive) handle.dispose();
    this.vm.dispose();
    this.runtime.dispose();
  }

  private settle(result: { value: QuickJSHandle; error?: undefined } | { error: QuickJSHandle }): void {
    if (result.error === undefined) {
      this.own(result.value);
      return;
    }
    throw this.fault(this.read(this.own(result.error)));
  }

  private fault(thrown: unknown): ScriptFault {
    // QuickJS attributes an interrupt to an earlier call site, not the loop that ran too long: no line beats a wrong one.
    if (this.timedOut) return new ScriptFault(`it ran longer than its ${this.limits.cpuMs} ms budget`, null);
    const line = lineOf(thrown);
    if (!isErrorLike(thrown)) {
      if (thrown === undefined || thrown === null) return new ScriptFault(this.outOfMemory(), line);
      return new ScriptFault(`uncaught exception: ${truncate(asText(thrown))}`, line);
    }
    if (thrown.message === 'out of memory') return new ScriptFault(this.outOfMemory(), line);
    if (thrown.message === 'stack overflow') return new ScriptFault('stack overflow (recursion too deep)', line);
    return new ScriptFault(`${thrown.name ?? 'Error'}: ${truncate(thrown.message)}`, line);
  }

  private outOfMemory(): string {
    return `it ran out of memory (limit ${Math.round(this.limits.memoryBytes / 1024)} KiB)`;
  }
}

interface ErrorLike {
  name?: string;
  message: string;
  stack?: string;
  lineNumber?: number;
}

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as ErrorLike).message === 'string';
}

/** QuickJS puts the line on syntax errors (lineNumber) and in the stack ("at f (script.js:3:7)") otherwise. */
function lineOf(thrown: unknown): number | null {
  if (!isErrorLike(thrown)) return null;
  if (typeof thrown.lineNumber === 'number') return thrown.lineNumber;
  const match = typeof thrown.stack === 'string' ? thrown.stack.match(/script\.js:(\d+)/) : null;
  return match ? Number(match[1]) : null;
}

/** How a script value reads in a log line or message: strings as they are, anything else as JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
