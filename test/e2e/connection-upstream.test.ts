// A connection's upstream (issuer, type, sandbox) is the key of its associations (issue 10, item 7): changing it while
// users are linked would sign the new provider's subjects in as them. `connection set` and `apply` refuse it with
// exit 3 naming the count, the database unchanged; with --forget-associations the links go in the same transaction,
// with an audit event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dbHash, expectCode, fileWith, idpJson, idpOk, runIdp, type RunResult, seededHome } from '../helpers/idp.js';

const NEW_ISSUER = 'https://login2.example.com';
// A github connection has no issuer (its upstream moves with --base-url, which a sandbox one refuses): the issuer tests
// move google's, and octocat (github) is the user whose links must stay.

/** A demo org where octocat signed in through github (one association) and bob through google (another). */
async function linkedHome(): Promise<string> {
  const home = await seededHome();
  await idpOk(['login', '--app', 'thrift', '--headless', '--connection', 'github', '--as', 'octocat', '--quiet'], {
    home,
  });
  await idpOk(['login', '--app', 'thrift', '--headless', '--connection', 'google', '--as', 'bob', '--quiet'], { home });
  return home;
}

async function linkedTo(home: string, user: string): Promise<string[]> {
  return (
    await idpJson<{ associations: { connection: string }[] }>(['users', 'show', user, '--json'], { home })
  ).associations.map((a) => a.connection);
}

async function events(home: string, action: string): Promise<{ target: string; detail: string }[]> {
  return (
    await idpJson<{ events: { action: string; target: string; detail: string }[] }>(
      ['events', '--json', '--limit', '1000'],
      { home },
    )
  ).events.filter((e) => e.action === action);
}

/** Exit 3, UPSTREAM_HAS_ASSOCIATIONS naming the count and what changed, with the flag as the fix; nothing written. */
async function refused(home: string, args: string[], what: RegExp): Promise<RunResult> {
  const before = dbHash(home);
  const r = expectCode(await runIdp([...args, '--json'], { home }), 3, `idp ${args.join(' ')}`);
  const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
  assert.equal(error.code, 'UPSTREAM_HAS_ASSOCIATIONS');
  assert.match(error.message, what);
  assert.match(error.message, /would hand its 1 association\(s\) to another provider's subjects/);
  assert.match(error.hint, /--forget-associations/);
  assert.equal(dbHash(home), before, `${args.join(' ')} changed the database`);
  return r;
}

test('connection set --issuer is refused while users are linked (also as a dry run); --forget-associations deletes the links with an event', async () => {
  const home = await linkedHome();
  await refused(
    home,
    ['connection', 'set', 'google', '--issuer', NEW_ISSUER],
    /changing the issuer of connection google/,
  );
  await refused(home, ['connection', 'set', 'google', '--issuer', NEW_ISSUER, '--dry-run'], /issuer/);
  assert.deepEqual(await linkedTo(home, 'bob'), ['google']);

  const dry = await idpJson<{ associations_forgotten: number; changed: boolean }>(
    ['connection', 'set', 'google', '--issuer', NEW_ISSUER, '--forget-associations', '--dry-run', '--json'],
    { home },
  );
  assert.deepEqual([dry.associations_forgotten, dry.changed], [1, true]);
  assert.deepEqual(await linkedTo(home, 'bob'), ['google'], 'a dry run forgets nothing');

  const r = await runIdp(['connection', 'set', 'google', '--issuer', NEW_ISSUER, '--forget-associations', '--json'], {
    home,
  });
  expectCode(r, 0, 'connection set --forget-associations');
  assert.equal((JSON.parse(r.stdout) as { associations_forgotten: number }).associations_forgotten, 1);
  assert.match(r.stderr, /forgot 1 association\(s\) of google/);
  assert.deepEqual(await linkedTo(home, 'bob'), [], 'bob is no longer linked to google');
  assert.deepEqual(await linkedTo(home, 'octocat'), ['github'], 'other connections keep theirs');
  assert.deepEqual(
    (await events(home, 'connection.forget-associations')).map((e) => [e.target, e.detail]),
    [['connection google', 'forgot 1 association(s) of google: its upstream changed']],
  );
  assert.equal(
    (await idpJson<{ issuer: string }>(['connection', 'show', 'google', '--json'], { home })).issuer,
    NEW_ISSUER,
  );
});

test('with no association the issuer changes without the flag; setting the same issuer again is no change', async () => {
  const home = await seededHome();
  await idpOk(['connection', 'set', 'google', '--issuer', NEW_ISSUER], { home });
  await idpOk(['login', '--app', 'thrift', '--headless', '--connection', 'google', '--as', 'bob', '--quiet'], { home });
  const same = await idpJson<{ changed: boolean }>(['connection', 'set', 'google', '--issuer', NEW_ISSUER, '--json'], {
    home,
  });
  assert.equal(same.changed, false);
  assert.deepEqual(await events(home, 'connection.forget-associations'), []);
});

test('apply refuses a changed issuer or sandbox while users are linked, same code; apply --forget-associations deletes the links', async () => {
  const home = await linkedHome();
  const issuer = fileWith('issuer.yaml', `connections:\n  google:\n    issuer: ${NEW_ISSUER}\n`);
  const r = await refused(
    home,
    ['apply', '-f', issuer],
    /issuer\.yaml: connections\.google: changing the issuer of connection google/,
  );
  assert.match(r.stderr, /hint: .*--forget-associations/);
  await refused(home, ['apply', '-f', issuer, '--dry-run'], /issuer/);
  const sandbox = fileWith(
    'sandbox.yaml',
    'connections:\n  google:\n    sandbox: false\n    client_id: corp.apps.googleusercontent.com\n',
  );
  await refused(home, ['apply', '-f', sandbox], /changing the sandbox of connection google/);

  const applied = expectCode(
    await runIdp(['apply', '-f', issuer, '--forget-associations'], { home }),
    0,
    'apply --forget-associations',
  );
  assert.match(applied.stderr, /forgot 1 association\(s\) of google/);
  assert.deepEqual(await linkedTo(home, 'bob'), []);
  assert.deepEqual(await linkedTo(home, 'octocat'), ['github']);
  assert.deepEqual(
    (await events(home, 'connection.forget-associations')).map((e) => e.target),
    ['connection google'],
  );
  expectCode(await runIdp(['apply', '-f', issuer], { home }), 0, 'a second apply plans nothing and needs no flag');
});
