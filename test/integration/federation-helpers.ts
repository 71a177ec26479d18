// Test plumbing shared by the federation integration tests: free and closed loopback ports, a counting
// HTTP proxy in front of a sandbox provider, and a helper asserting the IdpError a promise rejects with.

import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { IdpError, type ErrorCode } from '../../src/core/errors.js';

/** A port nothing listens on: bound once by the OS, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(typeof address === 'object' && address);
  return address.port;
}

export interface CountingProxy {
  url: string;
  /** How many requests reached `path` through the proxy. */
  hits(path: string): number;
  close(): Promise<void>;
}

/** Forwards every request to `target` unchanged, counting requests per path. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', upstream);
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    const forwarded = request(
      url,
      { method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address);
  return {
    url: `http://127.0.0.1:${address.port}`,
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Asserts that `promise` rejects with an IdpError of `code` and returns it for further checks. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<IdpError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof IdpError, `expected an IdpError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    assert.ok(err.hint, `${code} carries a hint`);
    return err;
  }
  assert.fail(`expected an IdpError ${code}, but the promise resolved`);
}

/** The callback URL with one query parameter replaced (or removed when `value` is null). */
export function withParam(url: string, name: string, value: string | null): URL {
  const changed = new URL(url);
  if (value === null) changed.searchParams.delete(name);
  else changed.searchParams.set(name, value);
  return changed;
}
