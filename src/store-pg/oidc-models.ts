// What `idp serve`'s OpenID provider keeps, on PostgreSQL: sessions, grants, codes and tokens as JSON rows keyed by
// model and id, shared by every instance; a code is consumed by one conditional UPDATE, so it is redeemed once anywhere.
import type { OidcModelRepository } from '../ports.js';
import type { Sql } from './sql.js';

// `now` may carry a fraction: compared as a float, as SQLite compares an INTEGER with a REAL.
const LIVE = '(expires_at IS NULL OR expires_at > $3::float8)';

export class PgOidcModelRepo implements OidcModelRepository {
  constructor(private readonly sql: Sql) {}

  async upsert(
    model: string,
    id: string,
    payload: Record<string, unknown>,
    expiresAt: number | null,
    grantId?: string,
  ): Promise<void> {
    await this.sql.changes(
      `INSERT INTO oidc_models (model, id, payload, grant_id, uid, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         uid = excluded.uid, expires_at = excluded.expires_at`,
      [
        model,
        id,
        JSON.stringify(payload),
        grantId ?? null,
        typeof payload.uid === 'string' ? payload.uid : null,
        expiresAt,
      ],
    );
  }

  async find(model: string, id: string, now: number): Promise<Record<string, unknown> | undefined> {
    return parse(
      await this.sql.row(`SELECT payload FROM oidc_models WHERE model = $1 AND id = $2 AND ${LIVE}`, [model, id, now]),
    );
  }

  async findByUid(model: string, uid: string, now: number): Promise<Record<string, unknown> | undefined> {
    return parse(
      await this.sql.row(`SELECT payload FROM oidc_models WHERE model = $1 AND uid = $2 AND ${LIVE}`, [
        model,
        uid,
        now,
      ]),
    );
  }

  async consume(model: string, id: string, at: number): Promise<boolean> {
    const consumed = await this.sql.changes(
      `UPDATE oidc_models SET payload = jsonb_set(payload::jsonb, '{consumed}', to_jsonb($1::numeric))::text
       WHERE model = $2 AND id = $3 AND (payload::jsonb ->> 'consumed') IS NULL`,
      [at, model, id],
    );
    return consumed === 1;
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.sql.changes('DELETE FROM oidc_models WHERE model = $1 AND id = $2', [model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.sql.changes('DELETE FROM oidc_models WHERE grant_id = $1', [grantId]);
  }

  async purgeExpired(now: number): Promise<number> {
    return this.sql.changes('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at <= $1::float8', [now]);
  }
}

function parse(row: { payload?: string } | undefined): Record<string, unknown> | undefined {
  return row === undefined ? undefined : (JSON.parse(row.payload!) as Record<string, unknown>);
}
