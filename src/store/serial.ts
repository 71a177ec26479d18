// The per-connection queue of units of work: one better-sqlite3 connection answers every request of `idp serve`, so
// while a unit of work awaits between its statements, other callers on that connection must wait for it to end.

/** A FIFO mutex that is taken without a promise when free (the common case: no unit of work open). */
export class Serial {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  get busy(): boolean {
    return this.held;
  }

  /** Resolves once the caller holds the mutex. */
  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the mutex to the next waiter, if any, without freeing it in between. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }

  /**
   * Runs a synchronous call on the connection: at once when no unit of work is open (nothing can interleave with a
   * synchronous call), else after the units queued before it. A throw becomes a rejection either way.
   */
  run<R>(call: () => R): Promise<R> {
    if (!this.held) return settle(call);
    return this.acquire().then(() => {
      try {
        return call();
      } finally {
        this.release();
      }
    });
  }
}

/** A synchronous call's outcome as a settled promise. */
export function settle<R>(call: () => R): Promise<R> {
  try {
    return Promise.resolve(call());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Each method of T, returning a Promise of what it returned. */
export type Async<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never;
};

/**
 * The Promise-returning face of a synchronous repository: every method of its class, run through `serial` (a plain
 * store's calls) or directly (inside a unit of work, which already holds the mutex).
 */
export function facade<T extends object>(repo: T, serial: Serial | null): Async<T> {
  const face: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(repo))) {
    const method = (repo as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    const call = method.bind(repo) as (...args: unknown[]) => unknown;
    face[name] = serial
      ? (...args: unknown[]) => serial.run(() => call(...args))
      : (...args: unknown[]) => settle(() => call(...args));
  }
  return face as Async<T>;
}
