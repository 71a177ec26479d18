// Output conventions through the real CLI: stdout carries data and stderr messages, --json on every command (errors
// too), no colour with NO_COLOR/--no-color (checked on a real pseudo-terminal), no prompt without a TTY, one error line
// plus a hint, and failed commands leave the database as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import {
  ANSI,
  childEnv,
  expectCode,
  IDP_BIN,
  idpJson,
  idpOk,
  ROOT,
  runIdp,
  seededHome,
  snapshot,
  tempDir,
  type RunResult,
} from '../helpers/idp.js';

const home = await seededHome();

test('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = await idpOk(['--version']);
  assert.equal(r.stdout, `${version}\n`);
});

test('every command listed by --help loads on its own (each command module is imported only when named)', async () => {
  const help = await idpOk(['--help']);
  const commands = [...help.stdout.slice(help.stdout.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w-]*)/gm)]
    .map((m) => m[1]!)
    .filter((c) => c !== 'help');
  assert.ok(commands.includes('users') && commands.includes('connection'), help.stdout);
  const results = await Promise.all(commands.map((c) => runIdp([c, '--help'], { home })));
  results.forEach((r, i) => {
    expectCode(r, 0, `idp ${commands[i]} --help`);
    assert.match(r.stdout, new RegExp(`^Usage: idp ${commands[i]} `), r.stdout);
  });
});

test('--json gives one parseable JSON document on stdout for every command, and nothing else there', async () => {
  const own = await seededHome();
  const people = join(tempDir('json'), 'people.csv');
  writeFileSync(people, 'username,email\nzoe,zoe@example.org\n');
  // Rounds of independent commands; each round needs the one before it.
  const rounds: string[][][] = [
    [
      ['init'],
      ['app', 'list'],
      ['app', 'show', 'thrift'],
      ['connection', 'list'],
      ['connection', 'show', 'github'],
      ['users', 'list'],
      ['users', 'show', 'alice'],
      ['events'],
    ],
    [
      // Its own step 1: a new app offers every connection there is, and gh2 may or may not be there yet.
      ['app', 'create', 'shop', '--step', '1=password'],
      ['connection', 'add', 'gh2', '--type', 'github', '--sandbox'],
      ['users', 'create', 'bob', '--email', 'bob@example.com'],
      ['users', 'import', people],
    ],
    [
      ['app', 'set', 'shop', '--step', '2=totp'],
      ['connection', 'set', 'gh2', '--jit=false'],
      ['users', 'set', 'bob', '--lock'],
      ['users', 'export'],
    ],
    [
      ['app', 'delete', 'shop', '--yes'],
      ['connection', 'remove', 'gh2', '--yes'],
      ['users', 'delete', 'bob', '--yes'],
    ],
  ];
  for (const round of rounds) {
    const documents = await Promise.all(round.map((args) => idpJson([...args, '--json'], { home: own })));
    for (const [i, d] of documents.entries()) assert.equal(typeof d, 'object', round[i]!.join(' '));
  }
});

test('with --json a failure is {"error": {code, message, hint}} on stdout, and the message still goes to stderr', async () => {
  const results = await Promise.all([
    runIdp(['app', 'show', 'thrfit', '--json'], { home }),
    runIdp(['app', 'list', '--bogus', '--json'], { home }),
    runIdp(['users', 'delete', 'alice', '--json'], { home }),
  ]);
  const [unknown, usage, noTty] = results.map((r) => ({ r, body: JSON.parse(r.stdout).error }));
  assert.deepEqual([unknown!.r.code, unknown!.body.code], [2, 'APP_NOT_FOUND']);
  assert.match(unknown!.body.hint, /did you mean 'thrift'/);
  assert.deepEqual([usage!.r.code, usage!.body.code], [2, 'USAGE']);
  assert.deepEqual([noTty!.r.code, noTty!.body.code], [2, 'NO_TTY']);
  for (const { r, body } of [unknown!, usage!, noTty!]) assert.ok(r.stderr.includes(body.message));
});

test('results go to stdout, progress and notes to stderr; --quiet silences the notes', async () => {
  const own = await seededHome();
  const created = await idpOk(['app', 'create', 'shop'], { home: own });
  assert.match(created.stderr, /created app shop/);
  assert.doesNotMatch(created.stdout, /✓/);
  assert.match(created.stdout, /^shop\n/);
  const quiet = await idpOk(['app', 'create', 'shop2', '--quiet'], { home: own });
  assert.equal(quiet.stderr, '');
  assert.match(quiet.stdout, /^shop2\n/);
});

function assertOneLineError(r: RunResult, code: number, message: RegExp, hint: RegExp): void {
  expectCode(r, code);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `one error line and one hint line:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, message);
  assert.match(lines[1]!, /^hint: /);
  assert.match(lines[1]!, hint);
  assert.equal(r.stdout, '');
}

test('errors are one line plus a hint line, with no stack unless --debug', async () => {
  const [unknownApp, badValue, unknownCommand, unknownOption, missingArg, debug] = await Promise.all([
    runIdp(['app', 'show', 'thrfit'], { home }),
    runIdp(['users', 'list', '--limit', '0'], { home }),
    runIdp(['ap', 'list'], { home }),
    runIdp(['app', 'list', '--bogus'], { home }),
    runIdp(['users', 'show'], { home }),
    runIdp(['app', 'show', 'thrfit', '--debug'], { home }),
  ]);
  assertOneLineError(unknownApp, 2, /no app named 'thrfit'/, /did you mean 'thrift'/);
  assertOneLineError(badValue, 2, /--limit takes a whole number from 1 to 1000/, /--limit 50/);
  assertOneLineError(unknownCommand, 2, /unknown command 'ap'/, /app/);
  assertOneLineError(unknownOption, 2, /unknown option '--bogus'/, /--help/);
  assertOneLineError(missingArg, 2, /missing required argument 'user'/, /--help/);
  expectCode(debug, 2);
  assert.match(debug.stderr, /^error: no app named 'thrfit'\nhint: .*\n.*at /s, '--debug adds the stack');
});

test('without a TTY nothing prompts: each would-be prompt fails fast with exit 2 naming the flag', async () => {
  const before = await snapshot(home);
  const cases: [string[], RegExp][] = [
    [['users', 'delete', 'alice'], /--yes/],
    [['app', 'delete', 'thrift'], /--yes/],
    [['connection', 'remove', 'google', '--force'], /--yes/],
    [['init', '--force'], /--yes/],
    [
      ['connection', 'add', 'corp', '--type', 'github', '--client-id', 'x'],
      /--client-secret-env VAR or --client-secret-stdin/,
    ],
    [
      ['connection', 'add', 'corp', '--type', 'google', '--client-id', 'x'],
      /--client-secret-env VAR or --client-secret-stdin/,
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => runIdp(args, { home })));
  results.forEach((r, i) => {
    expectCode(r, 2, cases[i]![0].join(' '));
    assert.match(r.stderr, cases[i]![1]);
    assert.doesNotMatch(r.stderr, /\?\s*$/, 'no question was asked');
  });
  assert.equal(await snapshot(home), before);
});

test('a failed command leaves the database as it was', async () => {
  const own = await seededHome();
  const dir = tempDir('failing');
  const badCsv = join(dir, 'bad.csv');
  writeFileSync(badCsv, 'username,email\nok1,ok1@example.org\nok2,ok2@example.org\nbad one,x@example.org\n');
  const before = await snapshot(own);
  const failing: string[][] = [
    ['users', 'import', badCsv],
    ['users', 'create', 'alice', '--email', 'new@example.com'],
    ['users', 'set', 'alice', '--attr', 'email=bad', '--attr', 'dept=x'],
    ['users', 'set', 'nobody', '--lock'],
    ['app', 'create', 'thrift'],
    ['app', 'set', 'thrift', '--step', '2=totp', '--step', '1=sms'],
    ['app', 'set', 'thrift', '--redirect-uri', 'http://127.0.0.1/ok', '--redirect-uri', 'not a url'],
    ['connection', 'set', 'github', '--jit=false', '--sync', 'bogus'],
    ['connection', 'set', 'github', '--jit=false', '--issuer', 'ftp://x'],
    ['connection', 'add', 'corp', '--type', 'oidc', '--client-id', 'x', '--client-secret-env', 'X'],
    ['connection', 'remove', 'github', '--yes'],
    ['init', '--force'],
  ];
  const results = await Promise.all(failing.map((args) => runIdp(args, { home: own })));
  for (const [i, r] of results.entries()) assert.notEqual(r.code, 0, `${failing[i]!.join(' ')} should fail`);
  assert.equal(await snapshot(own), before);
});

test("events --flow shows one flow's stages in order; --limit caps the list", async () => {
  const own = await seededHome();
  const store = openStore(own);
  try {
    const at = new Date().toISOString();
    for (const [seq, stage] of [
      [3, 'jit'],
      [1, 'app'],
      [2, 'options'],
    ] as const) {
      await store.events.recordStage({ flow: 'f_test', seq, stage, status: 'ok', ms: seq, detail: `stage ${seq}`, at });
    }
    await store.events.recordStage({
      flow: 'f_other',
      seq: 1,
      stage: 'app',
      status: 'failed',
      ms: 1,
      detail: 'other',
      at,
    });
  } finally {
    store.close();
  }
  const [flow, limited, none] = await Promise.all([
    idpJson(['events', '--flow', 'f_test', '--json'], { home: own }),
    idpJson(['events', '--limit', '2', '--json'], { home: own }),
    idpOk(['events', '--flow', 'f_missing'], { home: own }),
  ]);
  assert.deepEqual(
    flow.events.map((e: any) => [e.seq, e.stage, e.status]),
    [
      [1, 'app', 'ok'],
      [2, 'options', 'ok'],
      [3, 'jit', 'ok'],
    ],
  );
  assert.equal(limited.events.length, 2);
  assert.match(none.stdout, /no events for flow f_missing/);
});

/** Runs idp on a pseudo-terminal (util-linux `script`), so colour would be on unless switched off. */
function onTerminal(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const quoted = [process.execPath, IDP_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], {
    env: childEnv({ home, env: { TERM: 'xterm-256color', ...env } }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('NO_COLOR and --no-color remove every ANSI escape, on a terminal too', {
  skip: hasScript ? false : 'util-linux script is not installed',
}, async () => {
  const table = ['app', 'list'];
  const failure = ['app', 'show', 'thrfit'];
  const [colourTable, colourFailure, ...plain] = await Promise.all([
    onTerminal(table, {}),
    onTerminal(failure, {}),
    ...[table, failure].flatMap((args) => [
      onTerminal(args, { NO_COLOR: '1' }),
      onTerminal([...args, '--no-color'], {}),
    ]),
  ]);
  assert.match(colourTable!, ANSI, 'control: a terminal gets colour by default');
  assert.match(colourFailure!, ANSI, 'control: so do errors');
  for (const output of plain) assert.doesNotMatch(output, ANSI, output);
  assert.match(plain[2]!, /error: no app named 'thrfit'/);
});

test('without a terminal there is no colour at all', async () => {
  const results = await Promise.all([
    runIdp(['app', 'list'], { home }),
    runIdp(['app', 'show', 'thrfit'], { home }),
    runIdp(['connection', 'list'], { home }),
  ]);
  for (const r of results) assert.doesNotMatch(r.stdout + r.stderr, ANSI);
});

test('an unknown flow id is FLOW_NOT_FOUND (exit 2), not a generic usage error', async () => {
  const r = await runIdp(['flows', 'show', 'f_nope', '--json'], { home });
  assert.deepEqual([r.code, JSON.parse(r.stdout).error.code], [2, 'FLOW_NOT_FOUND']);
});
