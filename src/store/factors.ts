// Repository for MFA factors (TOTP): secrets are sealed at rest, and the last accepted time step is claimed
// atomically so one code can succeed once even when two submissions race.
import type { FactorSummary, TotpFactor } from '../ports.js';
import type { Db } from './db.js';

export class FactorRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
  ) {}

  forUser(userId: string): FactorSummary[] {
    return this.db
      .prepare('SELECT id, type, created_at, confirmed_at FROM mfa_factors WHERE user_id = ? ORDER BY created_at')
      .all(userId) as FactorSummary[];
  }

  totpFor(userId: string): TotpFactor | undefined {
    const row = this.db
      .prepare(
        "SELECT id, user_id, secret_sealed, last_used_step FROM mfa_factors WHERE user_id = ? AND type = 'totp' AND confirmed_at IS NOT NULL ORDER BY created_at DESC LIMIT 1",
      )
      .get(userId) as { id: string; user_id: string; secret_sealed: string; last_used_step: number | null } | undefined;
    return (
      row && { id: row.id, userId: row.user_id, secretSealed: row.secret_sealed, lastUsedStep: row.last_used_step }
    );
  }

  /** The new factor's id, or null when the user already has one (another enrolment won a race). */
  addTotp(userId: string, secretSealed: string, lastUsedStep: number | null = null): string | null {
    const id = crypto.randomUUID();
    const at = this.now();
    const inserted = this.db
      .prepare(
        "INSERT INTO mfa_factors (id, user_id, type, secret_sealed, last_used_step, created_at, confirmed_at) VALUES (?, ?, 'totp', ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      )
      .run(id, userId, secretSealed, lastUsedStep, at, at);
    return inserted.changes === 1 ? id : null;
  }

  /** Records `step` as used unless it (or a later one) already was: false means a replay lost the race. */
  claimStep(factorId: string, step: number): boolean {
    return (
      this.db
        .prepare(
          'UPDATE mfa_factors SET last_used_step = ? WHERE id = ? AND (last_used_step IS NULL OR last_used_step < ?)',
        )
        .run(step, factorId, step).changes === 1
    );
  }

  remove(userId: string, factorId?: string): number {
    return factorId
      ? this.db.prepare('DELETE FROM mfa_factors WHERE user_id = ? AND id = ?').run(userId, factorId).changes
      : this.db.prepare('DELETE FROM mfa_factors WHERE user_id = ?').run(userId).changes;
  }
}
