// In-memory fakes of the ports the login engine takes (src/ports.ts), for engine unit tests: a Store of plain maps,
// a connector that hands out a fixed state and counts its token exchanges, and signers and verifiers that need no
// keys. They fake ports only; the engine and the core rules under test are the shipped code.
import { IdpError } from '../../src/core/errors.js';
import type { App, Association, Connection, JitSettings, StageEvent, User } from '../../src/core/types.js';
import type { EngineDeps } from '../../src/flow/types.js';
import type {
  AuthRequest,
  ConfigChange,
  Connector,
  FlowRow,
  FlowStatus,
  NewUser,
  OtpVerifier,
  ScriptRunner,
  StoredEmailOtp,
  SigningKey,
  StoredPasskey,
  Store,
  TokenSigner,
  TotpFactor,
  TotpVerifier,
  Upstreams,
} from '../../src/ports.js';
import { passkeyVerifier } from '../../src/webauthn/verifier.js';

const AT = '2026-01-01T00:00:00.000Z';

const SIGNING_KEYS: SigningKey[] = [
  { kid: 'k1', alg: 'RS256', privateJwk: {}, publicJwk: {}, createdAt: AT },
  { kid: 'k2', alg: 'ES256', privateJwk: {}, publicJwk: {}, createdAt: AT },
];

function unused(what: string): never {
  throw new Error(`the engine does not use ${what}`);
}

export function fakeApp(name: string, steps: string[][]): App {
  return {
    name,
    clientId: `client-${name}`,
    type: 'spa',
    origins: ['http://127.0.0.1'],
    idTokenAlg: 'RS256',
    hasSecret: false,
    redirectUris: ['http://127.0.0.1/cb'],
    steps,
    attributes: ['username', 'email'],
    script: null,
    builtIn: false,
    createdAt: AT,
    updatedAt: AT,
  };
}

export function fakeConnection(name: string, jit: Partial<JitSettings> = {}): Connection {
  return {
    name,
    type: 'github',
    sandbox: true,
    issuer: null,
    tokenAuth: null,
    baseUrl: null,
    clientId: `client-${name}`,
    secret: { kind: 'none' },
    scopes: ['read:user', 'user:email'],
    jit: { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off', ...jit },
    attributeMap: {},
    createdAt: AT,
    updatedAt: AT,
  };
}

export class FakeStore implements Store {
  readonly appMap = new Map<string, App>();
  readonly connectionMap = new Map<string, Connection>();
  readonly userMap = new Map<
    string,
    User & { passwordHash: string | null; failedLogins: number; mfaFailures: number }
  >();
  readonly associationMap = new Map<string, Association>();
  readonly flowMap = new Map<string, FlowRow>();
  readonly stages: StageEvent[] = [];
  readonly mail: { to: string; subject: string; body: string; flow: string | null }[] = [];
  readonly codeList: (StoredEmailOtp & { id: string })[] = [];
  readonly factorList: TotpFactor[] = [];
  readonly clock = () => new Date(AT);

  readonly apps: Store['apps'] = {
    list: async () => [...this.appMap.values()],
    names: async () => [...this.appMap.keys()],
    get: async (name) => this.appMap.get(name),
    byClientId: async (clientId) => [...this.appMap.values()].find((a) => a.clientId === clientId),
    clientSecret: async () => null,
    setClientSecret: async () => unused('apps.setClientSecret'),
    insert: async () => unused('apps.insert'),
    update: async () => unused('apps.update'),
    delete: async () => unused('apps.delete'),
  };

  readonly connections: Store['connections'] = {
    list: async () => [...this.connectionMap.values()],
    names: async () => [...this.connectionMap.keys()],
    get: async (name) => this.connectionMap.get(name),
    getForLink: async (name) => this.connectionMap.get(name),
    storedSecret: async () => null,
    insert: async () => unused('connections.insert'),
    update: async () => unused('connections.update'),
    delete: async () => unused('connections.delete'),
  };

  readonly users: Store['users'] = {
    find: async (ref) => {
      const users = [...this.userMap.values()];
      return (
        users.find((u) => u.id === ref) ?? users.find((u) => u.username === ref) ?? users.find((u) => u.email === ref)
      );
    },
    lookalikes: async () => [],
    byId: async (id) => this.userMap.get(id),
    byEmail: async (email) => [...this.userMap.values()].find((u) => u.email === email),
    identifierTaken: async (value) =>
      [...this.userMap.values()].some((u) => u.id === value || u.username === value || u.email === value),
    count: async () => this.userMap.size,
    iterate: () => unused('users.iterate'),
    iterateForExport: () => unused('users.iterateForExport'),
    passwordState: async (id) => {
      const user = this.userMap.get(id)!;
      return { hash: user.passwordHash, failedLogins: user.failedLogins, mfaFailures: user.mfaFailures };
    },
    list: async () => unused('users.list'),
    insert: async (user) => this.addUser(user),
    updateProfile: async (id, patch) => void Object.assign(this.userMap.get(id)!, patch),
    setStatus: async (id, status) =>
      void Object.assign(this.userMap.get(id)!, { status, failedLogins: 0, mfaFailures: 0 }),
    unlock: async (id) =>
      void Object.assign(this.userMap.get(id)!, { status: 'active', failedLogins: 0, mfaFailures: 0 }),
    setPasswordHash: async () => unused('users.setPasswordHash'),
    recordFailedLogin: async (id) => ++this.userMap.get(id)!.failedLogins,
    recordFailedMfa: async (id) => ++this.userMap.get(id)!.mfaFailures,
    recordMfaSuccess: async (id) => void (this.userMap.get(id)!.mfaFailures = 0),
    recordLogin: async (id) => void (this.userMap.get(id)!.lastLoginAt = AT),
    delete: async () => unused('users.delete'),
  };

  readonly associations: Store['associations'] = {
    get: async (connection, subject) => this.associationMap.get(`${connection}/${subject}`),
    forUser: async (userId) => [...this.associationMap.values()].filter((a) => a.userId === userId),
    insert: async (a) =>
      void this.associationMap.set(`${a.connection}/${a.subject}`, {
        connection: a.connection,
        subject: a.subject,
        userId: a.userId,
        linkedAt: AT,
        lastLoginAt: AT,
        lastClaims: a.claims,
      }),
    recordLogin: async () => undefined,
    holdNewLinks: async () => unused('associations.holdNewLinks'),
    delete: async () => unused('associations.delete'),
    countForConnection: async () => unused('associations.countForConnection'),
    deleteForConnection: async () => unused('associations.deleteForConnection'),
  };

  /** Audit events (config changes) as recorded. */
  readonly changes: ConfigChange[] = [];

  readonly events: Store['events'] = {
    recordConfig: async (change) => void this.changes.push(change),
    recordStage: async (event) => void this.stages.push(event),
    list: async () => unused('events.list'),
  };

  readonly org: Store['org'] = {
    setting: async (key) => ({ org_id: 'fake', subject_salt: 'salt' })[key],
    setSetting: async () => unused('org.setSetting'),
    smtpRelay: async () => null,
    setSmtpRelay: async () => unused('org.setSmtpRelay'),
    name: async () => 'fake',
    setName: async () => unused('org.setName'),
    baseUrl: async () => 'http://localhost:8788',
    setBaseUrl: async () => unused('org.setBaseUrl'),
    addSigningKey: async () => unused('org.addSigningKey'),
    signingKeys: async () => SIGNING_KEYS,
    signingKey: async (alg) => SIGNING_KEYS.find((k) => k.alg === alg),
    publicKeys: async () => [
      { kid: 'k1', alg: 'RS256', publicJwk: {}, createdAt: AT },
      { kid: 'k2', alg: 'ES256', publicJwk: {}, createdAt: AT },
    ],
  };

  readonly factors: Store['factors'] = {
    forUser: async () => unused('factors.forUser'),
    totpFor: async (userId) => this.factorList.find((f) => f.userId === userId),
    addTotp: async (userId, secretSealed, lastUsedStep = null) => {
      this.factorList.push({ id: `factor-${userId}`, userId, secretSealed, lastUsedStep });
      return `factor-${userId}`;
    },
    claimStep: async () => true,
    remove: async () => unused('factors.remove'),
  };

  readonly passkeyList: StoredPasskey[] = [];

  readonly passkeys: Store['passkeys'] = {
    forUser: async (userId) => this.passkeyList.filter((p) => p.userId === userId),
    byCredential: async (credentialId) => this.passkeyList.find((p) => p.credentialId === credentialId),
    add: async (userId, c) => {
      if (this.passkeyList.some((p) => p.credentialId === c.credentialId)) return null;
      const passkey = { ...c, id: `passkey-${this.passkeyList.length + 1}`, userId, createdAt: AT, lastUsedAt: null };
      this.passkeyList.push(passkey);
      return passkey;
    },
    recordUse: async (id, counter) => {
      const passkey = this.passkeyList.find((p) => p.id === id);
      if (!passkey || !(passkey.counter < counter || (counter === 0 && passkey.counter === 0))) return false;
      Object.assign(passkey, { counter, lastUsedAt: AT });
      return true;
    },
    softwareHolders: async () => unused('passkeys.softwareHolders'),
    rename: async () => unused('passkeys.rename'),
    remove: async () => unused('passkeys.remove'),
    holdChallenge: async () => unused('passkeys.holdChallenge'),
    takeChallenge: async () => unused('passkeys.takeChallenge'),
  };

  readonly flows: Store['flows'] = {
    insert: async (id, app, state) =>
      void this.flowMap.set(id, {
        id,
        app,
        status: 'active',
        state: JSON.stringify(state),
        created_at: AT,
        updated_at: AT,
      }),
    get: async (id) => this.flowMap.get(id),
    save: async (id, status: FlowStatus, state) =>
      void this.flowMap.set(id, { ...this.flowMap.get(id)!, status, state: JSON.stringify(state) }),
    recent: async () => unused('flows.recent'),
  };

  readonly oidc: Store['oidc'] = {
    upsert: async () => unused('oidc.upsert'),
    find: async () => unused('oidc.find'),
    findByUid: async () => unused('oidc.findByUid'),
    consume: async () => unused('oidc.consume'),
    destroy: async () => unused('oidc.destroy'),
    revokeByGrantId: async () => unused('oidc.revokeByGrantId'),
    purgeExpired: async () => unused('oidc.purgeExpired'),
  };

  readonly codes: Store['codes'] = {
    issue: async (flowId, _userId, _to, hash, expiresAt) => {
      const id = `code-${this.codeList.length + 1}`;
      this.codeList.push({ id, flowId, hash, expiresAt, usedAt: null, attempts: 0 });
      return id;
    },
    latestForFlow: async (flowId) => this.codeList.filter((c) => c.flowId === flowId).at(-1),
    markUsed: async (id) => {
      const code = this.codeList.find((c) => c.id === id)!;
      if (code.usedAt) return false;
      code.usedAt = AT;
      return true;
    },
    recordAttempt: async (id) => void this.codeList.find((c) => c.id === id)!.attempts++,
    deliver: async (message) => void this.mail.push(message),
    outbox: async () => unused('codes.outbox'),
  };

  addUser(user: NewUser): User {
    const id = user.id ?? `user-${this.userMap.size + 1}`;
    const stored = {
      id,
      username: user.username,
      email: user.email,
      emailVerified: user.emailVerified,
      name: user.name ?? null,
      givenName: user.givenName ?? null,
      familyName: user.familyName ?? null,
      picture: user.picture ?? null,
      attributes: user.attributes ?? {},
      hasPassword: !!user.passwordHash,
      status: user.status ?? 'active',
      source: user.source,
      createdAt: AT,
      updatedAt: AT,
      lastLoginAt: null,
      passwordHash: user.passwordHash ?? null,
      failedLogins: 0,
      mfaFailures: 0,
    };
    this.userMap.set(id, stored);
    return stored;
  }

  // No isolation to give: one test drives one flow, and the engine's all-or-nothing is the SQLite adapter's to prove.
  tx<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return fn(this);
  }

  seal(plaintext: string): string {
    return `sealed:${plaintext}`;
  }

  unseal(sealed: string): string {
    return sealed.replace(/^sealed:/, '');
  }

  async withThrowawayCopy(): Promise<never> {
    return unused('withThrowawayCopy');
  }
}

/** A connector handing out state `good-state`, refusing other states in checkCallback, and counting token exchanges. */
export class FakeUpstreams implements Upstreams {
  exchanges = 0;
  profile = {
    subject: 'gh-42',
    claims: { preferred_username: 'octo', email: 'octo@example.com', email_verified: true } as Record<string, unknown>,
  };

  async connector(): Promise<{ connector: Connector; provider: string }> {
    const connector: Connector = {
      authorizationRequest: async (redirectUri): Promise<AuthRequest> => ({
        url: 'https://upstream.test/authorize?state=good-state',
        state: 'good-state',
        nonce: 'n',
        codeVerifier: 'v',
        redirectUri,
      }),
      checkCallback: (url, request) => {
        if (url.searchParams.get('state') !== request.state)
          throw new IdpError('STATE_MISMATCH', "the callback does not carry this login's state", 'start again');
      },
      exchangeCode: async () => {
        this.exchanges++;
        return { accessToken: 'at', idToken: null, scope: null, idTokenClaims: null };
      },
      fetchProfile: async () => this.profile,
    };
    return { connector, provider: 'Upstream' };
  }

  async close(): Promise<void> {}
}

const signer: TokenSigner = {
  signIdToken: async (_key, claims) => ({ idToken: 'header.payload.signature', claims: { ...claims } }),
  passThroughSubject: (connection, subject) => `pt-${connection}-${subject}`,
};

/** TOTP codes are '123456', email codes are '654321'. */
const totp: TotpVerifier = {
  newSecret: () => 'SECRET',
  enrolmentUri: ({ secret }) => `otpauth://totp/idp?secret=${secret}`,
  check: async (_secret, code) => (code === '123456' ? { ok: true, step: 1 } : { ok: false, reason: 'invalid' }),
  code: async () => '123456',
};

const emailOtps: OtpVerifier = {
  ttlMs: 600_000,
  issue: () => ({ code: '654321', hash: 'hash-654321' }),
  check: (stored, code) => (stored.hash === `hash-${code}` ? 'ok' : 'invalid'),
};

// The real adapter: it is pure (no I/O), and passkey tests answer it with the software authenticator.
const scripts: ScriptRunner = { replay: async () => unused('scripts'), compile: async () => unused('scripts') };

export function fakeDeps(store: FakeStore, upstreams: FakeUpstreams): EngineDeps {
  let flows = 0;
  return {
    store,
    upstreams,
    signer,
    totp,
    emailOtps,
    // The real adapter: it does no I/O, and passkey tests answer it with the software authenticator.
    passkeys: passkeyVerifier,
    scripts,
    random: { flowId: () => `f_${++flows}` },
  };
}
