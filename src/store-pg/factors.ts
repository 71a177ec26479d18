// TOTP factors on PostgreSQL: secrets sealed at rest, and the last accepted time step claimed by one conditional
// UPDATE, so a code is accepted once even when two instances take it at the same moment.
import type { FactorRepository, FactorSummary, TotpFactor } from '../ports.js';
import type { Sql } from './sql.js';

export class PgFactorRepo implements FactorRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
  ) {}

  async forUser(userId: string): Promise<FactorSummary[]> {
    return this.sql.rows<FactorSummary>(
      'SELECT id, type, created_at, confirmed_at FROM mfa_factors WHERE user_id = $1 ORDER BY created_at',
      [userId],
    );
  }

  async totpFor(userId: string): Promise<TotpFactor | undefined> {
    const row = await this.sql.row<{
      id: string;
      user_id: string;
      secret_sealed: string;
      last_used_step: number | null;
    }>(
      "SELECT id, user_id, secret_sealed, last_used_step FROM mfa_factors WHERE user_id = $1 AND type = 'totp' AND confirmed_at IS NOT NULL ORDER BY created_at DESC LIMIT 1",
      [userId],
    );
    return (
      row && { id: row.id, userId: row.user_id, secretSealed: row.secret_sealed, lastUsedStep: row.last_used_step }
    );
  }

  /** The new factor's id, or null when the user already has one (mfa_factors_one_totp: another enrolment won a race). */
  async addTotp(userId: string, secretSealed: string, lastUsedStep: number | null = null): Promise<string | null> {
    const id = crypto.randomUUID();
    const at = this.now();
    const inserted = await this.sql.changes(
      "INSERT INTO mfa_factors (id, user_id, type, secret_sealed, last_used_step, created_at, confirmed_at) VALUES ($1, $2, 'totp', $3, $4, $5, $6) ON CONFLICT DO NOTHING",
      [id, userId, secretSealed, lastUsedStep, at, at],
    );
    return inserted === 1 ? id : null;
  }

  async claimStep(factorId: string, step: number): Promise<boolean> {
    const claimed = await this.sql.changes(
      'UPDATE mfa_factors SET last_used_step = $1 WHERE id = $2 AND (last_used_step IS NULL OR last_used_step < $1)',
      [step, factorId],
    );
    return claimed === 1;
  }

  async remove(userId: string, factorId?: string): Promise<number> {
    return factorId
      ? this.sql.changes('DELETE FROM mfa_factors WHERE user_id = $1 AND id = $2', [userId, factorId])
      : this.sql.changes('DELETE FROM mfa_factors WHERE user_id = $1', [userId]);
  }
}
