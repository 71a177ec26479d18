// `idp serve`'s HTTP server: binds loopback, mounts the org under /t/<org> (the provider's endpoints, the web driver's
// pages and the passkey pages' scripts, /commonauth, My Account), answers /health, purges expired provider rows, and
// drains on close.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Hint } from '../core/fixes.js';
import type { FlowEngine } from '../flow/engine.js';
import { serveAt, serverCookieKey } from '../app/broker.js';
import { guardPages, listenLoopback, sendJson } from '../net/http.js';
import { passkeyScriptUrls, sendPasskeyAsset } from '../net/passkey-assets.js';
import type { PasskeyVerifier, Store, TotpVerifier } from '../ports.js';
import { Signer } from './cookies.js';
import { MyAccount } from './myaccount.js';
import { ASSET_PATH, createProvider, INTERACTION_PATH, now, ROUTES } from './provider.js';
import { statusOf, WebDriver } from './web-driver.js';

const DISCOVERY = '/oauth2/token/.well-known/openid-configuration';
const PURGE_EVERY_MS = 10 * 60_000;
/** How long a stop waits for requests in flight before cutting their connections. */
const DRAIN_MS = 10_000;

export interface ServeOptions {
  store: Store;
  /** Who started the server: the org's base URL changes in their name. */
  actor: string;
  port: number;
  /**
   * The origin browsers reach this server at, through a load balancer shared with other instances of the org
   * (`https://idp.example.com`): the issuer and every advertised URL are made from it rather than from the port.
   */
  publicUrl?: string;
  /** The login engine, for flows whose upstreams call back to `callbackUrl`. */
  engine(callbackUrl: string): Promise<FlowEngine>;
  totp: TotpVerifier;
  /** My Account's passkey enrolment checks the authenticator's answer with it. */
  passkeys: PasskeyVerifier;
  wordHint(hint: Hint | undefined): string | null;
  /** A request the server could not answer (an internal error), for the operator's terminal. */
  onError?(err: unknown): void;
}

export interface RunningServer {
  /** `http://localhost:PORT`: where this instance listens. */
  url: string;
  /** `<public URL or http://localhost:PORT>/t/<org>`: an Asgardeo SDK's baseUrl. */
  base: string;
  issuer: string;
  discovery: string;
  close(): Promise<void>;
}

/** The org's provider and pages, on 127.0.0.1. The org's base URL becomes this server's, so `idp login` tokens carry the same issuer. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { store } = opts;
  let handle = (_req: IncomingMessage, res: ServerResponse): void => sendJson(res, 503, { status: 'starting' });
  const server = createServer((req, res) => handle(req, res));
  const port = await listenLoopback(server, opts.port, 'idp serve');
  // Browsers try `localhost` on ::1 first: answer there too, so nothing else on this machine can take that address.
  const v6 = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => v6.once('error', () => resolve()).listen(port, '::1', () => resolve()));
  const url = `http://localhost:${port}`;
  const hosts = new Set([`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
  // A load balancer may pass on the Host the browser used: the public one.
  const publicUrl = opts.publicUrl === undefined ? undefined : new URL(opts.publicUrl);
  if (publicUrl) hosts.add(publicUrl.host);
  const org = await store.org.name();
  const mount = `/t/${org}`;
  let urls: Awaited<ReturnType<typeof serveAt>>;
  try {
    urls = await serveAt({ store, actor: opts.actor }, opts.publicUrl ?? url);
    const { base, issuer } = urls;
    const key = await serverCookieKey(store);
    const signer = new Signer(key);
    const myAccountCallback = `${base}/myaccount/callback`;
    const provider = await createProvider({ store, issuer, mount, cookieKeys: [key], myAccountCallback });
    // oidc-provider builds its endpoints' URLs (discovery) from the request's scheme and host: behind a load balancer
    // they are the public ones, whatever the request says, so every instance advertises the same document. Its
    // cookies are then Secure when the public URL is https, as the browser's connection is.
    if (publicUrl) provider.proxy = true;
    // oidc-provider answers its own failures with a page; the operator's terminal learns why.
    provider.on('server_error', (_ctx, err) => opts.onError?.(err));
    const callbackUrl = `${base}/commonauth`;
    const engine = await opts.engine(callbackUrl);
    const driver = new WebDriver({
      store,
      provider,
      engine,
      signer,
      org,
      mount,
      callbackUrl,
      wordHint: opts.wordHint,
      onError: opts.onError,
    });
    const myAccount = new MyAccount({
      store,
      signer,
      totp: opts.totp,
      passkeys: opts.passkeys,
      org,
      mount,
      base,
      callback: myAccountCallback,
      tokenEndpoint: `http://127.0.0.1:${port}${mount}${ROUTES.token}`,
      driver,
    });
    const oidc = provider.callback();
    const scripts = passkeyScriptUrls(`${base}${ASSET_PATH}`);
    handle = (req, res) => {
      // Every response, the provider's own pages (sign-out, errors) among them.
      guardPages(res, scripts);
      route(req, res).catch((err: unknown) => {
        if (!res.headersSent) driver.fail(res, statusOf(err), err);
        else res.destroy();
      });
    };
    const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const target = new URL(req.url ?? '/', url);
      const path = target.pathname;
      const query = target.search.slice(1);
      // Only names of this machine: a page elsewhere cannot reach the provider through a rebound DNS name.
      if (!hosts.has(req.headers.host ?? ''))
        return sendJson(res, 421, { error: 'invalid_host', error_description: `use ${url}` });
      if (path === '/health') return sendJson(res, 200, { status: 'ok', issuer });
      if (path !== mount && !path.startsWith(`${mount}/`)) return sendJson(res, 404, { error: 'not_found' });
      const inner = path.slice(mount.length) || '/';
      if (inner === '/commonauth') return driver.commonauth(req, res, query);
      if (inner.startsWith(`${ASSET_PATH}/`)) return asset(req, res, inner.slice(ASSET_PATH.length + 1));
      if (inner.startsWith(INTERACTION_PATH))
        return driver.interaction(req, res, inner.slice(INTERACTION_PATH.length), query);
      if (inner === '/myaccount' || inner.startsWith('/myaccount/'))
        return myAccount.handle(req, res, inner, target.searchParams);
      // oidc-provider derives its endpoints' URLs from the mount path: the full path in originalUrl minus url.
      // Discovery sits at the issuer's path (Asgardeo's), which is the provider's own under the mount.
      const mounted = req as IncomingMessage & { originalUrl?: string };
      req.url = `${inner === DISCOVERY ? '/.well-known/openid-configuration' : inner}${target.search}`;
      mounted.originalUrl = `${mount}${req.url}`;
      if (publicUrl) {
        req.headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
        req.headers['x-forwarded-host'] = publicUrl.host;
      }
      oidc(req, res);
    };
  } catch (err) {
    server.close();
    v6.close();
    throw err;
  }
  // A failed purge is retried at the next tick; the rows it left only take room.
  const purgeExpired = (): void => {
    store.oidc.purgeExpired(now()).catch((err: unknown) => opts.onError?.(err));
  };
  const purge = setInterval(purgeExpired, PURGE_EVERY_MS);
  purge.unref();
  await store.oidc.purgeExpired(now());
  return {
    url,
    ...urls,
    close: () => {
      clearInterval(purge);
      return Promise.all([drain(server), v6.listening ? drain(v6) : undefined]).then(() => undefined);
    },
  };
}

/** GET a passkey page's script by its name; any other name (a path, `..`) is not found, and nothing else is read. */
function asset(req: IncomingMessage, res: ServerResponse, name: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed' });
  if (!sendPasskeyAsset(res, name)) sendJson(res, 404, { error: 'not_found' });
}

/** Stops accepting, lets requests in flight finish (cutting them after DRAIN_MS), closes idle keep-alive sockets. */
function drain(server: ReturnType<typeof createServer>): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    cut.unref();
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
