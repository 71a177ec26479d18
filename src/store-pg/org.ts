// Organisation-wide settings and the signing keys of ID tokens on PostgreSQL (private halves sealed): every instance
// serving the org reads the same keys, so discovery and the JWKS are identical on all of them.
import type { PublicSigningKey } from '../core/jwks.js';
import { DEFAULT_ORG_NAME } from '../core/names.js';
import type { IdTokenAlg } from '../core/types.js';
import type { OrgRepository, SigningKey } from '../ports.js';
import {
  BASE_URL,
  DEFAULT_BASE_URL,
  type KeyRow,
  ORG_NAME,
  publicHalf,
  SMTP_RELAY,
  signingKeyParams,
  toSigningKey,
} from '../store-rows/org.js';
import type { Secrets } from '../store-rows/seal.js';
import type { Sql } from './sql.js';

export class PgOrgRepo implements OrgRepository {
  constructor(
    private readonly sql: Sql,
    private readonly secrets: Secrets,
  ) {}

  async setting(key: string): Promise<string | undefined> {
    return (await this.sql.row<{ value: string }>('SELECT value FROM org_settings WHERE key = $1', [key]))?.value;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.sql.changes(
      'INSERT INTO org_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }

  async smtpRelay(): Promise<string | null> {
    return (await this.setting(SMTP_RELAY)) ?? null;
  }

  async setSmtpRelay(url: string | null): Promise<void> {
    if (url === null) await this.sql.changes('DELETE FROM org_settings WHERE key = $1', [SMTP_RELAY]);
    else await this.setSetting(SMTP_RELAY, url);
  }

  async name(): Promise<string> {
    return (await this.setting(ORG_NAME)) ?? DEFAULT_ORG_NAME;
  }

  async setName(name: string): Promise<void> {
    await this.setSetting(ORG_NAME, name);
  }

  async baseUrl(): Promise<string> {
    return (await this.setting(BASE_URL)) ?? DEFAULT_BASE_URL;
  }

  async setBaseUrl(url: string): Promise<void> {
    await this.setSetting(BASE_URL, url.replace(/\/+$/, ''));
  }

  async addSigningKey(key: SigningKey): Promise<void> {
    await this.sql.changes(
      'INSERT INTO signing_keys (kid, alg, private_sealed, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)',
      signingKeyParams(key, (p) => this.secrets.seal(p)),
    );
  }

  async publicKeys(): Promise<PublicSigningKey[]> {
    const rows = await this.sql.rows<KeyRow>(
      'SELECT kid, alg, public_jwk, created_at FROM signing_keys WHERE active = 1 ORDER BY created_at DESC',
    );
    return rows.map(publicHalf);
  }

  async signingKeys(): Promise<SigningKey[]> {
    const rows = await this.sql.rows<KeyRow>('SELECT * FROM signing_keys WHERE active = 1 ORDER BY created_at DESC');
    return rows.map((r) => toSigningKey(r, (sealed) => this.secrets.unseal(sealed)));
  }

  async signingKey(alg: IdTokenAlg): Promise<SigningKey | undefined> {
    const row = await this.sql.row<KeyRow>(
      'SELECT * FROM signing_keys WHERE active = 1 AND alg = $1 ORDER BY created_at DESC LIMIT 1',
      [alg],
    );
    return row && toSigningKey(row, (sealed) => this.secrets.unseal(sealed));
  }
}
