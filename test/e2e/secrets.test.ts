// Client secrets never show: not in any command's stdout or stderr (list, show, set, events, --json, --debug error
// paths, a secret typed in the wrong place), at most as **** plus its last 4 characters, and never in clear in idp.db.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { idpJson, idpOk, runIdp, seededHome, type RunResult, type RunOptions } from '../helpers/idp.js';

const STDIN_SECRET = 'sup3r-s3cret-value-XYZW';
const ROTATED_SECRET = 'r0tated-s3cret-value-LMNO';
const SHORT_SECRET = 'tiny-s3c';
const ENV_SECRET = 'env-s3cret-value-QRST';
const SECRETS = [STDIN_SECRET, ROTATED_SECRET, SHORT_SECRET, ENV_SECRET];

/** Every 8-character run of every secret: printing any part of one longer than its masked tail is a leak. */
const FRAGMENTS = SECRETS.flatMap((s) => Array.from({ length: s.length - 7 }, (_, i) => s.slice(i, i + 8)));

const home = await seededHome();
const env = { CORP_SECRET: ENV_SECRET };
const outputs: { args: string[]; r: RunResult }[] = [];

/** Runs idp with the env secret set in its environment, and keeps the output for the leak check. */
async function run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runIdp(args, { home, ...opts, env: { ...env, ...opts.env } });
  outputs.push({ args, r });
  return r;
}

function assertNoLeak(): void {
  assert.ok(outputs.length > 20, 'enough commands were checked');
  for (const { args, r } of outputs) {
    for (const fragment of FRAGMENTS) {
      assert.ok(!r.stdout.includes(fragment), `stdout of idp ${args.join(' ')} shows '${fragment}':\n${r.stdout}`);
      assert.ok(!r.stderr.includes(fragment), `stderr of idp ${args.join(' ')} shows '${fragment}':\n${r.stderr}`);
    }
  }
}

test('secrets given on stdin or by environment variable never appear in any output', async () => {
  const added = await run(
    [
      'connection',
      'add',
      'corp',
      '--type',
      'oidc',
      '--issuer',
      'https://login.example.com',
      '--client-id',
      'corp-app',
      '--client-secret-stdin',
    ],
    { input: `${STDIN_SECRET}\n` },
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /client secret\s+\*\*\*\*XYZW$/m);
  assert.equal(
    (
      await run([
        'connection',
        'add',
        'envy',
        '--type',
        'github',
        '--client-id',
        'gh-app',
        '--client-secret-env',
        'CORP_SECRET',
      ])
    ).code,
    0,
  );
  assert.equal(
    (
      await run(['connection', 'add', 'short', '--type', 'google', '--client-id', 'g-app', '--client-secret-stdin'], {
        input: SHORT_SECRET,
      })
    ).code,
    0,
  );

  const store = openStore(home);
  try {
    assert.equal(
      await store.connections.storedSecret('corp'),
      STDIN_SECRET,
      'the secret was read from stdin and stored',
    );
    assert.equal(await store.connections.storedSecret('short'), SHORT_SECRET);
  } finally {
    store.close();
  }

  const [corp, envy, short, list] = await Promise.all([
    run(['connection', 'show', 'corp', '--json']),
    run(['connection', 'show', 'envy', '--json']),
    run(['connection', 'show', 'short', '--json']),
    run(['connection', 'list', '--json']),
  ]);
  assert.equal(JSON.parse(corp.stdout).client_secret, '****XYZW');
  assert.equal(JSON.parse(envy.stdout).client_secret, 'env:CORP_SECRET', 'only the variable name');
  assert.equal(JSON.parse(short.stdout).client_secret, '****', 'a short secret shows no tail at all');
  const listed = Object.fromEntries(JSON.parse(list.stdout).connections.map((c: any) => [c.name, c.client_secret]));
  assert.deepEqual([listed.corp, listed.envy, listed.short], ['****XYZW', 'env:CORP_SECRET', '****']);

  const rotated = await run(['connection', 'set', 'corp', '--client-secret-stdin', '--json'], {
    input: ROTATED_SECRET,
  });
  assert.deepEqual(
    [JSON.parse(rotated.stdout).before.client_secret, JSON.parse(rotated.stdout).after.client_secret],
    ['****XYZW', '****LMNO'],
  );
  const dry = await run(['connection', 'set', 'corp', '--client-secret-stdin', '--dry-run'], { input: STDIN_SECRET });
  assert.match(dry.stdout, /client_secret: \*\*\*\*LMNO -> \*\*\*\*XYZW/);

  await Promise.all([
    run(['connection', 'list']),
    run(['connection', 'show', 'corp']),
    run(['connection', 'show', 'envy']),
    run(['connection', 'set', 'corp', '--jit=false']),
    run(['connection', 'set', 'envy', '--jit=false', '--json']),
    run(['connection', 'set', 'corp', '--client-secret-env', 'CORP_SECRET', '--dry-run', '--json']),
    run(['events']),
    run(['events', '--json', '--limit', '100']),
    run(['app', 'list', '--json']),
    run(['users', 'export', '--with-password-hashes']),
  ]);

  // Error paths, with --debug (stack and cause) and --json, some after the secret has been read.
  const failures = await Promise.all([
    run(['connection', 'set', 'corp', '--client-secret-stdin', '--issuer', 'ftp://bad', '--debug'], {
      input: ROTATED_SECRET,
    }),
    run(['connection', 'set', 'corp', '--client-secret-stdin', '--issuer', 'ftp://bad', '--json', '--debug'], {
      input: ROTATED_SECRET,
    }),
    run(['connection', 'add', 'corp', '--type', 'oidc', '--client-id', 'x', '--client-secret-stdin', '--debug'], {
      input: STDIN_SECRET,
    }),
    run(
      [
        'connection',
        'add',
        'dup',
        '--type',
        'oidc',
        '--client-id',
        'x',
        '--client-secret-stdin',
        '--client-secret-env',
        'CORP_SECRET',
        '--debug',
      ],
      { input: STDIN_SECRET },
    ),
    run(['connection', 'show', 'corpp', '--debug', '--json']),
    run(['connection', 'set', 'corp', '--sync', 'bogus', '--client-secret-stdin', '--debug'], { input: STDIN_SECRET }),
    // a secret typed where it does not belong is not echoed back either
    run(['connection', 'add', 'oops', '--type', 'github', `--client-secret=${STDIN_SECRET}`]),
    run(['connection', 'set', 'corp', `--client-secret-stdin=${STDIN_SECRET}`, '--json']),
    run(['connection', 'add', 'oops', '--type', 'github', '--client-id', 'x', '--client-secret-env', STDIN_SECRET]),
    run([
      'connection',
      'add',
      'oops',
      '--type',
      'github',
      '--client-id',
      'x',
      '--client-secret-env',
      ENV_SECRET,
      '--debug',
    ]),
  ]);
  for (const r of failures) assert.notEqual(r.code, 0, r.stderr);
  assert.match(failures[0]!.stderr, /at /, '--debug printed a stack, and still no secret');
  assertNoLeak();
});

test('stored secrets are sealed: no secret is in clear in the database file', async () => {
  const store = openStore(home);
  try {
    assert.equal(
      await store.connections.storedSecret('corp'),
      ROTATED_SECRET,
      'the previous test stored the rotated secret',
    );
  } finally {
    store.close();
  }
  const bytes = Buffer.concat(
    ['idp.db', 'idp.db-wal']
      .map((f) => join(home, f))
      .filter(existsSync)
      .map((f) => readFileSync(f)),
  );
  for (const secret of SECRETS) {
    assert.equal(bytes.indexOf(secret), -1, `${secret} in idp.db`);
    assert.equal(bytes.indexOf(Buffer.from(secret, 'utf16le')), -1, `${secret} (UTF-16) in idp.db`);
  }
  assert.ok(
    bytes.includes('XYZW') || bytes.includes('LMNO'),
    'control: the masked tail is stored, so the search works',
  );
  const events = await idpJson(['events', '--json', '--limit', '1000'], { home, env });
  assert.ok(
    events.events.some((e: any) => e.action === 'connection.set' && e.after?.client_secret === '****LMNO'),
    'the audit trail records the change, masked',
  );
  await idpOk(['connection', 'list'], { home });
});
