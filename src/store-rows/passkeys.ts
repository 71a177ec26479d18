// A passkeys row on either engine: its columns, the StoredPasskey it reads as, and the cells a new or imported passkey
// fills.
import type { StoredPasskey } from '../ports.js';

export interface PasskeyRow {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: number;
  transports: string;
  aaguid: string;
  name: string;
  software: number;
  created_at: string;
  last_used_at: string | null;
}

export function toPasskey(row: PasskeyRow): StoredPasskey {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: row.counter,
    transports: JSON.parse(row.transports) as string[],
    aaguid: row.aaguid,
    name: row.name,
    software: row.software === 1,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

/** What a passkey is made from: the credential, less the ids and times the store gives it. */
export type NewPasskey = Pick<
  StoredPasskey,
  'credentialId' | 'publicKey' | 'counter' | 'transports' | 'aaguid' | 'name' | 'software'
>;

/** The columns a new or imported passkey fills, in passkeyParams order. */
export const PASSKEY_COLUMNS = [
  'id',
  'user_id',
  'credential_id',
  'public_key',
  'counter',
  'transports',
  'aaguid',
  'name',
  'software',
  'created_at',
  'last_used_at',
] as const;

/** A passkey's cells in PASSKEY_COLUMNS order, for a new passkey and an imported one alike. */
export function passkeyParams(id: string, userId: string, p: NewPasskey, createdAt: string, lastUsedAt: string | null) {
  const { credentialId, publicKey, counter, transports, aaguid, name, software } = p;
  return [
    id,
    userId,
    credentialId,
    publicKey,
    counter,
    JSON.stringify(transports),
    aaguid,
    name,
    software ? 1 : 0,
    createdAt,
    lastUsedAt,
  ];
}
