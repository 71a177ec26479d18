// Repository for MFA factors (TOTP): secrets are sealed at rest and never leave this module unsealed except to the verifier.
import type { Db } from './db.js';

export interface FactorSummary {
  id: string;
  type: 'totp';
  created_at: string;
  confirmed_at: string | null;
}

export class FactorRepo {
  constructor(private readonly db: Db) {}

  forUser(userId: string): FactorSummary[] {
    return this.db.prepare('SELECT id, type, created_at, confirmed_at FROM mfa_factors WHERE user_id = ? ORDER BY created_at').all(userId) as FactorSummary[];
  }
}
