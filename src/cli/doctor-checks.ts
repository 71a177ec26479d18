// `idp doctor`'s checks, callable without the command: data directory, file modes and database, the loopback server, the
// SMTP relay if one is set, the browser, the clock, every real connection's upstream (its discovery document checked
// as a login checks it) and client secret, every sandbox connection's registration, and the redirect URI to register.
// Read-only.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { isIdpError } from '../core/errors.js';
import type { Connection } from '../core/types.js';
import { checkDiscoveryDocument, discoveryUrl } from '../federation/discovery.js';
import { githubEndpoints, REAL_ENDPOINTS } from '../federation/index.js';
import { parseEndpoint, upstreamFetch } from '../federation/transport.js';
import { providerName, sandboxClient } from '../federation/upstreams.js';
import { startLoopback, type LoopbackServer } from '../loopback/server.js';
import { relayAddress } from '../mfa/smtp-relay.js';
import { DB_FILE, databaseExists, dbPath } from '../store/db.js';
import { renderHint } from './hints.js';
import { readServeRecord, SERVE_RECORD } from './serve-record.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../store/migrations.js';
import { openStoreReadOnly, SEAL_KEY_FILE, type SqliteStore } from '../store/store.js';
import type { Store as OrgStore } from '../ports.js';

type Store = SqliteStore;
/** Where the org's sealing key is, for messages: the data directory's key file, or the environment. */
interface SealKey {
  present: boolean;
  name: string;
}

export type CheckStatus = 'ok' | 'warning' | 'failed';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix: string | null;
}

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

export interface DoctorOptions {
  home: string;
  /** The org in PostgreSQL (--store): its URL, how to show it, and the role's password if one was given on stdin. */
  database?: { url: string; shown: string; password?: string };
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** per upstream request (default 3 s) */
  timeoutMs?: number;
  now?: () => Date;
}

/** How far the local clock was from an upstream's Date header when its answer arrived (positive: local is ahead). */
export interface UpstreamTime {
  origin: string;
  skewMs: number;
}

const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail, fix: null });
const warning = (name: string, detail: string, fix: string): Check => ({ name, status: 'warning', detail, fix });
const failed = (name: string, detail: string, fix: string): Check => ({ name, status: 'failed', detail, fix });

const BROWSER_FIX = 'use `idp login --no-browser` and open the printed URL yourself';
const CLOCK_FIX = 'set the system clock (enable NTP): ID tokens, TOTP codes and upstream token checks depend on it';
const MAX_SKEW_MS = 5 * 60_000;

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const now = opts.now ?? (() => new Date());
  const timeoutMs = opts.timeoutMs ?? 3000;
  const org = opts.database ? await inspectDatabase(opts.database, env) : await inspectOrg(opts.home, env, platform);
  const connections = org.connections ?? [];
  const real = connections.filter((c) => !c.sandbox);
  const [probes, loopback, relay, server] = await Promise.all([
    Promise.all(real.map((c) => probeConnection(c, timeoutMs, now))),
    loopbackCheck(timeoutMs),
    org.smtpRelay ? relayCheck(org.smtpRelay) : undefined,
    serverCheck(opts.home, timeoutMs),
  ]);
  const checks = [
    ...org.checks,
    ...connections.flatMap((c) => {
      const i = real.indexOf(c);
      return i === -1 ? [org.sandboxes.get(c.name)!] : [probes[i]!.check, org.secrets.get(c.name)!];
    }),
    ...(org.connections ? [redirectUriCheck(real)] : []),
    loopback,
    ...(server ? [server] : []),
    ...(relay ? [relay] : []),
    browserCheck(env, platform),
    clockCheck(
      now(),
      probes.flatMap((p) => (p.time ? [p.time] : [])),
    ),
  ];
  return { ok: !checks.some((c) => c.status === 'failed'), checks };
}

/** The `idp serve` this data directory says is running (its serve.json), asked for /health; none when none runs. */
async function serverCheck(home: string, timeoutMs: number): Promise<Check | undefined> {
  const running = readServeRecord(home);
  if (!running) return undefined;
  const name = 'idp serve';
  if (!processAlive(running.pid))
    return warning(
      name,
      `${SERVE_RECORD} names process ${running.pid}, which is not running`,
      `start it again with \`idp serve\`, or delete ${shellQuote(join(home, SERVE_RECORD))}`,
    );
  try {
    const response = await fetch(`${running.url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json()) as { status?: string; issuer?: string };
    if (response.ok && body.status === 'ok')
      return ok(name, `answers at ${running.base} (pid ${running.pid}); issuer ${body.issuer ?? running.issuer}`);
    return failed(
      name,
      `${running.url}/health answered ${response.status}`,
      'stop it (Ctrl-C) and run `idp serve` again',
    );
  } catch (err) {
    return failed(
      name,
      `process ${running.pid} does not answer at ${running.url}: ${err instanceof Error ? err.message : String(err)}`,
      'stop it (Ctrl-C) and run `idp serve` again',
    );
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface OrgInspection {
  checks: Check[];
  /** null when the database could not be read: nothing is known about the connections */
  connections: Connection[] | null;
  /** connection name -> the check of its client secret (real connections only) */
  secrets: Map<string, Check>;
  /** connection name -> the check of its registration at the bundled provider (sandbox connections only) */
  sandboxes: Map<string, Check>;
  /** the org's SMTP relay, if one is set */
  smtpRelay?: string | null;
}

/** Everything read from the data directory. Opens the database read-only, and only when one exists: no org is ever created. */
async function inspectOrg(home: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<OrgInspection> {
  const directory = directoryCheck(home, platform);
  if (!databaseExists(home)) {
    return {
      checks: [directory, warning('organisation', `no organisation yet: ${home} holds no ${DB_FILE}`, 'idp init')],
      connections: [],
      secrets: new Map(),
      sandboxes: new Map(),
    };
  }
  const opened = openReadOnly(home);
  // Modes are read after opening: a read-only open of a WAL database leaves -wal and -shm files, with idp.db's mode.
  const checks = [directory, fileModesCheck(home, platform)];
  if (!('db' in opened)) return unread([...checks, opened]);
  try {
    return await readOrg(opened, home, env, checks);
  } finally {
    opened.close();
  }
}

/** The checks of each connection's secret and sandbox registration, after the store's own `checks`. */
async function connectionChecks(
  store: OrgStore,
  connections: Connection[],
  env: NodeJS.ProcessEnv,
  key: SealKey,
  checks: Check[],
): Promise<OrgInspection> {
  const secrets = new Map<string, Check>();
  for (const c of connections.filter((c) => !c.sandbox)) secrets.set(c.name, await secretCheck(c, store, env, key));
  const sandboxes = new Map<string, Check>();
  for (const c of connections.filter((c) => c.sandbox)) sandboxes.set(c.name, await sandboxCheck(c, store, env));
  return { checks, connections, secrets, sandboxes, smtpRelay: await store.org.smtpRelay() };
}

/**
 * The org in PostgreSQL: the server answers (its version, and the round trip of a trivial query, the latency every
 * statement pays), the schema is this idp's, the org exists, and the sealing key from the environment opens what the
 * org sealed. Opened without migrating: doctor changes nothing.
 */
async function inspectDatabase(
  database: NonNullable<DoctorOptions['database']>,
  env: NodeJS.ProcessEnv,
): Promise<OrgInspection> {
  const { openPgStore, SCHEMA_VERSION: PG_SCHEMA_VERSION } = await import('../store-pg/store.js');
  const { sealKeyFromEnv } = await import('../store-pg/seal-key.js');
  let store: Awaited<ReturnType<typeof openPgStore>>;
  try {
    store = await openPgStore(database.url, { password: database.password, migrate: false });
  } catch (err) {
    const fix = isIdpError(err) ? (renderHint(err.hint) ?? 'check the URL, the server and the role') : 'check the URL';
    return unread([failed('database', `cannot use ${database.shown}: ${(err as Error).message}`, fix)]);
  }
  try {
    const checks: Check[] = [];
    // The median of five round trips: the first may include a connection's start.
    const rounds: { version: string; roundTripMs: number }[] = [];
    for (let i = 0; i < 5; i++) rounds.push(await store.serverInfo());
    const version = rounds[0]!.version;
    const latency = rounds.map((r) => r.roundTripMs).sort((a, b) => a - b)[2]!;
    checks.push(
      latency > 20
        ? warning(
            'database',
            `${database.shown}: PostgreSQL ${version}, ${latency.toFixed(1)} ms a round trip`,
            'every sign-in makes dozens of round trips: run idp near its database',
          )
        : ok('database', `${database.shown}: PostgreSQL ${version}, ${latency.toFixed(2)} ms a round trip`),
    );
    const schema = await store.schemaVersion();
    if (schema !== PG_SCHEMA_VERSION)
      return unread([
        ...checks,
        schema < PG_SCHEMA_VERSION
          ? failed('schema', `version ${schema}, this idp needs ${PG_SCHEMA_VERSION}`, 'idp store migrate --store URL')
          : failed('schema', `version ${schema}, newer than this idp's ${PG_SCHEMA_VERSION}`, 'upgrade idp'),
      ]);
    checks.push(ok('schema', `version ${schema}`));
    const connections = await store.connections.list();
    checks.push(await organisationCheck(store, connections.length));
    const key = { present: false, name: 'IDP_SEAL_KEY' };
    try {
      key.present = sealKeyFromEnv(env) !== undefined;
      if (!key.present)
        checks.push(failed('sealing key', 'neither IDP_SEAL_KEY nor IDP_SEAL_KEY_FILE is set', SEAL_KEY_FIX));
      else if ((await store.org.signingKeys()).length > 0)
        checks.push(ok('sealing key', "set, and it opens the org's signing keys"));
    } catch (err) {
      checks.push(failed('sealing key', (err as Error).message, SEAL_KEY_FIX));
    }
    return await connectionChecks(store, connections, env, key, checks);
  } catch (err) {
    return unread([
      failed('database', `${database.shown}: ${(err as Error).message}`, 'check the server and the role'),
    ]);
  } finally {
    await store.close();
  }
}

const SEAL_KEY_FIX =
  "set IDP_SEAL_KEY (or IDP_SEAL_KEY_FILE) to the org's key, the same on every instance, kept apart from the database";

/** The database could not be read: nothing is known about the connections. */
function unread(checks: Check[]): OrgInspection {
  return { checks, connections: null, secrets: new Map(), sandboxes: new Map() };
}

function openReadOnly(home: string): Store | Check {
  try {
    return openStoreReadOnly(home);
  } catch (err) {
    return unopenableCheck(home, err);
  }
}

async function readOrg(store: Store, home: string, env: NodeJS.ProcessEnv, checks: Check[]): Promise<OrgInspection> {
  try {
    const problems = integrityProblems(store);
    if (problems.length > 0) return unread([...checks, damagedCheck(dbPath(home), problems.join('; '))]);
    const connections = await store.connections.list();
    const key = { present: existsSync(join(home, SEAL_KEY_FILE)), name: SEAL_KEY_FILE };
    checks.push(
      databaseCheck(store, home),
      schemaCheck(store),
      journalCheck(store),
      await organisationCheck(store, connections.length),
    );
    if (!key.present) checks.push(...missingKeyCheck(connections, (await store.org.publicKeys()).length));
    return await connectionChecks(store, connections, env, key, checks);
  } catch (err) {
    return unread([...checks, damagedCheck(dbPath(home), (err as Error).message)]);
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** Single-quotes a path for a copy-pasteable fix, unless it is plainly safe. */
function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

function directoryCheck(home: string, platform: NodeJS.Platform): Check {
  const name = 'data directory';
  if (!existsSync(home)) return warning(name, `${home} does not exist yet`, 'idp init');
  const stat = statSync(home);
  if (!stat.isDirectory())
    return failed(name, `${home} is not a directory`, 'point --home (or IDP_HOME) at a directory');
  if (platform === 'win32') return ok(name, home);
  const mode = stat.mode & 0o777;
  // idp closes a directory that holds only its files itself (store/db.ts prepareHome); one shared with others is the user's call.
  if ((mode & 0o077) !== 0)
    return warning(
      name,
      `${home} is ${octal(mode)}: group or others can list it (idp closes it itself only when it holds nothing but idp's files)`,
      `chmod 700 ${shellQuote(home)}`,
    );
  return ok(name, `${home} (${octal(mode)})`);
}

/** idp.db, its WAL files and secret.key must be 0600: group or others must not read them, the owner must write them. */
function fileModesCheck(home: string, platform: NodeJS.Platform): Check {
  const name = 'file modes';
  if (platform === 'win32') return ok(name, 'not checked on Windows (NTFS permissions)');
  const files = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, SEAL_KEY_FILE]
    .map((f) => join(home, f))
    .filter((p) => existsSync(p));
  const modes = files.map((path) => ({ path, mode: statSync(path).mode & 0o777 }));
  const wrong = modes.filter(({ mode }) => (mode & 0o077) !== 0 || (mode & 0o600) !== 0o600);
  if (wrong.length === 0) return ok(name, modes.map(({ path, mode }) => `${basename(path)} ${octal(mode)}`).join(', '));
  const why = (mode: number): string =>
    (mode & 0o077) !== 0 ? 'group or others have access' : 'its owner cannot read and write it';
  return failed(
    name,
    wrong.map(({ path, mode }) => `${basename(path)} is ${octal(mode)} (${why(mode)}), expected 0600`).join('; '),
    `chmod 600 ${wrong.map(({ path }) => shellQuote(path)).join(' ')}`,
  );
}

/** The store refuses files that are not idp's or are from a newer idp; doctor reports that rather than crashing. */
function unopenableCheck(home: string, err: unknown): Check {
  const path = dbPath(home);
  if (isIdpError(err) && err.code === 'DB_NEWER')
    return failed('database', err.message, renderHint(err.hint) ?? 'upgrade idp');
  if (isIdpError(err) && (err.cause as { code?: unknown } | undefined)?.code === 'SQLITE_CORRUPT')
    return damagedCheck(path, (err.cause as Error).message);
  if (isIdpError(err) && err.code === 'DB_NOT_IDP') {
    return failed(
      'database',
      err.message,
      `move it aside (mv ${shellQuote(path)} ${shellQuote(`${path}.bak`)}) and run \`idp init\`, or point --home at an idp data directory`,
    );
  }
  const cause = isIdpError(err) && err.cause instanceof Error ? err.cause.message : (err as Error).message;
  return failed(
    'database',
    `cannot open ${path}: ${cause}`,
    `check its owner and mode (chmod 600 ${shellQuote(path)}), or start again with \`idp init --force\``,
  );
}

function damagedCheck(path: string, problems: string): Check {
  return failed(
    'database',
    `${path} is damaged: ${problems}`,
    'restore it from a backup, or start again with `idp init --force` (deletes everything in it)',
  );
}

function integrityProblems(store: Store): string[] {
  try {
    const rows = store.db.pragma('integrity_check(10)') as Record<string, string>[];
    return rows.map((row) => Object.values(row)[0] ?? '').filter((line) => line !== 'ok');
  } catch (err) {
    return [(err as Error).message];
  }
}

function databaseCheck(store: Store, home: string): Check {
  const appId = store.db.pragma('application_id', { simple: true }) as number;
  const identity =
    appId === APPLICATION_ID
      ? `application_id 0x${APPLICATION_ID.toString(16)} (idp)`
      : 'blank (no application_id yet)';
  return ok('database', `${dbPath(home)}: integrity ok, ${identity}`);
}

function schemaCheck(store: Store): Check {
  const version = store.db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return ok('schema', `version ${version}`);
  return warning(
    'schema',
    `version ${version}; this idp migrates it to ${SCHEMA_VERSION} the next time a command opens it`,
    'run any idp command that uses the organisation, e.g. `idp users list`',
  );
}

function journalCheck(store: Store): Check {
  const mode = String(store.db.pragma('journal_mode', { simple: true }));
  if (mode === 'wal') return ok('journal mode', 'WAL');
  return warning(
    'journal mode',
    `${mode}, expected WAL (concurrent idp processes queue instead of failing)`,
    'run any idp command that uses the organisation, e.g. `idp users list`: it switches the file to WAL',
  );
}

async function organisationCheck(store: OrgStore, connections: number): Promise<Check> {
  const orgId = await store.org.setting('org_id');
  if (!orgId) return warning('organisation', 'no organisation yet: the database holds no org', 'idp init --force');
  return ok(
    'organisation',
    `org ${orgId}: ${(await store.apps.list()).length} app(s), ${connections} connection(s), ${await store.users.count()} user(s)`,
  );
}

/** The signing key and connection secrets are sealed with secret.key: without it they are lost (and nothing may create a new key here). */
function missingKeyCheck(connections: Connection[], signingKeys: number): Check[] {
  const sealed = connections.filter((c) => c.secret.kind === 'stored').map((c) => c.name);
  if (signingKeys > 0) {
    const also = sealed.length ? ` and the stored client secrets of ${sealed.join(', ')}` : '';
    return [
      failed(
        'secret key',
        `${SEAL_KEY_FILE} is missing: the org's signing key${also} cannot be decrypted, so no ID token can be signed`,
        `restore ${SEAL_KEY_FILE} from the backup made with the database, or start again with \`idp init --force\``,
      ),
    ];
  }
  if (sealed.length === 0) return [];
  return [
    failed(
      'secret key',
      `${SEAL_KEY_FILE} is missing: the stored client secrets of ${sealed.join(', ')} cannot be decrypted`,
      `restore ${SEAL_KEY_FILE} from a backup, or set each secret again: idp connection set ${sealed[0]} --client-secret-stdin`,
    ),
  ];
}

/** Where the client secret comes from; never its value. */
async function secretCheck(c: Connection, store: OrgStore, env: NodeJS.ProcessEnv, key: SealKey): Promise<Check> {
  const name = `client secret ${c.name}`;
  const source = c.secret;
  if (source.kind === 'env') {
    if (env[source.variable]) return ok(name, `read from $${source.variable} (set)`);
    return warning(
      name,
      `read from $${source.variable}, which is not set in this shell`,
      `export ${source.variable}=... before \`idp login\``,
    );
  }
  if (source.kind === 'stored') {
    if (!key.present)
      return failed(
        name,
        `stored encrypted, but ${key.name} is missing`,
        `idp connection set ${c.name} --client-secret-stdin`,
      );
    try {
      await store.connections.storedSecret(c.name);
    } catch (err) {
      return failed(
        name,
        `stored encrypted, but it cannot be decrypted with ${key.name} (${(err as Error).message})`,
        `idp connection set ${c.name} --client-secret-stdin`,
      );
    }
    return ok(name, `stored encrypted${source.last4 ? ` (****${source.last4})` : ''}`);
  }
  if (c.type === 'oidc' || c.tokenAuth === 'none') return ok(name, 'none: a public client (PKCE only)');
  return failed(name, `none, and ${providerName(c)} needs one`, `idp connection set ${c.name} --client-secret-env VAR`);
}

/**
 * A sandbox connection signs in only if the bundled provider registers the credentials it presents: the client id it
 * is configured with and the secret from wherever it reads it (the store, or an environment variable). Registration
 * and login read them alike (sandboxClient), so a secret that cannot be read here fails both.
 */
async function sandboxCheck(c: Connection, store: OrgStore, env: NodeJS.ProcessEnv): Promise<Check> {
  const name = `connection ${c.name}`;
  let registered: Awaited<ReturnType<typeof sandboxClient>>;
  try {
    registered = await sandboxClient(store, env, c);
  } catch (err) {
    const fix =
      c.secret.kind === 'env'
        ? `export ${c.secret.variable}=... before \`idp login\``
        : `idp connection set ${c.name} --client-secret-env VAR`;
    return failed(
      name,
      `bundled sandbox provider: it cannot register ${c.name}, whose secret is unusable (${(err as Error).message}): logins fail`,
      fix,
    );
  }
  const method = registered.tokenEndpointAuthMethod;
  const secret =
    method === 'none'
      ? 'no secret (a public client)'
      : c.secret.kind === 'env'
        ? `$${c.secret.variable}`
        : 'the stored secret';
  return ok(name, `bundled sandbox provider: registers client ${registered.clientId} with ${secret} (${method})`);
}

interface Probe {
  check: Check;
  time: UpstreamTime | null;
}

/** The URL the connector would fetch first: GitHub's authorize endpoint, or the issuer's discovery document. */
function probeUrl(c: Connection): URL {
  if (c.type === 'github') return parseEndpoint(githubEndpoints(c.baseUrl).authorizeUrl, 'GitHub authorize URL');
  const issuer = parseEndpoint(issuerOf(c), `${c.name} issuer`);
  if (issuer.pathname.includes('/.well-known/'))
    throw new Error(`issuer ${issuer.href} is a discovery document URL; give the issuer itself`);
  return discoveryUrl(issuer);
}

function issuerOf(c: Connection): string {
  if (c.type === 'google') return REAL_ENDPOINTS.google.issuer;
  if (!c.issuer) throw new Error('it has no issuer');
  return c.issuer;
}

function unreachableFix(c: Connection): string {
  if (c.type === 'oidc')
    return `check that the provider is running and the issuer is right (idp connection set ${c.name} --issuer URL)`;
  if (c.baseUrl)
    return `check that the GitHub Enterprise Server is up and the base URL is right (idp connection set ${c.name} --base-url URL)`;
  return `check the network (proxy, firewall, DNS): idp login needs ${c.type === 'github' ? 'github.com' : 'accounts.google.com'}`;
}

async function probeConnection(c: Connection, timeoutMs: number, now: () => Date): Promise<Probe> {
  const name = `connection ${c.name}`;
  let url: URL;
  try {
    url = probeUrl(c);
  } catch (err) {
    return { check: failed(name, (err as Error).message, `idp connection set ${c.name} --issuer URL`), time: null };
  }
  let res: Response;
  try {
    res = await upstreamFetch(providerName(c))(url.href, {
      redirect: 'manual',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { check: warning(name, (err as Error).message, unreachableFix(c)), time: null };
  }
  const serverDate = Date.parse(res.headers.get('date') ?? '');
  const time = Number.isNaN(serverDate) ? null : { origin: url.origin, skewMs: now().getTime() - serverDate };
  const where = `${url.origin}${url.pathname}`;
  if (c.type === 'github') {
    await res.body?.cancel().catch(() => undefined);
    return {
      check:
        res.status < 500
          ? ok(name, `${where} answers (HTTP ${res.status})`)
          : warning(name, `${where} answered HTTP ${res.status}`, 'GitHub may be having trouble; try again later'),
      time,
    };
  }
  return { check: await discoveryCheck(c, name, where, res), time };
}

/** The discovery document checked by the very function a login uses, so a failure here is a login that would fail. */
async function discoveryCheck(c: Connection, name: string, where: string, res: Response): Promise<Check> {
  const fix = unreachableFix(c);
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    return warning(name, `${where} answered HTTP ${res.status}, not the discovery document`, fix);
  }
  let doc: unknown;
  try {
    doc = await res.json();
  } catch (err) {
    return warning(name, `${where} did not answer with a JSON discovery document (${(err as Error).message})`, fix);
  }
  const expected = issuerOf(c);
  try {
    checkDiscoveryDocument(providerName(c), doc, expected, where);
  } catch (err) {
    if (!isIdpError(err)) throw err;
    const named = (doc as { issuer?: unknown }).issuer;
    if (err.code === 'ISSUER_MISMATCH' && typeof named === 'string') {
      const mismatchFix =
        c.type === 'oidc'
          ? `idp connection set ${c.name} --issuer ${named}`
          : 'something between you and Google (a proxy?) answers for it; check the network';
      return failed(
        name,
        `${where} names the issuer ${named}, not ${expected}: logins would fail the issuer check`,
        mismatchFix,
      );
    }
    return failed(name, `${err.message}: logins would fail before the browser opens`, renderHint(err.hint) ?? fix);
  }
  return ok(name, `${where} answers; issuer ${String((doc as { issuer: unknown }).issuer)} matches`);
}

/** What to register at each real provider. The loopback port changes per login; these providers ignore it (RFC 8252 §7.3). */
function redirectUriCheck(real: Connection[]): Check {
  const name = 'redirect URI';
  if (real.length === 0) return ok(name, 'no real connection: the bundled sandbox providers need nothing registered');
  const lines = real.map((c) => {
    if (c.type === 'github')
      return `${c.name}: register http://127.0.0.1/callback as the GitHub OAuth app's callback URL (GitHub accepts any port on loopback)`;
    if (c.type === 'google')
      return `${c.name}: use a Google "Desktop app" OAuth client; it accepts http://127.0.0.1:<any port>/callback`;
    return `${c.name}: register http://127.0.0.1/callback at ${providerName(c)} (the port changes per login, so the provider must accept any port on loopback)`;
  });
  return ok(name, lines.join('\n'));
}

/** Starts the real callback server, checks that it answers on 127.0.0.1 and on no other address, then closes it. */
async function loopbackCheck(timeoutMs: number): Promise<Check> {
  const name = 'loopback';
  let server: LoopbackServer;
  try {
    server = await startLoopback();
  } catch (err) {
    return failed(
      name,
      `cannot listen on 127.0.0.1: ${(err as Error).message}`,
      'allow idp to listen on 127.0.0.1 (a firewall or sandbox refuses it): logins receive their callback there',
    );
  }
  try {
    const { hostname, port } = new URL(server.redirectUri);
    if (hostname !== '127.0.0.1')
      return failed(
        name,
        `the callback server bound ${hostname}, not 127.0.0.1`,
        'report this: idp must bind 127.0.0.1 only',
      );
    try {
      const res = await fetch(`http://127.0.0.1:${port}/doctor`, { signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
    } catch (err) {
      return failed(
        name,
        `the callback server on 127.0.0.1:${port} does not answer (${(err as Error).message})`,
        'check for a local firewall rule on 127.0.0.1',
      );
    }
    const others = otherAddresses();
    const accepted = await Promise.all(others.map((host) => accepts(host, Number(port))));
    const exposed = others.filter((_, i) => accepted[i]);
    if (exposed.length > 0)
      return failed(
        name,
        `the callback port ${port} also answers on ${exposed.join(', ')}`,
        'report this: idp must bind 127.0.0.1 only',
      );
    const elsewhere = others.length > 0 ? `, refused on ${others.join(', ')}` : '';
    return ok(name, `bound 127.0.0.1:${port} (a port chosen by the system), answered there${elsewhere}; closed`);
  } finally {
    await server.close();
  }
}

/** This machine's non-loopback IPv4 addresses (a few), on which the callback port must not answer. */
function otherAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address)
    .slice(0, 4);
}

/** The SMTP relay (`idp org set --smtp`) accepts connections; if not, emailed codes are only in the outbox. */
async function relayCheck(relay: string): Promise<Check> {
  const { host, port } = relayAddress(relay);
  if (await accepts(host, port)) return ok('SMTP relay', `${relay} accepts connections`);
  return warning(
    'SMTP relay',
    `${relay} refuses connections: emailed codes reach only \`idp outbox\``,
    'start the mail catcher, or `idp org set --smtp none`',
  );
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        const path = join(dir, command);
        accessSync(path, constants.X_OK);
        return statSync(path).isFile();
      } catch {
        return false;
      }
    });
}

/** Whether `idp login` could open a browser; nothing is opened. */
export function browserCheck(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Check {
  const name = 'browser';
  if (platform === 'win32') return ok(name, 'Windows opens the default browser');
  if (platform === 'darwin')
    return onPath('open', env) ? ok(name, 'macOS `open`') : warning(name, '`open` is not on PATH', BROWSER_FIX);
  if (env.BROWSER) return ok(name, `$BROWSER is set (${env.BROWSER})`);
  const opener = ['xdg-open', 'sensible-browser', 'x-www-browser'].find((command) => onPath(command, env));
  if (!opener)
    return warning(
      name,
      '$BROWSER is unset and none of xdg-open, sensible-browser, x-www-browser is on PATH',
      BROWSER_FIX,
    );
  const display = env.DISPLAY
    ? `DISPLAY=${env.DISPLAY}`
    : env.WAYLAND_DISPLAY
      ? `WAYLAND_DISPLAY=${env.WAYLAND_DISPLAY}`
      : null;
  if (!display)
    return warning(
      name,
      `${opener} is on PATH, but there is no display ($DISPLAY and $WAYLAND_DISPLAY are unset)`,
      BROWSER_FIX,
    );
  return ok(name, `${opener} with ${display}`);
}

/** The year must be plausible, and within 5 minutes of every upstream that answered with a Date header. */
export function clockCheck(now: Date, upstreams: UpstreamTime[]): Check {
  const name = 'clock';
  const utc = now.toISOString().replace(/\.\d+Z$/, 'Z');
  if (now.getUTCFullYear() < 2024) return warning(name, `the system clock says ${utc}, before 2024`, CLOCK_FIX);
  const off = upstreams.find((u) => Math.abs(u.skewMs) > MAX_SKEW_MS);
  if (off) {
    const minutes = Math.round(Math.abs(off.skewMs) / 60_000);
    return warning(
      name,
      `the system clock (${utc}) is ${minutes} min ${off.skewMs > 0 ? 'ahead of' : 'behind'} ${off.origin}`,
      CLOCK_FIX,
    );
  }
  const origins = [...new Set(upstreams.map((u) => u.origin))];
  return ok(name, origins.length ? `${utc}, within 5 min of ${origins.join(', ')}` : `${utc} (UTC)`);
}
