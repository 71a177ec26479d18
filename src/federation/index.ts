// Entry point of the upstream connectors: picks the GitHub or OIDC connector for a connection type.
// openid-client loads only when a connector is created (dynamic import), so importing this file costs nothing.

import { IdpError } from '../core/errors.js';
import type { TokenAuthMethod } from '../core/types.js';
import type { Connector, UpstreamEndpoints } from '../ports.js';

export type ConnectorType = 'github' | 'google' | 'oidc';

export interface ConnectorOptions {
  type: ConnectorType;
  endpoints: UpstreamEndpoints;
  clientId: string;
  clientSecret: string | null;
  /** Absent or null: chosen from the discovery document (GitHub: client_secret_post). */
  tokenAuth?: TokenAuthMethod | null;
  scopes: string[];
}

export const REAL_ENDPOINTS = {
  github: {
    kind: 'github',
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    apiBase: 'https://api.github.com',
  },
  google: { kind: 'oidc', issuer: 'https://accounts.google.com' },
} as const satisfies { github: UpstreamEndpoints; google: UpstreamEndpoints };

/**
 * github.com's endpoints, or those of a GitHub Enterprise Server at `baseUrl` (also the sandbox's shape): the web
 * flow at BASE/login/oauth/..., the REST API at BASE/api/v3.
 */
export function githubEndpoints(baseUrl: string | null): Extract<UpstreamEndpoints, { kind: 'github' }> {
  if (baseUrl === null) return REAL_ENDPOINTS.github;
  const base = baseUrl.replace(/\/+$/, '');
  return {
    kind: 'github',
    authorizeUrl: `${base}/login/oauth/authorize`,
    tokenUrl: `${base}/login/oauth/access_token`,
    apiBase: `${base}/api/v3`,
  };
}

/** Builds the connector; for OIDC types this fetches the discovery document (and fails on an issuer mismatch). */
export async function createConnector(opts: ConnectorOptions): Promise<Connector> {
  const { endpoints } = opts;
  if (opts.type === 'github' && endpoints.kind === 'github') {
    const { createGithubConnector } = await import('./github.js');
    return createGithubConnector({ ...opts, tokenAuth: opts.tokenAuth ?? null, endpoints });
  }
  if (opts.type !== 'github' && endpoints.kind === 'oidc') {
    const { createOidcConnector } = await import('./oidc.js');
    const provider =
      opts.type === 'google'
        ? 'Google'
        : URL.canParse(endpoints.issuer)
          ? new URL(endpoints.issuer).host
          : endpoints.issuer;
    return createOidcConnector({ ...opts, tokenAuth: opts.tokenAuth ?? null, provider, issuer: endpoints.issuer });
  }
  throw new IdpError(
    'INTERNAL',
    `a ${opts.type} connection cannot use ${endpoints.kind} endpoints`,
    'resolve the endpoints from the connection type',
  );
}
