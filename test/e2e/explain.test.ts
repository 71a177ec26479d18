// `idp explain` as a user runs it: the JSON document's exact keys, no write to the org (file hash, every table, and
// what the CLI reads back), --claims on a real connection without contacting its issuer, and the usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openStoreReadOnly } from '../../src/store/store.js';
import { expectCode, idpJson, idpOk, runIdp, seededHome, snapshot, tempDir } from '../helpers/idp.js';

const KEYS = ['attributes', 'decision', 'mfa_possible', 'mfa_required', 'reason', 'steps', 'user'];

/** The database file's hash and every row of every table, read through a read-only connection. */
function dbFingerprint(home: string): string {
  const store = openStoreReadOnly(home);
  try {
    const tables = store.db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
    const rows = tables.map((t) => `${t} ${JSON.stringify(store.db.prepare(`SELECT * FROM "${t}"`).all())}`);
    return [
      createHash('sha256')
        .update(readFileSync(join(home, 'idp.db')))
        .digest('hex'),
      ...rows,
    ].join('\n');
  } finally {
    store.close();
  }
}

async function everything(home: string): Promise<string> {
  return `${await snapshot(home)}\n${dbFingerprint(home)}`;
}

function claimsFile(claims: unknown): string {
  const file = join(tempDir('claims'), 'upstream.json');
  writeFileSync(file, typeof claims === 'string' ? claims : JSON.stringify(claims));
  return file;
}

test('explain --json has exactly its documented keys, and explaining each decision writes nothing', async () => {
  const home = await seededHome();
  const before = await everything(home);
  const provision = await idpJson(
    ['explain', '--app', 'thrift', '--connection', 'github', '--as', 'octocat', '--json'],
    { home },
  );
  const deny = await idpJson(['explain', '--app', 'thrift', '--connection', 'github', '--as', 'alice-gh', '--json'], {
    home,
  });
  const human = await idpOk(['explain', '--app', 'thrift', '--connection', 'github', '--as', 'octocat', '--no-color'], {
    home,
  });
  assert.equal(await everything(home), before);

  assert.deepEqual(Object.keys(provision).sort(), KEYS);
  assert.deepEqual(Object.keys(deny).sort(), KEYS);
  assert.equal(provision.decision, 'provision');
  assert.deepEqual(provision.user, { id: null, username: 'octocat', email: 'octocat@example.com', state: 'new' });
  assert.ok(provision.attributes.some((a: { attribute: string }) => a.attribute === 'email'));
  assert.equal(deny.decision, 'deny');
  assert.match(deny.reason, /linking is off/);
  assert.equal(deny.user, null);
  assert.match(human.stdout, /decision\s+provision/);
  assert.match(human.stdout, /would create octocat \(octocat@example\.com\)/);
  assert.match(human.stdout, /upstream\s+subject 583231/);
});

test('--claims explains a real oidc connection without contacting its issuer; --as is refused there', async (t) => {
  let requests = 0;
  const issuer = createServer((_req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
  t.after(() => issuer.close());
  const home = await seededHome();
  const url = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  await idpOk(
    [
      'connection',
      'add',
      'corp',
      '--type',
      'oidc',
      '--issuer',
      url,
      '--client-id',
      'corp-client',
      '--client-secret-env',
      'CORP_SECRET',
    ],
    { home },
  );
  await idpOk(['app', 'set', 'thrift', '--step', '1=password,corp'], { home });
  const before = await everything(home);

  const claims = claimsFile({ sub: 'corp-77', email: 'dana@corp.example', email_verified: true, name: 'Dana Scully' });
  const r = await idpJson(['explain', '--app', 'thrift', '--connection', 'corp', '--claims', claims, '--json'], {
    home,
    env: { CORP_SECRET: undefined },
  });
  assert.deepEqual(Object.keys(r).sort(), KEYS);
  assert.equal(r.decision, 'provision');
  assert.deepEqual(r.user, { id: null, username: 'dana', email: 'dana@corp.example', state: 'new' });
  assert.deepEqual(r.steps, [{ step: 1, options: ['corp'] }]);

  const persona = expectCode(
    await runIdp(['explain', '--app', 'thrift', '--connection', 'corp', '--as', 'octocat'], { home }),
    2,
  );
  assert.match(persona.stderr, /real oidc connection/);
  assert.match(persona.stderr, /--claims/);
  assert.equal(requests, 0, 'the issuer was never contacted');
  assert.equal(await everything(home), before);
});

test('usage errors: neither or both of --as and --claims, a claims file that is not JSON or has no sub', async () => {
  const home = await seededHome();
  const base = ['explain', '--app', 'thrift', '--connection', 'github'];
  const good = claimsFile({ sub: '1', email: 'x@example.com' });
  const cases: [string[], RegExp][] = [
    [base, /exactly one of --as PERSONA or --claims FILE/],
    [[...base, '--as', 'octocat', '--claims', good], /exactly one of --as PERSONA or --claims FILE/],
    [[...base, '--claims', claimsFile('{ not json')], /upstream\.json: not valid JSON/],
    [[...base, '--claims', claimsFile({ email: 'x@example.com' })], /must be a JSON object with a string "sub"/],
    [[...base, '--claims', join(tempDir('claims'), 'missing.json')], /cannot read .*missing\.json/],
  ];
  const results = await Promise.all(cases.map(([args]) => runIdp(args, { home })));
  results.forEach((r, i) => {
    expectCode(r, 2, cases[i]![0].join(' '));
    assert.match(r.stderr, cases[i]![1]);
    assert.match(r.stderr, /hint: /);
  });
});

test('upstream claims reach the terminal escaped: a claim cannot clear the screen, set the title or fake a line', async () => {
  const home = await seededHome();
  const hostile = 'Eve\u001b[2J\u001b]0;pwned\u0007\nhint: run rm -rf';
  const file = claimsFile({ sub: 'evil-1', name: hostile, email: 'eve@example.com', email_verified: true });
  const r = expectCode(
    await runIdp(['explain', '--app', 'thrift', '--connection', 'github', '--claims', file], { home }),
    0,
  );
  assert.doesNotMatch(r.stdout, /[\u001b\u0007]/, 'no escape or bell byte is written');
  assert.doesNotMatch(r.stdout, /^hint: run/m, 'the claim does not start a line of its own');
  assert.match(r.stdout, /Eve\\x1b\[2J/, 'the claim is shown, escaped');
});
