// `idp export` and `idp apply` as a user runs them: deterministic export without secret values, the byte-identical
// round trip into an `init --empty` org, idempotence, all-or-nothing refusals (exit 2, file and path named), partial
// files, --dry-run, --json and --prune.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { openStoreReadOnly } from '../../src/store/store.js';
import { expectCode, idpJson, idpOk, runIdp, seededHome, snapshot, tempDir } from '../helpers/idp.js';

/** A policy file in a fresh directory. */
function policyFile(text: string, name = 'idp.yaml'): string {
  const file = join(tempDir('policy'), name);
  writeFileSync(file, text);
  return file;
}

async function exportText(home: string, ...args: string[]): Promise<string> {
  return (await idpOk(['export', ...args], { home })).stdout;
}

async function configEventCount(home: string): Promise<number> {
  const { events } = await idpJson<{ events: { kind: string }[] }>(['events', '--json', '--limit', '10000'], { home });
  return events.filter((e) => e.kind === 'config').length;
}

async function applyJson(
  home: string,
  file: string,
  ...args: string[]
): Promise<{
  changed: boolean;
  dry_run: boolean;
  plan: { action: string; kind: string; name: string; changes: { path: string; before: unknown; after: unknown }[] }[];
}> {
  return idpJson(['apply', '-f', file, '--json', ...args], { home });
}

test('export is deterministic, JSON parses to the same document, and no secret value appears', async () => {
  const home = await seededHome();
  const canary = 'canary-client-secret-QX7Z';
  await idpOk(
    [
      'connection',
      'add',
      'corp',
      '--type',
      'oidc',
      '--issuer',
      'https://login.corp.example.com',
      '--client-id',
      'corp-client',
      '--client-secret-stdin',
    ],
    { home, input: `${canary}\n` },
  );
  await idpOk(
    [
      'connection',
      'add',
      'corp-env',
      '--type',
      'oidc',
      '--issuer',
      'https://login.corp.example.com',
      '--client-id',
      'corp-env-client',
      '--client-secret-env',
      'CORP_ENV_SECRET',
    ],
    { home },
  );
  const [yaml1, yaml2, json1, json2] = await Promise.all([
    exportText(home),
    exportText(home),
    exportText(home, '--format', 'json'),
    exportText(home, '--json'),
  ]);
  assert.equal(yaml1, yaml2, 'same org, same bytes');
  assert.equal(json1, json2, '--json is --format json');
  const doc = JSON.parse(json1);
  assert.deepEqual(doc, parse(yaml1));
  assert.equal(doc.connections.corp.client_secret, 'stored');
  assert.equal(doc.connections['corp-env'].client_secret_env, 'CORP_ENV_SECRET');
  assert.ok(!('client_secret' in doc.connections.github) && !('client_secret_env' in doc.connections.github));

  const store = openStoreReadOnly(home);
  const sandboxSecrets = [
    (await store.connections.storedSecret('github'))!,
    (await store.connections.storedSecret('google'))!,
  ];
  assert.equal(
    await store.connections.storedSecret('corp'),
    canary,
    'the secret was stored, so its absence from the export means something',
  );
  store.close();
  for (const text of [yaml1, json1]) {
    for (const secret of [canary, canary.slice(-4), ...sandboxSecrets])
      assert.ok(!text.includes(secret), `the export holds no secret value (${secret.slice(0, 6)}...)`);
    assert.match(text, /client_secret"?: "?stored/);
    assert.match(text, /client_secret_env"?: "?CORP_ENV_SECRET/);
  }
});

test('round trip: export of org A, applied to an `init --empty` org B, exports byte for byte; a second apply changes nothing', async () => {
  const a = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=email-otp'], { home: a });
  await idpOk(['app', 'script', 'set', 'thrift', '--template', 'skip-mfa-for-federated'], { home: a });
  await idpOk(
    [
      'connection',
      'add',
      'corp',
      '--type',
      'oidc',
      '--issuer',
      'https://login.corp.example.com',
      '--client-id',
      'corp-client',
      '--client-secret-env',
      'CORP_SECRET',
      '--map',
      'department=dept',
      '--map',
      'login=nickname',
    ],
    { home: a },
  );
  await idpOk(['connection', 'set', 'github', '--linking', 'verified-email'], { home: a });
  await idpOk(['connection', 'set', 'google', '--jit=false'], { home: a });
  const exported = await exportText(a);
  const doc = parse(exported);
  assert.deepEqual(doc.apps.thrift.steps, [['password', 'google', 'github'], ['email-otp']]);
  assert.match(doc.apps.thrift.script, /context\.steps\[1\]/);
  assert.deepEqual(doc.connections.corp.attribute_map, { department: 'dept', login: 'nickname' });
  assert.equal(doc.connections.github.jit.linking, 'verified-email');
  assert.equal(doc.connections.google.jit.enabled, false);

  const b = join(tempDir('policy-b'), 'org');
  await idpOk(['init', '--empty', '--quiet'], { home: b });
  assert.notEqual(await exportText(b), exported);
  const file = policyFile(exported);
  const first = await applyJson(b, file);
  assert.equal(first.changed, true);
  assert.equal(await exportText(b), exported, 'byte for byte');

  const events = await configEventCount(b);
  assert.deepEqual(await applyJson(b, file), { changed: false, dry_run: false, plan: [] });
  assert.equal(await configEventCount(b), events, 'an idempotent apply writes no event');
  assert.match((await idpOk(['apply', '-f', file], { home: b })).stdout, /no changes/);
});

test('a file whose later part is invalid changes nothing, exits 2 and names the file, the path and the allowed values', async () => {
  const home = await seededHome();
  const file = policyFile(`apps:
  thrift:
    steps: [[password, github], [email-otp]]
connections:
  google:
    jit: { enabled: false }
  github:
    jit: { sync: sometimes }
`);
  const before = await snapshot(home);
  for (const args of [[], ['--json']]) {
    const r = expectCode(await runIdp(['apply', '-f', file, ...args], { home }), 2);
    assert.ok(r.stderr.includes(`${file}: connections.github.jit.sync:`), r.stderr);
    assert.match(r.stderr, /allowed values: override-all, preserve-local, none/);
    if (args.length) assert.equal(JSON.parse(r.stdout).error.code, 'FILE_INVALID');
  }
  assert.equal(await snapshot(home), before);
});

test('each kind of bad file is refused with exit 2, its path and its fix, and nothing changes', async () => {
  const home = await seededHome();
  const before = await snapshot(home);
  const cases: [string, RegExp[]][] = [
    ['connections:\n  github:\n    jit: enabled: false\napps: {}\n', [/idp\.yaml:3: /, /YAML/]],
    [
      'connections: { github: { jitt: { enabled: false } } }\n',
      [/connections\.github\.jitt: unknown key/, /did you mean 'jit'/],
    ],
    ['connections: { github: { type: google } }\n', [/connections\.github\.type: cannot change from github to google/]],
    ['apps: { thrift: { steps: [[password, corp]] } }\n', [/apps\.thrift\.steps: .*corp/]],
    [
      'connections: { github: { client_secret: plain-value-4d2f } }\n',
      [/connections\.github\.client_secret: /, /client_secret_env/],
    ],
    [
      'connections: { corp: { type: oidc, client_id: c, issuer: "http://login.corp.example.com" } }\n',
      [/connections\.corp\.issuer: .*https/],
    ],
    [
      'connections: { corp: { client_id: c } }\n',
      [/connections\.corp\.type: is needed for a new connection/, /github, google, oidc/],
    ],
    [
      'apps: { shop: { steps: [[password]], client_id: PLACEHOLDER } }\n',
      [/apps\.shop\.client_id: is already the client_id of app thrift/],
    ],
  ];
  const thriftId = (await idpJson<{ client_id: string }>(['app', 'show', 'thrift', '--json'], { home })).client_id;
  assert.ok(thriftId);
  const results = await Promise.all(
    cases.map(([text]) => runIdp(['apply', '-f', policyFile(text.replace('PLACEHOLDER', thriftId))], { home })),
  );
  results.forEach((r, i) => {
    const [text, patterns] = cases[i]!;
    expectCode(r, 2, text);
    assert.match(r.stderr, /idp\.yaml/, 'the file is named');
    for (const pattern of patterns) assert.match(r.stderr, pattern);
    assert.ok(!r.stderr.includes('plain-value-4d2f'), 'a secret value is never repeated');
    assert.ok(!/at \w+ \(/.test(r.stderr), 'no stack trace');
  });
  assert.equal(await snapshot(home), before);
});

test('a partial file changes only what it names; --dry-run prints the plan and changes nothing', async () => {
  const home = await seededHome();
  const file = policyFile('connections: { github: { jit: { enabled: false } } }\n');
  const before = await exportText(home, '--json');
  const expectedPlan = [
    {
      action: 'update',
      kind: 'connection',
      name: 'github',
      changes: [{ path: 'jit.enabled', before: true, after: false }],
    },
  ];

  const dry = await applyJson(home, file, '--dry-run');
  assert.deepEqual(Object.keys(dry).sort(), ['changed', 'dry_run', 'plan']);
  assert.deepEqual(dry, { changed: false, dry_run: true, plan: expectedPlan });
  const human = await idpOk(['apply', '-f', file, '--dry-run', '--no-color'], { home });
  assert.match(human.stdout, /~ connection github\n\s+jit\.enabled: true -> false\n/);
  assert.match(human.stdout, /dry run: 1 change\(s\) planned, nothing changed/);
  assert.equal(await exportText(home, '--json'), before, '--dry-run changes nothing');

  const applied = await applyJson(home, file);
  assert.deepEqual(applied, { changed: true, dry_run: false, plan: expectedPlan });
  const expected = JSON.parse(before);
  expected.connections.github.jit.enabled = false;
  assert.deepEqual(JSON.parse(await exportText(home, '--json')), expected, 'only github jit.enabled changed');
});

test('--prune deletes the app and connection the file does not name, never myaccount', async () => {
  const home = await seededHome();
  const file = policyFile(await exportText(home));
  await idpOk(['app', 'create', 'shop'], { home });
  await idpOk(['connection', 'add', 'gh2', '--type', 'github', '--sandbox'], { home });

  const keep = await applyJson(home, file);
  assert.deepEqual(keep.plan, [], 'without --prune, unnamed entities stay');
  const partial = policyFile('apps: { thrift: {} }\nconnections: { github: {} }\n');
  const refused = expectCode(await runIdp(['apply', '-f', partial, '--prune'], { home }), 2);
  assert.match(refused.stderr, /apps\.thrift\.steps/, 'pruning google would break thrift, which the file does not fix');

  const pruned = await applyJson(home, file, '--prune');
  assert.deepEqual(pruned.plan.map((i) => `${i.action} ${i.kind} ${i.name}`).sort(), [
    'delete app shop',
    'delete connection gh2',
  ]);
  const { apps } = await idpJson<{ apps: { name: string }[] }>(['app', 'list', '--json'], { home });
  assert.deepEqual(apps.map((a) => a.name).sort(), ['myaccount', 'thrift']);
  assert.equal(await exportText(home), readFileSync(file, 'utf8'), 'back to the org the file describes');
});

test('two apps swapping client_ids, and a new app taking one an app gives up, apply in one go', async () => {
  const home = await seededHome();
  await idpOk(['app', 'create', 'shop'], { home });
  const idOf = async (app: string) =>
    (await idpJson<{ client_id: string }>(['app', 'show', app, '--json'], { home })).client_id;
  const [thrift, shop] = [await idOf('thrift'), await idOf('shop')];
  const swap = policyFile(`apps: { thrift: { client_id: ${shop} }, shop: { client_id: ${thrift} } }\n`);
  const swapped = await applyJson(home, swap);
  assert.deepEqual(swapped.plan.map((i) => `${i.action} ${i.name}: ${i.changes.map((c) => c.path).join()}`).sort(), [
    'update shop: client_id',
    'update thrift: client_id',
  ]);
  assert.deepEqual([await idOf('thrift'), await idOf('shop')], [shop, thrift]);

  const handOver = policyFile(
    `apps: { shop: { client_id: shop-2 }, kiosk: { steps: [[password]], client_id: ${thrift} } }\n`,
  );
  await applyJson(home, handOver);
  assert.deepEqual([await idOf('shop'), await idOf('kiosk')], ['shop-2', thrift]);
  assert.deepEqual((await applyJson(home, handOver)).plan, [], 'and applying it again changes nothing');
});
