// The schema, as numbered forward-only migrations applied through PRAGMA user_version, each in one transaction.
// Designed as a whole: flow, MFA and outbox tables exist from the first version so later features only fill them.
import { DEFAULT_ORG_NAME } from '../core/names.js';
import { originsOf } from '../core/urls.js';
import type { Db } from './db.js';

export const APPLICATION_ID = 0x69647030; // 'idp0': marks a SQLite file as an idp organisation

/** SQL, or a step that also needs the org's seal (a migration that encrypts what older versions stored in the clear). */
export type Migration = string | ((db: Db, seal: (plaintext: string) => string) => void);

/** The store's own guard of "a username with an @ is its user's own email" on insert (migration 6; users import). */
export const USERNAME_RULE_ON_INSERT = `CREATE TRIGGER users_email_username_insert BEFORE INSERT ON users
        WHEN instr(NEW.username, '@') > 0 AND (NEW.email IS NULL OR NEW.email <> NEW.username COLLATE NOCASE)
        BEGIN SELECT RAISE(ABORT, 'a username with an @ must be the user''s own email'); END`;

/** A user breaking that rule, if any: the same rule as one query over the table. */
export const USERNAME_RULE_BROKEN =
  "SELECT username FROM users WHERE instr(username, '@') > 0 AND (email IS NULL OR email <> username COLLATE NOCASE) LIMIT 1";

export const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE org_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    public_jwk  TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
  ) STRICT;

  CREATE TABLE apps (
    name               TEXT PRIMARY KEY,
    client_id          TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT,
    redirect_uris      TEXT NOT NULL DEFAULT '[]',
    steps              TEXT NOT NULL DEFAULT '[]',
    attributes         TEXT NOT NULL DEFAULT '[]',
    script             TEXT,
    built_in           INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
  ) STRICT;

  CREATE TABLE connections (
    name          TEXT PRIMARY KEY,
    type          TEXT NOT NULL CHECK (type IN ('github', 'google', 'oidc')),
    sandbox       INTEGER NOT NULL DEFAULT 0,
    issuer        TEXT,
    client_id     TEXT NOT NULL,
    secret_kind   TEXT NOT NULL DEFAULT 'none' CHECK (secret_kind IN ('none', 'env', 'stored')),
    secret_env    TEXT,
    secret_sealed TEXT,
    secret_last4  TEXT,
    scopes        TEXT NOT NULL DEFAULT '[]',
    jit_enabled   INTEGER NOT NULL DEFAULT 1,
    jit_scheme    TEXT NOT NULL DEFAULT 'silent'
                  CHECK (jit_scheme IN ('silent', 'prompt-consent', 'prompt-username-password-consent')),
    jit_sync      TEXT NOT NULL DEFAULT 'override-all' CHECK (jit_sync IN ('override-all', 'preserve-local', 'none')),
    jit_linking   TEXT NOT NULL DEFAULT 'off' CHECK (jit_linking IN ('off', 'verified-email')),
    attribute_map TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
  ) STRICT;

  CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL COLLATE NOCASE UNIQUE,
    email          TEXT COLLATE NOCASE UNIQUE,
    email_verified INTEGER NOT NULL DEFAULT 0,
    name           TEXT,
    given_name     TEXT,
    family_name    TEXT,
    picture        TEXT,
    attributes     TEXT NOT NULL DEFAULT '{}',
    password_hash  TEXT,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled')),
    source         TEXT NOT NULL DEFAULT 'local',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    last_login_at  TEXT
  ) STRICT;
  CREATE INDEX users_source ON users (source, username);

  CREATE TABLE associations (
    connection    TEXT NOT NULL REFERENCES connections (name) ON DELETE CASCADE ON UPDATE CASCADE,
    subject       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    linked_at     TEXT NOT NULL,
    last_login_at TEXT,
    last_claims   TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (connection, subject)
  ) STRICT;
  CREATE INDEX associations_user ON associations (user_id);

  CREATE TABLE mfa_factors (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type           TEXT NOT NULL CHECK (type IN ('totp')),
    secret_sealed  TEXT NOT NULL,
    last_used_step INTEGER,
    created_at     TEXT NOT NULL,
    confirmed_at   TEXT
  ) STRICT;
  CREATE INDEX mfa_factors_user ON mfa_factors (user_id);

  CREATE TABLE flows (
    id         TEXT PRIMARY KEY,
    app        TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'done', 'failed')),
    state      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE one_time_codes (
    id          TEXT PRIMARY KEY,
    flow_id     TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
  ) STRICT;
  CREATE INDEX one_time_codes_flow ON one_time_codes (flow_id);

  CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    flow_id    TEXT,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('stage', 'config')),
    flow_id  TEXT,
    seq      INTEGER,
    stage    TEXT,
    status   TEXT,
    ms       REAL,
    actor    TEXT,
    action   TEXT,
    target   TEXT,
    detail   TEXT NOT NULL,
    before   TEXT,
    after    TEXT
  ) STRICT;
  CREATE INDEX events_flow ON events (flow_id, seq);
  `,
  // 2: bulk import is bound by B-tree updates, and (source, username) cost a fifth of them for a rarely used filter:
  // `users list --source` now walks the username index instead (a few ms on 100k users).
  `
  DROP INDEX users_source;
  `,
  // 3: one TOTP factor per user, even when two logins enrol at once (the engine reads "the" factor of a user).
  `
  DELETE FROM mfa_factors WHERE type = 'totp' AND rowid NOT IN (SELECT max(rowid) FROM mfa_factors WHERE type = 'totp' GROUP BY user_id);
  CREATE UNIQUE INDEX mfa_factors_one_totp ON mfa_factors (user_id) WHERE type = 'totp';
  `,
  // 4: the private signing key is sealed like every other secret: a copy of idp.db alone must not mint ID tokens.
  // secure_delete zeroes the plaintext the rewrite frees instead of leaving it in free pages.
  (db, seal) => {
    const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
    db.pragma('secure_delete = ON');
    db.exec('ALTER TABLE signing_keys RENAME COLUMN private_jwk TO private_sealed');
    const rows = db.prepare('SELECT kid, private_sealed FROM signing_keys').all() as {
      kid: string;
      private_sealed: string;
    }[];
    const update = db.prepare('UPDATE signing_keys SET private_sealed = ? WHERE kid = ?');
    for (const row of rows) update.run(seal(row.private_sealed), row.kid);
    db.pragma(`secure_delete = ${secureDelete}`);
  },
  // 5: flows expire (core/flow-lifetime.ts). An expired flow is stored as failed, with the time it expired; the partial
  // index keeps finding idle flows cheap however many finished ones there are.
  `
  ALTER TABLE flows ADD COLUMN expired_at TEXT;
  CREATE INDEX flows_active ON flows (updated_at) WHERE status = 'active';
  `,
  // 6: one identifier, one account. A username with an @ must be its user's own email (with the unique email index,
  // no username can then be another user's email); older stores may hold others, which are renamed to their local
  // part, with an event each. And wrong MFA codes are counted per user across sign-ins, like wrong passwords.
  (db) => {
    const rows = db
      .prepare(`SELECT id, username FROM users WHERE instr(username, '@') > 0 AND (email IS NULL OR email <> username)`)
      .all() as { id: string; username: string }[];
    const taken = db.prepare('SELECT 1 FROM users WHERE id = ? OR username = ? OR email = ?');
    const rename = db.prepare('UPDATE users SET username = ? WHERE id = ?');
    const event = db.prepare(
      `INSERT INTO events (at, kind, actor, action, target, detail, before, after) VALUES (?, 'config', 'idp', 'users.rename', ?, ?, ?, ?)`,
    );
    for (const { id, username } of rows) {
      const stem = username.split('@')[0]!.replace(/^[^A-Za-z0-9]+/, '') || 'user';
      let next = stem;
      for (let n = 2; taken.get(next, next, next); n++) next = `${stem}-${n}`;
      rename.run(next, id);
      const detail = `renamed user ${username} to ${next}: a username shaped like an email must be the user's own email`;
      event.run(
        new Date().toISOString(),
        `user ${username}`,
        detail,
        JSON.stringify({ username }),
        JSON.stringify({ username: next }),
      );
    }
    db.exec(`
      ALTER TABLE users ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;
      ${USERNAME_RULE_ON_INSERT};
      CREATE TRIGGER users_email_username_update BEFORE UPDATE OF username, email ON users
        WHEN instr(NEW.username, '@') > 0 AND (NEW.email IS NULL OR NEW.email <> NEW.username COLLATE NOCASE)
        BEGIN SELECT RAISE(ABORT, 'a username with an @ must be the user''s own email'); END;
    `);
  },
  // 7: connectors meet providers idp did not write: the token endpoint authentication method (NULL: from discovery),
  // and a GitHub Enterprise Server base URL (NULL: github.com). A github connection's issuer was never used: dropped.
  `
  ALTER TABLE connections ADD COLUMN token_auth TEXT CHECK (token_auth IN ('client_secret_basic', 'client_secret_post', 'none'));
  ALTER TABLE connections ADD COLUMN base_url TEXT;
  UPDATE connections SET issuer = NULL WHERE type = 'github';
  `,
  // 8: apps become OpenID clients of `idp serve`: a type (spa: public; web: confidential, its secret sealed like every
  // other; the never-used secret hash goes), the browser origins allowed CORS (an existing app's are those of its
  // redirect URIs, as a new spa's are by default) and the ID token algorithm. The org gets a URL-safe name. Its RS256
  // key is added by the composition root (cli/context.ts), which holds the token code the store must not import.
  (db) => {
    db.exec(`
      ALTER TABLE apps ADD COLUMN type TEXT NOT NULL DEFAULT 'spa' CHECK (type IN ('spa', 'web'));
      ALTER TABLE apps ADD COLUMN origins TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE apps ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256'));
      ALTER TABLE apps RENAME COLUMN client_secret_hash TO client_secret_sealed;
      UPDATE apps SET client_secret_sealed = NULL;
    `);
    const apps = db.prepare('SELECT name, redirect_uris FROM apps').all() as { name: string; redirect_uris: string }[];
    const setOrigins = db.prepare('UPDATE apps SET origins = ? WHERE name = ?');
    for (const app of apps)
      setOrigins.run(JSON.stringify(originsOf(JSON.parse(app.redirect_uris) as string[])), app.name);
    db.prepare(
      "INSERT INTO org_settings (key, value) SELECT 'org_name', ? WHERE EXISTS (SELECT 1 FROM org_settings WHERE key = 'org_id')",
    ).run(DEFAULT_ORG_NAME);
  },
  // 9: \`idp serve\`: what oidc-provider keeps (sessions, grants, codes, tokens, interactions) and the web driver's
  // per-interaction records, one row per model and id, so sessions and refresh tokens survive a restart. expires_at
  // is epoch seconds (NULL: never); grant_id lets a revoked grant take every token issued under it.
  `
  CREATE TABLE oidc_models (
    model       TEXT NOT NULL,
    id          TEXT NOT NULL,
    payload     TEXT NOT NULL,
    grant_id    TEXT,
    uid         TEXT,
    expires_at  INTEGER,
    PRIMARY KEY (model, id)
  ) STRICT;
  CREATE INDEX oidc_models_grant ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
  CREATE INDEX oidc_models_expiry ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;
  `,
  // 10: passkeys (WebAuthn), a user's factors beside TOTP: the public key only, the credential id unique in the org
  // (an assertion names its credential, which must name one user), the signature counter a clone would lag behind,
  // and whether idp's software authenticator (a testing aid) made it. passkey_challenges holds the challenge of an
  // enrolment begun outside a flow (My Account, the CLI) until it is answered once or expires.
  `
  CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    public_key    TEXT NOT NULL,
    counter       INTEGER NOT NULL DEFAULT 0,
    transports    TEXT NOT NULL DEFAULT '[]',
    aaguid        TEXT NOT NULL,
    name          TEXT NOT NULL,
    software      INTEGER NOT NULL DEFAULT 0 CHECK (software IN (0, 1)),
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
  ) STRICT;
  CREATE INDEX passkeys_user ON passkeys (user_id);
  CREATE TABLE passkey_challenges (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    challenge  TEXT NOT NULL,
    origin     TEXT NOT NULL,
    expires_at TEXT NOT NULL
  ) STRICT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
