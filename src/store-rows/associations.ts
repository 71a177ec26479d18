// An associations row on either engine (the link from a connection's upstream subject to a local user) and the
// Association it reads as.
import type { Association } from '../core/types.js';

export interface AssociationRow {
  connection: string;
  subject: string;
  user_id: string;
  linked_at: string;
  last_login_at: string | null;
  last_claims: string;
}

export function toAssociation(row: AssociationRow): Association {
  return {
    connection: row.connection,
    subject: row.subject,
    userId: row.user_id,
    linkedAt: row.linked_at,
    lastLoginAt: row.last_login_at,
    lastClaims: JSON.parse(row.last_claims) as Record<string, unknown>,
  };
}
