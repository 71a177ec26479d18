// A forwarder on 127.0.0.1 standing in for a load balancer in front of several `idp serve` instances: round robin over
// the live ones, or the one a pin header names; the Host the client sent is kept, and every request is logged.
import { createServer, request } from 'node:http';

export interface Forwarded<B extends string> {
  /** the backend the request went to */
  backend: B;
  method: string;
  path: string;
  /** the backend's answer; 0 until it comes, 502 when the backend could not be reached */
  status: number;
}

export interface Forwarder<B extends string> {
  url: string;
  log: Forwarded<B>[];
  /** Takes a backend out of the rotation, as a load balancer does once its health check fails. */
  out(backend: B): void;
  close(): Promise<void>;
}

export interface ForwarderOptions {
  /**
   * A request header naming the backend to send the request to, as a sticky load balancer's routing would; it is
   * removed before forwarding. Requests without it (or naming no backend) go round robin.
   */
  pin?: string;
}

/**
 * Listens on a free port of 127.0.0.1. `backends` (name to listening URL) is asked on each request, so the forwarder
 * can listen before the instances start: their --public-url is its URL.
 */
export async function forwarder<B extends string>(
  backends: () => Record<B, string>,
  opts: ForwarderOptions = {},
): Promise<Forwarder<B>> {
  const log: Forwarded<B>[] = [];
  const down = new Set<B>();
  let next = 0;
  const server = createServer((req, res) => {
    const urls = backends();
    const names = Object.keys(urls) as B[];
    const pinned = opts.pin === undefined ? undefined : req.headers[opts.pin];
    if (opts.pin !== undefined) delete req.headers[opts.pin];
    const live = names.filter((name) => !down.has(name));
    const backend = names.find((name) => name === pinned) ?? live[next++ % live.length] ?? names[0]!;
    const entry: Forwarded<B> = { backend, method: req.method ?? 'GET', path: req.url ?? '/', status: 0 };
    log.push(entry);
    const target = new URL(urls[backend]);
    const upstream = request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(entry.status, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      entry.status = 502;
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    out: (backend) => down.add(backend),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
