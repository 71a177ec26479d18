// Test plumbing for `idp serve`: spawns the real CLI (on port 0 unless told) with --json, waits for its "listening" line, collects
// the stage events it prints after it, and stops it with SIGTERM as a user's Ctrl-C or a service manager would.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { childEnv, IDP_BIN } from './idp.js';

export interface Serving {
  /** http://localhost:PORT */
  url: string;
  /** http://localhost:PORT/t/ORG: what an Asgardeo SDK takes as baseUrl */
  base: string;
  issuer: string;
  discovery: string;
  /**
   * Every line printed on stdout so far, parsed, the "listening" one first (the array grows while the server runs);
   * a line that is not JSON appears as { event: 'not-json', line }.
   */
  lines: Record<string, unknown>[];
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code (128 + signal number when killed by a signal). */
  stop(): Promise<number>;
  /** Sends `signal` (a crash: SIGKILL) and resolves with the exit code, as stop does. */
  kill(signal: NodeJS.Signals): Promise<number>;
}

export interface ServeOptions {
  /** default 0: a free port */
  port?: number;
  /** extra arguments after `serve --port N --json` (e.g. ['--personas', file]) */
  args?: string[];
  env?: Record<string, string | undefined>;
  /** how long to wait for the listening line */
  timeoutMs?: number;
}

const SIGNALS: Record<string, number> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };

export function startServe(home: string, opts: ServeOptions = {}): Promise<Serving> {
  const child = spawn(
    process.execPath,
    [IDP_BIN, 'serve', '--port', String(opts.port ?? 0), '--json', ...(opts.args ?? [])],
    {
      env: childEnv({ home, env: opts.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? 128 + (SIGNALS[signal ?? ''] ?? 0))),
  );
  // A test that forgets to stop its server must not leave it running past the test process.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise<Serving>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`idp serve did not print its listening line within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`idp serve exited ${code} before listening\nstderr: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // Kept, not fatal, so a test can show it: --json promises JSON lines only.
        event = { event: 'not-json', line };
      }
      lines.push(event);
      if (lines.length > 1) return;
      clearTimeout(timer);
      if (event.event !== 'listening') {
        child.kill('SIGKILL');
        reject(new Error(`idp serve's first line is not the listening event: ${line}`));
        return;
      }
      resolve({
        url: String(event.url),
        base: String(event.base),
        issuer: String(event.issuer),
        discovery: String(event.discovery),
        lines,
        stderr: () => stderr,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
        kill: (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}
