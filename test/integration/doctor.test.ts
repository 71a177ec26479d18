// The doctor's checks in process: real OIDC discovery documents served on 127.0.0.1 (matching, mismatched, unreachable,
// silent, with a skewed Date header), client secret sources, damaged databases and keys, and the browser and clock rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { chmodSync, cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultJit, defaultScopes } from '../../src/core/connection-defaults.js';
import { browserCheck, clockCheck, runDoctor, type Check, type DoctorOptions } from '../../src/cli/doctor-checks.js';
import { prepareHome } from '../../src/store/db.js';
import type { NewConnection } from '../../src/ports.js';
import { createOrganisation } from '../../src/cli/context.js';
import { openStore } from '../../src/store/store.js';
import { tempDir } from '../helpers/idp.js';
import { smtpCatcher } from '../helpers/smtp-catcher.js';
import { closedPort } from './federation-helpers.js';

type ConnectionSpec = Pick<NewConnection, 'name' | 'type'> & Partial<NewConnection>;

/** An empty org (no demo, so no scrypt) plus the given connections. */
async function orgWith(connections: ConnectionSpec[]): Promise<string> {
  const home = join(tempDir('doctor'), 'org');
  prepareHome(home);
  const store = openStore(home);
  try {
    await createOrganisation(store, { demo: false, actor: 'test' });
    for (const c of connections) {
      await store.connections.insert({
        sandbox: false,
        issuer: null,
        clientId: `client-${c.name}`,
        secret: { kind: 'none' },
        scopes: defaultScopes(c.type),
        jit: defaultJit(),
        attributeMap: {},
        ...c,
      });
    }
  } finally {
    store.close();
  }
  return home;
}

interface Issuer {
  url: string;
  close(): Promise<void>;
}

/** A discovery document at `<issuer>/.well-known/openid-configuration`, optionally naming another issuer or dated otherwise. */
async function startIssuer(
  opts: {
    path?: string;
    issuer?: (own: string) => string;
    date?: Date;
    silent?: boolean;
    edit?: (doc: Record<string, unknown>) => void;
  } = {},
): Promise<Issuer> {
  let own = '';
  const server: Server = createServer((req, res) => {
    if (opts.silent) return; // accepts and never answers
    if (opts.date) res.setHeader('Date', opts.date.toUTCString());
    if (req.url !== `${opts.path ?? ''}/.well-known/openid-configuration`) return void res.writeHead(404).end();
    const doc: Record<string, unknown> = {
      issuer: opts.issuer ? opts.issuer(own) : own,
      authorization_endpoint: `${own}/authorize`,
      token_endpoint: `${own}/token`,
      jwks_uri: `${own}/jwks`,
    };
    opts.edit?.(doc);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address);
  own = `http://127.0.0.1:${address.port}${opts.path ?? ''}`;
  return {
    url: own,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function find(checks: Check[], name: string): Check {
  const check = checks.find((c) => c.name === name);
  assert.ok(check, `no check named '${name}' in ${checks.map((c) => c.name).join(', ')}`);
  return check;
}

const doctor = (home: string, extra: Partial<DoctorOptions> = {}) => runDoctor({ home, env: { PATH: '' }, ...extra });

test('a real oidc connection whose issuer answers with its discovery document is ok; the clock is compared with its Date header', async () => {
  const issuer = await startIssuer({ path: '/tenant' });
  try {
    const home = await orgWith([
      { name: 'corp', type: 'oidc', issuer: issuer.url, secret: { kind: 'env', variable: 'CORP_SECRET' } },
    ]);
    const report = await doctor(home, { env: { PATH: '', CORP_SECRET: 's3cret-value' } });
    const corp = find(report.checks, 'connection corp');
    assert.equal(corp.status, 'ok', corp.detail);
    assert.match(
      corp.detail,
      new RegExp(`${issuer.url}/\\.well-known/openid-configuration answers; issuer ${issuer.url} matches`),
    );
    const secret = find(report.checks, 'client secret corp');
    assert.deepEqual([secret.status, secret.detail], ['ok', 'read from $CORP_SECRET (set)']);
    assert.doesNotMatch(JSON.stringify(report), /s3cret-value/, 'the secret value never appears');
    assert.match(find(report.checks, 'clock').detail, new RegExp(`within 5 min of ${new URL(issuer.url).origin}`));
    assert.match(
      find(report.checks, 'redirect URI').detail,
      /^corp: register http:\/\/127\.0\.0\.1\/callback at 127\.0\.0\.1:\d+/,
    );
    assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => c.status === 'failed')));
  } finally {
    await issuer.close();
  }
});

test('an issuer on a closed port is a warning naming the URL and the error; an unset secret variable is a warning', async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const home = await orgWith([
    { name: 'corp', type: 'oidc', issuer: url, secret: { kind: 'env', variable: 'CORP_SECRET' } },
  ]);
  const report = await doctor(home);
  const corp = find(report.checks, 'connection corp');
  assert.equal(corp.status, 'warning');
  assert.ok(corp.detail.includes(`${url}/.well-known/openid-configuration`), corp.detail);
  assert.match(corp.detail, /ECONNREFUSED/);
  assert.match(corp.fix ?? '', /idp connection set corp --issuer/);
  const secret = find(report.checks, 'client secret corp');
  assert.equal(secret.status, 'warning');
  assert.match(secret.detail, /\$CORP_SECRET, which is not set/);
  assert.equal(secret.fix, 'export CORP_SECRET=... before `idp login`');
  assert.equal(report.ok, true, 'warnings only');
  assert.match(find(report.checks, 'clock').detail, /\(UTC\)$/, 'no upstream answered, so no comparison');
});

test('a discovery document naming another issuer fails the check, with the issuer it names as the fix', async () => {
  const issuer = await startIssuer({ issuer: (own) => `${own}/other` });
  try {
    const home = await orgWith([{ name: 'corp', type: 'oidc', issuer: issuer.url }]);
    const report = await doctor(home);
    const corp = find(report.checks, 'connection corp');
    assert.equal(corp.status, 'failed');
    assert.match(corp.detail, /names the issuer .*\/other, not /);
    assert.equal(corp.fix, `idp connection set corp --issuer ${issuer.url}/other`);
    assert.equal(report.ok, false);
    assert.equal(find(report.checks, 'client secret corp').status, 'ok', 'no secret: a public oidc client');
  } finally {
    await issuer.close();
  }
});

test('an issuer that never answers is a warning once the timeout passes; a 404 is a warning too', async () => {
  const [silent, wrongPath] = await Promise.all([startIssuer({ silent: true }), startIssuer({ path: '/elsewhere' })]);
  try {
    const home = await orgWith([
      { name: 'quiet', type: 'oidc', issuer: silent.url },
      { name: 'wrong', type: 'oidc', issuer: wrongPath.url.replace('/elsewhere', '') },
    ]);
    const report = await doctor(home, { timeoutMs: 300 });
    const quiet = find(report.checks, 'connection quiet');
    assert.equal(quiet.status, 'warning');
    assert.match(quiet.detail, /no answer in time/);
    const wrong = find(report.checks, 'connection wrong');
    assert.equal(wrong.status, 'warning');
    assert.match(wrong.detail, /answered HTTP 404/);
  } finally {
    await Promise.all([silent.close(), wrongPath.close()]);
  }
});

test('an upstream whose Date header is 10 minutes away warns about the clock', async () => {
  const issuer = await startIssuer({ date: new Date(Date.now() - 10 * 60_000) });
  try {
    const home = await orgWith([{ name: 'corp', type: 'oidc', issuer: issuer.url }]);
    const clock = find((await doctor(home)).checks, 'clock');
    assert.equal(clock.status, 'warning');
    assert.match(clock.detail, new RegExp(`is 10 min ahead of ${new URL(issuer.url).origin}`));
    assert.match(clock.fix ?? '', /NTP/);
  } finally {
    await issuer.close();
  }
});

test('sandbox connections are reported as the bundled provider, with no request and no secret check', async () => {
  const home = await orgWith([
    { name: 'gh', type: 'github', sandbox: true, secret: { kind: 'value', value: 'sandbox-secret-gh' } },
    { name: 'gg', type: 'google', sandbox: true, secret: { kind: 'value', value: 'sandbox-secret-gg' } },
  ]);
  const report = await doctor(home);
  assert.deepEqual(find(report.checks, 'connection gh'), {
    name: 'connection gh',
    status: 'ok',
    detail: 'bundled sandbox provider: registers client client-gh with the stored secret (client_secret_basic)',
    fix: null,
  });
  assert.match(find(report.checks, 'connection gg').detail, /^bundled sandbox provider: registers client client-gg/);
  assert.ok(!report.checks.some((c) => c.name.startsWith('client secret')));
  assert.match(find(report.checks, 'redirect URI').detail, /^no real connection/);
});

test('issue 11 item 5: a sandbox connection is registered with the secret it reads; doctor fails one whose secret cannot be read', async () => {
  const home = await orgWith([
    {
      name: 'ci',
      type: 'github',
      sandbox: true,
      clientId: 'Iv1.example',
      secret: { kind: 'env', variable: 'GITHUB_CLIENT_SECRET' },
    },
    { name: 'bare', type: 'github', sandbox: true, secret: { kind: 'none' } },
    { name: 'public', type: 'github', sandbox: true, secret: { kind: 'none' }, tokenAuth: 'none' },
  ]);
  const report = await doctor(home, { env: { PATH: '', GITHUB_CLIENT_SECRET: 'ci-secret-from-env' } });
  const ci = find(report.checks, 'connection ci');
  assert.deepEqual(
    [ci.status, ci.detail],
    ['ok', 'bundled sandbox provider: registers client Iv1.example with $GITHUB_CLIENT_SECRET (client_secret_basic)'],
  );
  const bare = find(report.checks, 'connection bare');
  assert.equal(bare.status, 'failed');
  assert.match(
    bare.detail,
    /cannot register bare, whose secret is unusable \(connection bare has no client secret\): logins fail/,
  );
  assert.equal(bare.fix, 'idp connection set bare --client-secret-env VAR');
  assert.match(
    find(report.checks, 'connection public').detail,
    /registers client client-public with no secret \(a public client\) \(none\)/,
  );
  assert.equal(report.ok, false);

  const unset = find((await doctor(home)).checks, 'connection ci');
  assert.equal(unset.status, 'failed', 'with $GITHUB_CLIENT_SECRET unset the sandbox cannot agree with the connection');
  assert.match(unset.detail, /\$GITHUB_CLIENT_SECRET, which is not set/);
  assert.equal(unset.fix, 'export GITHUB_CLIENT_SECRET=... before `idp login`');
});

test('issue 11 item 12: a discovery document without a required endpoint, or with a plain-http one, fails the check naming it', async () => {
  const cases: [string, (doc: Record<string, unknown>) => void, RegExp][] = [
    ['authorization_endpoint', (doc) => delete doc.authorization_endpoint, /authorization_endpoint is missing/],
    ['token_endpoint', (doc) => delete doc.token_endpoint, /token_endpoint is missing/],
    ['jwks_uri', (doc) => delete doc.jwks_uri, /jwks_uri is missing/],
    [
      'http',
      (doc) => (doc.token_endpoint = 'http://idp.example.com/token'),
      /token_endpoint http:\/\/idp\.example\.com\/token must use https/,
    ],
  ];
  for (const [what, edit, expected] of cases) {
    const issuer = await startIssuer({ edit });
    try {
      const home = await orgWith([{ name: 'corp', type: 'oidc', issuer: issuer.url }]);
      const corp = find((await doctor(home)).checks, 'connection corp');
      assert.equal(corp.status, 'failed', `${what}: ${corp.detail}`);
      assert.match(corp.detail, expected);
      assert.doesNotMatch(corp.detail, /answers/);
    } finally {
      await issuer.close();
    }
  }
});

test('stored secrets: decrypted to check them (never shown), and a missing secret.key fails', async () => {
  const home = await orgWith([
    {
      name: 'corp',
      type: 'oidc',
      issuer: `http://127.0.0.1:${await closedPort()}`,
      secret: { kind: 'value', value: 'a-long-stored-secret-1234' },
    },
  ]);
  const stored = find((await doctor(home)).checks, 'client secret corp');
  assert.deepEqual([stored.status, stored.detail], ['ok', 'stored encrypted (****1234)']);

  rmSync(join(home, 'secret.key'));
  const report = await doctor(home);
  assert.equal(find(report.checks, 'secret key').status, 'failed');
  assert.equal(find(report.checks, 'client secret corp').status, 'failed');
  assert.throws(() => statSync(join(home, 'secret.key')), /ENOENT/, 'doctor never creates a key');
});

test('a database with a damaged page is a failed check, not a crash', async () => {
  const healthy = await orgWith([]);
  const home = join(tempDir('doctor'), 'org');
  cpSync(healthy, home, { recursive: true });
  const path = join(home, 'idp.db');
  const bytes = readFileSync(path);
  bytes.fill(0x5a, 4096 * 3, 4096 * 4);
  writeFileSync(path, bytes);
  const report = await doctor(home);
  const database = find(report.checks, 'database');
  assert.equal(database.status, 'failed');
  assert.match(database.detail, /is damaged: .*malformed/);
  assert.match(database.fix ?? '', /backup|idp init --force/);
  assert.equal(report.ok, false);
  assert.ok(
    !report.checks.some((c) => c.name === 'redirect URI'),
    'nothing is claimed about connections it could not read',
  );
});

test('a data directory others can list is a warning with the chmod fix', async () => {
  const home = await orgWith([]);
  chmodSync(home, 0o755);
  const directory = find((await doctor(home)).checks, 'data directory');
  assert.equal(directory.status, 'warning');
  assert.match(directory.detail, /0755/);
  assert.equal(directory.fix, `chmod 700 ${home}`);
});

test('an SMTP relay is checked only when set: ok while it accepts connections, a warning with the fix once it does not', async () => {
  const home = await orgWith([]);
  assert.ok(!(await doctor(home)).checks.some((c) => c.name === 'SMTP relay'), 'no relay, no check');
  const catcher = await smtpCatcher();
  const store = openStore(home);
  try {
    await store.org.setSmtpRelay(catcher.url);
  } finally {
    store.close();
  }
  const up = find((await doctor(home)).checks, 'SMTP relay');
  assert.deepEqual([up.status, up.detail], ['ok', `${catcher.url} accepts connections`]);
  await catcher.close();
  const down = find((await doctor(home)).checks, 'SMTP relay');
  assert.equal(down.status, 'warning');
  assert.match(down.detail, /refuses connections: emailed codes reach only `idp outbox`/);
  assert.equal(down.fix, 'start the mail catcher, or `idp org set --smtp none`');
});

test('the loopback server is started on 127.0.0.1 and closed again', async () => {
  const loopback = find((await doctor(join(tempDir('doctor'), 'none'))).checks, 'loopback');
  assert.equal(loopback.status, 'ok', loopback.detail);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(loopback.detail)?.[1]);
  assert.ok(port > 0, loopback.detail);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/callback`), 'closed after the check');
});

test('browser: $BROWSER, an opener on PATH with a display, macOS and Windows are ok; otherwise a warning with the --no-browser fix', () => {
  const bin = tempDir('doctor-bin');
  writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  assert.equal(browserCheck({ BROWSER: 'firefox' }, 'linux').status, 'ok');
  assert.equal(browserCheck({ PATH: bin, DISPLAY: ':0' }, 'linux').detail, 'xdg-open with DISPLAY=:0');
  assert.equal(browserCheck({ PATH: bin, WAYLAND_DISPLAY: 'wayland-0' }, 'linux').status, 'ok');
  const noDisplay = browserCheck({ PATH: bin }, 'linux');
  assert.equal(noDisplay.status, 'warning');
  assert.match(noDisplay.detail, /no display/);
  assert.equal(noDisplay.fix, 'use `idp login --no-browser` and open the printed URL yourself');
  const noOpener = browserCheck({ PATH: tempDir('doctor-empty'), DISPLAY: ':0' }, 'linux');
  assert.equal(noOpener.status, 'warning');
  assert.match(noOpener.detail, /none of xdg-open/);
  assert.equal(browserCheck({}, 'win32').status, 'ok');
  assert.equal(browserCheck({ PATH: bin }, 'darwin').status, 'warning', 'no `open` in this PATH');
});

test('clock: before 2024 or more than 5 minutes from an upstream is a warning; otherwise ok with the UTC time', () => {
  const now = new Date('2025-03-01T10:00:00.123Z');
  assert.deepEqual(clockCheck(now, []), {
    name: 'clock',
    status: 'ok',
    detail: '2025-03-01T10:00:00Z (UTC)',
    fix: null,
  });
  assert.equal(clockCheck(new Date('2023-12-31T23:59:00Z'), []).status, 'warning');
  assert.equal(clockCheck(now, [{ origin: 'https://a', skewMs: 4 * 60_000 }]).status, 'ok');
  const behind = clockCheck(now, [
    { origin: 'https://a', skewMs: 1000 },
    { origin: 'https://b', skewMs: -7 * 60_000 },
  ]);
  assert.equal(behind.status, 'warning');
  assert.match(behind.detail, /7 min behind https:\/\/b/);
});
