// What a user hit in daily use (issue 11, item 9): a mistyped --source, answering no to a delete, hints that name
// what they know, help text, one exit code for unknown names, Ctrl-C on the sandbox, and a mistyped --home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { childEnv, expectCode, IDP_BIN, idpJson, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';

const home = await seededHome();

test('users list --source with a typo exits 2 with "did you mean"; a real source that matches nobody is just empty', async () => {
  const typo = expectCode(await runIdp(['users', 'list', '--source', 'gihub'], { home }), 2);
  assert.match(typo.stderr, /^error: no user source named 'gihub'.*\nhint: did you mean 'github'\?/);
  assert.equal(typo.stdout, '');
  const far = expectCode(await runIdp(['users', 'list', '--source', 'okta'], { home }), 2);
  assert.match(far.stderr, /hint: sources: local, github, google/);
  assert.match((await idpOk(['users', 'list', '--source', 'github'], { home })).stdout, /no users match/);
  assert.match((await idpOk(['users', 'list', '--source', 'local'], { home })).stdout, /alice/);
});

test('users of a removed connection are still listed by its name', async () => {
  const own = await seededHome();
  await idpOk(['connection', 'add', 'gh2', '--type', 'github', '--sandbox'], { home: own });
  await idpOk(['app', 'set', 'thrift', '--step', '1=password,gh2'], { home: own });
  await idpOk(['login', '--app', 'thrift', '--headless', '--connection', 'gh2', '--as', 'octocat'], { home: own });
  await idpOk(['connection', 'remove', 'gh2', '--yes', '--force'], { home: own });
  const { users } = await idpJson(['users', 'list', '--source', 'gh2', '--json'], { home: own });
  assert.deepEqual(
    users.map((u: { username: string }) => u.username),
    ['octocat'],
  );
});

test('an unknown user, app and connection all exit 2 (a name that names nothing is bad input)', async () => {
  const results = await Promise.all([
    runIdp(['users', 'show', 'nobody', '--json'], { home }),
    runIdp(['app', 'show', 'nothing', '--json'], { home }),
    runIdp(['connection', 'show', 'nowhere', '--json'], { home }),
    runIdp(['login', '--app', 'nothing', '--headless', '--connection', 'github', '--as', 'octocat', '--json'], {
      home,
    }),
  ]);
  assert.deepEqual(
    results.map((r) => [r.code, JSON.parse(r.stdout).error?.code]),
    [
      [2, 'USER_NOT_FOUND'],
      [2, 'APP_NOT_FOUND'],
      [2, 'CONNECTION_NOT_FOUND'],
      [2, 'APP_NOT_FOUND'],
    ],
  );
});

test('hints name what is known instead of a placeholder', async () => {
  const own = await seededHome();
  const unknownUser = expectCode(await runIdp(['users', 'show', 'alcie'], { home: own }), 2);
  assert.match(unknownUser.stderr, /hint: did you mean 'alice'\? see `idp users list --search alcie`/);
  const inUse = expectCode(await runIdp(['connection', 'remove', 'github', '--yes'], { home: own }), 3);
  assert.match(
    inUse.stderr,
    /hint: remove it from their steps \(idp app set thrift --step 1=password,google\), or pass --force/,
  );
  for (let i = 0; i < 4; i++)
    await runIdp(['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin'], {
      home: own,
      input: 'wrong-pass',
    });
  const locked = expectCode(
    await runIdp(['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin'], {
      home: own,
      input: 'wrong-pass',
    }),
    7,
  );
  assert.match(locked.stderr, /hint: an admin can run: idp users set alice --unlock/);
  const script = join(tempDir('script'), 'boom.js');
  await import('node:fs').then(({ writeFileSync }) =>
    writeFileSync(script, "var onLoginRequest = function (context) { throw new Error('boom'); };\n"),
  );
  await idpOk(['app', 'script', 'set', 'thrift', '--file', script], { home: own });
  const failed = expectCode(
    await runIdp(['login', '--app', 'thrift', '--headless', '--connection', 'github', '--as', 'octocat'], {
      home: own,
    }),
    3,
  );
  assert.match(failed.stderr, /hint: fix thrift's script \(idp app check thrift reports its errors\)/);
  for (const r of [unknownUser, inUse, locked, failed]) assert.doesNotMatch(r.stderr, /<\w+>|\bUSER\b|\bTEXT\b/);
});

test('no option of any command says its default twice in --help', async () => {
  const top = await idpOk(['--help']);
  const commands = [...top.stdout.slice(top.stdout.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w-]*)/gm)]
    .map((m) => m[1]!)
    .filter((c) => c !== 'help');
  const helps: string[][] = [];
  for (const command of commands) {
    const help = await idpOk([command, '--help'], { home });
    helps.push([command]);
    const subs = help.stdout.includes('Commands:')
      ? [...help.stdout.slice(help.stdout.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!)
      : [];
    for (const sub of subs.filter((s) => s !== 'help')) helps.push([command, sub]);
  }
  const texts = await Promise.all(helps.map((args) => idpOk([...args, '--help'], { home })));
  assert.ok(helps.some((h) => h.join(' ') === 'flows list') && helps.some((h) => h.join(' ') === 'events'));
  texts.forEach((r, i) => {
    for (const line of r.stdout.split('\n'))
      assert.doesNotMatch(line, /default.*\(default: /, `idp ${helps[i]!.join(' ')} --help`);
  });
});

test('sandbox serve stopped with Ctrl-C (SIGINT) exits 130, with SIGTERM 143', async () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const child = spawn(process.execPath, [IDP_BIN, 'sandbox', 'serve'], {
      env: childEnv({ home }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (stderr.includes('serving until Ctrl-C')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    child.kill(signal);
    assert.equal(await exited, code, `${signal}: ${stderr}`);
  }
});

test('a --home where there is no org says on stderr that a new demo org was created there, even with --quiet', async () => {
  const mistyped = join(tempDir('typo'), 'orgg');
  const r = await idpOk(['users', 'list', '--quiet', '--json', '--home', mistyped]);
  assert.match(
    r.stderr,
    new RegExp(
      `created a new demo organisation at ${mistyped.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*check --home or IDP_HOME`,
    ),
  );
  JSON.parse(r.stdout);
  const again = await idpOk(['users', 'list', '--quiet', '--home', mistyped]);
  assert.equal(again.stderr, '', 'said once, when it happened');
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('answering N to a delete prompt is not an error: exit 0, "nothing deleted", the user is still there', {
  skip: hasScript ? false : 'util-linux script is not installed',
}, async () => {
  const own = await seededHome();
  const command = `exec '${process.execPath}' '${IDP_BIN}' users delete alice`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: childEnv({ home: own }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const asked = new Promise<void>((resolve) =>
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Delete user alice')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  await asked;
  child.stdin.write('n\r');
  const code = await exited;
  assert.equal(code, 0, output);
  assert.match(output, /nothing deleted/);
  assert.doesNotMatch(output, /error:/);
  await idpOk(['users', 'show', 'alice'], { home: own });
});
