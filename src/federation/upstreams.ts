// Resolves a connection to a ready connector: the real provider's endpoints and secret, or the bundled sandbox
// provider started in-process on 127.0.0.1 (only the providers a login actually uses, only once per process),
// registered with exactly the credentials the connections will present.
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { Connection, TokenAuthMethod } from '../core/types.js';
import type {
  Connector,
  RunningSandbox,
  SandboxClient,
  SandboxStarter,
  Store,
  UpstreamEndpoints,
  Upstreams,
} from '../ports.js';
import { chooseTokenAuth } from './discovery.js';
import { createConnector, githubEndpoints, REAL_ENDPOINTS } from './index.js';

type Provider = 'github' | 'google';

export interface UpstreamsOptions {
  store: Store;
  /** Starts a sandbox provider (src/sandbox), for connections marked sandbox. */
  startSandbox: SandboxStarter;
  env?: NodeJS.ProcessEnv;
}

export function providerName(connection: Connection): string {
  if (connection.type === 'github') return 'GitHub';
  if (connection.type === 'google') return 'Google';
  return connection.issuer && URL.canParse(connection.issuer) ? new URL(connection.issuer).host : connection.name;
}

export function createUpstreams(opts: UpstreamsOptions): Upstreams {
  const sandboxes = new Map<Provider, Promise<RunningSandbox>>();
  const connectors = new Map<string, Promise<{ connector: Connector; provider: string }>>();
  const env = opts.env ?? process.env;

  function sandbox(provider: Provider): Promise<RunningSandbox> {
    let running = sandboxes.get(provider);
    if (!running) {
      running = sandboxClients(opts.store, env, provider).then((clients) => opts.startSandbox(provider, clients));
      running.catch(() => sandboxes.delete(provider));
      sandboxes.set(provider, running);
    }
    return running;
  }

  async function endpoints(connection: Connection): Promise<UpstreamEndpoints> {
    if (connection.sandbox) {
      // The sandbox is reached exactly as a GitHub Enterprise Server is: one code path for both.
      if (connection.type === 'github') return githubEndpoints((await sandbox('github')).github!.url);
      return { kind: 'oidc', issuer: (await sandbox('google')).google!.issuer };
    }
    if (connection.type === 'github') return githubEndpoints(connection.baseUrl);
    if (connection.type === 'google') return REAL_ENDPOINTS.google;
    if (!connection.issuer) {
      throw new IdpError(
        'CONNECTION_INCOMPLETE',
        `connection ${connection.name} has no issuer`,
        hint`${{ kind: 'set', on: 'connection', name: connection.name, setting: 'issuer', value: 'URL' }}`,
      );
    }
    return { kind: 'oidc', issuer: connection.issuer };
  }

  async function build(connection: Connection): Promise<{ connector: Connector; provider: string }> {
    const resolved = await endpoints(connection);
    const clientSecret = await connectionSecret(opts.store, env, connection);
    const connector = await createConnector({
      type: connection.type,
      endpoints: resolved,
      clientId: connection.clientId,
      clientSecret,
      tokenAuth: connection.tokenAuth,
      scopes: connection.scopes,
    });
    return { connector, provider: providerName(connection) };
  }

  return {
    connector(connection) {
      let entry = connectors.get(connection.name);
      if (!entry) {
        entry = build(connection);
        entry.catch(() => connectors.delete(connection.name));
        connectors.set(connection.name, entry);
      }
      return entry;
    },
    async close() {
      const running = await Promise.allSettled([...sandboxes.values()]);
      sandboxes.clear();
      connectors.clear();
      await Promise.all(running.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    },
  };
}

/**
 * The client secret a connection presents: from its environment variable or the store, or none (a public client:
 * an oidc connection, or any with token authentication none). The sandbox registers the same, so it accepts whatever
 * the connection is configured with.
 */
async function connectionSecret(store: Store, env: NodeJS.ProcessEnv, connection: Connection): Promise<string | null> {
  const source = connection.secret;
  if (source.kind === 'env') {
    const value = env[source.variable];
    if (!value)
      throw new IdpError(
        'SECRET_MISSING',
        `the client secret of ${connection.name} is read from $${source.variable}, which is not set`,
        `set $${source.variable} in idp's environment`,
      );
    return value;
  }
  if (source.kind === 'stored') return store.connections.storedSecret(connection.name);
  if (connection.type !== 'oidc' && connection.tokenAuth !== 'none') {
    throw new IdpError(
      'SECRET_MISSING',
      `connection ${connection.name} has no client secret`,
      hint`${{ kind: 'set', on: 'connection', name: connection.name, setting: 'client-secret-env', value: 'VAR' }}`,
    );
  }
  return null;
}

/** What the bundled sandbox providers advertise; the registration picks from it as the connector will. */
const SANDBOX_TOKEN_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'];

/**
 * The sandbox connections of the org (of one provider, if given) as clients of the bundled providers. A connection
 * whose secret cannot be read is left out: its login fails on that first, with the reason.
 */
export async function sandboxClients(
  store: Store,
  env: NodeJS.ProcessEnv,
  provider?: Provider,
): Promise<SandboxClient[]> {
  const clients: SandboxClient[] = [];
  for (const c of await store.connections.list()) {
    if (!c.sandbox || (provider !== undefined && providerOf(c) !== provider)) continue;
    try {
      clients.push(await sandboxClient(store, env, c));
    } catch {
      // left out: its login fails on the same read, with the reason
    }
  }
  return clients;
}

/** A sandbox connection as its bundled provider registers it: its client id, the secret it presents, its token auth. */
export async function sandboxClient(
  store: Store,
  env: NodeJS.ProcessEnv,
  c: Connection,
): Promise<SandboxClient & { tokenEndpointAuthMethod: TokenAuthMethod }> {
  const secret = await connectionSecret(store, env, c);
  const tokenEndpointAuthMethod = chooseTokenAuth(c.tokenAuth, SANDBOX_TOKEN_AUTH_METHODS, !!secret);
  return {
    provider: providerOf(c),
    clientId: c.clientId,
    clientSecret: tokenEndpointAuthMethod === 'none' ? '' : (secret ?? ''),
    appName: `idp (${c.name})`,
    tokenEndpointAuthMethod,
  };
}

function providerOf(c: Connection): Provider {
  return c.type === 'github' ? 'github' : 'google';
}
