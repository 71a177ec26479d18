// `idp app list|show|create|set|delete` through the real CLI: sign-in steps with --step, redirect URIs, attributes,
// refusals with exit codes and hints, and the audit events config changes leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectCode, idpJson, idpOk, runIdp, seededHome, snapshot } from '../helpers/idp.js';

const home = await seededHome();

test('app list and app show print the sign-in method as steps of options', async () => {
  const [list, show, json] = await Promise.all([
    idpOk(['app', 'list'], { home }),
    idpOk(['app', 'show', 'thrift'], { home }),
    idpJson(['app', 'list', '--json'], { home }),
  ]);
  assert.match(list.stdout, /^NAME\s+CLIENT ID\s+SIGN-IN METHOD$/m);
  assert.match(list.stdout, /^thrift\s+\S+\s+step 1: password \| google \| github$/m);
  assert.match(show.stdout, /sign-in method\s+step 1: password \| google \| github\n/);
  assert.match(show.stdout, /redirect URIs\s+http:\/\/localhost:5173\//);
  const thrift = json.apps.find((a: any) => a.name === 'thrift');
  assert.deepEqual(thrift.steps, [['password', 'google', 'github']]);
  assert.equal(typeof thrift.client_id, 'string');
});

test('--step N=OPTIONS adds a step, N= removes it; a repeat is no change; --dry-run changes nothing', async () => {
  const added = await idpJson(['app', 'set', 'thrift', '--step', '2=totp', '--json'], { home });
  assert.equal(added.changed, true);
  assert.deepEqual(added.before.steps, [['password', 'google', 'github']]);
  assert.deepEqual(added.after.steps, [['password', 'google', 'github'], ['totp']]);
  const show = await idpOk(['app', 'show', 'thrift'], { home });
  assert.match(show.stdout, /sign-in method\s+step 1: password \| google \| github {2}-> {2}step 2: totp\n/);

  assert.equal((await idpJson(['app', 'set', 'thrift', '--step', '2=totp', '--json'], { home })).changed, false);
  const dry = await idpOk(['app', 'set', 'thrift', '--step', '2=', '--dry-run'], { home });
  assert.match(dry.stdout, /would change/);
  assert.deepEqual(
    (await idpJson(['app', 'show', 'thrift', '--json'], { home })).steps.length,
    2,
    'the dry run kept step 2',
  );

  const removed = await idpOk(['app', 'set', 'thrift', '--step', '2='], { home });
  assert.match(removed.stdout, /changed/);
  assert.deepEqual((await idpJson(['app', 'show', 'thrift', '--json'], { home })).steps, [
    ['password', 'google', 'github'],
  ]);
  const events = await idpJson(['events', '--json', '--limit', '5'], { home });
  assert.deepEqual(
    events.events.filter((e: any) => e.action === 'app.set').length,
    2,
    'two real changes, two events; the repeat and the dry run none',
  );
});

test('an unknown sign-in option is refused with exit 2 and the list of valid ones, changing nothing', async () => {
  const before = await snapshot(home);
  const results = await Promise.all([
    runIdp(['app', 'set', 'thrift', '--step', '2=sms'], { home }),
    runIdp(['app', 'create', 'shop', '--step', '1=password,gitlab'], { home }),
  ]);
  for (const r of results) {
    expectCode(r, 2);
    assert.match(
      r.stderr,
      /^error: unknown sign-in option '(sms|gitlab)' in step \d\nhint: valid options: password, email-otp, totp, passkey, github, google\n$/,
    );
  }
  const misc = await Promise.all([
    runIdp(['app', 'set', 'thrift', '--step', '1=totp'], { home }),
    runIdp(['app', 'set', 'thrift', '--step', '3=totp'], { home }),
    runIdp(['app', 'set', 'thrift', '--step', 'two=totp'], { home }),
    runIdp(['app', 'set', 'thrift', '--redirect-uri', 'http://example.com/cb'], { home }),
    runIdp(['app', 'create', 'thrift'], { home }),
    runIdp(['app', 'create', 'bad name'], { home }),
  ]);
  for (const r of misc) {
    expectCode(r, 2);
    assert.match(r.stderr, /^error: .+\nhint: .+\n$/);
  }
  assert.equal(await snapshot(home), before);
});

test('app create takes repeatable --redirect-uri, --step and --attributes; step 1 defaults to a password and every connection', async () => {
  const shop = await idpJson(
    [
      'app',
      'create',
      'shop',
      '--redirect-uri',
      'http://localhost:3000/cb',
      '--redirect-uri',
      'https://shop.example.com/cb',
      '--step',
      '1=password,github',
      '--step',
      '2=email-otp',
      '--attributes',
      'email,name',
      '--json',
    ],
    { home },
  );
  assert.deepEqual(
    [shop.name, shop.redirect_uris, shop.steps, shop.attributes],
    [
      'shop',
      ['http://localhost:3000/cb', 'https://shop.example.com/cb'],
      [['password', 'github'], ['email-otp']],
      ['email', 'name'],
    ],
  );
  const plain = await idpJson(['app', 'create', 'plain', '--json'], { home });
  assert.deepEqual(plain.steps, [['password', 'github', 'google']]);
  assert.notEqual(plain.client_id, shop.client_id);

  const set = await idpJson(
    ['app', 'set', 'shop', '--redirect-uri', 'http://127.0.0.1:9000/', '--attributes', 'email', '--json'],
    { home },
  );
  assert.deepEqual(
    [set.after.redirect_uris, set.after.attributes, set.after.steps],
    [['http://127.0.0.1:9000/'], ['email'], [['password', 'github'], ['email-otp']]],
    'only the given settings change',
  );
});

test('app delete needs --yes without a terminal', async () => {
  await idpOk(['app', 'create', 'doomed'], { home });
  const refused = expectCode(await runIdp(['app', 'delete', 'doomed'], { home }), 2);
  assert.match(refused.stderr, /--yes/);
  await idpOk(['app', 'show', 'doomed'], { home });
  assert.deepEqual(await idpJson(['app', 'delete', 'doomed', '--yes', '--json'], { home }), { deleted: 'doomed' });
  expectCode(await runIdp(['app', 'show', 'doomed'], { home }), 2);
  const [latest] = (await idpJson(['events', '--json', '--limit', '1'], { home })).events;
  assert.deepEqual([latest.action, latest.before.name, latest.after], ['app.delete', 'doomed', null]);
});

test('an unknown app name gets exit 2 (bad input, like an unknown user) and "did you mean"', async () => {
  const results = await Promise.all([
    runIdp(['app', 'show', 'thrfit'], { home }),
    runIdp(['app', 'set', 'thrfit', '--step', '2=totp'], { home }),
    runIdp(['app', 'delete', 'thirft', '--yes'], { home }),
  ]);
  for (const r of results) {
    expectCode(r, 2);
    assert.match(r.stderr, /^error: no app named '\w+'\nhint: did you mean 'thrift'\?/);
  }
});
