// The interfaces the login engine (src/flow) needs from the outside world.
// Adapters implement them: src/store (Store, which also keeps the clock and the outbox), src/federation (Connector,
// Upstreams), src/mfa (Mailer, the optional SMTP relay).

/** What a connector needs to know to reach its upstream: real or sandbox base URLs, resolved by the caller. */
export type UpstreamEndpoints =
  | { kind: 'github'; authorizeUrl: string; tokenUrl: string; apiBase: string }
  | { kind: 'oidc'; issuer: string };

/** One upstream authorization request: everything the callback needs to be checked against. */
export interface AuthRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface UpstreamTokens {
  accessToken: string;
  idToken: string | null;
  scope: string | null;
  /** Verified ID token claims (OIDC only). */
  idTokenClaims: Record<string, unknown> | null;
}

/**
 * The upstream user as the broker sees it. `claims` is normalised to OIDC names:
 * email, email_verified, name, given_name, family_name, picture, preferred_username.
 */
export interface UpstreamProfile {
  subject: string;
  claims: Record<string, unknown>;
}

export interface Connector {
  /** Builds the authorization URL with PKCE S256, state and nonce. */
  authorizationRequest(redirectUri: string): Promise<AuthRequest>;
  /** Checks the callback (state first, never calling the token endpoint on a mismatch) and redeems the code. */
  exchangeCode(callbackUrl: URL, request: AuthRequest): Promise<UpstreamTokens>;
  /** Reads the profile: /user + /user/emails on GitHub, userinfo + ID token on OIDC. */
  fetchProfile(tokens: UpstreamTokens): Promise<UpstreamProfile>;
}


/** Resolves a connection to a ready connector: real endpoints and secrets, or the in-process sandbox. */
export interface Upstreams {
  connector(connection: import('./core/types.js').Connection): Promise<{ connector: Connector; provider: string }>;
  close(): Promise<void>;
}

/** One email as the outbox keeps it. */
export interface MailMessage {
  to: string;
  subject: string;
  body: string;
}

/** Passes a message the outbox received on to a real mail catcher. */
export interface Mailer {
  /** Where messages go, for stage details: `smtp://127.0.0.1:1025`. */
  readonly target: string;
  send(message: MailMessage): Promise<void>;
}

/** The user store the engine reads and writes (the SQLite adapter in src/store). */
export type Store = import('./store/store.js').Store;

/** Loads a conditional-authentication script (its top level runs) under the script engine's limits, running no step. */
export interface ScriptRunner {
  compile(source: string): Promise<{ ok: true } | { ok: false; message: string; line: number | null }>;
}

/** A new TOTP secret and the otpauth URI an authenticator app scans for it. */
export interface TotpEnroller {
  enrolment(opts: { account: string; issuer: string }): Promise<{ secret: string; uri: string }>;
}
