// Policy files against real stores, in process: export -> apply round trips byte for byte (YAML and JSON), a second
// apply plans nothing and writes nothing, applyPlan is one transaction, and what a file cannot carry (secrets) stays
// idempotent.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { planPolicy, validatePolicy, type PlanItem } from '../../src/core/policy.js';
import { applyPlan } from '../../src/app/apply.js';
import { exportPolicy, parsePolicy, policyText } from '../../src/app/policy-file.js';
import { prepareHome } from '../../src/store/db.js';
import { createOrganisation } from '../../src/cli/context.js';
import { openStore, type SqliteStore as Store } from '../../src/store/store.js';
import { renderHint } from '../../src/cli/hints.js';
import { tempDir } from '../helpers/idp.js';
import { demoStore } from '../helpers/login.js';
import { SKIP_MFA_SCRIPT } from '../helpers/scripts.js';

const FILE = 'policy.yaml';

async function emptyStore(t: TestContext): Promise<Store> {
  const home = join(tempDir('apply-empty'), 'org');
  prepareHome(home);
  const store = openStore(home);
  t.after(() => store.close());
  await createOrganisation(store, { demo: false, actor: 'test' });
  return store;
}

async function planFor(store: Store, text: string, prune = false): Promise<PlanItem[]> {
  const doc = validatePolicy(parsePolicy(text, FILE), FILE);
  return planPolicy(
    { orgName: await store.org.name(), apps: await store.apps.list(), connections: await store.connections.list() },
    doc,
    { prune, file: FILE },
  );
}

/** What `idp apply` does: plan, then apply unless there is nothing to do. Returns the plan and the notes. */
async function apply(store: Store, text: string, prune = false): Promise<{ plan: PlanItem[]; notes: string[] }> {
  const plan = await planFor(store, text, prune);
  return {
    plan,
    notes: plan.length ? (await applyPlan(store, plan, 'test', FILE)).map((note) => renderHint(note)!) : [],
  };
}

const exportText = async (store: Store, format: 'yaml' | 'json' = 'yaml'): Promise<string> =>
  policyText(await exportPolicy(store), format);
const configEvents = async (store: Store): Promise<number> =>
  (await store.events.list({ limit: 100_000 })).filter((e) => e.kind === 'config').length;

/** Org A of the round trip: the demo org plus a script, an MFA step, an oidc connection, linking, JIT off. */
async function orgA(t: TestContext): Promise<Store> {
  const store = await demoStore(t);
  await store.apps.update('thrift', {
    steps: [['password', 'google', 'github'], ['email-otp']],
    script: SKIP_MFA_SCRIPT,
  });
  await store.connections.insert({
    name: 'corp',
    type: 'oidc',
    sandbox: false,
    issuer: 'https://login.corp.example.com',
    clientId: 'corp-client',
    secret: { kind: 'env', variable: 'CORP_CLIENT_SECRET' },
    scopes: ['openid', 'email', 'profile'],
    jit: { enabled: true, scheme: 'prompt-consent', sync: 'preserve-local', linking: 'off' },
    attributeMap: { department: 'dept', login: 'nickname' },
  });
  await store.connections.update('github', {
    jit: { ...(await store.connections.get('github'))!.jit, linking: 'verified-email' },
  });
  await store.connections.update('google', {
    jit: { ...(await store.connections.get('google'))!.jit, enabled: false },
  });
  return store;
}

for (const format of ['yaml', 'json'] as const) {
  test(`round trip (${format}): export A, apply to an empty org B, export B is byte-identical`, async (t) => {
    const a = await orgA(t);
    const text = await exportText(a, format);
    for (const part of [
      'login.corp.example.com',
      'CORP_CLIENT_SECRET',
      'verified-email',
      'email-otp',
      "var localAuthenticator = 'LOCAL';",
      'department',
    ])
      assert.ok(text.includes(part), `export holds ${part}`);
    const b = await emptyStore(t);
    const { plan } = await apply(b, text);
    assert.ok(plan.length > 0);
    assert.equal(await exportText(b, format), text);
    assert.equal(
      await exportText(b, format === 'yaml' ? 'json' : 'yaml'),
      await exportText(a, format === 'yaml' ? 'json' : 'yaml'),
    );
    // The sandbox connections B created can serve logins: each got a secret of its own, never the file's business.
    assert.ok(await b.connections.storedSecret('github'));
    assert.deepEqual((await b.connections.get('corp'))?.secret, { kind: 'env', variable: 'CORP_CLIENT_SECRET' });
  });
}

test('a second apply of the same file plans nothing and writes no event; nor does applying an export to its own org', async (t) => {
  const a = await orgA(t);
  const text = await exportText(a);
  const b = await emptyStore(t);
  await apply(b, text);
  const events = await configEvents(b);
  const again = await apply(b, text);
  assert.deepEqual(again.plan, []);
  assert.equal(await configEvents(b), events);
  assert.equal(await exportText(b), text);
  assert.deepEqual(await planFor(a, text, true), [], 'the export of an org is that org, prune included');
});

test('applyPlan writes one config event per change, naming the file and the paths, with before and after', async (t) => {
  const store = await demoStore(t);
  const before = await configEvents(store);
  await apply(store, 'connections: { github: { jit: { enabled: false, sync: none } } }');
  const [event] = await store.events.list({ limit: 1 });
  assert.equal(await configEvents(store), before + 1);
  assert.equal(event?.action, 'apply.connection.update');
  assert.equal(event?.target, 'connection github');
  assert.match(event?.detail ?? '', /policy\.yaml: jit\.enabled, jit\.sync$/);
  assert.deepEqual(event?.before, [
    { path: 'jit.enabled', value: true },
    { path: 'jit.sync', value: 'override-all' },
  ]);
  assert.deepEqual((await store.connections.get('github'))?.jit, {
    enabled: false,
    scheme: 'silent',
    sync: 'none',
    linking: 'off',
  });
});

test('applyPlan is all or nothing: a later item the store refuses undoes the earlier ones', async (t) => {
  const store = await demoStore(t);
  const text = await exportText(store);
  const events = await configEvents(store);
  const thriftId = (await store.apps.get('thrift'))!.clientId;
  // Planning refuses a taken client_id; a plan made by hand reaches the store's UNIQUE constraint instead.
  const plan: PlanItem[] = [
    ...(await planFor(store, 'connections: { github: { jit: { enabled: false } } }')),
    {
      action: 'create',
      kind: 'app',
      name: 'shop',
      changes: [],
      desired: { client_id: thriftId, redirect_uris: [], steps: [['password']], attributes: ['email'] },
    },
  ];
  await assert.rejects(async () => applyPlan(store, plan, 'test', FILE), /unique/i); // SQLite: UNIQUE constraint failed; PostgreSQL: violates unique constraint
  assert.equal(await exportText(store), text);
  assert.equal(await configEvents(store), events);
});

test('--prune deletes what the file does not name (not myaccount); a renamed app keeps its client_id', async (t) => {
  const store = await demoStore(t);
  const thrift = (await store.apps.get('thrift'))!;
  const { plan } = await apply(
    store,
    `apps: { shop: { client_id: ${thrift.clientId}, steps: [[password, github]] } }\nconnections: { github: {} }\n`,
    true,
  );
  assert.deepEqual(plan.map((i) => `${i.action} ${i.kind} ${i.name}`).sort(), [
    'create app shop',
    'delete app thrift',
    'delete connection google',
  ]);
  assert.deepEqual((await store.apps.names()).sort(), ['myaccount', 'shop']);
  assert.deepEqual(await store.connections.names(), ['github']);
  assert.equal((await store.apps.get('shop'))?.clientId, thrift.clientId);
});

test('a new real connection with client_secret: stored is created without one, noted once, and stays idempotent', async (t) => {
  const store = await demoStore(t);
  const file = 'connections: { gh-real: { type: github, client_id: Iv1.real, client_secret: stored } }';
  const first = await apply(store, file);
  assert.deepEqual(
    first.plan.map((i) => i.action),
    ['create'],
  );
  assert.deepEqual(first.notes, [
    'connection gh-real has no client secret yet: idp connection set gh-real --client-secret-stdin',
  ]);
  assert.deepEqual((await store.connections.get('gh-real'))?.secret, { kind: 'none' });
  const events = await configEvents(store);
  assert.deepEqual((await apply(store, file)).plan, []);
  assert.equal(await configEvents(store), events);
});

test('an env reference replaces a stored secret, and the stored value is gone', async (t) => {
  const store = await demoStore(t);
  await apply(store, 'connections: { corp: { type: oidc, issuer: "https://login.corp.example.com", client_id: c } }');
  await store.connections.update('corp', { secret: { kind: 'value', value: 'canary-stored-secret-9f31' } });
  const { plan } = await apply(store, 'connections: { corp: { client_secret_env: CORP_SECRET } }');
  assert.deepEqual(plan[0]?.changes, [
    { path: 'client_secret', before: 'stored', after: null },
    { path: 'client_secret_env', before: null, after: 'CORP_SECRET' },
  ]);
  assert.deepEqual((await store.connections.get('corp'))?.secret, { kind: 'env', variable: 'CORP_SECRET' });
  assert.equal(await store.connections.storedSecret('corp'), null);
  assert.ok(!JSON.stringify(await store.events.list({ limit: 10 })).includes('canary-stored-secret-9f31'));
});
