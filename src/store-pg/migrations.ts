// The schema on PostgreSQL, numbered with SQLite's (src/store/migrations.ts): after step N both engines hold the same
// tables and columns in the same order, so `idp store copy` moves cells as they are. Applied under an advisory lock.
import type pg from 'pg';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { quoteIdent } from './connect.js';

// SQLite compares TEXT byte by byte and folds only ASCII letters for NOCASE. The "C" collation does both here: rows
// come in the same order from both engines, and lower(x) (on a "C" column, ASCII-only) is NOCASE's equality.
const T = 'TEXT COLLATE "C"';

/**
 * Schema only. Steps 3, 4, 6 and 8 of SQLite also rewrote rows older versions left (duplicate TOTP factors, unsealed
 * keys, email-shaped usernames, apps without origins); a PostgreSQL store starts at this release, empty, and applies
 * every step in its first transaction, so there is nothing for them to rewrite. A step added from now on that changes
 * rows does it here too.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE org_settings (
    key   ${T} PRIMARY KEY,
    value ${T} NOT NULL
  );
  CREATE TABLE signing_keys (
    kid         ${T} PRIMARY KEY,
    alg         ${T} NOT NULL,
    private_jwk ${T} NOT NULL,
    public_jwk  ${T} NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  ${T} NOT NULL
  );
  CREATE TABLE apps (
    name               ${T} PRIMARY KEY,
    client_id          ${T} NOT NULL UNIQUE,
    client_secret_hash ${T},
    redirect_uris      ${T} NOT NULL DEFAULT '[]',
    steps              ${T} NOT NULL DEFAULT '[]',
    attributes         ${T} NOT NULL DEFAULT '[]',
    script             ${T},
    built_in           BIGINT NOT NULL DEFAULT 0,
    created_at         ${T} NOT NULL,
    updated_at         ${T} NOT NULL
  );
  CREATE TABLE connections (
    name          ${T} PRIMARY KEY,
    type          ${T} NOT NULL CHECK (type IN ('github', 'google', 'oidc')),
    sandbox       BIGINT NOT NULL DEFAULT 0,
    issuer        ${T},
    client_id     ${T} NOT NULL,
    secret_kind   ${T} NOT NULL DEFAULT 'none' CHECK (secret_kind IN ('none', 'env', 'stored')),
    secret_env    ${T},
    secret_sealed ${T},
    secret_last4  ${T},
    scopes        ${T} NOT NULL DEFAULT '[]',
    jit_enabled   BIGINT NOT NULL DEFAULT 1,
    jit_scheme    ${T} NOT NULL DEFAULT 'silent'
                  CHECK (jit_scheme IN ('silent', 'prompt-consent', 'prompt-username-password-consent')),
    jit_sync      ${T} NOT NULL DEFAULT 'override-all' CHECK (jit_sync IN ('override-all', 'preserve-local', 'none')),
    jit_linking   ${T} NOT NULL DEFAULT 'off' CHECK (jit_linking IN ('off', 'verified-email')),
    attribute_map ${T} NOT NULL DEFAULT '{}',
    created_at    ${T} NOT NULL,
    updated_at    ${T} NOT NULL
  );
  CREATE TABLE users (
    id             ${T} PRIMARY KEY,
    username       ${T} NOT NULL,
    email          ${T},
    email_verified BIGINT NOT NULL DEFAULT 0,
    name           ${T},
    given_name     ${T},
    family_name    ${T},
    picture        ${T},
    attributes     ${T} NOT NULL DEFAULT '{}',
    password_hash  ${T},
    failed_logins  BIGINT NOT NULL DEFAULT 0,
    status         ${T} NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled')),
    source         ${T} NOT NULL DEFAULT 'local',
    created_at     ${T} NOT NULL,
    updated_at     ${T} NOT NULL,
    last_login_at  ${T}
  );
  CREATE UNIQUE INDEX users_username ON users (lower(username));
  CREATE UNIQUE INDEX users_email ON users (lower(email));
  CREATE INDEX users_source ON users (source, lower(username));
  CREATE TABLE associations (
    connection    ${T} NOT NULL REFERENCES connections (name) ON DELETE CASCADE ON UPDATE CASCADE,
    subject       ${T} NOT NULL,
    user_id       ${T} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    linked_at     ${T} NOT NULL,
    last_login_at ${T},
    last_claims   ${T} NOT NULL DEFAULT '{}',
    PRIMARY KEY (connection, subject)
  );
  CREATE INDEX associations_user ON associations (user_id);
  CREATE TABLE mfa_factors (
    id             ${T} PRIMARY KEY,
    user_id        ${T} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type           ${T} NOT NULL CHECK (type IN ('totp')),
    secret_sealed  ${T} NOT NULL,
    last_used_step BIGINT,
    created_at     ${T} NOT NULL,
    confirmed_at   ${T}
  );
  CREATE INDEX mfa_factors_user ON mfa_factors (user_id);
  CREATE TABLE flows (
    id         ${T} PRIMARY KEY,
    app        ${T} NOT NULL,
    status     ${T} NOT NULL CHECK (status IN ('active', 'done', 'failed')),
    state      ${T} NOT NULL,
    created_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE TABLE one_time_codes (
    id          ${T} PRIMARY KEY,
    flow_id     ${T} NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    user_id     ${T} REFERENCES users (id) ON DELETE CASCADE,
    destination ${T} NOT NULL,
    code_hash   ${T} NOT NULL,
    expires_at  ${T} NOT NULL,
    used_at     ${T},
    attempts    BIGINT NOT NULL DEFAULT 0,
    created_at  ${T} NOT NULL
  );
  CREATE INDEX one_time_codes_flow ON one_time_codes (flow_id);
  CREATE TABLE outbox (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    to_addr    ${T} NOT NULL,
    subject    ${T} NOT NULL,
    body       ${T} NOT NULL,
    flow_id    ${T},
    created_at ${T} NOT NULL
  );
  CREATE TABLE events (
    id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at       ${T} NOT NULL,
    kind     ${T} NOT NULL CHECK (kind IN ('stage', 'config')),
    flow_id  ${T},
    seq      BIGINT,
    stage    ${T},
    status   ${T},
    ms       DOUBLE PRECISION,
    actor    ${T},
    action   ${T},
    target   ${T},
    detail   ${T} NOT NULL,
    before   ${T},
    after    ${T}
  );
  CREATE INDEX events_flow ON events (flow_id, seq);
  `,
  `
  DROP INDEX users_source;
  `,
  `
  CREATE UNIQUE INDEX mfa_factors_one_totp ON mfa_factors (user_id) WHERE type = 'totp';
  `,
  `
  ALTER TABLE signing_keys RENAME COLUMN private_jwk TO private_sealed;
  `,
  `
  ALTER TABLE flows ADD COLUMN expired_at ${T};
  CREATE INDEX flows_active ON flows (updated_at) WHERE status = 'active';
  `,
  // A CHECK where SQLite has triggers: a username with an @ is its user's own email (NOCASE), on every insert and update.
  `
  ALTER TABLE users ADD COLUMN mfa_failures BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE users ADD CONSTRAINT users_email_username
    CHECK (position('@' in username) = 0 OR coalesce(lower(email) = lower(username), false));
  `,
  `
  ALTER TABLE connections ADD COLUMN token_auth ${T} CHECK (token_auth IN ('client_secret_basic', 'client_secret_post', 'none'));
  ALTER TABLE connections ADD COLUMN base_url ${T};
  `,
  `
  ALTER TABLE apps ADD COLUMN type ${T} NOT NULL DEFAULT 'spa' CHECK (type IN ('spa', 'web'));
  ALTER TABLE apps ADD COLUMN origins ${T} NOT NULL DEFAULT '[]';
  ALTER TABLE apps ADD COLUMN id_token_alg ${T} NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256'));
  ALTER TABLE apps RENAME COLUMN client_secret_hash TO client_secret_sealed;
  `,
  `
  CREATE TABLE oidc_models (
    model       ${T} NOT NULL,
    id          ${T} NOT NULL,
    payload     ${T} NOT NULL,
    grant_id    ${T},
    uid         ${T},
    expires_at  BIGINT,
    PRIMARY KEY (model, id)
  );
  CREATE INDEX oidc_models_grant ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
  CREATE INDEX oidc_models_expiry ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;
  `,
  `
  CREATE TABLE passkeys (
    id            ${T} PRIMARY KEY,
    user_id       ${T} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id ${T} NOT NULL UNIQUE,
    public_key    ${T} NOT NULL,
    counter       BIGINT NOT NULL DEFAULT 0,
    transports    ${T} NOT NULL DEFAULT '[]',
    aaguid        ${T} NOT NULL,
    name          ${T} NOT NULL,
    software      BIGINT NOT NULL DEFAULT 0 CHECK (software IN (0, 1)),
    created_at    ${T} NOT NULL,
    last_used_at  ${T}
  );
  CREATE INDEX passkeys_user ON passkeys (user_id);
  CREATE TABLE passkey_challenges (
    id         ${T} PRIMARY KEY,
    user_id    ${T} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    challenge  ${T} NOT NULL,
    origin     ${T} NOT NULL,
    expires_at ${T} NOT NULL
  );
  `,
];

/** Equal to SQLite's SCHEMA_VERSION (a test holds them together). */
export const SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Not org data: which step the schema is at. */
export const VERSION_TABLE = 'schema_version';

/** The first key of the migration lock (the second is the schema's name): "idp0", as SQLite's application_id. */
const LOCK_KEY = 0x69647030;

/** The schema version of the store `client` points at, 0 for one holding no idp schema yet. */
export async function readVersion(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ present: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1) AS present',
    [VERSION_TABLE],
  );
  if (!rows[0]?.present) return 0;
  const version = await client.query<{ version: number }>(`SELECT version FROM ${VERSION_TABLE}`);
  return version.rows[0]?.version ?? 0;
}

/**
 * Brings the schema to SCHEMA_VERSION in one transaction, under an advisory lock on the schema's name: instances
 * started together queue, and each reads the version again once it holds the lock. A schema holding other tables but
 * no version is refused, as is one from a newer idp; both are left untouched.
 */
export async function migrate(client: pg.ClientBase, where: string, schema?: string): Promise<void> {
  if ((await readVersion(client)) === SCHEMA_VERSION) return;
  await client.query('BEGIN');
  try {
    await applySteps(client, where, schema);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * What `migrate` would make, made and undone: the steps applied in a transaction that is then rolled back (PostgreSQL
 * undoes DDL with it), `inspect` run on the result in between. For a dry run, which must leave the database as it was;
 * the refusals `migrate` makes (a foreign schema, a newer idp's) are made here too.
 */
export async function rehearseMigration<T>(
  client: pg.ClientBase,
  where: string,
  schema: string | undefined,
  inspect: () => Promise<T>,
): Promise<T> {
  await client.query('BEGIN');
  try {
    await applySteps(client, where, schema);
    return await inspect();
  } finally {
    await client.query('ROLLBACK');
  }
}

/** The migration steps the store lacks, on `client`, inside the transaction it holds. */
async function applySteps(client: pg.ClientBase, where: string, schema: string | undefined): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock($1, hashtext(coalesce($2, current_schema(), '')))`, [
    LOCK_KEY,
    schema ?? null,
  ]);
  if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  const version = await readVersion(client);
  if (version > SCHEMA_VERSION)
    throw new IdpError(
      'DB_NEWER',
      `the store at ${where} was written by a newer idp (schema ${version}, this idp knows ${SCHEMA_VERSION})`,
      'upgrade idp; the database was left untouched',
    );
  if (version === 0) await refuseForeignTables(client, where);
  for (const step of PG_MIGRATIONS.slice(version)) await client.query(step);
  if (version === 0) await client.query(`CREATE TABLE ${VERSION_TABLE} (version BIGINT NOT NULL)`);
  await client.query(`DELETE FROM ${VERSION_TABLE}`);
  await client.query(`INSERT INTO ${VERSION_TABLE} (version) VALUES ($1)`, [SCHEMA_VERSION]);
}

async function refuseForeignTables(client: pg.ClientBase, where: string): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1 LIMIT 1`,
  );
  if (rows.length > 0)
    throw new IdpError(
      'DB_NOT_IDP',
      `the schema idp would use at ${where} holds tables of something else (${rows[0]!.name}) and no idp schema version`,
      hint`point ${{ kind: 'option', option: 'store' }} at an idp database or an empty one; nothing was changed`,
    );
}
