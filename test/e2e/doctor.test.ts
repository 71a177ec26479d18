// `idp doctor` through the real CLI: a healthy org passes (warnings allowed), a readable idp.db or a foreign file fails
// with exit 9 and a fix and no crash, no org yet creates nothing, and real oidc connections are probed on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closedPort } from '../integration/federation-helpers.js';
import { expectCode, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';

interface Check {
  name: string;
  status: 'ok' | 'warning' | 'failed';
  detail: string;
  fix: string | null;
}

function find(checks: Check[], name: string): Check {
  const check = checks.find((c) => c.name === name);
  assert.ok(check, `no check named '${name}' in ${checks.map((c) => c.name).join(', ')}`);
  return check;
}

async function doctorJson(
  home: string,
  env: Record<string, string | undefined> = {},
  code = 0,
): Promise<{ ok: boolean; checks: Check[] }> {
  const r = expectCode(await runIdp(['doctor', '--json'], { home, env }), code, 'idp doctor --json');
  return JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
}

test('a healthy org: every check ok or warning, exit 0, {ok, checks} with name, status, detail and fix', async () => {
  const home = await seededHome();
  const report = await doctorJson(home);
  assert.equal(report.ok, true);
  for (const check of report.checks) {
    assert.deepEqual(Object.keys(check), ['name', 'status', 'detail', 'fix']);
    assert.ok(check.status === 'ok' || check.status === 'warning', `${check.name}: ${check.status} ${check.detail}`);
    assert.equal(check.fix === null, check.status === 'ok', `${check.name}: a fix exactly when something is wrong`);
  }
  const names = report.checks.map((c) => c.name);
  for (const name of [
    'data directory',
    'file modes',
    'database',
    'schema',
    'journal mode',
    'organisation',
    'connection github',
    'connection google',
    'redirect URI',
    'loopback',
    'browser',
    'clock',
  ]) {
    assert.ok(names.includes(name), `missing check '${name}'`);
  }
  assert.match(
    find(report.checks, 'file modes').detail,
    /^idp\.db 0600, (idp\.db-wal 0600, idp\.db-shm 0600, )?secret\.key 0600$/,
  );
  assert.match(find(report.checks, 'database').detail, /integrity ok/);
  assert.match(find(report.checks, 'organisation').detail, /2 app\(s\), 2 connection\(s\), 1 user\(s\)/);
  assert.match(find(report.checks, 'loopback').detail, /^bound 127\.0\.0\.1:\d+/);

  const human = await idpOk(['doctor'], { home });
  const lines = human.stdout
    .trimEnd()
    .split('\n')
    .filter((l) => !l.startsWith(' '));
  assert.equal(lines.length, report.checks.length, human.stdout);
  for (const line of lines) assert.match(line, /^[✓!] \S/);
  assert.match(
    human.stdout,
    /^✓ connection github +bundled sandbox provider: registers client Iv1\.sandbox-thrift with the stored secret \(client_secret_basic\)$/m,
  );
  assert.match(human.stderr, /no check failed|every check passed/);
});

test('idp.db readable by others: the file modes check fails with the chmod fix, exit 9 with one error and a hint', async () => {
  const home = await seededHome();
  const db = join(home, 'idp.db');
  chmodSync(db, 0o644);
  const report = await doctorJson(home, {}, 9);
  assert.equal(report.ok, false);
  const modes = find(report.checks, 'file modes');
  assert.equal(modes.status, 'failed');
  assert.match(modes.detail, /idp\.db is 0644 \(group or others have access\), expected 0600/);
  assert.ok(modes.fix?.startsWith(`chmod 600 ${db}`), modes.fix ?? 'no fix');

  const human = expectCode(await runIdp(['doctor'], { home }), 9);
  assert.match(human.stdout, /^✗ file modes .*\n {4}fix: chmod 600 /m);
  assert.deepEqual(human.stderr.trimEnd().split('\n'), [
    'error: 1 check(s) failed: file modes',
    'hint: apply the fixes above, then run `idp doctor` again',
  ]);

  // The fix as printed (read after the open, so it also names the -wal and -shm files SQLite made with idp.db's mode).
  const fix = find((await doctorJson(home, {}, 9)).checks, 'file modes').fix!;
  for (const path of fix.replace(/^chmod 600 /, '').split(' ')) chmodSync(path, 0o600);
  expectCode(await runIdp(['doctor'], { home }), 0, 'after the fix');
});

test('a file that is not an idp database: a failed check with the fix, no crash, the file untouched', async () => {
  const home = join(tempDir(), 'org');
  mkdirSync(home, { mode: 0o700 });
  const db = join(home, 'idp.db');
  writeFileSync(db, 'these are my notes, not a database\n', { mode: 0o600 });
  const before = statSync(db);
  const report = await doctorJson(home, {}, 9);
  const database = find(report.checks, 'database');
  assert.equal(database.status, 'failed');
  assert.equal(database.detail, `${db} is not an idp database`);
  assert.match(database.fix ?? '', /^move it aside \(mv .*idp\.db .*idp\.db\.bak\) and run `idp init`/);
  assert.ok(
    !report.checks.some((c) => c.name === 'schema' || c.name.startsWith('connection')),
    'nothing read from a foreign file',
  );
  assert.equal(readFileSync(db, 'utf8'), 'these are my notes, not a database\n');
  assert.equal(statSync(db).mtimeMs, before.mtimeMs);
  assert.deepEqual(readdirSync(home), ['idp.db'], 'no -wal, -shm or key created');
});

test('no organisation yet: a warning with `idp init`, exit 0, and nothing created', async () => {
  const parent = tempDir();
  const home = join(parent, 'org');
  const report = await doctorJson(home);
  const org = find(report.checks, 'organisation');
  assert.deepEqual([org.status, org.fix], ['warning', 'idp init']);
  assert.match(org.detail, /^no organisation yet/);
  assert.equal(find(report.checks, 'data directory').status, 'warning');
  assert.equal(existsSync(home), false, 'no data directory created');

  mkdirSync(home, { mode: 0o700 });
  await doctorJson(home);
  assert.deepEqual(readdirSync(home), [], 'no database created in an existing directory');
  assert.deepEqual(readdirSync(parent), ['org']);
});

test('real oidc connections: an issuer on 127.0.0.1 answering its discovery document is ok, a closed port and an unset secret variable warn', async () => {
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address);
  const issuer = `http://127.0.0.1:${address.port}`;
  const dead = `http://127.0.0.1:${await closedPort()}`;
  try {
    const home = await seededHome();
    const env = { CORP_SECRET: undefined, DEAD_SECRET: 'set-in-env' };
    await idpOk(
      [
        'connection',
        'add',
        'corp',
        '--type',
        'oidc',
        '--issuer',
        issuer,
        '--client-id',
        'corp-app',
        '--client-secret-env',
        'CORP_SECRET',
      ],
      { home, env },
    );
    await idpOk(
      [
        'connection',
        'add',
        'dead',
        '--type',
        'oidc',
        '--issuer',
        dead,
        '--client-id',
        'dead-app',
        '--client-secret-env',
        'DEAD_SECRET',
      ],
      { home, env },
    );
    const report = await doctorJson(home, env);
    assert.equal(report.ok, true, 'warnings only');

    const corp = find(report.checks, 'connection corp');
    assert.equal(corp.status, 'ok', corp.detail);
    assert.equal(corp.detail, `${issuer}/.well-known/openid-configuration answers; issuer ${issuer} matches`);
    const unreachable = find(report.checks, 'connection dead');
    assert.equal(unreachable.status, 'warning');
    assert.ok(unreachable.detail.includes(`${dead}/.well-known/openid-configuration`), unreachable.detail);
    assert.match(unreachable.detail, /ECONNREFUSED/);

    const unset = find(report.checks, 'client secret corp');
    assert.equal(unset.status, 'warning');
    assert.equal(unset.fix, 'export CORP_SECRET=... before `idp login`');
    assert.equal(find(report.checks, 'client secret dead').status, 'ok');
    assert.doesNotMatch(JSON.stringify(report), /set-in-env/, 'a secret value is never printed');

    const redirect = find(report.checks, 'redirect URI').detail.split('\n');
    assert.deepEqual(
      redirect.map((l) => l.split(':')[0]),
      ['corp', 'dead'],
    );
    assert.match(redirect[0]!, /register http:\/\/127\.0\.0\.1\/callback/);
    assert.match(find(report.checks, 'connection github').detail, /^bundled sandbox provider: registers client /);
    assert.match(find(report.checks, 'clock').detail, new RegExp(`within 5 min of ${issuer}`));

    const human = await idpOk(['doctor'], { home, env });
    assert.match(human.stdout, /^! connection dead .*ECONNREFUSED.*\n {4}fix: check that the provider is running/m);
    assert.match(human.stdout, /^✓ redirect URI +corp: .*\n {20,}dead: /m);
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
});

test('help names the command', async () => {
  const r = await idpOk(['doctor', '--help']);
  assert.match(r.stdout, /Usage: idp doctor/);
  assert.match(r.stdout, /idp doctor --json/);
});
