// Scenario files in process: validation with paths into the file, the comparison of outcomes with expectations, and
// runs on a throwaway copy of a demo org through the real headless driver and sandbox providers (TOTP codes from a
// stored factor included) that leave the org's own database as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioDeps } from '../../src/cli/commands/check.js';
import { IdpError } from '../../src/core/errors.js';
import {
  compare,
  describeMismatch,
  applyConfig,
  parseScenarioFile,
  runScenarioFile,
  type Observed,
  type ScenarioDeps,
} from '../../src/app/scenarios.js';
import { newTotpSecret } from '../../src/mfa/totp.js';
import { openStore, type SqliteStore as Store } from '../../src/store/store.js';
import { demoHome } from '../helpers/login.js';
import { hintOf } from '../helpers/hints.js';
import { scriptRunner } from '../../src/script/runner.js';

const scenario = (expect: string, login = '{ app: thrift, connection: github, as: octocat }'): string =>
  `name: t\nscenarios:\n  - name: s\n    login: ${login}\n    expect: ${expect}\n`;

function invalid(text: string, path: string, hint?: RegExp): void {
  assert.throws(
    () => parseScenarioFile(text, 'f.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof IdpError, String(err));
      assert.equal(err.code, 'FILE_INVALID');
      assert.equal(err.exitCode, 2);
      assert.ok(err.message.startsWith(`f.yaml: ${path}: `), `${err.message} names ${path}`);
      if (hint) assert.match(hintOf(err), hint);
      return true;
    },
  );
}

test('a scenario file parses into logins and expectations; users deltas may be "+N", "-N" or numbers', () => {
  const sf = parseScenarioFile(
    `name: demo
config: { connections: { google: { jit: { enabled: false } } } }
scenarios:
  - name: one
    login: { app: thrift, connection: google, as: bob, consent: deny, otp: outbox }
    expect: { outcome: failed, error: UPSTREAM_DENIED, users: "+0", stages: [consent] }
  - name: two
    login: { app: thrift, option: password, username: alice, password: thrift-demo, otp: "012345", jit_consent: approve }
    expect: { users: -2, claims: { amr: [pwd] } }
  - name: three
    login: { app: thrift }
    expect: { users: +1, jit: provision }
`,
    'demo.yaml',
  );
  assert.equal(sf.name, 'demo');
  assert.deepEqual(sf.config?.connections, { google: { jit: { enabled: false } } });
  assert.deepEqual(
    sf.scenarios.map((s) => s.expect.users),
    [0, -2, 1],
  );
  assert.equal(sf.scenarios[0]!.login.consent, 'deny');
  assert.equal(sf.scenarios[1]!.login.consent, 'approve', 'consent defaults to approve');
  assert.equal(sf.scenarios[1]!.login.otp, '012345');
  assert.equal(sf.scenarios[1]!.login.jitConsent, 'approve');
  assert.deepEqual(sf.scenarios[0]!.expect.stages, ['consent']);
});

test('invalid scenario files name the file, the path inside it and what is allowed', () => {
  assert.throws(
    () => parseScenarioFile('name: t\nscenarios:\n  - name: s\n    login: { app: thrift\n', 'f.yaml'),
    (err: IdpError) => err.code === 'FILE_INVALID' && /^f\.yaml(:\d+)?: /.test(err.message) && /YAML/.test(hintOf(err)),
  );
  invalid('name: t\nscenario: []\n', '(top level).scenario', /allowed keys: name, config, scenarios/);
  invalid('scenarios: []\n', 'name');
  invalid('name: t\nscenarios: []\n', 'scenarios');
  invalid(
    scenario('{ outcome: success }', '{ app: thrift, conection: github }'),
    'scenarios[0].login.conection',
    /allowed keys: app, connection, option, as/,
  );
  invalid(
    scenario('{ jit: provisoin }'),
    'scenarios[0].expect.jit',
    /did you mean 'provision'\? allowed values: provision, returning, link, pass-through, deny/,
  );
  invalid(scenario('{ outcome: passed }'), 'scenarios[0].expect.outcome', /allowed values: success, failed/);
  invalid(
    scenario('{ error: MFA_NEED_LOCAL_USER }'),
    'scenarios[0].expect.error',
    /did you mean 'MFA_NEEDS_LOCAL_USER'/,
  );
  invalid(scenario('{ users: lots }'), 'scenarios[0].expect.users', /"\+1"/);
  invalid(scenario('{ claims: [email] }'), 'scenarios[0].expect.claims');
  invalid(
    scenario('{ stages: [jit, provisioning] }'),
    'scenarios[0].expect.stages[1]',
    /allowed values: app, options, script/,
  );
  invalid(scenario('{}'), 'scenarios[0].expect', /outcome, jit, error, users, claims, stages/);
  invalid(scenario('{ outcome: success, extra: 1 }'), 'scenarios[0].expect.extra');
  invalid(
    scenario('{ outcome: success }', '{ app: thrift, connection: github, option: password }'),
    'scenarios[0].login',
  );
  invalid(scenario('{ outcome: success }', '{ app: thrift, otp: 123456 }'), 'scenarios[0].login.otp', /quote/);
  invalid(scenario('{ outcome: success }', '{ app: thrift, otp: sms }'), 'scenarios[0].login.otp');
  invalid(
    scenario('{ outcome: success }', '{ app: thrift, consent: maybe }'),
    'scenarios[0].login.consent',
    /approve, deny/,
  );
  invalid(scenario('{ outcome: success }', '{ connection: github }'), 'scenarios[0].login.app');
  invalid(
    `${scenario('{ outcome: success }')}  - name: s\n    login: { app: thrift }\n    expect: { outcome: failed }\n`,
    'scenarios[1].name',
    /own name/,
  );
});

test('config: is a partial policy file; its errors are reported under config.', async () => {
  invalid(
    `name: t\nconfig: { connections: { google: { jit: { enabled: nope } } } }\n${scenario('{ outcome: success }').slice('name: t\n'.length)}`,
    'config.connections.google.jit.enabled',
    /README/,
  );
  invalid(
    `name: t\nconfig: { users: [] }\n${scenario('{ outcome: success }').slice('name: t\n'.length)}`,
    'config.users',
  );
  invalid(`name: t\nconfig: 3\n${scenario('{ outcome: success }').slice('name: t\n'.length)}`, 'config');
  const home = await demoHome();
  const store = openStore(home);
  try {
    const sf = parseScenarioFile(
      `name: t\nconfig: { apps: { thrift: { steps: [[password, gitlab]] } } }\n${scenario('{ outcome: success }').slice('name: t\n'.length)}`,
      'f.yaml',
    );
    const deps = { actor: 'test', scripts: scriptRunner };
    await assert.rejects(
      applyConfig(store, sf, deps, { apply: false }),
      /^IdpError: f\.yaml: config\.apps\.thrift\.steps: unknown sign-in option 'gitlab'/,
    );
    const ok = parseScenarioFile(
      `name: t\nconfig: { connections: { github: { jit: { enabled: false } } } }\n${scenario('{ outcome: success }').slice('name: t\n'.length)}`,
      'f.yaml',
    );
    const planned = await applyConfig(store, ok, deps, { apply: false });
    assert.deepEqual(
      planned.map((p) => [p.action, p.name, p.changes.map((c) => c.path)]),
      [['update', 'github', ['jit.enabled']]],
    );
    assert.equal((await store.connections.get('github'))!.jit.enabled, true, 'checking a config writes nothing');
    // A config is one more way a change arrives: the rules of `idp apply` hold there too.
    const reserved = parseScenarioFile(
      `name: t\nconfig: { connections: { totp: { type: github, sandbox: true } } }\n${scenario('{ outcome: success }').slice('name: t\n'.length)}`,
      'f.yaml',
    );
    await assert.rejects(
      applyConfig(store, reserved, deps, { apply: false }),
      (err: IdpError) =>
        err.code === 'INVALID_VALUE' && /config\.connections\.totp: 'totp' is reserved/.test(err.message),
    );
    const claim = parseScenarioFile(
      `name: t\nconfig: { apps: { thrift: { attributes: [username, sub] } } }\n${scenario('{ outcome: success }').slice('name: t\n'.length)}`,
      'f.yaml',
    );
    await assert.rejects(
      applyConfig(store, claim, deps, { apply: false }),
      (err: IdpError) => err.code === 'PROTECTED_CLAIM',
    );
  } finally {
    store.close();
  }
});

const observed = (over: Partial<Observed> = {}): Observed => ({
  outcome: 'success',
  jit: 'provision',
  error: null,
  users: 1,
  claims: { email: 'octocat@example.com', amr: ['fed', 'email'], address: { country: 'NL', locality: 'Delft' } },
  stages: ['app', 'options', 'redirect', 'jit', 'session'],
  ...over,
});

test('expectations are compared field by field: claims as a subset (maps by key, arrays whole), stages by presence', () => {
  assert.deepEqual(
    compare(
      {
        outcome: 'success',
        jit: 'provision',
        users: 1,
        claims: { email: 'octocat@example.com', address: { country: 'NL' } },
        stages: ['jit', 'session'],
      },
      observed(),
    ),
    [],
  );
  const mismatches = compare(
    {
      outcome: 'failed',
      jit: 'pass-through',
      error: 'MFA_NEEDS_LOCAL_USER',
      users: 0,
      claims: { amr: ['fed'], address: { country: 'BE' }, missing: 'x' },
      stages: ['mfa', 'jit'],
    },
    observed(),
  );
  assert.deepEqual(mismatches.map(describeMismatch), [
    'expected outcome failed, got success',
    'expected jit pass-through, got provision',
    'expected error MFA_NEEDS_LOCAL_USER, got (none)',
    'expected users +0, got +1',
    'expected claims.amr ["fed"], got ["fed","email"]',
    'expected claims.address.country BE, got NL',
    'expected claims.missing x, got (none)',
    'expected stages to include mfa, jit, got app, options, redirect, jit, session',
  ]);
  assert.deepEqual(mismatches[3], { field: 'users', expected: 0, got: 1 });
  assert.deepEqual(
    compare(
      { users: -1, error: 'LINK_CONFLICT' },
      observed({ users: -1, error: { code: 'LINK_CONFLICT', message: 'm', hint: null } }),
    ),
    [],
  );
  assert.deepEqual(compare({ claims: { email: 'x' } }, observed({ claims: null })).map(describeMismatch), [
    'expected claims.email x, got (none)',
  ]);
});

/** The real deps, with a look at every copy the runner makes. */
async function watchedDeps(copies: { home: string; dirMode: number; dbMode: number }[]): Promise<ScenarioDeps> {
  const deps = await scenarioDeps({ actor: 'test', scripts: scriptRunner });
  return {
    ...deps,
    upstreams: (copy) => {
      const { home } = copy as Store;
      copies.push({ home, dirMode: statSync(home).mode & 0o777, dbMode: statSync(join(home, 'idp.db')).mode & 0o777 });
      return deps.upstreams(copy);
    },
  };
}

function tableCounts(store: Store): Record<string, number> {
  const tables = store.db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
  return Object.fromEntries(
    tables.map((t) => [t, store.db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number]),
  );
}

test('a file runs in order on a private copy (0700, 0600) that is removed after; the org itself keeps every row', async () => {
  const store = openStore(await demoHome());
  const copies: { home: string; dirMode: number; dbMode: number }[] = [];
  try {
    const before = tableCounts(store);
    const sf = parseScenarioFile(
      `name: copy
config: { connections: { github: { jit: { enabled: false } } } }
scenarios:
  - name: pass-through on the copy
    login: { app: thrift, connection: github, as: octocat }
    expect: { outcome: success, jit: pass-through, users: "+0", claims: { pass_through: true } }
  - name: google provisions on the copy
    login: { app: thrift, connection: google, as: bob }
    expect: { outcome: success, jit: provision, users: "+1" }
  - name: the user provisioned just before is returning
    login: { app: thrift, connection: google, as: bob }
    expect: { jit: returning, users: "+0" }
  - name: an unknown app fails before any flow exists
    login: { app: nope, connection: github, as: octocat }
    expect: { outcome: failed, error: APP_NOT_FOUND }
  - name: a wrong expectation fails with the stages
    login: { app: thrift, connection: github, as: hubber }
    expect: { jit: provision, users: "+1" }
`,
      'copy.yaml',
    );
    const report = await runScenarioFile(store, sf, await watchedDeps(copies));
    assert.deepEqual(
      report.scenarios.map((s) => [s.name, s.passed]),
      sf.scenarios.map((s, i) => [s.name, i < 4]),
    );
    const [, , , unknownApp, wrong] = report.scenarios;
    assert.equal(unknownApp!.flow, null);
    assert.equal(unknownApp!.error?.code, 'APP_NOT_FOUND');
    assert.deepEqual(wrong!.mismatches, [
      { field: 'jit', expected: 'provision', got: 'pass-through' },
      { field: 'users', expected: 1, got: 0 },
    ]);
    assert.match(wrong!.flow ?? '', /^f_/);
    assert.deepEqual(
      wrong!.stages.map((s) => s.stage),
      ['app', 'options', 'redirect', 'consent', 'callback', 'token', 'userinfo', 'jit', 'session'],
    );

    assert.equal(copies.length, 1, 'one copy for the whole file');
    assert.deepEqual([copies[0]!.dirMode, copies[0]!.dbMode], [0o700, 0o600]);
    assert.notEqual(copies[0]!.home, store.home);
    assert.equal(existsSync(copies[0]!.home), false, 'the copy is removed');
    assert.deepEqual(tableCounts(store), before, 'the org is untouched');
    assert.equal((await store.connections.get('github'))!.jit.enabled, true, 'config: applied to the copy only');

    await runScenarioFile(store, sf, await watchedDeps(copies));
    assert.equal(copies.length, 2, 'each run gets a fresh copy');
    assert.deepEqual(tableCounts(store), before);
  } finally {
    store.close();
  }
});

test('otp: totp computes the code of the factor the identified user holds (sealed with the org key), twice in a row', async () => {
  const store = openStore(await demoHome());
  try {
    const alice = (await store.users.find('alice'))!;
    await store.factors.addTotp(alice.id, store.seal(newTotpSecret()));
    const login = '{ app: thrift, option: password, username: alice, password: thrift-demo, otp: totp }';
    const sf = parseScenarioFile(
      `name: totp
config: { apps: { thrift: { steps: [[password, github], [totp]] } } }
scenarios:
  - name: first
    login: ${login}
    expect: { outcome: success, claims: { amr: [pwd, otp] }, stages: [mfa] }
  - name: second, same time step
    login: ${login}
    expect: { outcome: success, claims: { amr: [pwd, otp] } }
  - name: a user without a factor cannot enrol headless
    login: { app: thrift, connection: github, as: octocat, otp: totp }
    expect: { outcome: failed, error: MFA_NOT_ENROLLED, jit: provision, users: "+1" }
`,
      'totp.yaml',
    );
    const report = await runScenarioFile(store, sf, await scenarioDeps({ actor: 'test', scripts: scriptRunner }));
    for (const s of report.scenarios)
      assert.ok(s.passed, `${s.name}: ${s.mismatches.map(describeMismatch).join('; ')} ${s.error?.message ?? ''}`);
  } finally {
    store.close();
  }
});
