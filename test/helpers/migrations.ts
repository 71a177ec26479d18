// Turning a database back into an older schema, as an older idp wrote it, for tests of the migrations that follow.
import type Database from 'better-sqlite3';

/**
 * Schema 7: no passkeys (10); no table of \`idp serve\`'s provider (9); apps without type, origins, ID token algorithm or sealed secret, the
 * org unnamed, with its ES256 key only (8).
 */
export function downgradeTo7(db: Database.Database): void {
  db.exec(`
    DROP TABLE passkey_challenges;
    DROP TABLE passkeys;
    DROP TABLE oidc_models;
    DELETE FROM signing_keys WHERE alg = 'RS256';
    DELETE FROM org_settings WHERE key IN ('org_name', 'base_url');
    ALTER TABLE apps DROP COLUMN type;
    ALTER TABLE apps DROP COLUMN origins;
    ALTER TABLE apps DROP COLUMN id_token_alg;
    ALTER TABLE apps RENAME COLUMN client_secret_sealed TO client_secret_hash;
  `);
}
