// The one registry of error codes and the exit code each maps to (the README's "Exit codes" table).
// Every failure the CLI reports is an IdpError carrying one of these codes, a one-line message and a hint whose
// remedies are data (core/fixes.ts), so each driver words them its own way.
import { hint, type Hint, type ListTarget } from './fixes.js';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  upstream: 4,
  timeout: 5,
  protocol: 6,
  refused: 7,
  mfa: 8,
  checks: 9,
  interrupted: 130,
  terminated: 143,
} as const;

export type ExitKind = keyof typeof EXIT;

export const ERROR_CODES = {
  INTERNAL: 'internal',
  SQLITE_ADDON_MISSING: 'internal',

  USAGE: 'usage',
  INVALID_VALUE: 'usage',
  // A store URL idp refuses as given (not postgres://, or carrying a password, which argv and shell history would keep).
  STORE_URL_INVALID: 'usage',
  NO_TTY: 'usage',
  UNKNOWN_SIGN_IN_OPTION: 'usage',
  // A name the person gave (on the command line or in a file) that names nothing is bad input, like an unknown flag,
  // persona or flow: fix what was typed. Exit 3 is for an org whose configuration cannot do what was asked.
  USER_NOT_FOUND: 'usage',
  APP_NOT_FOUND: 'usage',
  CONNECTION_NOT_FOUND: 'usage',
  USER_EXISTS: 'usage',
  APP_EXISTS: 'usage',
  CONNECTION_EXISTS: 'usage',
  APP_PROTECTED: 'usage',
  IMPORT_INVALID: 'usage',
  PROTECTED_CLAIM: 'usage',
  UNKNOWN_PERSONA: 'usage',
  HEADLESS_NEEDS_SANDBOX: 'usage',
  MISSING_ANSWER: 'usage',
  FILE_INVALID: 'usage',
  FLOW_NOT_FOUND: 'usage',
  FLOW_FINISHED: 'usage',

  CONNECTION_INCOMPLETE: 'config',
  CONNECTION_IN_USE: 'config',
  UPSTREAM_HAS_ASSOCIATIONS: 'config',
  SECRET_MISSING: 'config',
  DB_NEWER: 'config',
  DB_NOT_IDP: 'config',
  DB_MISSING: 'config',
  // The org's PostgreSQL server: unreachable, or refusing the role; and the sealing key a server-held org needs apart.
  STORE_UNREACHABLE: 'config',
  STORE_AUTH_FAILED: 'config',
  SEAL_KEY_MISSING: 'config',
  SEAL_KEY_INVALID: 'config',
  SCRIPT_ERROR: 'config',
  MFA_MISCONFIGURED: 'config',
  // A software passkey (a testing aid) asked of an org with a real connection: the org, not the input, rules it out.
  SOFTWARE_PASSKEY_REFUSED: 'config',

  UPSTREAM_DENIED: 'upstream',
  UPSTREAM_ERROR: 'upstream',
  UPSTREAM_UNREACHABLE: 'upstream',

  TIMEOUT: 'timeout',
  FLOW_EXPIRED: 'timeout',
  CONNECTION_CHANGED: 'timeout',
  STORE_BUSY: 'timeout',

  STATE_MISMATCH: 'protocol',
  NONCE_MISMATCH: 'protocol',
  ISSUER_MISMATCH: 'protocol',
  ID_TOKEN_INVALID: 'protocol',
  REDIRECT_URI_MISMATCH: 'protocol',

  JIT_DENIED: 'refused',
  LINK_CONFLICT: 'refused',
  USER_LOCKED: 'refused',
  USER_DISABLED: 'refused',
  BAD_CREDENTIALS: 'refused',
  NEEDS_LOCAL_USER: 'refused',
  SCRIPT_FAILED_LOGIN: 'refused',
  LAST_SIGN_IN_METHOD: 'refused',
  SIGN_IN_TOO_OLD: 'refused',
  SIGN_IN_WITHOUT_FACTOR: 'refused',
  LOOPBACK_CONTESTED: 'refused',

  MFA_NEEDS_LOCAL_USER: 'mfa',
  MFA_FAILED: 'mfa',
  MFA_TOO_MANY_ATTEMPTS: 'mfa',
  MFA_NOT_ENROLLED: 'mfa',

  CHECKS_FAILED: 'checks',

  // idp store copy: a destination that holds an org, two stores of different schemas, a copy that does not match.
  STORE_NOT_EMPTY: 'config',
  SCHEMA_MISMATCH: 'config',
  STORE_MISMATCH: 'checks',

  INTERRUPTED: 'interrupted',
} as const satisfies Record<string, ExitKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function exitCodeFor(code: ErrorCode): number {
  return EXIT[ERROR_CODES[code]];
}

export class IdpError extends Error {
  readonly code: ErrorCode;
  readonly hint: Hint | undefined;

  constructor(code: ErrorCode, message: string, hint?: Hint, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdpError';
    this.code = code;
    this.hint = hint;
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }

  toJSON(): { code: ErrorCode; message: string; hint: Hint | null } {
    return { code: this.code, message: this.message, hint: this.hint ?? null };
  }
}

export function isIdpError(err: unknown): err is IdpError {
  return err instanceof IdpError;
}

/** "did you mean" for unknown names: the closest candidate within an edit distance of 2, if any. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The hint for an unknown name: "did you mean X?" when one is close, else the list of known names. */
export function unknownNameHint(kind: ListTarget, input: string, known: readonly string[]): Hint {
  const close = didYouMean(input, known);
  const list = { kind: 'list', what: kind } as const;
  if (close) return hint`did you mean '${close}'? (${list} lists every ${kind})`;
  return known.length ? `known ${kind}s: ${known.join(', ')}` : hint`there is no ${kind} yet; see ${list}`;
}
