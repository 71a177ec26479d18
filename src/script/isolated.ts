// Runs script replays in one long-lived worker thread with a hard wall-clock limit. QuickJS's own CPU budget stops
// scripts between bytecodes; a single native call (filling a huge array) runs on regardless, so past the limit the
// thread is terminated and replaced. The worker is unreferenced while idle, so it never keeps a process alive.
import { Worker } from 'node:worker_threads';
import { IdpError, type ErrorCode } from '../core/errors.js';
import type { CompileResult, ReplayRequest, ReplayResult } from '../ports.js';
import { fixTheScript } from './fix.js';

export const WALL_LIMIT_MS = 1000;

interface Reply {
  id: number;
  result?: ReplayResult;
  compiled?: CompileResult;
  warm?: boolean;
  error?: { code: ErrorCode; message: string; hint: string | null };
}

/** One worker with its own outstanding requests, so a replaced worker's exit cannot fail the next one's. */
class ScriptWorker {
  private readonly thread = new Worker(new URL('./worker.js', import.meta.url));
  private readonly waiting = new Map<
    number,
    { app: string | undefined; resolve: (reply: Reply) => void; reject: (err: Error) => void }
  >();
  private nextId = 1;
  /** Resolves once the WASM engine is loaded: the wall limit counts the replay, not the start-up. */
  readonly ready: Promise<unknown>;

  constructor(private readonly onGone: (which: ScriptWorker) => void) {
    this.thread.on('message', (reply: Reply) => {
      const pending = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.thread.unref();
      pending?.resolve(reply);
    });
    this.thread.on('error', (err) =>
      this.fail((app) => new IdpError('SCRIPT_ERROR', `the script engine stopped: ${err.message}`, fixTheScript(app))),
    );
    this.thread.on('exit', () =>
      this.fail((app) => new IdpError('SCRIPT_ERROR', 'the script engine stopped', fixTheScript(app))),
    );
    this.thread.unref();
    this.ready = this.send({}, 30_000);
  }

  send(message: { replay?: ReplayRequest; compile?: string }, wallMs: number): Promise<Reply> {
    const id = this.nextId++;
    this.thread.ref();
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.onGone(this);
        void this.thread.terminate();
        reject(
          new IdpError(
            'SCRIPT_ERROR',
            `the conditional-authentication script was stopped after ${wallMs} ms`,
            fixTheScript(message.replay?.app),
          ),
        );
      }, wallMs);
      timer.unref();
      const settle = () => clearTimeout(timer);
      this.waiting.set(id, {
        app: message.replay?.app,
        resolve: (reply) => {
          settle();
          resolve(reply);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      });
      this.thread.postMessage({ id, ...message });
    });
  }

  private fail(error: (app: string | undefined) => Error): void {
    this.onGone(this);
    for (const pending of this.waiting.values()) pending.reject(error(pending.app));
    this.waiting.clear();
  }
}

let current: ScriptWorker | null = null;

function scriptWorker(): ScriptWorker {
  current ??= new ScriptWorker((gone) => {
    if (current === gone) current = null;
  });
  return current;
}

export async function replayIsolated(request: ReplayRequest, wallMs = WALL_LIMIT_MS): Promise<ReplayResult> {
  return (await ask({ replay: request }, wallMs)).result!;
}

/**
 * compileCheck in the worker: loading a script runs its top level, which may sit in one native built-in as long as
 * a replay can, so it gets the same wall limit.
 */
export async function compileIsolated(source: string, wallMs = WALL_LIMIT_MS): Promise<CompileResult> {
  try {
    return (await ask({ compile: source }, wallMs)).compiled!;
  } catch (err) {
    if (err instanceof IdpError && err.code === 'SCRIPT_ERROR') return { ok: false, message: err.message, line: null };
    throw err;
  }
}

async function ask(message: { replay?: ReplayRequest; compile?: string }, wallMs: number): Promise<Reply> {
  const worker = scriptWorker();
  await worker.ready;
  const reply = await worker.send(message, wallMs);
  if (reply.error) throw new IdpError(reply.error.code, reply.error.message, reply.error.hint ?? undefined);
  return reply;
}
