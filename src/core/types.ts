// Domain types shared by every layer: apps, connections, users, associations, flows and stage events.
// Plain data only; persistence lives in src/store, behaviour in src/core and src/flow.

export const CONNECTION_TYPES = ['github', 'google', 'oidc'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

/** How a connection authenticates at the token endpoint (RFC 8414 names); `none` is a public client relying on PKCE. */
export const TOKEN_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export type TokenAuthMethod = (typeof TOKEN_AUTH_METHODS)[number];

export const JIT_SCHEMES = ['silent', 'prompt-consent', 'prompt-username-password-consent'] as const;
export type JitScheme = (typeof JIT_SCHEMES)[number];

export const SYNC_POLICIES = ['override-all', 'preserve-local', 'none'] as const;
export type SyncPolicy = (typeof SYNC_POLICIES)[number];

export const LINKING_POLICIES = ['off', 'verified-email'] as const;
export type LinkingPolicy = (typeof LINKING_POLICIES)[number];

export const LOCAL_OPTIONS = ['password', 'email-otp', 'totp', 'passkey'] as const;

export const USER_STATUSES = ['active', 'locked', 'disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export interface JitSettings {
  enabled: boolean;
  scheme: JitScheme;
  sync: SyncPolicy;
  linking: LinkingPolicy;
}

/** Where a connection's client secret comes from. Never the secret itself in config output. */
export type SecretSource = { kind: 'none' } | { kind: 'env'; variable: string } | { kind: 'stored'; last4: string };

export interface Connection {
  name: string;
  type: ConnectionType;
  sandbox: boolean;
  issuer: string | null;
  clientId: string;
  secret: SecretSource;
  /** null: chosen from the provider's discovery document (GitHub: client_secret_post). */
  tokenAuth: TokenAuthMethod | null;
  /** GitHub Enterprise Server's address (web at BASE/login/oauth, API at BASE/api/v3); null: github.com. */
  baseUrl: string | null;
  scopes: string[];
  jit: JitSettings;
  /** upstream claim -> local attribute, overriding the defaults of the connection type */
  attributeMap: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

/** spa: a public client in the browser (no secret, PKCE); web: a confidential client on a server (a secret). */
export const APP_TYPES = ['spa', 'web'] as const;
export type AppType = (typeof APP_TYPES)[number];

/** RS256 by default: the Asgardeo browser SDKs accept only RSA signatures. */
export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

/** One step of a sign-in method: the options offered (local methods or connection names). */
export type SignInStep = string[];

export interface App {
  name: string;
  clientId: string;
  /** Fixed at creation. */
  type: AppType;
  /** Browser origins allowed cross-origin calls (CORS), exact `scheme://host[:port]`. */
  origins: string[];
  idTokenAlg: IdTokenAlg;
  /** A web app's secret is stored (sealed); a spa never has one. */
  hasSecret: boolean;
  redirectUris: string[];
  steps: SignInStep[];
  attributes: string[];
  script: string | null;
  builtIn: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The profile a user has, an upstream maps to, and an import record carries; what attribute sync may change. */
export interface ProfileFields {
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  picture: string | null;
  attributes: Record<string, string>;
}

export interface User extends ProfileFields {
  id: string;
  username: string;
  hasPassword: boolean;
  status: UserStatus;
  /** 'local', or the name of the connection that provisioned the user */
  source: string;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

export interface Association {
  connection: string;
  subject: string;
  userId: string;
  linkedAt: string;
  lastLoginAt: string | null;
  lastClaims: Record<string, unknown>;
}

export const STAGES = [
  'app',
  'options',
  'script',
  'redirect',
  'consent',
  'callback',
  'token',
  'userinfo',
  'jit',
  'password',
  'mfa',
  'session',
] as const;
export type Stage = (typeof STAGES)[number];

export type StageStatus = 'ok' | 'failed' | 'skipped' | 'waiting';

export interface StageEvent {
  flow: string;
  seq: number;
  stage: Stage;
  status: StageStatus;
  ms: number;
  detail: string;
  at: string;
}

export const JIT_DECISIONS = ['provision', 'returning', 'link', 'pass-through', 'deny'] as const;
export type JitDecisionKind = (typeof JIT_DECISIONS)[number];
