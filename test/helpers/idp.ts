// Test plumbing for the e2e suite: spawning the real CLI (`node bin/idp.js`) against temporary data directories,
// a seeded template org copied per test (seeding hashes passwords with scrypt, so it is done once per file), and snapshots.
// Under IDP_TEST_STORE=postgres a seeded "home" stands for a database of its own on the test server (a copy of a seeded
// template database), which every command and server run for that home is pointed at.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ON_POSTGRES, pgDatabaseFor } from './pg.js';

/** The repository root: compiled helpers live in dist/test/helpers. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const IDP_BIN = join(ROOT, 'bin', 'idp.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** IDP_HOME for the child; omit to leave the home to `env` or `--home`. */
  home?: string;
  /** written to stdin, which is then closed (stdin is always a pipe, never a TTY) */
  input?: string;
  /** extra environment; `undefined` removes a variable */
  env?: Record<string, string | undefined>;
}

/** Variables of the test runner's own environment that would change where or how idp runs. */
const SCRUBBED = ['IDP_HOME', 'XDG_DATA_HOME', 'NO_COLOR', 'FORCE_COLOR', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT'];

/** The store each PostgreSQL-backed home stands for (IDP_TEST_STORE=postgres), with the sealing key of its rows. */
const pgStores = new Map<string, { url: string; sealKey: string }>();

/** Points every command and server run for `home` at the PostgreSQL store `url`, sealed with `sealKey` (base64url). */
export function pointHomeAt(home: string, url: string, sealKey: string): void {
  pgStores.set(home, { url, sealKey });
}

export function childEnv(opts: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED) delete env[name];
  if (opts.home !== undefined) env.IDP_HOME = opts.home;
  const pgStore = opts.home === undefined ? undefined : pgStores.get(opts.home);
  if (pgStore) {
    env.IDP_STORE = pgStore.url;
    env.IDP_SEAL_KEY = pgStore.sealKey;
  }
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function runIdp(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [IDP_BIN, ...args], { env: childEnv(opts), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // the command may exit before reading its input
    child.stdin.end(opts.input ?? '');
    child.on('close', (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** Asserts the exit code, showing the output when it differs. */
export function expectCode(r: RunResult, code: number, what = 'idp'): RunResult {
  assert.equal(r.code, code, `${what}: exit ${r.code}, expected ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Runs a command that must succeed and returns its stdout parsed as JSON (pass --json yourself where needed). */
export async function idpJson<T = any>(args: string[], opts: RunOptions = {}): Promise<T> {
  const r = expectCode(await runIdp(args, opts), 0, `idp ${args.join(' ')}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`idp ${args.join(' ')}: stdout is not JSON:\n${r.stdout}`);
  }
}

/** Runs a command that must succeed. */
export async function idpOk(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return expectCode(await runIdp(args, opts), 0, `idp ${args.join(' ')}`);
}

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory, removed when the test process exits. */
export function tempDir(label = 'home'): string {
  const dir = mkdtempSync(join(tmpdir(), `idp-test-${label}-`));
  made.push(dir);
  return dir;
}

let template: Promise<string> | undefined;
let pgTemplate: Promise<string> | undefined;
const pgSealKey = randomBytes(32).toString('base64url');

/**
 * A fresh data directory holding the demo org: a copy of one seeded once per test process. Under
 * IDP_TEST_STORE=postgres the directory stays empty and stands for a new database copied from a seeded template.
 */
export async function seededHome(): Promise<string> {
  if (ON_POSTGRES) {
    pgTemplate ??= (async () => {
      const url = await pgDatabaseFor('template');
      await idpOk(['--store', url, 'init', '--quiet'], { env: { IDP_SEAL_KEY: pgSealKey } });
      return url;
    })();
    const home = join(tempDir(), 'org');
    pointHomeAt(home, await pgDatabaseFor('org', await pgTemplate), pgSealKey);
    return home;
  }
  template ??= (async () => {
    const dir = join(tempDir('template'), 'org');
    await idpOk(['init', '--quiet'], { home: dir });
    return dir;
  })();
  const source = await template;
  const home = join(tempDir(), 'org');
  cpSync(source, home, { recursive: true });
  return home;
}

/** Everything a user can read back from an org, for "nothing changed" comparisons. */
export async function snapshot(home: string): Promise<string> {
  const parts = await Promise.all(
    [
      ['app', 'list', '--json'],
      ['connection', 'list', '--json'],
      ['users', 'export', '--with-password-hashes'],
      ['events', '--json', '--limit', '10000'],
    ].map((args) => idpOk(args, { home })),
  );
  return parts.map((r) => r.stdout).join('\n');
}

/** The org's database as it is on disk, with its write-ahead log: equal hashes mean not one byte changed. */
export function dbHash(home: string): string {
  const hash = createHash('sha256');
  for (const file of ['idp.db', 'idp.db-wal']) {
    const path = join(home, file);
    hash.update(file).update(existsSync(path) ? readFileSync(path) : '');
  }
  return hash.digest('hex');
}

/** A file `name` holding `text`, in a fresh temporary directory. */
export function fileWith(name: string, text: string): string {
  const file = join(tempDir('file'), name);
  writeFileSync(file, text);
  return file;
}

/** Every file of an org's data directory with its hash: "nothing changed" down to the byte. */
export function orgBytes(home: string): string {
  return readdirSync(home)
    .sort()
    .map(
      (name) =>
        `${name} ${createHash('sha256')
          .update(readFileSync(join(home, name)))
          .digest('hex')}`,
    )
    .join('\n');
}

/** `idp login` of the demo org's alice to thrift with the password option (password on stdin), then `flags`. */
export function aliceLogin(...flags: string[]): string[] {
  return ['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin', ...flags];
}

/** `idp app create shop` as a spa returning to `redirectUri`, then `flags`: the app the serve tests' RPs sign in to. */
export function createShop(redirectUri: string, ...flags: string[]): string[] {
  return ['app', 'create', 'shop', '--type', 'spa', '--redirect-uri', redirectUri, ...flags];
}

/** ANSI escape sequences (colour, bold, dim). */
export const ANSI = /\u001b\[[0-9;]*m/;
