// Which cells of an organisation's store hold values sealed with the org's key, as both store engines declare them to
// `idp store copy` (ports/store-tables.ts): a copy between two keys opens and seals exactly these again.

/** The org setting that holds `idp serve`'s cookie key, sealed like every secret. */
export const SERVER_COOKIE_KEY_SETTING = 'server_cookie_key';

/** Per table, the columns whose every non-null cell is sealed. */
export const SEALED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  signing_keys: ['private_sealed'],
  apps: ['client_secret_sealed'],
  connections: ['secret_sealed'],
  mfa_factors: ['secret_sealed'],
};

/** Columns sealed in some rows only: org_settings holds plain settings beside the server's cookie key. */
export const SEALED_IN: Readonly<Record<string, readonly { column: string; where: string; in: string[] }[]>> = {
  org_settings: [{ column: 'value', where: 'key', in: [SERVER_COOKIE_KEY_SETTING] }],
};
