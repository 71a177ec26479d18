// Repository for organisation-wide settings (name, base URL, SMTP relay) and the signing keys that sign ID tokens for
// apps (private halves sealed).
import type { PublicSigningKey } from '../core/jwks.js';
import { DEFAULT_ORG_NAME } from '../core/names.js';
import type { IdTokenAlg } from '../core/types.js';
import type { SigningKey } from '../ports.js';
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
import type { Db } from './db.js';

export class OrgRepo {
  constructor(
    private readonly db: Db,
    private readonly secrets: Secrets,
  ) {}

  setting(key: string): string | undefined {
    return this.db.prepare('SELECT value FROM org_settings WHERE key = ?').pluck().get(key) as string | undefined;
  }

  setSetting(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO org_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  /** The SMTP relay emailed codes also go to (`smtp://host:port`), if one is set. */
  smtpRelay(): string | null {
    return this.setting(SMTP_RELAY) ?? null;
  }

  setSmtpRelay(url: string | null): void {
    if (url === null) this.db.prepare('DELETE FROM org_settings WHERE key = ?').run(SMTP_RELAY);
    else this.setSetting(SMTP_RELAY, url);
  }

  name(): string {
    return this.setting(ORG_NAME) ?? DEFAULT_ORG_NAME;
  }

  setName(name: string): void {
    this.setSetting(ORG_NAME, name);
  }

  baseUrl(): string {
    return this.setting(BASE_URL) ?? DEFAULT_BASE_URL;
  }

  setBaseUrl(url: string): void {
    this.setSetting(BASE_URL, url.replace(/\/+$/, ''));
  }

  addSigningKey(key: SigningKey): void {
    this.db
      .prepare('INSERT INTO signing_keys (kid, alg, private_sealed, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(...signingKeyParams(key, (p) => this.secrets.seal(p)));
  }

  publicKeys(): PublicSigningKey[] {
    const rows = this.db
      .prepare('SELECT kid, alg, public_jwk, created_at FROM signing_keys WHERE active = 1 ORDER BY created_at DESC')
      .all() as KeyRow[];
    return rows.map(publicHalf);
  }

  signingKeys(): SigningKey[] {
    const rows = this.db
      .prepare('SELECT * FROM signing_keys WHERE active = 1 ORDER BY created_at DESC')
      .all() as KeyRow[];
    return rows.map((r) => toSigningKey(r, (sealed) => this.secrets.unseal(sealed)));
  }

  signingKey(alg: IdTokenAlg): SigningKey | undefined {
    const row = this.db
      .prepare('SELECT * FROM signing_keys WHERE active = 1 AND alg = ? ORDER BY created_at DESC LIMIT 1')
      .get(alg) as KeyRow | undefined;
    return row && toSigningKey(row, (sealed) => this.secrets.unseal(sealed));
  }
}
