// The connection to the org's PostgreSQL server: the store URL read the way libpq reads it (sslmode included), the
// password from anywhere but the URL, a pool whose int8 cells come back as JS numbers, and its failures as IdpErrors.
import { createRequire } from 'node:module';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';

export interface ConnectOptions {
  /** The role's password, handed in by the composition root (read from stdin); else PGPASSWORD, else ~/.pgpass. */
  password?: string;
  /** Tables live in this schema (created when missing) instead of the role's default one. */
  schema?: string;
  /** Connections the pool may hold at once. */
  max?: number;
}

/**
 * sslmode=prefer tries TLS and, refused, connects in the clear (libpq's meaning; pg knows no fallback). `plain` is
 * that second try; sslmode=allow starts in the clear (pg has no TLS retry, so allow never upgrades).
 */
interface Tls {
  plain?: boolean;
}

const INT8 = 20;
const CONNECT_TIMEOUT_MS = 10_000;

/** BIGINT cells as numbers, like SQLite's INTEGER: so both engines hand `idp store copy` the same cells. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? Number
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** The store URL's parts, without its query; for messages (a URL never holds a password here). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'the store URL';
  }
}

export function isPgUrl(value: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(value);
}

/**
 * The pool's configuration from a postgres:// URL. A password in the URL is refused: argv, shell history and process
 * listings keep it. sslmode means what libpq says (require encrypts without verifying; verify-full checks the name).
 */
export function poolConfig(url: string, opts: ConnectOptions = {}, tls: Tls = {}): pg.PoolConfig {
  if (!isPgUrl(url))
    throw new IdpError(
      'STORE_URL_INVALID',
      'the store URL does not start with postgres:// or postgresql://',
      'write it as postgres://USER@HOST:PORT/DATABASE',
    );
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(url, { useLibpqCompat: true });
  } catch (err) {
    throw new IdpError(
      'STORE_URL_INVALID',
      `cannot read the store URL: ${(err as Error).message}`,
      'write it as postgres://USER@HOST:PORT/DATABASE',
      { cause: err },
    );
  }
  if (parsed.password)
    throw new IdpError(
      'STORE_URL_INVALID',
      'the store URL carries a password; command lines and shell history keep it',
      hint`remove it from the URL and give it in PGPASSWORD, in ~/.pgpass, or on standard input with ${{ kind: 'option', option: 'store-password-stdin' }}`,
    );
  const { host, port, database, user, ssl, sslmode, options, application_name, connect_timeout } = parsed;
  const searchPath = opts.schema === undefined ? [] : [`-c search_path=${quoteIdent(opts.schema)}`];
  return {
    host: host ?? undefined,
    port: port ? Number(port) : undefined,
    database: database ?? undefined,
    user,
    ssl: tls.plain || sslmode === 'allow' ? false : (ssl as pg.PoolConfig['ssl']),
    options: [options, ...searchPath].filter((o) => typeof o === 'string' && o !== '').join(' ') || undefined,
    application_name: typeof application_name === 'string' ? application_name : 'idp',
    password: () => passwordFor(opts.password, { host, port, database, user }),
    max: opts.max ?? 10,
    // libpq's connect_timeout (seconds) when the URL gives one; else a server that never answers fails in 10 s.
    connectionTimeoutMillis: Number(connect_timeout) > 0 ? Number(connect_timeout) * 1000 : CONNECT_TIMEOUT_MS,
    // A command that forgets to close its store still ends: idle pooled connections do not hold the process.
    allowExitOnIdle: true,
    types: TYPES,
    Client: ClosingClient as unknown as pg.PoolConfig['Client'],
  };
}

/**
 * A client that closes its socket when connecting fails on its own side (no password for a SCRAM request): pg leaves
 * that socket open, and the process then waits for the server's authentication timeout (a minute) before it can end.
 */
class ClosingClient extends pg.Client {
  override connect(): Promise<pg.Client>;
  override connect(callback: (err: Error) => void): void;
  override connect(callback?: (err: Error) => void): Promise<pg.Client> | undefined {
    if (!callback) return super.connect();
    super.connect((err: Error) => {
      if (err) (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      callback(err);
    });
  }
}

/**
 * The role's password: the one handed in, else PGPASSWORD, else ~/.pgpass (PGPASSFILE) read as libpq reads it; an
 * empty string when there is none, so a server trusting the role still lets it in (pg wants a string, not undefined).
 */
async function passwordFor(
  given: string | undefined,
  target: { host: string | null; port?: string | null; database: string | null | undefined; user?: string },
): Promise<string> {
  if (given !== undefined) return given;
  if (process.env.PGPASSWORD) return process.env.PGPASSWORD;
  const pgpass = createRequire(import.meta.url)('pgpass') as (
    conn: { host: string; port: string; database: string; user: string },
    found: (password: string | undefined) => void,
  ) => void;
  return new Promise((resolve) =>
    pgpass(
      {
        host: target.host ?? 'localhost',
        port: target.port || '5432',
        database: target.database ?? target.user ?? '',
        user: target.user ?? '',
      },
      (password) => resolve(password ?? ''),
    ),
  );
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Whether the URL asks for TLS when the server offers it, and the clear otherwise. */
export function prefersTls(url: string): boolean {
  return parse(url, { useLibpqCompat: true }).sslmode === 'prefer';
}

/** pg's error when a server answers a TLS request with no. */
export function tlsRefused(err: unknown): boolean {
  return /does not support SSL/i.test((err as Error | null)?.message ?? '');
}

export function newPool(url: string, opts: ConnectOptions = {}, tls: Tls = {}): pg.Pool {
  const pool = new pg.Pool(poolConfig(url, opts, tls));
  // An idle pooled connection the server drops (a restart, a terminated backend) is discarded by the pool; unheard, the
  // event would end the process.
  pool.on('error', () => undefined);
  return pool;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A failure to reach or enter the server as an IdpError naming it; any other error as it was. */
export function connectionError(err: unknown, where: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const message = (err as Error | null)?.message ?? String(err);
  if (/timeout exceeded when trying to connect/.test(message))
    return new IdpError(
      'STORE_BUSY',
      `every connection to ${where} stayed in use past the connection timeout`,
      'the server or this instance is overloaded; run it again, or give the server more capacity',
      { cause: err },
    );
  if ((typeof code === 'string' && UNREACHABLE.has(code)) || /timeout expired|connection timeout/.test(message))
    return new IdpError(
      'STORE_UNREACHABLE',
      `cannot reach the PostgreSQL server of ${where}: ${message}`,
      'start the server, or correct the host and port in the store URL',
      { cause: err },
    );
  if (tlsRefused(err))
    return new IdpError(
      'STORE_UNREACHABLE',
      `the PostgreSQL server of ${where} does not accept TLS, which the store URL's sslmode requires`,
      "turn on ssl in the server's configuration, or (on a network you trust) set sslmode=prefer or disable in the store URL",
      { cause: err },
    );
  if (code === '3D000')
    return new IdpError(
      'STORE_UNREACHABLE',
      `${where}: ${message}`,
      'create the database (createdb), or correct its name in the store URL',
      { cause: err },
    );
  if (code === '28P01' || code === '28000' || /password must be a (non-empty )?string|SASL/.test(message))
    return new IdpError(
      'STORE_AUTH_FAILED',
      // pg words a missing password as a SASL protocol detail: say what happened instead.
      /password must be a (non-empty )?string/.test(message)
        ? `PostgreSQL asks for the password of the role in ${where}, and none was given`
        : `PostgreSQL refused the role of ${where}: ${message}`,
      hint`give the role's password in PGPASSWORD, in ~/.pgpass, or on standard input with ${{ kind: 'option', option: 'store-password-stdin' }}`,
      { cause: err },
    );
  return err;
}
