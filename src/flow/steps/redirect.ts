// The `redirect` state: the authorization request to the upstream, then its callback. The connector checks the
// callback (state first, so a mismatch never reaches the token endpoint); this step says which stage failed or passed.
import { IdpError, type ErrorCode } from '../../core/errors.js';
import type { Stage } from '../../core/types.js';
import type { UpstreamProfile } from '../../ports.js';
import type { FlowView, Waiting } from '../types.js';
import { afterUpstream } from './jit-prompt.js';
import type { Kit, Run } from './kit.js';

export async function redirect(
  kit: Kit,
  run: Run,
  connectionName: string,
  redirectUri: string | undefined,
): Promise<FlowView> {
  run.current = 'redirect';
  const connection = await kit.deps.store.connections.get(connectionName);
  if (!connection)
    throw new IdpError(
      'CONNECTION_NOT_FOUND',
      `connection ${connectionName} no longer exists`,
      `remove it from ${run.app.name}'s steps`,
    );
  if (!redirectUri)
    throw new IdpError(
      'USAGE',
      'a federated step needs the loopback redirect URI',
      'the driver passes it with the choice',
    );
  const started = performance.now();
  const { connector, provider } = await kit.deps.upstreams.connector(connection);
  const auth = await connector.authorizationRequest(redirectUri);
  const target = new URL(auth.url);
  kit.stage(
    run,
    'redirect',
    'ok',
    `to ${provider}${connection.sandbox ? ' (sandbox)' : ''} at ${target.origin}${target.pathname}; PKCE S256, state, nonce`,
    performance.now() - started,
  );
  return kit.wait(run, { kind: 'redirect', connection: connection.name, auth, provider, sandbox: connection.sandbox });
}

/** Which stage a refused callback failed in: a foreign state is the callback's fault, an upstream error the consent's. */
const CALLBACK_REFUSAL_STAGE: Partial<Record<ErrorCode, Stage>> = { STATE_MISMATCH: 'callback' };

export async function callback(
  kit: Kit,
  run: Run,
  waiting: Extract<Waiting, { kind: 'redirect' }>,
  callbackUrl: string,
): Promise<FlowView> {
  const connection = await kit.deps.store.connections.get(waiting.connection);
  if (!connection)
    throw new IdpError(
      'CONNECTION_NOT_FOUND',
      `connection ${waiting.connection} was removed during this sign-in`,
      'start a new login',
    );
  const { connector } = await kit.deps.upstreams.connector(connection);
  run.current = 'callback';
  try {
    connector.checkCallback(new URL(callbackUrl), waiting.auth);
  } catch (err) {
    run.current = (err instanceof IdpError && CALLBACK_REFUSAL_STAGE[err.code]) || 'consent';
    throw err;
  }
  kit.stage(run, 'consent', 'ok', `approved at ${waiting.provider}`, kit.waited(run));
  kit.stage(run, 'callback', 'ok', 'state matches; authorization code received', 0);

  run.current = 'token';
  let started = performance.now();
  const tokens = await connector.exchangeCode(new URL(callbackUrl), waiting.auth);
  kit.stage(
    run,
    'token',
    'ok',
    `code redeemed at ${waiting.provider}${tokens.idToken ? '; ID token verified (signature, iss, aud, exp, nonce)' : ''}`,
    performance.now() - started,
  );

  run.current = 'userinfo';
  started = performance.now();
  const profile = await connector.fetchProfile(tokens);
  kit.stage(run, 'userinfo', 'ok', describeProfile(profile), performance.now() - started);
  return afterUpstream(kit, run, { connection, subject: profile.subject, claims: profile.claims });
}

function describeProfile(profile: UpstreamProfile): string {
  const c = profile.claims;
  const who = (c.preferred_username as string | undefined) ?? (c.name as string | undefined) ?? 'user';
  const email =
    typeof c.email === 'string' ? `${c.email} (${c.email_verified ? 'verified' : 'not verified'})` : 'no email';
  return `${who}, subject ${profile.subject}, ${email}`;
}
