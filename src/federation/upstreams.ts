// Resolves a connection to a ready connector: the real provider's endpoints and secret, or the bundled sandbox
// provider started in-process on 127.0.0.1 (only the providers a login actually uses, only once per process).
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { Connection } from '../core/types.js';
import type { Connector, RunningSandbox, SandboxStarter, Store, UpstreamEndpoints, Upstreams } from '../ports.js';
import { createConnector, REAL_ENDPOINTS } from './index.js';

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
      running = startSandboxFor(opts.store, opts.startSandbox, provider);
      running.catch(() => sandboxes.delete(provider));
      sandboxes.set(provider, running);
    }
    return running;
  }

  async function endpoints(connection: Connection): Promise<UpstreamEndpoints> {
    if (connection.sandbox) {
      if (connection.type === 'github') return { kind: 'github', ...(await sandbox('github')).github! };
      return { kind: 'oidc', issuer: (await sandbox('google')).google!.issuer };
    }
    if (connection.type === 'github') return REAL_ENDPOINTS.github;
    if (connection.type === 'google') return REAL_ENDPOINTS.google;
    if (!connection.issuer) {
      throw new IdpError('CONNECTION_INCOMPLETE', `connection ${connection.name} has no issuer`, hint`${{ kind: 'set', on: 'connection', name: connection.name, setting: 'issuer', value: 'URL' }}`);
    }
    return { kind: 'oidc', issuer: connection.issuer };
  }

  function secret(connection: Connection): string | null {
    const source = connection.secret;
    if (source.kind === 'env') {
      const value = env[source.variable];
      if (!value) throw new IdpError('SECRET_MISSING', `the client secret of ${connection.name} is read from $${source.variable}, which is not set`, `set $${source.variable} in idp's environment`);
      return value;
    }
    if (source.kind === 'stored') return opts.store.connections.storedSecret(connection.name);
    if (connection.type !== 'oidc') {
      throw new IdpError('SECRET_MISSING', `connection ${connection.name} has no client secret`, hint`${{ kind: 'set', on: 'connection', name: connection.name, setting: 'client-secret-env', value: 'VAR' }}`);
    }
    return null;
  }

  async function build(connection: Connection): Promise<{ connector: Connector; provider: string }> {
    const resolved = await endpoints(connection);
    const connector = await createConnector({ type: connection.type, endpoints: resolved, clientId: connection.clientId, clientSecret: secret(connection), scopes: connection.scopes });
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

/** Registers every sandbox connection of the provider's kind as a client, with its stored secret. */
function startSandboxFor(store: Store, startSandbox: SandboxStarter, provider: Provider): Promise<RunningSandbox> {
  const clients = store.connections
    .list()
    .filter((c) => c.sandbox && (provider === 'github' ? c.type === 'github' : c.type !== 'github'))
    .map((c) => ({ provider, clientId: c.clientId, clientSecret: store.connections.storedSecret(c.name) ?? '', appName: `idp (${c.name})` }));
  return startSandbox(provider, clients);
}
