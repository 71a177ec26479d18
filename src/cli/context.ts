// What every command action gets: global options, the renderer, the organisation store (opened, and seeded with
// the demo org on first use, only when the action asks for it), confirmation and secret input that respect "no TTY,
// no prompt". Also the composition root: the functions at the end wire the adapters into the ports the engine and
// the use cases take (each adapter loaded only when used).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Admin } from '../app/deps.js';
import { IdpError } from '../core/errors.js';
import { ID_TOKEN_ALGS, type IdTokenAlg } from '../core/types.js';
import type { FlowEngine } from '../flow/engine.js';
import type { StageListener } from '../flow/types.js';
import type { PasskeyVerifier, ScriptRunner, Store, TotpEnroller, Upstreams } from '../ports.js';
import type { StoreTables } from '../ports/store-tables.js';
import { isDatabaseUrl } from '../core/urls.js';
import { prepareHome } from '../store/db.js';
import { openStore, SEAL_KEY_FILE, type SqliteStore } from '../store/store.js';
import type { PgStore } from '../store-pg/store.js';
import { failCommand } from './failure.js';
import { inert, Renderer } from './render.js';

export interface GlobalOptions {
  home?: string;
  /** A postgres:// URL (or a data directory): where the org lives, instead of --home. */
  store?: string;
  storePasswordStdin?: boolean;
  json?: boolean;
  color?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

/** --home, else $IDP_HOME, else $XDG_DATA_HOME/idp, else ~/.local/share/idp. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.IDP_HOME) return resolve(env.IDP_HOME);
  if (env.XDG_DATA_HOME) return join(resolve(env.XDG_DATA_HOME), 'idp');
  return join(homedir(), '.local', 'share', 'idp');
}

/**
 * Where the org lives: --store, else --home, else $IDP_STORE, else the data directory (resolveHome). A postgres:// URL
 * puts it in that database; anything else names a data directory.
 */
export function resolveStore(global: GlobalOptions, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  const named = global.store ?? (global.home === undefined ? env.IDP_STORE || undefined : undefined);
  return storeLocation(named ?? resolveHome(global.home, env));
}

/** An opened org store of either engine, and how to let go of it. */
export type OpenedStore = (SqliteStore | PgStore) & { close(): void | Promise<void> };

export class CliContext {
  /** The data directory: the SQLite org's, and where `idp serve` keeps its process records whatever the engine. */
  readonly home: string;
  readonly location: StoreLocation;
  private opened: OpenedStore | undefined;
  private password: Promise<string> | undefined;

  constructor(
    readonly global: GlobalOptions,
    readonly out: Renderer,
  ) {
    this.location = resolveStore(global);
    this.home = this.location.engine === 'sqlite' ? this.location.value : resolveHome(global.home);
  }

  /** The context for one command run: its renderer loads the colour styles only when a stream gets colour. */
  static async open(global: GlobalOptions): Promise<CliContext> {
    const out = await Renderer.forProcess({
      json: !!global.json,
      quiet: !!global.quiet,
      color: global.color !== false,
      debug: !!global.debug,
    });
    return new CliContext(global, out);
  }

  get interactive(): boolean {
    return !!process.stdin.isTTY && !!process.stderr.isTTY;
  }

  get actor(): string {
    try {
      return process.env.USER || userInfo().username;
    } catch {
      return 'unknown';
    }
  }

  /**
   * The organisation store; the first use of a new data directory creates the demo org. "New" is decided inside the
   * database (no org yet), so idp processes started at once on an empty directory create it once and all see it.
   */
  async store(): Promise<OpenedStore> {
    if (this.opened) return this.opened;
    this.opened = await this.openOrg();
    if ((await this.opened.org.setting('org_id')) === undefined) {
      if (await createOrganisation(this.opened, { demo: true, actor: this.actor })) {
        // Printed even with --quiet: a mistyped --home or --store must not pass for the org that was meant.
        this.out.essential(
          `created a new demo organisation at ${this.location.shown} (app thrift, connections github and google, user alice): there was none; if you meant another, check ${this.location.engine === 'sqlite' ? '--home or IDP_HOME' : '--store or IDP_STORE'}`,
        );
      }
    } else {
      await addMissingSigningKeys(this.opened);
    }
    return this.opened;
  }

  /** The store at this context's location, brought up to this idp's schema; a new data directory is made (0700). */
  async openOrg(opts: { migrate?: boolean } = {}): Promise<OpenedStore> {
    if (this.location.engine === 'sqlite') {
      prepareHome(this.home);
      return openStore(this.home);
    }
    const [{ openPgStore }, { sealKeyFromEnv }] = await Promise.all([
      import('../store-pg/store.js'),
      import('../store-pg/seal-key.js'),
    ]);
    // A malformed key (or a key file open to others) is refused by every command, not only by the first that seals;
    // a missing one only where a secret is sealed or opened.
    sealKeyFromEnv();
    return openPgStore(this.location.value, { password: await this.storePassword(), migrate: opts.migrate });
  }

  /** The database role's password from stdin (--store-password-stdin), read once; else PGPASSWORD or ~/.pgpass. */
  storePassword(): Promise<string | undefined> {
    if (!this.global.storePasswordStdin) return Promise.resolve(undefined);
    this.password ??= readStdin();
    return this.password;
  }

  /** What an organisation-admin use case runs with, acting as `actor` (default: the OS user). */
  async admin(actor = this.actor): Promise<Admin> {
    return adminOf(await this.store(), actor);
  }

  async createOrg(opts: { demo: boolean; name?: string }): Promise<boolean> {
    const store = await this.openOrg();
    try {
      return await createOrganisation(store, { ...opts, actor: this.actor });
    } finally {
      await store.close();
    }
  }

  /** Asks on a TTY; without one, --yes is the only way through. Answering no ends the command: exit 0, nothing deleted. */
  async confirm(question: string, yes: boolean | undefined, what: string): Promise<void> {
    if (yes) return;
    if (!this.interactive)
      throw new IdpError('NO_TTY', `refusing to ${what} without confirmation`, 'pass --yes to confirm');
    const { confirm } = await import('@inquirer/prompts');
    // The question may quote upstream values (an email): escaped like every untrusted text a terminal gets.
    const ok = await confirm({ message: inert(question), default: false }, { output: process.stderr });
    if (!ok) throw new Declined();
  }

  /** A secret from stdin or a hidden prompt; never from argv. */
  async secret(opts: { stdin?: boolean; prompt: string; flags: string }): Promise<string> {
    if (opts.stdin) return readStdin();
    if (!this.interactive)
      throw new IdpError('NO_TTY', `${opts.prompt} is needed and there is no terminal to ask on`, `pass ${opts.flags}`);
    const { password } = await import('@inquirer/prompts');
    return password({ message: opts.prompt, mask: true }, { output: process.stderr });
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    await opened?.close();
  }
}

/** The use cases' ports, wired to their adapters; each adapter loads only when a use case calls it. */
export function adminOf(store: Store, actor: string): Admin {
  return { store, actor, scripts, totp, passkeys };
}

const scripts: ScriptRunner = {
  replay: async (request) => (await import('../script/runner.js')).scriptRunner.replay(request),
  compile: async (source) => (await import('../script/runner.js')).scriptRunner.compile(source),
};

const totp: TotpEnroller = {
  async enrolment({ account, issuer }) {
    const { newTotpSecret, otpauthUri } = await import('../mfa/totp.js');
    const secret = newTotpSecret();
    return { secret, uri: otpauthUri({ secret, account, issuer }) };
  },
};

/** The webauthn adapter loads with the first passkey step or use case, and @simplewebauthn/server with it. */
const passkeys: PasskeyVerifier = {
  authenticationOptions: async (opts) =>
    (await import('../webauthn/verifier.js')).passkeyVerifier.authenticationOptions(opts),
  registrationOptions: async (opts) =>
    (await import('../webauthn/verifier.js')).passkeyVerifier.registrationOptions(opts),
  verifyAuthentication: async (response, expected) =>
    (await import('../webauthn/verifier.js')).passkeyVerifier.verifyAuthentication(response, expected),
  verifyRegistration: async (response, expected) =>
    (await import('../webauthn/verifier.js')).passkeyVerifier.verifyRegistration(response, expected),
};

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The person answered no to a confirmation: not a failure; `action` ends the command there. */
class Declined extends Error {}

/** Wraps a command action: builds the context, renders any failure as one error + hint, sets the exit code. */
export function action<A extends unknown[]>(handler: (ctx: CliContext, ...args: A) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const ctx = await CliContext.open(command.optsWithGlobals() as GlobalOptions);
    try {
      await handler(ctx, ...(args.slice(0, -1) as A));
    } catch (err) {
      if (err instanceof Declined) ctx.out.result({ confirmed: false, deleted: false }, () => 'nothing deleted');
      else failCommand(ctx.out, err);
    } finally {
      await ctx.close();
    }
  };
}

/**
 * Creates the organisation in `store` (store/seed.ts) with signing keys made by src/tokens, one per ID token
 * algorithm, and a name checked by the org rule (default: DEFAULT_ORG_NAME).
 */
export async function createOrganisation(
  store: Store,
  opts: { demo: boolean; actor: string; name?: string },
): Promise<boolean> {
  const [{ seedOrg }, { generateSigningKey }, { checkOrgName }, { DEFAULT_ORG_NAME }] = await Promise.all([
    import('../store/seed.js'),
    import('../tokens/keys.js'),
    import('../app/org.js'),
    import('../core/names.js'),
  ]);
  const name = checkOrgName(opts.name ?? DEFAULT_ORG_NAME);
  return seedOrg(store, { ...opts, name, signingKeys: ID_TOKEN_ALGS.map(generateSigningKey) });
}

/**
 * Gives an org the signing keys it lacks: one created before RS256 keys existed (schema 7) gets its RSA key on its
 * first open by a newer idp. Made here because the store holds no token code; added only if still missing under the
 * write lock, so two first opens at once add one key.
 */
export async function addMissingSigningKeys(store: OpenedStore): Promise<void> {
  // Without its seal key the org cannot sign anyway, and sealing a new key would write a fresh secret.key where the
  // lost one belongs: leave the directory as it is, for the person to restore the key. (On PostgreSQL the key comes
  // from IDP_SEAL_KEY and is never written.)
  if ('home' in store && !existsSync(join(store.home, SEAL_KEY_FILE))) return;
  const algs = async (on: Store): Promise<Set<IdTokenAlg>> => new Set((await on.org.publicKeys()).map((k) => k.alg));
  const present = await algs(store);
  const missing = ID_TOKEN_ALGS.filter((alg) => !present.has(alg));
  if (missing.length === 0) return;
  const { generateSigningKey } = await import('../tokens/keys.js');
  const keys = missing.map(generateSigningKey);
  await store.tx(async (tx) => {
    const now = await algs(tx);
    for (const key of keys) if (!now.has(key.alg)) await tx.org.addSigningKey(key);
  });
}

/** Upstream connectors for the org's connections, sandbox ones served in-process (personas merged from `personasFile`). */
export async function upstreamsFor(
  store: Store,
  opts: { personasFile?: string; env?: NodeJS.ProcessEnv; callbackUrls?: string[] } = {},
): Promise<Upstreams> {
  const { createUpstreams } = await import('../federation/upstreams.js');
  return createUpstreams({
    store,
    env: opts.env,
    startSandbox: async (provider, clients) => {
      const [{ startSandbox, DEFAULT_SANDBOX_REDIRECT_URI }, { loadPersonas }] = await Promise.all([
        import('../sandbox/server.js'),
        import('../sandbox/personas.js'),
      ]);
      // `idp serve` takes upstream callbacks on its own route, besides the loopback server's.
      const registered = opts.callbackUrls
        ? clients.map((c) => ({ ...c, redirectUris: [DEFAULT_SANDBOX_REDIRECT_URI, ...(opts.callbackUrls ?? [])] }))
        : clients;
      return startSandbox({ providers: [provider], clients: registered, personas: loadPersonas(opts.personasFile) });
    },
  });
}

/** The login engine on its adapters, with the org's SMTP relay for emailed codes when one is set. */
export async function loginEngine(deps: {
  store: Store;
  upstreams: Upstreams;
  onEvent?: StageListener;
  /** False for `idp serve`, whose provider issues the app's tokens itself. */
  signIdTokens?: boolean;
}): Promise<FlowEngine> {
  const [{ FlowEngine }, { tokenSigner }, { totp }, { emailOtps }, { newFlowId }] = await Promise.all([
    import('../flow/engine.js'),
    import('../tokens/signer.js'),
    import('../mfa/totp.js'),
    import('../mfa/email-otp.js'),
    import('../core/ids.js'),
  ]);
  const relay = await deps.store.org.smtpRelay();
  const mailer = relay === null ? undefined : (await import('../mfa/smtp-relay.js')).smtpRelay(relay);
  return new FlowEngine({
    ...deps,
    signer: tokenSigner,
    totp,
    emailOtps,
    // Loaded when an app's script first runs: most apps have none.
    scripts,
    passkeys,
    random: { flowId: newFlowId },
    mailer,
  });
}

/** A store as `idp store` names it: a data directory, or a database URL (shown without its password). */
export interface StoreLocation {
  value: string;
  shown: string;
  engine: 'sqlite' | 'postgres';
}

export function storeLocation(value: string): StoreLocation {
  if (!isDatabaseUrl(value)) {
    const home = resolve(value);
    return { value: home, shown: home, engine: 'sqlite' };
  }
  let shown = value;
  try {
    const url = new URL(value);
    if (url.password) url.password = '****';
    shown = url.href;
  } catch {
    shown = value.replace(/:[^:@/]*@/, ':****@');
  }
  return { value, shown, engine: 'postgres' };
}

/**
 * The table-level port on a store, for `idp store copy` and `verify`. `read`: an existing store, neither written nor
 * migrated. `probe`: a destination as it stands, where one not made yet reads as a blank store of this idp's schema
 * (nothing is created). `write`: the destination a copy loads, made (directory 0700, key file 0600, schema) if new.
 */
export async function openTables(
  location: StoreLocation,
  mode: 'read' | 'probe' | 'write',
  password?: string,
): Promise<StoreTables & { close(): void | Promise<void> }> {
  if (location.engine === 'postgres') {
    // A probe writes nothing, even to a blank database (a dry run's promise): its tables are rehearsed and rolled back.
    const { openPgStore, probePgStore } = await import('../store-pg/store.js');
    if (mode === 'probe') return probePgStore(location.value, { password });
    return openPgStore(location.value, { password, migrate: mode === 'write' });
  }
  const [{ SqliteTables }, db] = await Promise.all([import('../store/tables.js'), import('../store/db.js')]);
  const home = location.value;
  if (mode === 'probe' && !db.databaseExists(home)) return new SqliteTables(db.blankDb(), null);
  if (mode === 'write') prepareHome(home);
  return new SqliteTables(db.openDb(home, { readonly: mode !== 'write' }), home);
}

/**
 * Brings a store up to this idp's schema, or with `dryRun` says what that would do. SQLite stores also migrate
 * whenever idp opens them for writing; this makes the step explicit and reports it.
 */
export async function migrateStore(
  location: StoreLocation,
  dryRun: boolean,
  password?: string,
): Promise<{ from: number; to: number }> {
  if (location.engine === 'postgres') {
    const { openPgStore, SCHEMA_VERSION } = await import('../store-pg/store.js');
    const store = await openPgStore(location.value, { password, migrate: false });
    try {
      return dryRun ? { from: await store.schemaVersion(), to: SCHEMA_VERSION } : await store.migrate();
    } finally {
      await store.close();
    }
  }
  const [{ databaseExists, openDb }, { SCHEMA_VERSION }] = await Promise.all([
    import('../store/db.js'),
    import('../store/migrations.js'),
  ]);
  if (!databaseExists(location.value))
    throw new IdpError('DB_MISSING', `there is no organisation at ${location.shown}`, 'create one with: idp init');
  const inspected = openDb(location.value, { readonly: true });
  const from = inspected.pragma('user_version', { simple: true }) as number;
  inspected.close();
  if (!dryRun && from < SCHEMA_VERSION) openDb(location.value).close();
  return { from, to: SCHEMA_VERSION };
}
