// The Store port: the repositories the engine and the use cases read and write, and the unit of work around them.
// src/store implements it on SQLite; the engine's unit tests implement it in memory. Promise-returning, so a pooled server
// database (PostgreSQL) implements it as well as the embedded file.
import type { JsonWebKey } from 'node:crypto';
import type { PublicSigningKey } from '../core/jwks.js';
import type { ProfilePatch } from '../core/claims.js';
import type {
  App,
  Association,
  Connection,
  AppType,
  ConnectionType,
  IdTokenAlg,
  JitSettings,
  SignInStep,
  Stage,
  StageEvent,
  StageStatus,
  TokenAuthMethod,
  User,
  UserStatus,
} from '../core/types.js';

/** Returns the current time; the store's clock, injectable in tests. */
export type Clock = () => Date;

export interface NewApp {
  name: string;
  clientId: string;
  /** Absent: spa, with no origins, signing ID tokens RS256. */
  type?: AppType;
  origins?: string[];
  idTokenAlg?: IdTokenAlg;
  /** A web app's client secret, sealed before writing. */
  clientSecret?: string;
  redirectUris: string[];
  steps: SignInStep[];
  attributes: string[];
  script?: string | null;
  builtIn?: boolean;
}

/** The type is fixed at creation; the secret changes only through setClientSecret. */
export type AppPatch = Partial<
  Pick<App, 'clientId' | 'origins' | 'idTokenAlg' | 'redirectUris' | 'steps' | 'attributes' | 'script'>
>;

export interface AppRepository {
  list(): Promise<App[]>;
  names(): Promise<string[]>;
  get(name: string): Promise<App | undefined>;
  byClientId(clientId: string): Promise<App | undefined>;
  /** A web app's client secret, unsealed; null for a spa. */
  clientSecret(name: string): Promise<string | null>;
  /** Seals and stores a new client secret (the old one stops working). */
  setClientSecret(name: string, secret: string): Promise<void>;
  insert(app: NewApp): Promise<void>;
  update(name: string, patch: AppPatch): Promise<void>;
  delete(name: string): Promise<void>;
}

/** How a secret is given to the store: a reference to an env var, or the value itself (sealed before writing). */
export type SecretInput = { kind: 'none' } | { kind: 'env'; variable: string } | { kind: 'value'; value: string };

export interface NewConnection {
  name: string;
  type: ConnectionType;
  sandbox: boolean;
  issuer: string | null;
  clientId: string;
  secret: SecretInput;
  /** Absent: null (chosen from discovery). */
  tokenAuth?: TokenAuthMethod | null;
  /** Absent: null (github.com). */
  baseUrl?: string | null;
  scopes: string[];
  jit: JitSettings;
  attributeMap: Record<string, string>;
}

export type ConnectionPatch = Partial<Omit<NewConnection, 'name' | 'type'>>;

export interface ConnectionRepository {
  list(): Promise<Connection[]>;
  names(): Promise<string[]>;
  get(name: string): Promise<Connection | undefined>;
  /**
   * The connection as a unit that adds a link reads it: unchanged by others until the unit ends (PostgreSQL: a share
   * lock on its row; a change committed since the unit began makes it run again). SQLite: a plain read.
   */
  getForLink(name: string): Promise<Connection | undefined>;
  /** The unsealed client secret, when the store holds it. */
  storedSecret(name: string): Promise<string | null>;
  insert(c: NewConnection): Promise<void>;
  update(name: string, patch: ConnectionPatch): Promise<void>;
  delete(name: string): Promise<void>;
}

export interface NewUser {
  id?: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  name?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  picture?: string | null;
  attributes?: Record<string, string>;
  passwordHash?: string | null;
  status?: UserStatus;
  source: string;
}

export interface ListQuery {
  source?: string;
  search?: string;
  limit: number;
  after?: string;
}

/** A user as `users export` writes it: everything an import into another organisation needs to restore them. */
export interface ExportedUser extends User {
  passwordHash: string | null;
  associations: { connection: string; subject: string; linkedAt: string; lastLoginAt: string | null }[];
  /** The factors with their secrets sealed under this organisation's key. */
  factors: {
    type: 'totp';
    createdAt: string;
    confirmedAt: string | null;
    secretSealed: string;
    lastUsedStep: number | null;
  }[];
  /** The passkeys, public halves only: nothing secret, so always exported. */
  passkeys: Omit<StoredPasskey, 'userId'>[];
}

export interface UserRepository {
  /** By id, else username, else email (the last two case-insensitive). */
  find(ref: string): Promise<User | undefined>;
  /** Usernames close to `ref`, for "did you mean". */
  lookalikes(ref: string): Promise<string[]>;
  byId(id: string): Promise<User | undefined>;
  byEmail(email: string): Promise<User | undefined>;
  /** Whether any user has this as id, username or email: a new username must name no other account. */
  identifierTaken(value: string): Promise<boolean>;
  count(): Promise<number>;
  /** Every user with its password hash, in username order, one row at a time (export, whole-store checks). */
  iterate(): AsyncIterable<User & { passwordHash: string | null }>;
  /** Every user with its hash, links and factors, in username order, one row at a time (a lossless export). */
  iterateForExport(): AsyncIterable<ExportedUser>;
  passwordState(id: string): Promise<{ hash: string | null; failedLogins: number; mfaFailures: number }>;
  list(query: ListQuery): Promise<{ users: User[]; next: string | null }>;
  insert(user: NewUser): Promise<User>;
  updateProfile(id: string, patch: ProfilePatch): Promise<void>;
  setStatus(id: string, status: UserStatus): Promise<void>;
  /** Lifts a lockout: active again, with every failed-attempt counter back to zero. */
  unlock(id: string): Promise<void>;
  setPasswordHash(id: string, hash: string): Promise<void>;
  /** The failed-login count after this one. */
  recordFailedLogin(id: string): Promise<number>;
  /** The count of wrong MFA codes in a row, across sign-ins, after this one. */
  recordFailedMfa(id: string): Promise<number>;
  recordMfaSuccess(id: string): Promise<void>;
  recordLogin(id: string): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface AssociationRepository {
  get(connection: string, subject: string): Promise<Association | undefined>;
  /**
   * Until this unit of work ends no other unit adds a link, and this unit's reads see every link committed before:
   * call it first in the unit, before any read (a change of a connection's upstream counts its links with it).
   * PostgreSQL: a table lock taken before the unit's snapshot; SQLite: units run one at a time already.
   */
  holdNewLinks(): Promise<void>;
  forUser(userId: string): Promise<Association[]>;
  insert(a: { connection: string; subject: string; userId: string; claims: Record<string, unknown> }): Promise<void>;
  /** Forgets every subject of a connection (its users stay); returns how many went. */
  deleteForConnection(connection: string): Promise<number>;
  recordLogin(connection: string, subject: string, claims: Record<string, unknown>): Promise<void>;
  delete(connection: string, subject: string): Promise<void>;
  countForConnection(connection: string): Promise<number>;
}

export interface ConfigChange {
  actor: string;
  action: string;
  target: string;
  detail: string;
  before: unknown;
  after: unknown;
}

export interface EventRecord {
  id: number;
  at: string;
  kind: 'stage' | 'config';
  flow: string | null;
  seq: number | null;
  stage: Stage | null;
  status: StageStatus | null;
  ms: number | null;
  actor: string | null;
  action: string | null;
  target: string | null;
  detail: string;
  before: unknown;
  after: unknown;
}

/** Which events to list; every filter given must hold. */
export interface EventQuery {
  kind?: 'stage' | 'config';
  flow?: string;
  /** By username: changes to that user, and the stages of flows that identified them. */
  user?: string;
  /** Changes to that connection, and the stages of flows that chose it in some step. */
  connection?: string;
  /** ISO time: events at or after it. */
  since?: string;
  limit: number;
}

export interface EventRepository {
  recordConfig(change: ConfigChange): Promise<void>;
  recordStage(event: StageEvent): Promise<void>;
  /** Newest first, or with `flow` that flow's stages in order. */
  list(query: EventQuery): Promise<EventRecord[]>;
}

/** An org signing key (RS256 or ES256) as stored: its public half, and the private half unsealed. */
export interface SigningKey extends PublicSigningKey {
  privateJwk: JsonWebKey;
}

export interface OrgRepository {
  setting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /** The SMTP relay emailed codes also go to (`smtp://host:port`), if one is set. */
  smtpRelay(): Promise<string | null>;
  setSmtpRelay(url: string | null): Promise<void>;
  /** The URL-safe name the org's URLs carry (/t/<name>/...). */
  name(): Promise<string>;
  setName(name: string): Promise<void>;
  /** Where `idp serve` answers, with no trailing slash (default http://localhost:8788); the issuer starts with it. */
  baseUrl(): Promise<string>;
  setBaseUrl(url: string): Promise<void>;
  addSigningKey(key: SigningKey): Promise<void>;
  /** Active keys, newest first (their private halves unsealed): an RS256 one and an ES256 one. */
  signingKeys(): Promise<SigningKey[]>;
  /** The newest active key of `alg`, only its private half unsealed: what a token of that algorithm is signed with. */
  signingKey(alg: IdTokenAlg): Promise<SigningKey | undefined>;
  /** The public halves of the active keys, newest first: no seal key needed. */
  publicKeys(): Promise<PublicSigningKey[]>;
}

export interface FactorSummary {
  id: string;
  type: 'totp';
  created_at: string;
  confirmed_at: string | null;
}

export interface TotpFactor {
  id: string;
  userId: string;
  secretSealed: string;
  lastUsedStep: number | null;
}

export interface FactorRepository {
  forUser(userId: string): Promise<FactorSummary[]>;
  totpFor(userId: string): Promise<TotpFactor | undefined>;
  /** The new factor's id, or null when the user already has one (another enrolment won a race). */
  addTotp(userId: string, secretSealed: string, lastUsedStep?: number | null): Promise<string | null>;
  /** Records `step` as used unless it (or a later one) already was: false means a replay lost the race. */
  claimStep(factorId: string, step: number): Promise<boolean>;
  remove(userId: string, factorId?: string): Promise<number>;
}

/** A passkey as stored: its public half and what `users mfa list` shows. */
export interface StoredPasskey {
  id: string;
  userId: string;
  /** base64url, unique in the organisation. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  name: string;
  /** Made by idp's software authenticator (a testing aid), not by a device. */
  software: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

/** An enrolment's challenge held between its options and its answer. */
export interface PendingPasskeyChallenge {
  challenge: string;
  origin: string;
  expiresAt: string;
}

export interface PasskeyRepository {
  forUser(userId: string): Promise<StoredPasskey[]>;
  byCredential(credentialId: string): Promise<StoredPasskey | undefined>;
  /** Usernames of the users holding a passkey flagged software or with this (the software authenticator's) AAGUID. */
  softwareHolders(aaguid: string): Promise<string[]>;
  /** The new passkey, or null when its credential id is already registered (to anyone in the organisation). */
  add(
    userId: string,
    credential: Pick<
      StoredPasskey,
      'credentialId' | 'publicKey' | 'counter' | 'transports' | 'aaguid' | 'name' | 'software'
    >,
  ): Promise<StoredPasskey | null>;
  /** Stores a use's counter and time unless another use stored a counter at or above it first (false: a race lost). */
  recordUse(id: string, counter: number): Promise<boolean>;
  rename(userId: string, id: string, name: string): Promise<boolean>;
  /** One passkey, or with no id every passkey of the user; returns how many went. */
  remove(userId: string, id?: string): Promise<number>;
  /** Holds an enrolment's challenge; returns the id its answer names. */
  holdChallenge(userId: string, pending: PendingPasskeyChallenge): Promise<string>;
  /** The held challenge, taken (single use) whatever happens next; undefined if unknown, another user's or expired. */
  takeChallenge(userId: string, id: string): Promise<PendingPasskeyChallenge | undefined>;
}

export type FlowStatus = 'active' | 'done' | 'failed';

export interface FlowRow {
  id: string;
  app: string;
  /** As stored, except that a flow ended for idling past its lifetime reads as `expired`. */
  status: FlowStatus | 'expired';
  state: string;
  created_at: string;
  updated_at: string;
}

export interface FlowRepository {
  insert(id: string, app: string, state: unknown): Promise<void>;
  get(id: string): Promise<FlowRow | undefined>;
  save(id: string, status: FlowStatus, state: unknown): Promise<void>;
  recent(limit: number): Promise<FlowRow[]>;
}

/** An emailed one-time code as stored: only its flow-bound hash. */
export interface StoredEmailOtp {
  hash: string;
  flowId: string;
  expiresAt: string;
  usedAt: string | null;
  /** Failed attempts so far. */
  attempts: number;
}

export interface OutboxMessage {
  id: number;
  to: string;
  subject: string;
  body: string;
  flow: string | null;
  created_at: string;
}

export interface CodeRepository {
  issue(flowId: string, userId: string, destination: string, hash: string, expiresAt: string): Promise<string>;
  latestForFlow(flowId: string): Promise<(StoredEmailOtp & { id: string }) | undefined>;
  /** Single use: false when another submission used it first. */
  markUsed(id: string): Promise<boolean>;
  recordAttempt(id: string): Promise<void>;
  deliver(message: { to: string; subject: string; body: string; flow: string | null }): Promise<void>;
  outbox(query: { to?: string; flow?: string; limit: number }): Promise<OutboxMessage[]>;
}

/**
 * What \`idp serve\`'s OpenID provider keeps between requests and restarts: one JSON payload per (model, id), with its
 * expiry in epoch seconds. Expired rows read as absent; purgeExpired removes them.
 */
export interface OidcModelRepository {
  /** `grantId`: the grant the row is issued under, so revoking that grant removes it; omitted for rows no grant owns. */
  upsert(
    model: string,
    id: string,
    payload: Record<string, unknown>,
    expiresAt: number | null,
    grantId?: string,
  ): Promise<void>;
  find(model: string, id: string, now: number): Promise<Record<string, unknown> | undefined>;
  findByUid(model: string, uid: string, now: number): Promise<Record<string, unknown> | undefined>;
  /**
   * Marks a code or token used, keeping it (a reused code then revokes its grant). False when it already was: of two
   * requests redeeming one code at once, only one wins.
   */
  consume(model: string, id: string, at: number): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  /** Removes every row upserted with this grant id. */
  revokeByGrantId(grantId: string): Promise<void>;
  /** Rows whose expiry passed before `now`: removed; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

/** What a unit of work tells the store about the rules it enforces. */
export interface UnitOptions {
  /**
   * Every rule the unit enforces holds through unique keys, foreign keys and locks or writes on the rows it decided
   * on, none through rows it only read, and no SERIALIZABLE unit's rule rests on rows it writes without such a lock
   * (PostgreSQL checks serializability among SERIALIZABLE units only), so it needs no guard against write skew. PostgreSQL then runs it at REPEATABLE READ
   * rather than SERIALIZABLE, which aborts a unit whenever a concurrent one touched a neighbouring index key: on a
   * small org, nearly every concurrent one. SQLite runs units one at a time either way.
   */
  constraintsSuffice?: boolean;
}

export interface Store {
  readonly apps: AppRepository;
  readonly connections: ConnectionRepository;
  readonly users: UserRepository;
  readonly associations: AssociationRepository;
  readonly events: EventRepository;
  readonly org: OrgRepository;
  readonly factors: FactorRepository;
  readonly passkeys: PasskeyRepository;
  readonly flows: FlowRepository;
  readonly codes: CodeRepository;
  readonly oidc: OidcModelRepository;
  readonly clock: Clock;
  /**
   * The unit of work: fn runs all or nothing against `tx`, a Store bound to this unit of work, and concurrent units
   * queue (SQLite) or are retried on a serialization failure (PostgreSQL) instead of failing mid-way. So fn must use
   * only `tx` (the outer store would wait on the unit it runs in) and must have no effect outside the store: it may
   * run more than once. `tx.tx(g)` joins the unit already open.
   */
  tx<T>(fn: (tx: Store) => Promise<T>, opts?: UnitOptions): Promise<T>;
  /** Encrypts a secret for storage at rest with the org's seal key. */
  seal(plaintext: string): string;
  unseal(sealed: string): string;
  /** Runs `use` on a throwaway copy of this organisation, removed afterwards whatever happens. */
  withThrowawayCopy<T>(use: (copy: Store) => Promise<T>): Promise<T>;
}
