// Turning a database back into an older schema, as an older idp wrote it, for tests of the migrations that follow.
import type Database from 'better-sqlite3';

/** Schema 7: apps without type, origins, ID token algorithm or sealed secret; the org unnamed, with its ES256 key only. */
export function undoMigration8(db: Database.Database): void {
  db.exec(`
    DELETE FROM signing_keys WHERE alg = 'RS256';
    DELETE FROM org_settings WHERE key IN ('org_name', 'base_url');
    ALTER TABLE apps DROP COLUMN type;
    ALTER TABLE apps DROP COLUMN origins;
    ALTER TABLE apps DROP COLUMN id_token_alg;
    ALTER TABLE apps RENAME COLUMN client_secret_sealed TO client_secret_hash;
  `);
}
