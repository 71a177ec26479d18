// The interfaces the login engine (src/flow) and the use cases (src/app) need from the outside world. Types only:
// adapters implement them (src/store: Store; src/federation: Connector, Upstreams; src/sandbox: SandboxStarter;
// src/tokens: TokenSigner; src/mfa: TotpVerifier, OtpVerifier, Mailer; src/webauthn: PasskeyVerifier; src/script:
// ScriptRunner), and the composition root (src/cli/context.ts) wires them together. No adapter imports another.
import type { Connection, TokenAuthMethod } from './core/types.js';
import type { SigningKey, StoredEmailOtp } from './ports/store.js';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from './ports/webauthn.js';

export type * from './ports/store.js';
export type * from './ports/webauthn.js';

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
  /**
   * Checks the callback without any request: exactly one state, equal to the request's (STATE_MISMATCH); then an
   * upstream error (UPSTREAM_DENIED, UPSTREAM_ERROR); then a code. The one place these checks are made.
   */
  checkCallback(callbackUrl: URL, request: AuthRequest): void;
  /** Checks the callback as checkCallback does (so a mismatch never reaches the token endpoint) and redeems the code. */
  exchangeCode(callbackUrl: URL, request: AuthRequest): Promise<UpstreamTokens>;
  /** Reads the profile: /user + /user/emails on GitHub, userinfo + ID token on OIDC. */
  fetchProfile(tokens: UpstreamTokens): Promise<UpstreamProfile>;
}

/** Resolves a connection to a ready connector: real endpoints and secrets, or the in-process sandbox. */
export interface Upstreams {
  connector(connection: Connection): Promise<{ connector: Connector; provider: string }>;
  close(): Promise<void>;
}

/** A client registered at a sandbox provider: a sandbox connection's id and secret. */
export interface SandboxClient {
  provider: 'github' | 'google';
  clientId: string;
  clientSecret: string;
  appName: string;
  /** Registered callbacks; loopback ones match with any port. Default: the loopback server's /callback. */
  redirectUris?: string[];
  /** How the client authenticates at the token endpoint (the Google-like one holds it to that; `none`: a public
   *  client, whose secret is ignored). Default: client_secret_basic. */
  tokenEndpointAuthMethod?: TokenAuthMethod;
}

/** A client with its defaults filled in, as both sandbox providers register it. */
export type RegisteredClient = Required<SandboxClient>;

export interface RunningSandbox {
  github?: { url: string; authorizeUrl: string; tokenUrl: string; apiBase: string };
  google?: { issuer: string };
  close(): Promise<void>;
}

/** Starts one bundled sandbox provider on 127.0.0.1 with these clients (src/sandbox). */
export type SandboxStarter = (provider: 'github' | 'google', clients: SandboxClient[]) => Promise<RunningSandbox>;

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

export interface IdTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  amr: string[];
  acr: string;
  auth_time: number;
  nonce?: string;
  [claim: string]: unknown;
}

/** Signs the ID tokens the org issues to apps (src/tokens). */
export interface TokenSigner {
  /** The signed token, and its claims as signed (with iat and exp). */
  signIdToken(
    key: SigningKey,
    claims: IdTokenClaims,
    now: Date,
  ): Promise<{ idToken: string; claims: Record<string, unknown> }>;
  /** The stable subject of a pass-through user: the same upstream user gets the same sub, unlinkable across orgs. */
  passThroughSubject(connection: string, upstreamSubject: string, orgSalt: string): string;
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' };

/** RFC 6238 codes from authenticator apps (src/mfa). */
export interface TotpVerifier {
  newSecret(): string;
  /** The otpauth:// URI an authenticator app scans. */
  enrolmentUri(opts: { secret: string; account: string; issuer: string }): string;
  check(secret: string, code: string, opts: { at: Date; lastUsedStep: number | null }): Promise<TotpCheck>;
  /** The code for `at`, for drivers that answer for a person (scenario files). */
  code(secret: string, at: Date): Promise<string>;
}

export type EmailOtpCheck = 'ok' | 'expired' | 'used' | 'wrong-flow' | 'invalid' | 'too-many-attempts';

/** Emailed one-time codes, bound to their flow (src/mfa). */
export interface OtpVerifier {
  /** How long a code works, in ms. */
  readonly ttlMs: number;
  /** A fresh code, and the hash the store keeps for this flow. */
  issue(flowId: string): { code: string; hash: string };
  check(stored: StoredEmailOtp, code: string, flowId: string, now: Date): EmailOtpCheck;
}

/** What a script sees of a finished step as context.steps[n]. */
export interface ScriptStepInfo {
  /** 'LOCAL' or the connection name. */
  idp: string;
  subject?: { username?: string; localClaims?: Record<string, unknown>; remoteClaims?: Record<string, unknown> };
}

export interface ReplayRequest {
  source: string;
  request: Record<string, unknown>;
  /** Outcomes of the finished steps, by step number. */
  finished: Record<number, ScriptStepInfo>;
  stepCount: number;
  app: string;
}

export type ReplayResult =
  | { next: number }
  | { next: null; ran: number[] }
  | { failed: { errorCode?: string; errorMessage?: string } };

export type CompileResult = { ok: true } | { ok: false; message: string; line: number | null };

/** Runs conditional-authentication scripts, isolated and time-limited (src/script). */
export interface ScriptRunner {
  /** Replays the script over the finished steps: which step runs next, or that none does, or that it failed the login. */
  replay(request: ReplayRequest): Promise<ReplayResult>;
  /** Loads the script (its top level runs) without running onLoginRequest. */
  compile(source: string): Promise<CompileResult>;
}

/** The randomness the engine asks for by name, so tests can pin it. */
export interface Random {
  flowId(): string;
}

/** A new TOTP secret and the otpauth URI an authenticator app scans for it (admin and My Account enrolment). */
export interface TotpEnroller {
  enrolment(opts: { account: string; issuer: string }): Promise<{ secret: string; uri: string }>;
}

/** A stored passkey's public half, as verification needs it. */
export interface PasskeyKey {
  /** The credential id, base64url. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
}

/** A passkey a registration produced: what the store keeps. */
export interface NewPasskeyCredential extends PasskeyKey {
  /** The authenticator model's AAGUID (all zeros when it does not say). */
  aaguid: string;
}

export type PasskeyVerdict<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * WebAuthn (src/webauthn, through @simplewebauthn/server): options to send to a browser, each with a fresh random
 * challenge (options.challenge, which the caller keeps to check the answer against), and checks of its answers.
 */
export interface PasskeyVerifier {
  authenticationOptions(opts: {
    rpId: string;
    userVerification: 'required' | 'preferred';
    /** Empty: discoverable credentials (the authenticator offers what it holds for the RP). */
    allow: Pick<PasskeyKey, 'credentialId' | 'transports'>[];
    timeoutMs: number;
  }): Promise<PublicKeyCredentialRequestOptionsJSON>;
  registrationOptions(opts: {
    rpId: string;
    rpName: string;
    user: { id: string; name: string; displayName: string };
    /** The user's existing credentials, which the authenticator must not register again. */
    exclude: Pick<PasskeyKey, 'credentialId' | 'transports'>[];
    timeoutMs: number;
  }): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /**
   * Checks an assertion's signature, challenge, origin, RP ID and flags against `key`. The counter is returned, not
   * judged: whether it went backwards is the caller's rule (core/passkeys.ts), so a clone is told apart from a forgery.
   */
  verifyAuthentication(
    response: unknown,
    expected: { challenge: string; origin: string; rpId: string; requireUserVerification: boolean; key: PasskeyKey },
  ): Promise<PasskeyVerdict<{ counter: number; userVerified: boolean }>>;
  /** Checks a registration (attestation `none`) and returns the new credential's public half. */
  verifyRegistration(
    response: unknown,
    expected: { challenge: string; origin: string; rpId: string; requireUserVerification: boolean },
  ): Promise<PasskeyVerdict<NewPasskeyCredential & { userVerified: boolean }>>;
}

/**
 * idp's software authenticator (src/webauthn/software.ts), a testing aid: makes a credential for registration options
 * as a browser and authenticator would, and hands back its private key, encoded, for a CI variable.
 */
export interface SoftwareAuthenticator {
  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    origin: string,
  ): { response: RegistrationResponseJSON; key: string };
}
