// Repository for what `idp serve`'s OpenID provider keeps: sessions, grants, codes, tokens and interactions as JSON
// rows keyed by model and id, with expiry, so a restart loses nothing and a revoked grant takes its tokens along.
import type { Db } from './db.js';

interface Row {
  payload: string;
}

const LIVE = '(expires_at IS NULL OR expires_at > ?)';

export class OidcModelRepo {
  constructor(private readonly db: Db) {}

  upsert(
    model: string,
    id: string,
    payload: Record<string, unknown>,
    expiresAt: number | null,
    grantId?: string,
  ): void {
    this.db
      .prepare(
        `INSERT INTO oidc_models (model, id, payload, grant_id, uid, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
           uid = excluded.uid, expires_at = excluded.expires_at`,
      )
      .run(model, id, JSON.stringify(payload), grantId ?? null, text(payload.uid), expiresAt);
  }

  find(model: string, id: string, now: number): Record<string, unknown> | undefined {
    return parse(
      this.db.prepare(`SELECT payload FROM oidc_models WHERE model = ? AND id = ? AND ${LIVE}`).get(model, id, now),
    );
  }

  findByUid(model: string, uid: string, now: number): Record<string, unknown> | undefined {
    return parse(
      this.db.prepare(`SELECT payload FROM oidc_models WHERE model = ? AND uid = ? AND ${LIVE}`).get(model, uid, now),
    );
  }

  consume(model: string, id: string, at: number): boolean {
    const sql = `UPDATE oidc_models SET payload = json_set(payload, '$.consumed', ?)
                 WHERE model = ? AND id = ? AND json_extract(payload, '$.consumed') IS NULL`;
    return this.db.prepare(sql).run(at, model, id).changes === 1;
  }

  destroy(model: string, id: string): void {
    this.db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?').run(model, id);
  }

  revokeByGrantId(grantId: string): void {
    this.db.prepare('DELETE FROM oidc_models WHERE grant_id = ?').run(grantId);
  }

  purgeExpired(now: number): number {
    return this.db.prepare('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now).changes;
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function parse(row: unknown): Record<string, unknown> | undefined {
  return row === undefined ? undefined : (JSON.parse((row as Row).payload) as Record<string, unknown>);
}
