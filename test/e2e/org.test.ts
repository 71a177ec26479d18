// The organisation's data directory through the real CLI: where it is, its file modes, the demo org on first use,
// `idp init` (--empty, --force, --yes), and refusing, untouched, files that are not (or not yet) this idp's databases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/store.js';
import { spawnSync } from 'node:child_process';
import { childEnv, expectCode, idpJson, idpOk, ROOT, runIdp, seededHome, snapshot, tempDir } from '../helpers/idp.js';

const DB = 'idp.db';

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

test('the data directory is --home, else IDP_HOME, else XDG_DATA_HOME/idp, else ~/.local/share/idp', async () => {
  const [flag, idpHome, xdg, home] = ['flag', 'idp-home', 'xdg', 'home'].map((l) => tempDir(l));
  const cases = [
    {
      args: ['--home', join(flag!, 'org')],
      env: { IDP_HOME: join(idpHome!, 'unused'), XDG_DATA_HOME: xdg, HOME: home },
      expect: join(flag!, 'org'),
    },
    {
      args: [],
      env: { IDP_HOME: join(idpHome!, 'org'), XDG_DATA_HOME: xdg, HOME: home },
      expect: join(idpHome!, 'org'),
    },
    { args: [], env: { XDG_DATA_HOME: xdg, HOME: home }, expect: join(xdg!, 'idp') },
    { args: [], env: { HOME: home }, expect: join(home!, '.local', 'share', 'idp') },
  ];
  const results = await Promise.all(
    cases.map((c) => idpJson([...c.args, 'init', '--empty', '--json'], { env: c.env })),
  );
  for (const [i, r] of results.entries()) assert.equal(r.home, cases[i]!.expect);
  for (const c of cases) assert.ok(existsSync(join(c.expect, DB)), `${c.expect}/idp.db`);
  assert.ok(!existsSync(join(idpHome!, 'unused')), '--home wins over IDP_HOME');
  assert.deepEqual(readdirSync(xdg!).sort(), ['idp'], 'XDG_DATA_HOME only used when IDP_HOME is unset');
});

test('the directory is created 0700 and idp.db 0600', async () => {
  const home = join(tempDir('modes'), 'a', 'b');
  await idpOk(['init', '--empty'], { home });
  assert.equal(mode(home), 0o700);
  assert.equal(mode(join(home, DB)), 0o600);
  for (const name of readdirSync(home)) assert.equal(mode(join(home, name)) & 0o077, 0, `${name} is private`);
});

test('any command on an empty data directory first creates the demo org', async () => {
  const home = join(tempDir('demo'), 'org');
  const first = await idpOk(['app', 'show', 'thrift', '--json'], { home });
  assert.match(first.stderr, /created a new demo organisation at /);
  assert.deepEqual(JSON.parse(first.stdout).steps, [['password', 'google', 'github']]);
  const [connections, alice, second] = await Promise.all([
    idpJson(['connection', 'list', '--json'], { home }),
    idpJson(['users', 'show', 'alice', '--json'], { home }),
    idpOk(['app', 'list'], { home }),
  ]);
  assert.deepEqual(
    connections.connections.map((c: any) => [c.name, c.type, c.sandbox, c.jit.enabled]),
    [
      ['github', 'github', true, true],
      ['google', 'google', true, true],
    ],
  );
  assert.deepEqual(
    [alice.email, alice.email_verified, alice.has_password, alice.source],
    ['alice@example.com', true, true, 'local'],
  );
  assert.doesNotMatch(second.stderr, /created/, 'only the first command seeds');
  const store = openStore(home);
  try {
    assert.deepEqual(
      (await store.org.signingKeys()).map((k) => k.alg).sort(),
      ['ES256', 'RS256'],
      'one key per algorithm',
    );
  } finally {
    store.close();
  }
});

test('init --empty creates an org with a signing key and nothing else; init again changes nothing', async () => {
  const home = join(tempDir('empty'), 'org');
  assert.deepEqual(await idpJson(['init', '--empty', '--json'], { home }), {
    home,
    created: true,
    demo: false,
    name: 'default',
  });
  const [apps, connections, users, again] = await Promise.all([
    idpJson(['app', 'list', '--json'], { home }),
    idpJson(['connection', 'list', '--json'], { home }),
    idpJson(['users', 'list', '--json'], { home }),
    idpJson(['init', '--json'], { home }),
  ]);
  assert.deepEqual([apps.apps.filter((a: any) => !a.built_in), connections.connections, users.users], [[], [], []]);
  assert.equal(again.created, false);
  const store = openStore(home);
  try {
    assert.deepEqual((await store.org.signingKeys()).map((k) => k.alg).sort(), ['ES256', 'RS256']);
  } finally {
    store.close();
  }
});

test('init --force needs --yes without a terminal, then re-creates the org', async () => {
  const home = await seededHome();
  await idpOk(['users', 'create', 'bob', '--email', 'bob@example.com'], { home });
  const before = await snapshot(home);
  const refused = expectCode(await runIdp(['init', '--force'], { home }), 2);
  assert.match(refused.stderr, /--yes/);
  assert.equal(await snapshot(home), before, 'nothing changed');

  await idpOk(['init', '--force', '--yes'], { home });
  const users = await idpJson(['users', 'list', '--json'], { home });
  assert.deepEqual(
    users.users.map((u: any) => u.username),
    ['alice'],
    'bob is gone, the demo is back',
  );

  await idpOk(['init', '--force', '--yes', '--empty'], { home });
  assert.deepEqual(
    (await idpJson(['app', 'list', '--json'], { home })).apps.filter((a: any) => !a.built_in),
    [],
  );
});

/** Runs commands (init --force too) on a prepared file and checks: exit 3, an error and a hint line, not one byte changed. */
async function assertRefusedUntouched(home: string, message: RegExp): Promise<void> {
  const digest = (): string =>
    createHash('sha256')
      .update(readFileSync(join(home, DB)))
      .digest('hex');
  const before = { hash: digest(), files: readdirSync(home).sort() };
  const commands = [
    ['app', 'list'],
    ['users', 'list', '--json'],
    ['connection', 'set', 'github', '--jit=false'],
    ['init'],
    ['init', '--force', '--yes'],
  ];
  const results = await Promise.all(commands.map((args) => runIdp(args, { home })));
  for (const r of results) {
    expectCode(r, 3);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, message);
    assert.match(lines[1]!, /^hint: .*untouched/);
  }
  assert.deepEqual({ hash: digest(), files: readdirSync(home).sort() }, before);
}

test('a database written by a newer idp gets exit 3 and is left untouched', async () => {
  const home = tempDir('newer');
  const db = new Database(join(home, DB));
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.exec("CREATE TABLE from_the_future (x); INSERT INTO from_the_future VALUES ('data')");
  db.close();
  await assertRefusedUntouched(home, /^error: .*written by a newer idp/);
});

test('random bytes in idp.db get exit 3 and are left untouched', async () => {
  const home = tempDir('random');
  writeFileSync(join(home, DB), randomBytes(16384));
  await assertRefusedUntouched(home, /^error: .* is not an idp database/);
});

test("another application's SQLite database gets exit 3 and is left untouched", async () => {
  const home = join(tempDir('foreign'), 'org');
  mkdirSync(home);
  const db = new Database(join(home, DB));
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('not yours')");
  db.close();
  await assertRefusedUntouched(home, /^error: .* is not an idp database/);
});

test('concurrent first commands on an empty data directory create one org, and all of them succeed', async () => {
  const home = join(tempDir('race'), 'org');
  const results = await Promise.all(
    Array.from({ length: 4 }, () => runIdp(['app', 'show', 'thrift', '--json'], { home })),
  );
  for (const r of results) expectCode(r, 0);
  assert.equal(
    results.filter((r) => /created a new demo organisation at /.test(r.stderr)).length,
    1,
    'one of them created it',
  );
  const store = openStore(home);
  try {
    assert.deepEqual((await store.org.signingKeys()).map((k) => k.alg).sort(), ['ES256', 'RS256']);
    assert.equal(await store.users.count(), 1);
  } finally {
    store.close();
  }
});

test('an install whose better-sqlite3 addon was never built gets one line, the fix and exit 1, not a stack trace', () => {
  // A copy of the installed package whose better-sqlite3 has its JavaScript but no build/ (as after --ignore-scripts).
  const pkg = tempDir('unbuilt');
  for (const dir of ['bin', join('dist', 'bundle')]) cpSync(join(ROOT, dir), join(pkg, dir), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'fixtures'), join(pkg, 'fixtures'));
  mkdirSync(join(pkg, 'node_modules', 'better-sqlite3'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules')).filter((n) => n !== 'better-sqlite3')) {
    symlinkSync(join(ROOT, 'node_modules', name), join(pkg, 'node_modules', name));
  }
  for (const part of ['package.json', 'lib'])
    cpSync(join(ROOT, 'node_modules', 'better-sqlite3', part), join(pkg, 'node_modules', 'better-sqlite3', part), {
      recursive: true,
    });

  const home = join(tempDir('unbuilt-home'), 'org');
  const r = spawnSync(process.execPath, [join(pkg, 'bin', 'idp.js'), 'users', 'list'], {
    env: childEnv({ home }),
    encoding: 'utf8',
  });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(
    r.stderr,
    "error: better-sqlite3's native addon is not built\nhint: run `npm ci` (or `npm rebuild better-sqlite3`) in the idp directory\n",
  );
  assert.ok(!existsSync(join(home, DB)) || statSync(join(home, DB)).size === 0, 'no database was written');
});
