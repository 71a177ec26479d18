// Starts the bundled sandbox upstream providers on 127.0.0.1: the GitHub-like one (GitHub's OAuth app protocol)
// and, only when asked for, the Google-like OpenID provider, whose module is loaded on demand.

import type { RegisteredClient, RunningSandbox, SandboxClient } from '../ports.js';
import type { Personas } from './personas.js';
import { startGithubSandbox, type GithubSandbox } from './github.js';

/** The callback registered for sandbox clients that name none: the loopback server's path, on any port. */
export const DEFAULT_SANDBOX_REDIRECT_URI = 'http://127.0.0.1/callback';

export async function startSandbox(opts: {
  providers: ('github' | 'google')[];
  clients: SandboxClient[];
  personas: Personas;
  host?: '127.0.0.1';
  /** github on port, google on port + 1; 0 (default) = ephemeral ports. */
  port?: number;
}): Promise<RunningSandbox> {
  const port = opts.port ?? 0;
  const clients = opts.clients.map(register);
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(closers.splice(0).map((c) => c()));
  };
  try {
    let github: GithubSandbox | undefined;
    if (opts.providers.includes('github')) {
      github = await startGithubSandbox(clients, opts.personas.github, port);
      closers.push(github.close);
    }
    let google: { issuer: string } | undefined;
    if (opts.providers.includes('google')) {
      const { startGoogleSandbox } = await import('./google.js');
      const started = await startGoogleSandbox(clients, opts.personas.google, port === 0 ? 0 : port + 1);
      closers.push(started.close);
      google = { issuer: started.issuer };
    }
    return {
      ...(github && {
        github: {
          url: github.url,
          authorizeUrl: github.authorizeUrl,
          tokenUrl: github.tokenUrl,
          apiBase: github.apiBase,
        },
      }),
      ...(google && { google }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function register(client: SandboxClient): RegisteredClient {
  return {
    ...client,
    redirectUris: client.redirectUris ?? [DEFAULT_SANDBOX_REDIRECT_URI],
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod ?? 'client_secret_basic',
  };
}
