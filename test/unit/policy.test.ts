// The policy file's pure rules: validation with the file, the path and the allowed values in every error; the export
// shape of apps and connections (secrets only as references); and the plan from an org to a file (partial, prune).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpError } from '../../src/core/errors.js';
import {
  exportApp,
  exportConnection,
  planPolicy,
  validatePolicy,
  type PlanItem,
  type PolicyDoc,
} from '../../src/core/policy.js';
import type { App, Connection } from '../../src/core/types.js';
import { hintOf } from '../helpers/hints.js';

const FILE = 'org.yaml';
const AT = '2026-01-01T00:00:00.000Z';

function app(name: string, patch: Partial<App> = {}): App {
  return {
    name,
    clientId: `cid-${name}`,
    type: 'spa',
    origins: ['http://localhost:5173'],
    idTokenAlg: 'RS256',
    hasSecret: false,
    redirectUris: ['http://localhost:5173/'],
    steps: [['password', 'google', 'github']],
    attributes: ['username', 'email'],
    script: null,
    builtIn: false,
    createdAt: AT,
    updatedAt: AT,
    ...patch,
  };
}

function connection(name: string, patch: Partial<Connection> = {}): Connection {
  return {
    name,
    type: name === 'google' ? 'google' : 'github',
    sandbox: true,
    issuer: null,
    tokenAuth: null,
    baseUrl: null,
    clientId: `client-${name}`,
    secret: { kind: 'stored', last4: 'abcd' },
    scopes: ['read:user', 'user:email'],
    jit: { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' },
    attributeMap: {},
    createdAt: AT,
    updatedAt: AT,
    ...patch,
  };
}

/** The demo org's shape: thrift, the built-in myaccount, sandbox github and google. */
function demo(): { orgName: string; apps: App[]; connections: Connection[] } {
  return {
    orgName: 'default',
    apps: [app('myaccount', { steps: [['password']], redirectUris: [], builtIn: true }), app('thrift')],
    connections: [connection('github'), connection('google', { scopes: ['openid', 'email', 'profile'] })],
  };
}

function plan(
  raw: unknown,
  opts: { prune?: boolean; current?: { orgName: string; apps: App[]; connections: Connection[] } } = {},
): PlanItem[] {
  return planPolicy(opts.current ?? demo(), validatePolicy(raw, FILE), { prune: !!opts.prune, file: FILE });
}

/** Asserts FILE_INVALID naming the file and the path; returns the error for further checks. */
function invalid(run: () => unknown, path: string): IdpError {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof IdpError, `expected FILE_INVALID at ${path}, got ${String(caught)}`);
  assert.equal(caught.code, 'FILE_INVALID', caught.message);
  assert.equal(caught.exitCode, 2);
  assert.ok(caught.message.startsWith(`${FILE}: ${path}:`), `expected '${FILE}: ${path}:' in: ${caught.message}`);
  assert.ok(caught.hint, 'every file error carries a hint');
  return caught;
}

/** The demo org exactly as an export describes it. */
function exported(): PolicyDoc {
  const { apps, connections } = demo();
  return {
    apps: Object.fromEntries(apps.map((a) => [a.name, exportApp(a)])),
    connections: Object.fromEntries(connections.map((c) => [c.name, exportConnection(c)])),
  };
}

test('an empty file, an empty mapping and a partial file are valid; a partial one holds only what it names', () => {
  assert.deepEqual(validatePolicy(null, FILE), { apps: {}, connections: {} });
  assert.deepEqual(validatePolicy({}, FILE), { apps: {}, connections: {} });
  assert.deepEqual(validatePolicy({ connections: { github: { jit: { enabled: false } } } }, FILE), {
    apps: {},
    connections: { github: { jit: { enabled: false } } },
  });
  assert.deepEqual(validatePolicy({ connections: { github: null } }, FILE).connections, { github: {} });
});

test('a value outside an enumeration names the path and the allowed values', () => {
  const err = invalid(
    () =>
      validatePolicy(
        { apps: { thrift: { steps: [['password']] } }, connections: { github: { jit: { sync: 'sometimes' } } } },
        FILE,
      ),
    'connections.github.jit.sync',
  );
  assert.match(err.message, /'sometimes'/);
  assert.match(hintOf(err), /allowed values: override-all, preserve-local, none/);
  assert.match(
    hintOf(
      invalid(
        () => validatePolicy({ connections: { github: { jit: { scheme: 'silnt' } } } }, FILE),
        'connections.github.jit.scheme',
      ),
    ),
    /did you mean 'silent'/,
  );
  assert.match(
    hintOf(invalid(() => validatePolicy({ connections: { x: { type: 'saml' } } }, FILE), 'connections.x.type')),
    /github, google, oidc/,
  );
});

test('unknown keys are refused at every level, with the allowed keys', () => {
  assert.match(
    hintOf(invalid(() => validatePolicy({ connectons: {} }, FILE), '(top level).connectons')),
    /allowed keys: org, apps, connections/,
  );
  assert.match(
    hintOf(invalid(() => validatePolicy({ connections: { github: { jitt: {} } } }, FILE), 'connections.github.jitt')),
    /did you mean 'jit'/,
  );
  assert.match(
    hintOf(
      invalid(
        () => validatePolicy({ connections: { github: { jit: { on: true } } } }, FILE),
        'connections.github.jit.on',
      ),
    ),
    /enabled, scheme, sync, linking/,
  );
  invalid(() => validatePolicy({ apps: { thrift: { step: [['password']] } } }, FILE), 'apps.thrift.step');
});

test('types are checked: booleans, lists, steps, names', () => {
  invalid(
    () => validatePolicy({ connections: { github: { jit: { enabled: 'no' } } } }, FILE),
    'connections.github.jit.enabled',
  );
  invalid(() => validatePolicy({ connections: { github: { sandbox: 1 } } }, FILE), 'connections.github.sandbox');
  invalid(
    () => validatePolicy({ connections: { github: { scopes: 'read:user' } } }, FILE),
    'connections.github.scopes',
  );
  invalid(() => validatePolicy({ apps: { thrift: { steps: 'password' } } }, FILE), 'apps.thrift.steps');
  invalid(() => validatePolicy({ apps: { thrift: { steps: [['password', 7]] } } }, FILE), 'apps.thrift.steps[0][1]');
  invalid(
    () => validatePolicy({ apps: { thrift: { redirect_uris: ['not a url'] } } }, FILE),
    'apps.thrift.redirect_uris[0]',
  );
  invalid(() => validatePolicy({ apps: { 'bad name!': {} } }, FILE), 'apps.bad name!');
  invalid(() => validatePolicy({ apps: [] }, FILE), 'apps');
});

test('YAML 1.1 "off" read as false is linking off; anything else is refused', () => {
  assert.equal(
    validatePolicy({ connections: { github: { jit: { linking: false } } } }, FILE).connections.github?.jit?.linking,
    'off',
  );
  invalid(
    () => validatePolicy({ connections: { github: { jit: { linking: true } } } }, FILE),
    'connections.github.jit.linking',
  );
});

test('a secret value is refused without echoing it, pointing at client_secret_env', () => {
  const err = invalid(
    () => validatePolicy({ connections: { corp: { client_secret: 'canary-Secret-4711' } } }, FILE),
    'connections.corp.client_secret',
  );
  assert.match(`${err.message} ${err.hint}`, /client_secret_env/);
  assert.ok(!`${err.message} ${err.hint}`.includes('canary-Secret-4711'), 'the secret is not repeated');
  assert.deepEqual(validatePolicy({ connections: { corp: { client_secret: 'stored' } } }, FILE).connections.corp, {
    client_secret: 'stored',
  });
  invalid(
    () => validatePolicy({ connections: { corp: { client_secret_env: 'not a var' } } }, FILE),
    'connections.corp.client_secret_env',
  );
  invalid(
    () => validatePolicy({ connections: { corp: { client_secret_env: 'CORP', client_secret: 'stored' } } }, FILE),
    'connections.corp',
  );
});

test('an http issuer is refused unless it is loopback', () => {
  invalid(
    () => validatePolicy({ connections: { corp: { issuer: 'http://login.example.com' } } }, FILE),
    'connections.corp.issuer',
  );
  assert.equal(
    validatePolicy({ connections: { corp: { issuer: 'http://127.0.0.1:8080' } } }, FILE).connections.corp?.issuer,
    'http://127.0.0.1:8080',
  );
  assert.equal(
    validatePolicy({ connections: { corp: { issuer: 'https://login.example.com' } } }, FILE).connections.corp?.issuer,
    'https://login.example.com',
  );
});

test('export: every key in a fixed order; secrets only as a reference, a sandbox secret not at all', () => {
  const thrift = app('thrift', { script: 'var onLoginRequest = function (c) { executeStep(1); };' });
  assert.deepEqual(Object.keys(exportApp(thrift)), [
    'client_id',
    'type',
    'redirect_uris',
    'origins',
    'id_token_alg',
    'steps',
    'attributes',
    'script',
  ]);
  assert.deepEqual(
    Object.keys(exportApp(app('thrift'))),
    ['client_id', 'type', 'redirect_uris', 'origins', 'id_token_alg', 'steps', 'attributes'],
    'no script key without a script',
  );
  const keys = ['type', 'sandbox', 'client_id', 'scopes', 'jit', 'attribute_map'];
  assert.deepEqual(Object.keys(exportConnection(connection('github'))), keys, 'a sandbox secret is never exported');
  const real = connection('corp', { type: 'oidc', sandbox: false, issuer: 'https://login.example.com' });
  assert.deepEqual(exportConnection(real), {
    type: 'oidc',
    sandbox: false,
    issuer: 'https://login.example.com',
    client_id: 'client-corp',
    client_secret: 'stored',
    scopes: ['read:user', 'user:email'],
    jit: { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' },
    attribute_map: {},
  });
  assert.equal(
    exportConnection({ ...real, secret: { kind: 'env', variable: 'CORP_SECRET' } }).client_secret_env,
    'CORP_SECRET',
  );
  assert.ok(!('client_secret' in exportConnection({ ...real, secret: { kind: 'env', variable: 'CORP_SECRET' } })));
  assert.ok(!('client_secret' in exportConnection({ ...real, secret: { kind: 'none' } })));
});

test('the export of an org plans no change against that org', () => {
  assert.deepEqual(planPolicy(demo(), validatePolicy(exported(), FILE), { prune: true, file: FILE }), []);
  assert.deepEqual(plan({}), []);
  assert.deepEqual(plan({ connections: { github: {} } }), []);
});

test('a partial file changes only what it names, key by key', () => {
  const items = plan({ connections: { github: { jit: { enabled: false } } } });
  assert.equal(items.length, 1);
  const [item] = items;
  assert.equal(item?.action, 'update');
  assert.equal(item?.name, 'github');
  assert.deepEqual(item?.changes, [{ path: 'jit.enabled', before: true, after: false }]);
  assert.deepEqual((item!.desired as { jit: unknown }).jit, {
    enabled: false,
    scheme: 'silent',
    sync: 'override-all',
    linking: 'off',
  });

  const steps = plan({ apps: { thrift: { steps: [['password', 'google', 'github'], ['email-otp']] } } });
  assert.deepEqual(
    steps.map((i) => [i.action, i.kind, i.name, i.changes.map((c) => c.path)]),
    [['update', 'app', 'thrift', ['steps']]],
  );
});

test('a new connection needs a type, a real one a client_id, a real oidc one an issuer', () => {
  assert.match(
    hintOf(invalid(() => plan({ connections: { corp: { client_id: 'x' } } }), 'connections.corp.type')),
    /github, google, oidc/,
  );
  invalid(() => plan({ connections: { corp: { type: 'github' } } }), 'connections.corp.client_id');
  invalid(() => plan({ connections: { corp: { type: 'oidc', client_id: 'x' } } }), 'connections.corp.issuer');
  const [created] = plan({ connections: { gh2: { type: 'github', sandbox: true } } });
  assert.equal(created?.action, 'create');
  assert.deepEqual(created?.desired, {
    type: 'github',
    sandbox: true,
    client_id: 'sandbox-gh2',
    scopes: ['read:user', 'user:email'],
    jit: { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' },
    attribute_map: {},
  });
});

test('the type of an existing connection cannot change', () => {
  const err = invalid(() => plan({ connections: { github: { type: 'google' } } }), 'connections.github.type');
  assert.match(err.message, /from github to google/);
});

test('an app step naming an unknown connection is refused at apps.X.steps', () => {
  const err = invalid(() => plan({ apps: { thrift: { steps: [['password', 'corp']] } } }), 'apps.thrift.steps');
  assert.match(err.message, /corp/);
  // The same name becomes valid once the file creates that connection.
  assert.equal(
    plan({
      apps: { thrift: { steps: [['password', 'corp']] } },
      connections: { corp: { type: 'github', sandbox: true } },
    }).length,
    2,
  );
});

test('prune deletes unnamed apps and connections, never the built-in myaccount', () => {
  const current = demo();
  current.apps.push(app('shop', { steps: [['password']] }));
  const file = { apps: { thrift: { steps: [['password', 'github']] } }, connections: { github: {} } };
  const items = plan(file, { prune: true, current });
  const deletes = items.filter((i) => i.action === 'delete').map((i) => `${i.kind} ${i.name}`);
  assert.deepEqual(deletes.sort(), ['app shop', 'connection google']);
  assert.ok(!items.some((i) => i.name === 'myaccount'));
  assert.deepEqual(
    plan(file, { current }).filter((i) => i.action === 'delete'),
    [],
    'without --prune nothing is deleted',
  );
});

test('prune refuses to delete a connection that an app would still offer', () => {
  // thrift is named but keeps its steps, which still offer google.
  assert.match(
    invalid(() => plan({ apps: { thrift: {} }, connections: { github: {} } }, { prune: true }), 'apps.thrift.steps')
      .message,
    /google/,
  );
  // myaccount is never pruned, so it cannot be left offering a deleted connection either.
  const current = demo();
  current.apps[0] = { ...current.apps[0]!, steps: [['password', 'google']] };
  assert.throws(
    () =>
      plan(
        { apps: { thrift: { steps: [['password', 'github']] } }, connections: { github: {} } },
        { prune: true, current },
      ),
    (err: unknown) => {
      assert.ok(err instanceof IdpError && err.code === 'FILE_INVALID');
      assert.match(err.message, /^org\.yaml: removing google would leave app myaccount offering it/);
      assert.match(hintOf(err), /apps\.myaccount\.steps/);
      return true;
    },
  );
});

test("a client_id already used by another app is refused at the file's path", () => {
  invalid(() => plan({ apps: { shop: { client_id: 'cid-thrift' } } }), 'apps.shop.client_id');
  invalid(() => plan({ apps: { thrift: { client_id: 'cid-myaccount' } } }), 'apps.thrift.client_id');
  assert.equal(plan({ apps: { shop: { client_id: 'cid-shop' } } }).length, 1);
  // Taking the id of an app the same plan deletes is fine.
  const current = demo();
  current.apps.push(app('old', { steps: [['password']] }));
  assert.ok(
    plan(
      { apps: { shop: { client_id: 'cid-old' }, thrift: {} }, connections: { github: {}, google: {} } },
      { prune: true, current },
    ).some((i) => i.name === 'shop'),
  );
});

test('client_secret: stored keeps a stored secret, replaces an env reference, and is no change where there is none to keep', () => {
  const real = (secret: Connection['secret']) =>
    connection('corp', { type: 'oidc', sandbox: false, issuer: 'https://login.example.com', secret });
  const withSecret = (secret: Connection['secret']) => ({
    orgName: 'default',
    apps: [app('thrift', { steps: [['password']] })],
    connections: [real(secret)],
  });
  const file = { connections: { corp: { client_secret: 'stored' } } };
  assert.deepEqual(plan(file, { current: withSecret({ kind: 'stored', last4: '4711' }) }), []);
  assert.deepEqual(
    plan(file, { current: withSecret({ kind: 'none' }) }),
    [],
    'a file cannot carry a secret, so there is nothing apply could do',
  );
  const [item] = plan(file, { current: withSecret({ kind: 'env', variable: 'CORP_SECRET' }) });
  assert.deepEqual(item?.changes, [
    { path: 'client_secret_env', before: 'CORP_SECRET', after: null },
    { path: 'client_secret', before: null, after: 'stored' },
  ]);
});

test('a value or key from the file is quoted on one line, escaped and cut short', () => {
  const err = invalid(
    () =>
      validatePolicy(
        { connections: { github: { jit: { sync: `evil\n\u001b[2Jhint: run rm -rf ${'x'.repeat(100)}` } } } },
        FILE,
      ),
    'connections.github.jit.sync',
  );
  assert.ok(!/[\n\u001b]/.test(err.message), err.message);
  assert.match(err.message, /'evil\\u000a\\u001b\[2Jhint: run rm -rf x+\.\.\.'/);
  assert.ok(err.message.length < 200, err.message);
  const key = invalid(() => validatePolicy({ apps: { thrift: { 'bad\nkey': 1 } } }, FILE), 'apps.thrift.bad\\u000akey');
  assert.ok(!key.message.includes('\n'));
});
