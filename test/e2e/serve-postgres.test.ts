// Two `idp serve` instances of one org in one PostgreSQL database (a database of this file's own), behind a forwarder on
// 127.0.0.1 standing in for a load balancer: discovery and JWKS alike, a 20-way first-login race split across both, a
// session and a code made on one used on the other, a JIT toggle by the CLI seen by both, an instance killed mid-login,
// and `idp doctor` on the database.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { type Forwarded, type Forwarder, forwarder } from '../helpers/forwarder.js';
import { childEnv, createShop, expectCode, IDP_BIN, type RunResult, runIdp, tempDir } from '../helpers/idp.js';
import { admin, dropDatabase, pgUrl } from '../helpers/pg.js';
import { authorizationRequest, discover, redeemCallback } from '../helpers/rp.js';
import { type Serving, startServe } from '../helpers/serve.js';
import { type Answer, UserAgent, viaConnection } from '../helpers/user-agent.js';

const REDIRECT = 'http://localhost:5173/callback';
/** The README's exit code for `idp doctor` when a check failed. */
const CHECKS_FAILED = 9;
/** The README's exit code for a configuration problem, SEAL_KEY_MISSING among them. */
const CONFIGURATION = 3;
/** 128 + SIGKILL */
const KILLED = 137;
/**
 * The header the test's browser sends to pin a request to one instance, as a sticky load balancer would. Sticky routing
 * is what the README asks for sandbox sign-ins: each instance runs its own sandbox GitHub, so a sign-in's upstream leg
 * returns to the instance that started it only by chance.
 */
const PIN = 'x-test-instance';

type Instance = 'a' | 'b';

/** A browser whose requests to the load balancer are pinned to one instance (which a test may change between requests). */
class Browser extends UserAgent {
  /** Every URL requested, in order. */
  readonly visited: URL[] = [];
  /** Runs before each request is sent (the kill test crashes an instance from here). */
  beforeSend?: (target: URL, post: boolean) => Promise<void>;

  constructor(
    public instance: Instance,
    private readonly balancerOrigin: string,
  ) {
    super();
  }

  override async send(url: URL | string, init: { body?: URLSearchParams; headers?: Record<string, string> } = {}) {
    const target = new URL(url);
    this.visited.push(target);
    await this.beforeSend?.(target, init.body !== undefined);
    const headers = target.origin === this.balancerOrigin ? { ...init.headers, [PIN]: this.instance } : init.headers;
    return super.send(target, { ...init, headers });
  }
}

/** GitHub personas no other test knows, each with its own id (upstream subject) and verified email. */
const PERSONAS = [
  'racer',
  'sso',
  'coder',
  'jit-on',
  'pass-a',
  'pass-b',
  'survivor',
  'interrupted',
  'after-crash',
] as const;
type Persona = (typeof PERSONAS)[number];
const login = (p: Persona) => `pg-${p}`;
const email = (p: Persona) => `pg-${p}@e2e.example`;

function personasFile(): string {
  const github = PERSONAS.map((p, i) => ({
    login: login(p),
    id: 8_400_000 + i,
    name: `PG ${p}`,
    publicEmail: email(p),
    emails: [{ email: email(p), primary: true, verified: true, visibility: 'public' }],
    avatarUrl: `https://avatars.example/${login(p)}.png`,
  }));
  const file = join(tempDir('personas'), 'personas.json');
  writeFileSync(file, JSON.stringify({ github }));
  return file;
}

const database = `idp_e2e_${randomBytes(6).toString('hex')}`;
const sealKey = randomBytes(32).toString('base64url');
let storeUrl: string;
let home: string;
let created = false;
let lb: Forwarder<Instance> | undefined;
let a: Serving | undefined;
let b: Serving | undefined;
let clientId: string;
let config: client.Configuration;

/** `idp --store URL ...` with the org's sealing key (or the environment given). */
function idp(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return runIdp(['--store', storeUrl, ...args], { home, env: { IDP_STORE: undefined, IDP_SEAL_KEY: sealKey, ...env } });
}

async function idpOkJson<T>(args: string[]): Promise<T> {
  const r = expectCode(await idp([...args, '--json']), 0, `idp ${args.join(' ')}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * `idp --store URL ...` like idp(), for a command that must end by itself (`serve` that should refuse to start): killed
 * after `ms`, when its code is 128 + 9.
 */
function within(ms: number, args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [IDP_BIN, '--store', storeUrl, ...args], {
      env: childEnv({ home, env: { IDP_STORE: undefined, IDP_SEAL_KEY: sealKey, ...env } }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGKILL' ? KILLED : 128), stdout, stderr });
    });
  });
}

interface ListedUser {
  id: string;
  email: string | null;
  source: string;
}

/** The org's users with this email, read back through the CLI (a third process on the database). */
async function usersWith(address: string): Promise<ListedUser[]> {
  const { users } = await idpOkJson<{ users: ListedUser[] }>(['users', 'list', '--search', address]);
  return users.filter((u) => u.email === address);
}

function instance(name: Instance): Serving {
  const serving = name === 'a' ? a : b;
  assert.ok(serving, `instance ${name} is not running`);
  return serving;
}

/** Requests an instance answered with a 5xx since `from` in the balancer's log (502: the instance was unreachable). */
function serverErrors(from: number): Forwarded<Instance>[] {
  return lb!.log.slice(from).filter((r) => r.status >= 500);
}

/** One code + PKCE sign-in by the RP; the browser's pages go to its instance, the token request to either. */
async function signIn(browser: Browser, answer: Answer) {
  const request = await authorizationRequest(config, REDIRECT);
  const callback = await browser.authorize(request.url, REDIRECT, answer);
  return redeemCallback(config, callback, request);
}

/** A token request sent to one instance. */
function redeem(on: Instance, code: string, verifier: string): Promise<Response> {
  return fetch(`${instance(on).base}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', [PIN]: on },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
    }),
  });
}

const noPage: Answer = () => assert.fail('a page was shown');

before(async () => {
  await admin((c) => c.query(`CREATE DATABASE "${database}"`));
  created = true;
  const url = new URL(pgUrl());
  url.pathname = `/${database}`;
  storeUrl = url.href;
  home = tempDir('pg-home');
  expectCode(await idp(['init', '--quiet']), 0, 'idp init');
  const app = await idpOkJson<{ client_id: string }>(createShop(REDIRECT, '--step', '1=password,github'));
  clientId = app.client_id;
  const personas = personasFile();
  lb = await forwarder(() => ({ a: instance('a').url, b: instance('b').url }), { pin: PIN });
  const serve = () =>
    startServe(home, {
      args: ['--public-url', lb!.url, '--personas', personas],
      env: { IDP_STORE: storeUrl, IDP_SEAL_KEY: sealKey },
    });
  [a, b] = await Promise.all([serve(), serve()]);
  config = await discover(a.issuer, clientId);
  client.enableNonRepudiationChecks(config);
});

after(async () => {
  // Each step on its own, so one that fails leaves none of the others undone.
  await Promise.allSettled([a?.kill('SIGKILL'), b?.kill('SIGKILL')]);
  await lb?.close().catch(() => undefined);
  if (created) await admin((c) => dropDatabase(c, database));
});

test('discovery and the JWKS are byte-identical on both instances, asked on their own ports', async () => {
  const [sa, sb] = [instance('a'), instance('b')];
  assert.notEqual(sa.url, sb.url);
  assert.equal(sa.issuer, `${lb!.url}/t/default/oauth2/token`);
  assert.equal(sb.issuer, sa.issuer);
  const bodies = (path: string) =>
    Promise.all(
      [sa, sb].map(async (s) => {
        const res = await fetch(`${s.url}/t/default${path}`);
        assert.equal(res.status, 200, `${s.url}${path}`);
        return res.text();
      }),
    );
  const [discoveryA, discoveryB] = await bodies('/oauth2/token/.well-known/openid-configuration');
  assert.equal(discoveryA, discoveryB);
  assert.equal((JSON.parse(discoveryA!) as { issuer: string }).issuer, sa.issuer);
  const [jwksA, jwksB] = await bodies('/oauth2/jwks');
  assert.equal(jwksA, jwksB);
  assert.ok((JSON.parse(jwksA!) as { keys: unknown[] }).keys.length >= 2);
});

test('20 concurrent first logins of one persona, 10 through each instance, create exactly one user', async () => {
  const from = lb!.log.length;
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) =>
      signIn(new Browser(i % 2 === 0 ? 'a' : 'b', lb!.url), viaConnection('github', login('racer'))),
    ),
  );
  assert.deepEqual(serverErrors(from), [], 'no instance answered a 5xx');
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  // Each first login that loses the race has its JIT decision made again and finds the winner's user: none fails.
  assert.deepEqual(failures, [], 'every login succeeds');
  const subs = new Set(results.map((r) => (r.status === 'fulfilled' ? r.value.claims()!.sub : '')));
  const users = await usersWith(email('racer'));
  assert.equal(users.length, 1, JSON.stringify(users));
  assert.equal(users[0]!.source, 'github');
  assert.deepEqual([...subs], [users[0]!.id], 'every login is that user');
  const shown = await idpOkJson<{ associations: { connection: string }[] }>(['users', 'show', users[0]!.id]);
  assert.deepEqual(
    shown.associations.map((l) => l.connection),
    ['github'],
    'one link',
  );
});

test('a session made by signing in on A is honoured by B: no page, no upstream, the same user and auth_time', async () => {
  const browser = new Browser('a', lb!.url);
  const first = await signIn(browser, viaConnection('github', login('sso')));
  const upstreamOrigins = new Set(browser.visited.filter((u) => u.origin !== lb!.url).map((u) => u.origin));
  assert.equal(upstreamOrigins.size, 1, 'the sign-in on A went through its sandbox GitHub');
  browser.instance = 'b';
  const from = lb!.log.length;
  const seen = browser.visited.length;
  const second = await signIn(browser, noPage);
  const visited = browser.visited.slice(seen);
  assert.deepEqual(
    visited.filter((u) => u.origin !== lb!.url).map((u) => u.href),
    [],
    'no upstream round trip',
  );
  const pinned = lb!.log.slice(from).filter((r) => !r.path.endsWith('/oauth2/token'));
  assert.ok(pinned.length > 0);
  assert.ok(
    pinned.every((r) => r.backend === 'b'),
    JSON.stringify(pinned),
  );
  assert.equal(second.claims()!.sub, first.claims()!.sub);
  assert.equal(second.claims()!.auth_time, first.claims()!.auth_time, 'the same session, not a new sign-in');
  assert.deepEqual(serverErrors(from), []);
});

test('a code issued by A is redeemed once: on B it works, again on A invalid_grant; 10 racing redemptions, one wins', async () => {
  const from = lb!.log.length;
  const browser = new Browser('a', lb!.url);
  const request = await authorizationRequest(config, REDIRECT);
  const callback = await browser.authorize(request.url, REDIRECT, viaConnection('github', login('coder')));
  const code = callback.searchParams.get('code');
  assert.ok(code, callback.search);

  const onB = await redeem('b', code, request.verifier);
  assert.equal(onB.status, 200, await onB.clone().text());
  const tokens = (await onB.json()) as { access_token: string; id_token: string };
  assert.ok(tokens.id_token);
  // The access token B issued is known to A (before the reuse below, which revokes what the code gave).
  const info = await fetch(`${instance('a').base}/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${tokens.access_token}`, [PIN]: 'a' },
  });
  assert.equal(info.status, 200);
  assert.equal(((await info.json()) as { email: string }).email, email('coder'));

  const again = await redeem('a', code, request.verifier);
  assert.equal(again.status, 400);
  assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant');

  // A reuse revokes the grant the code came from (RFC 6749 4.1.2), and with it the session's single sign-on for this
  // app: the next code comes from a sign-in of its own, on A again.
  const next = await authorizationRequest(config, REDIRECT);
  const back = await new Browser('a', lb!.url).authorize(next.url, REDIRECT, viaConnection('github', login('coder')));
  const fresh = { code: back.searchParams.get('code') ?? '', verifier: next.verifier };
  assert.ok(fresh.code, back.search);
  const answers = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const res = await redeem(i % 2 === 0 ? 'a' : 'b', fresh.code, fresh.verifier);
      return { status: res.status, body: (await res.json()) as { error?: string; access_token?: string } };
    }),
  );
  const won = answers.filter((r) => r.status === 200);
  assert.equal(won.length, 1, JSON.stringify(answers));
  assert.ok(won[0]!.body.access_token);
  const lost = answers.filter((r) => r.status !== 200);
  assert.deepEqual(
    lost.map((r) => [r.status, r.body.error]),
    Array.from({ length: 9 }, () => [400, 'invalid_grant']),
  );
  assert.deepEqual(serverErrors(from), []);
});

test('a JIT toggle made through the CLI holds for the next sign-in through either running instance', async () => {
  const from = lb!.log.length;
  // Both instances have read the connection before the toggle (the race above signed in through both).
  const on = await signIn(new Browser('b', lb!.url), viaConnection('github', login('jit-on')));
  assert.equal((await usersWith(email('jit-on'))).length, 1);
  assert.equal(on.claims()!.pass_through, undefined);
  try {
    expectCode(await idp(['connection', 'set', 'github', '--jit=false']), 0, 'connection set --jit=false');
    for (const [instanceName, persona] of [
      ['a', 'pass-a'],
      ['b', 'pass-b'],
    ] as const) {
      const tokens = await signIn(new Browser(instanceName, lb!.url), viaConnection('github', login(persona)));
      const claims = tokens.claims()!;
      assert.equal(claims.pass_through, true, `${instanceName}: ${JSON.stringify(claims)}`);
      assert.match(claims.sub, /^pt_/);
      assert.deepEqual(await usersWith(email(persona)), [], `${instanceName} created no user`);
    }
    // JIT governs creation only: a user provisioned before still signs in as themself.
    const returning = await signIn(new Browser('a', lb!.url), viaConnection('github', login('jit-on')));
    assert.equal(returning.claims()!.sub, on.claims()!.sub);
  } finally {
    expectCode(await idp(['connection', 'set', 'github', '--jit=true']), 0, 'connection set --jit=true');
  }
  const back = await signIn(new Browser('b', lb!.url), viaConnection('github', login('pass-a')));
  const [user] = await usersWith(email('pass-a'));
  assert.ok(user, 'JIT on again: the next first login through B provisions');
  assert.equal(back.claims()!.sub, user.id);
  assert.deepEqual(serverErrors(from), []);
});

test('SIGKILL to A in the middle of a sign-in loses nothing for B; the store stays consistent', async () => {
  const before = await signIn(new Browser('a', lb!.url), viaConnection('github', login('survivor')));
  const survivor = before.claims()!.sub;
  assert.ok(before.refresh_token, 'a spa registered for the refresh grant gets a refresh token');

  // The sign-in has left A for its sandbox GitHub (A holds the flow, waiting for the callback); A dies before the
  // person answers the provider's page.
  const browser = new Browser('a', lb!.url);
  let killed: number | undefined;
  browser.beforeSend = async (target, post) => {
    if (killed !== undefined || !post || target.origin === lb!.url) return;
    lb!.out('a');
    killed = await instance('a').kill('SIGKILL');
  };
  await assert.rejects(signIn(browser, viaConnection('github', login('interrupted'))));
  assert.equal(killed, KILLED, 'A was killed mid-login');
  const from = lb!.log.length;

  // The same browser starts again, now on B, and gets through; so do others.
  browser.beforeSend = undefined;
  browser.instance = 'b';
  const again = await signIn(browser, viaConnection('github', login('interrupted')));
  const fresh = await signIn(new Browser('b', lb!.url), viaConnection('github', login('after-crash')));
  for (const [persona, tokens] of [
    ['interrupted', again],
    ['after-crash', fresh],
  ] as const) {
    const users = await usersWith(email(persona));
    assert.equal(users.length, 1, JSON.stringify(users));
    assert.equal(tokens.claims()!.sub, users[0]!.id);
  }
  // What A wrote before it died is intact: the user, and the refresh token it issued, which B now honours.
  const returning = await signIn(new Browser('b', lb!.url), viaConnection('github', login('survivor')));
  assert.equal(returning.claims()!.sub, survivor);
  assert.equal((await usersWith(email('survivor'))).length, 1);
  const refreshed = await client.refreshTokenGrant(config, before.refresh_token);
  assert.equal(refreshed.claims()!.sub, survivor);
  assert.deepEqual(serverErrors(from), [], 'nothing was sent to the dead instance');
  const doctor = expectCode(await idp(['doctor', '--json']), 0, 'idp doctor after the crash');
  assert.equal((JSON.parse(doctor.stdout) as { ok: boolean }).ok, true);
});

test('idp doctor on the database: server, schema, org and sealing key checked; without the key it fails (exit 9)', async () => {
  interface Report {
    ok: boolean;
    checks: { name: string; status: string; detail: string }[];
  }
  const report = async (env: Record<string, string | undefined>, code: number) => {
    const r = expectCode(await idp(['doctor', '--json'], env), code, 'idp doctor');
    const parsed = JSON.parse(r.stdout) as Report;
    return { ...parsed, check: (name: string) => parsed.checks.find((c) => c.name === name) };
  };

  const good = await report({}, 0);
  assert.equal(good.ok, true);
  for (const name of ['schema', 'organisation', 'sealing key'])
    assert.equal(good.check(name)?.status, 'ok', `${name}: ${JSON.stringify(good.check(name))}`);
  // A round trip over 20 ms is a warning (which fails nothing): this busy machine may take that long now and then.
  assert.notEqual(good.check('database')?.status ?? 'failed', 'failed', JSON.stringify(good.check('database')));
  assert.match(good.check('database')!.detail, /PostgreSQL \d+.*, \d+\.\d+ ms a round trip$/);
  assert.match(good.check('schema')!.detail, /^version \d+$/);

  const missing = await report({ IDP_SEAL_KEY: undefined, IDP_SEAL_KEY_FILE: undefined }, CHECKS_FAILED);
  assert.equal(missing.ok, false);
  assert.equal(missing.check('sealing key')?.status, 'failed');
  assert.match(missing.check('sealing key')!.detail, /IDP_SEAL_KEY/);
  assert.notEqual(missing.check('database')?.status ?? 'failed', 'failed', 'the server itself is fine');

  const wrong = await report({ IDP_SEAL_KEY: randomBytes(32).toString('base64url') }, CHECKS_FAILED);
  assert.equal(wrong.check('sealing key')?.status, 'failed', JSON.stringify(wrong.check('sealing key')));

  const malformed = await report({ IDP_SEAL_KEY: 'not-a-key' }, CHECKS_FAILED);
  assert.match(malformed.check('sealing key')!.detail, /IDP_SEAL_KEY does not hold a sealing key/);
  assert.notEqual(malformed.check('database')?.status ?? 'failed', 'failed', 'the server itself is fine');
  // Any other command refuses a malformed key at once, even one that reads no secret (exit 3).
  const list = expectCode(await idp(['users', 'list'], { IDP_SEAL_KEY: 'not-a-key' }), CONFIGURATION, 'users list');
  assert.match(list.stderr, /^error: IDP_SEAL_KEY does not hold a sealing key/m);

  // An instance without the key refuses to start (exit 3, SEAL_KEY_MISSING) rather than serve sign-ins it cannot finish.
  const keyless = await within(15_000, ['serve', '--port', '0', '--json'], {
    IDP_SEAL_KEY: undefined,
    IDP_SEAL_KEY_FILE: undefined,
  });
  assert.equal(
    keyless.code,
    CONFIGURATION,
    `exit ${keyless.code}\nstdout: ${keyless.stdout}\nstderr: ${keyless.stderr}`,
  );
  assert.equal((JSON.parse(keyless.stdout) as { error: { code: string } }).error.code, 'SEAL_KEY_MISSING');
});
