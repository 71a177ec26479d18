// Every rule holds whichever way a change arrives: what a command refuses, `idp apply -f` refuses with the same error
// code and exit status, and neither way changes a byte of the org's database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { openStore } from '../../src/store/store.js';
import { dbHash, expectCode, fileWith, runIdp, type RunResult, seededHome } from '../helpers/idp.js';

function errorCode(r: RunResult): string {
  return (JSON.parse(r.stdout) as { error: { code: string } }).error.code;
}

interface Case {
  name: string;
  /** The command's arguments (the data directory is added). */
  command: () => string[];
  /** The policy file that asks apply for the same change. */
  policy: () => object;
  code: string;
}

const script = (source: string): Pick<Case, 'command' | 'policy'> => ({
  command: () => ['app', 'script', 'set', 'thrift', '--file', fileWith('script.js', source)],
  policy: () => ({ apps: { thrift: { script: source } } }),
});

const connection = (name: string): Pick<Case, 'command' | 'policy'> => ({
  command: () => ['connection', 'add', name, '--type', 'github', '--sandbox'],
  policy: () => ({ connections: { [name]: { type: 'github', sandbox: true } } }),
});

const CASES: Case[] = [
  { name: 'a connection named totp', ...connection('totp'), code: 'INVALID_VALUE' },
  { name: 'a connection named password', ...connection('password'), code: 'INVALID_VALUE' },
  { name: 'a connection named LOCAL', ...connection('LOCAL'), code: 'INVALID_VALUE' },
  { name: 'a script that does not compile', ...script('function onLoginRequest(context {\n'), code: 'FILE_INVALID' },
  {
    name: 'a script whose top level loops forever',
    ...script('for (;;) {}\nfunction onLoginRequest(context) { executeStep(1); }\n'),
    code: 'FILE_INVALID',
  },
  {
    name: 'a 10 MB script',
    ...script(`function onLoginRequest(context) { executeStep(1); }\n//${'x'.repeat(10 * 1024 * 1024)}\n`),
    code: 'FILE_INVALID',
  },
  {
    name: 'an empty step',
    command: () => ['app', 'set', 'thrift', '--step', '1='],
    policy: () => ({ apps: { thrift: { steps: [[]] } } }),
    code: 'INVALID_VALUE',
  },
  {
    name: 'an unknown option in a step',
    command: () => ['app', 'set', 'thrift', '--step', '1=password,nope'],
    policy: () => ({ apps: { thrift: { steps: [['password', 'nope']] } } }),
    code: 'UNKNOWN_SIGN_IN_OPTION',
  },
  {
    name: 'an origin with a path',
    command: () => ['app', 'set', 'thrift', '--origin', 'http://localhost:5173/'],
    policy: () => ({ apps: { thrift: { origins: ['http://localhost:5173/'] } } }),
    code: 'INVALID_VALUE',
  },
  {
    name: "a change of an app's type",
    command: () => ['app', 'set', 'thrift', '--type', 'web'],
    policy: () => ({ apps: { thrift: { type: 'web' } } }),
    code: 'INVALID_VALUE',
  },
  {
    name: 'an org name that is not URL-safe',
    command: () => ['org', 'set', '--name', 'Thrift Shop'],
    policy: () => ({ org: { name: 'Thrift Shop' } }),
    code: 'INVALID_VALUE',
  },
];

for (const c of CASES) {
  test(`${c.name}: the command and apply refuse it alike, and the database keeps every byte`, async () => {
    const home = await seededHome();
    const before = dbHash(home);
    const command = await runIdp(['--json', ...c.command()], { home });
    assert.equal(dbHash(home), before, `the command changed the database\n${command.stderr}`);
    const file = fileWith('idp.yaml', stringify(c.policy()));
    const applied = await runIdp(['--json', 'apply', '-f', file], { home });
    assert.equal(dbHash(home), before, `apply changed the database\n${applied.stderr}`);
    expectCode(command, 2, c.command().slice(0, 3).join(' '));
    expectCode(applied, 2, 'apply');
    assert.equal(errorCode(command), c.code, command.stderr);
    assert.equal(errorCode(applied), c.code, applied.stderr);
  });
}

test('apply warns about a JIT-off connection before an MFA step, as app set and connection set do', async () => {
  const home = await seededHome();
  const file = fileWith(
    'idp.yaml',
    stringify({
      connections: { github: { jit: { enabled: false } } },
      apps: { thrift: { steps: [['password', 'github'], ['totp']] } },
    }),
  );
  const applied = expectCode(await runIdp(['apply', '-f', file], { home }), 0, 'apply');
  assert.match(
    applied.stderr,
    /warning: github has JIT off, so its users reach step 2 of thrift \(MFA\) without a local user and fail/,
  );
  assert.match(applied.stderr, /idp connection set github --jit=true/);
  const again = expectCode(await runIdp(['apply', '-f', file], { home }), 0, 'apply again');
  assert.match(again.stderr, /^$/, 'nothing planned, nothing to warn about');
});

test('app check reports an empty step stored before the rule existed', async () => {
  const home = await seededHome();
  const store = openStore(home);
  await store.apps.update('thrift', { steps: [['password'], []] });
  store.close();
  const r = expectCode(await runIdp(['app', 'check', 'thrift', '--json'], { home }), 0, 'app check');
  const { hazards } = JSON.parse(r.stdout) as { hazards: { code: string; fix: string }[] };
  assert.deepEqual(
    hazards.map((h) => [h.code, h.fix]),
    [['EMPTY_STEP', 'give it an option, or remove it: idp app set thrift --step 2=']],
  );
});
