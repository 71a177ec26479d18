// A one_time_codes row on either engine, as the columns a code's check reads, and the StoredEmailOtp it reads as.
import type { StoredEmailOtp } from '../ports.js';

/** The columns `latestForFlow` selects, in this order on both engines. */
export interface CodeRow {
  id: string;
  flow_id: string;
  code_hash: string;
  expires_at: string;
  used_at: string | null;
  attempts: number;
}

export function toStoredCode(row: CodeRow): StoredEmailOtp & { id: string } {
  return {
    id: row.id,
    flowId: row.flow_id,
    hash: row.code_hash,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    attempts: row.attempts,
  };
}
