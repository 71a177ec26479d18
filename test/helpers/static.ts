// A tiny static web server for the browser fixtures: serves one folder, chosen files from node_modules under
// fixed paths, and JSON documents the test sets once it knows the URLs (the app's config). Binds 127.0.0.1;
// the browser is given http://localhost:PORT, the origin the app is registered with.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { ROOT } from './idp.js';

export const FIXTURES = join(ROOT, 'test', 'fixtures');

export interface StaticSite {
  /** http://localhost:PORT */
  origin: string;
  /** Serves `value` as JSON at `path` from now on. */
  json(path: string, value: unknown): void;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
};

/**
 * Serves `folder` (index.html for `/`) plus `files`: URL path -> path relative to the repository root
 * (e.g. { '/oauth4webapi.js': 'node_modules/oauth4webapi/build/index.js' }).
 */
export async function serveStatic(folder: string, files: Record<string, string> = {}): Promise<StaticSite> {
  const documents = new Map<string, string>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const document = documents.get(path);
    if (document !== undefined) {
      res.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' }).end(document);
      return;
    }
    const mapped = files[path];
    // normalize() keeps `..` from leaving the folder: a fixture server is still a server on a socket.
    const file = mapped ? join(ROOT, mapped) : join(folder, normalize(path === '/' ? '/index.html' : path));
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://localhost:${port}`,
    json: (path, value) => documents.set(path, JSON.stringify(value)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
