// Small node:http helpers shared by idp's own servers (the sandbox providers, `idp serve`): loopback listen/close,
// bodies, responses. Framework-free, so that starting the GitHub-like sandbox per login costs next to nothing.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';

const MAX_BODY_BYTES = 64 * 1024;

/** Listens on 127.0.0.1 only and resolves with the bound port (ephemeral when `port` is 0). */
export function listenLoopback(server: Server, port: number, who = 'the sandbox'): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(
        new IdpError(
          'USAGE',
          `${who} cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`,
          hint`pick another ${{ kind: 'option', option: 'port' }}, or 0 for any free port`,
          {
            cause: err,
          },
        ),
      );
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Closes the server and drops kept-alive connections, which would otherwise hold close() open. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new IdpError('USAGE', `the request body is over ${MAX_BODY_BYTES / 1024} KB`, 'send a smaller form');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Form or JSON request parameters, whichever the Content-Type says; string values only. */
export async function readParams(req: IncomingMessage): Promise<URLSearchParams> {
  const body = await readBody(req);
  if (!(req.headers['content-type'] ?? '').includes('application/json')) return new URLSearchParams(body);
  const params = new URLSearchParams();
  const parsed: unknown = body ? JSON.parse(body) : {};
  if (typeof parsed === 'object' && parsed !== null) {
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string' || typeof value === 'number') params.set(key, String(value));
    }
  }
  return params;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Sets what every response of one of idp's web servers carries, before it is routed: no page may be framed (any page on
 * another localhost port is same-site, and could overlay one-click buttons such as My Account's Remove), and scripts
 * run only from `scripts`, full URLs (none: no script at all). Inline JSON travels in <script type="application/json">,
 * which a script-src does not govern; oidc-provider adds the hash of an inline script it writes (form_post) to it.
 */
export function guardPages(res: ServerResponse, scripts: string[]): void {
  const sources = scripts.length ? scripts.join(' ') : "'none'";
  res.setHeader(
    'content-security-policy',
    `script-src ${sources}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`,
  );
  res.setHeader('x-frame-options', 'DENY');
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store' });
  res.end();
}
