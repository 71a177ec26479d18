// `idp connection list|show|add|set|remove` through the real CLI: JIT settings changed idempotently with before -> after,
// --dry-run, the JIT-off-before-MFA warning, secrets only from env or stdin, and the config events left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectCode, idpJson, idpOk, runIdp, seededHome, snapshot } from '../helpers/idp.js';

async function configEvents(home: string): Promise<any[]> {
  return (await idpJson(['events', '--json', '--limit', '1000'], { home })).events.filter(
    (e: any) => e.kind === 'config',
  );
}

test('show --json has name, type, sandbox and the JIT settings; list shows them as a table', async () => {
  const home = await seededHome();
  const [github, list] = await Promise.all([
    idpJson(['connection', 'show', 'github', '--json'], { home }),
    idpOk(['connection', 'list'], { home }),
  ]);
  assert.equal(github.name, 'github');
  assert.equal(github.type, 'github');
  assert.equal(github.sandbox, true);
  assert.deepEqual(github.jit, { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' });
  assert.match(list.stdout, /^NAME\s+TYPE\s+UPSTREAM\s+JIT\s+SYNC\s+LINKING$/m);
  assert.match(list.stdout, /^github\s+github\s+sandbox\s+on \(silent\)\s+override-all\s+off$/m);
  assert.match(list.stdout, /^google\s+google\s+sandbox\s+on/m);
});

test('set changes only the given flags, prints before -> after, and a second identical set changes nothing', async () => {
  const home = await seededHome();
  const first = await idpOk(['connection', 'set', 'github', '--jit=false'], { home });
  assert.match(first.stdout, /^connection github: changed\n {2}jit\.enabled: true -> false\n$/);
  const eventsAfterFirst = await configEvents(home);

  const second = await idpJson(['connection', 'set', 'github', '--jit=false', '--json'], { home });
  assert.equal(second.changed, false);
  assert.deepEqual(second.before, second.after);
  assert.match((await idpOk(['connection', 'set', 'github', '--jit', 'false'], { home })).stdout, /no change/);
  assert.equal((await configEvents(home)).length, eventsAfterFirst.length, 'no new config event for a no-op');

  const [latest] = eventsAfterFirst;
  assert.equal(latest.action, 'connection.set');
  assert.match(latest.detail, /JIT turned off on github/);
  assert.deepEqual([latest.before.jit.enabled, latest.after.jit.enabled], [true, false]);
  assert.equal(latest.after.jit.sync, 'override-all', 'the untouched settings are as they were');
  const text = await idpOk(['events'], { home });
  assert.match(text.stdout, /connection\.set\s+\S+\s+JIT turned off on github/);

  const google = await idpJson(['connection', 'show', 'google', '--json'], { home });
  assert.equal(google.jit.enabled, true, 'the other connection is untouched');
});

test('--json reports {changed, before, after}; --dry-run prints what would change and changes nothing', async () => {
  const home = await seededHome();
  const before = await snapshot(home);
  const dry = await idpJson(
    ['connection', 'set', 'google', '--sync', 'preserve-local', '--linking', 'verified-email', '--dry-run', '--json'],
    { home },
  );
  assert.equal(dry.changed, true);
  assert.deepEqual(
    [dry.before.jit.sync, dry.after.jit.sync, dry.after.jit.linking],
    ['override-all', 'preserve-local', 'verified-email'],
  );
  const dryText = await idpOk(['connection', 'set', 'google', '--jit-scheme', 'prompt-consent', '--dry-run'], { home });
  assert.match(dryText.stdout, /would change\n {2}jit\.scheme: silent -> prompt-consent/);
  assert.equal(await snapshot(home), before, 'the dry runs changed nothing, not even the events');

  const real = await idpJson(
    [
      'connection',
      'set',
      'google',
      '--jit-scheme',
      'prompt-consent',
      '--sync',
      'none',
      '--linking',
      'verified-email',
      '--scopes',
      'openid,email',
      '--map',
      'hd=domain',
      '--map',
      'locale=lang',
      '--json',
    ],
    { home },
  );
  assert.equal(real.changed, true);
  assert.deepEqual(real.after.jit, {
    enabled: true,
    scheme: 'prompt-consent',
    sync: 'none',
    linking: 'verified-email',
  });
  assert.deepEqual(real.after.scopes, ['openid', 'email']);
  assert.deepEqual(real.after.attribute_map, { hd: 'domain', locale: 'lang' });
  const unmapped = await idpJson(['connection', 'set', 'google', '--map', 'hd=', '--json'], { home });
  assert.deepEqual(unmapped.after.attribute_map, { locale: 'lang' }, 'upstream= removes a mapping');
  assert.deepEqual(await idpJson(['connection', 'show', 'google', '--json'], { home }).then((c) => c.jit.sync), 'none');
});

test('--jit=false warns on stderr about each app whose MFA step follows a step offering the connection', async () => {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=totp'], { home });
  await Promise.all([
    idpOk(['app', 'create', 'shop', '--step', '1=github', '--step', '2=password', '--step', '3=email-otp'], { home }),
    idpOk(['app', 'create', 'blog', '--step', '1=password,github'], { home }),
    idpOk(['app', 'create', 'wiki', '--step', '1=google', '--step', '2=totp'], { home }),
  ]);
  const r = await idpOk(['connection', 'set', 'github', '--jit=false'], { home });
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
  assert.equal(warnings.length, 2, r.stderr);
  assert.match(r.stderr, /warning: thrift offers github in step 1 and requires MFA in step 2/);
  assert.match(r.stderr, /warning: shop offers github in step 1 and requires MFA in step 3/);
  assert.doesNotMatch(r.stderr, /blog|wiki/);
  assert.doesNotMatch(r.stdout, /warning/, 'warnings go to stderr only');
  const again = await idpOk(['connection', 'set', 'github', '--jit=false'], { home });
  assert.doesNotMatch(again.stderr, /warning/, 'no warning when JIT was already off');
});

test('bad values are refused with exit 2 naming the flag, and nothing changes', async () => {
  const home = await seededHome();
  const before = await snapshot(home);
  const cases: [string[], RegExp][] = [
    [['--jit=maybe'], /--jit takes true or false/],
    [['--sync', 'sometimes'], /--sync must be one of override-all, preserve-local, none/],
    [['--linking', 'email'], /--linking must be one of off, verified-email/],
    [['--jit-scheme', 'loud'], /--jit-scheme must be one of/],
    [['--map', 'nokey'], /--map takes KEY=VALUE/],
    [['--issuer', 'https://login.example.com'], /a github connection has no issuer/],
    [
      ['--token-auth', 'private_key_jwt'],
      /--token-auth must be one of auto, client_secret_basic, client_secret_post, none/,
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => runIdp(['connection', 'set', 'github', ...args], { home })));
  results.forEach((r, i) => {
    expectCode(r, 2, cases[i]![0].join(' '));
    assert.match(r.stderr, cases[i]![1]);
    assert.match(r.stderr, /\nhint: /);
  });
  assert.equal(await snapshot(home), before);
});

test('connection add: sandbox, oidc with an issuer and a secret from the environment, and refusals', async () => {
  const home = await seededHome();
  const sandbox = await idpJson(
    ['connection', 'add', 'gh2', '--type', 'github', '--sandbox', '--jit=false', '--json'],
    { home },
  );
  assert.deepEqual([sandbox.type, sandbox.sandbox, sandbox.jit.enabled], ['github', true, false]);
  const corp = await idpJson(
    [
      'connection',
      'add',
      'corp',
      '--type',
      'oidc',
      '--issuer',
      'https://login.example.com',
      '--client-id',
      'corp-client',
      '--client-secret-env',
      'CORP_SECRET',
      '--json',
    ],
    { home, env: { CORP_SECRET: 'set-in-env' } },
  );
  assert.deepEqual(
    [corp.type, corp.sandbox, corp.issuer, corp.client_id, corp.client_secret],
    ['oidc', false, 'https://login.example.com', 'corp-client', 'env:CORP_SECRET'],
  );
  assert.deepEqual(corp.scopes, ['openid', 'email', 'profile']);

  const before = await snapshot(home);
  const refusals: [string[], number, RegExp][] = [
    [['gh3', '--type', 'github', '--client-id', 'x'], 2, /--client-secret-env VAR or --client-secret-stdin/],
    [['goo', '--type', 'google', '--client-id', 'x'], 2, /--client-secret-env VAR or --client-secret-stdin/],
    [['okta', '--type', 'oidc', '--client-id', 'x'], 2, /--issuer/],
    [['gl', '--type', 'gitlab', '--sandbox'], 2, /--type must be one of github, google, oidc/],
    [['nocid', '--type', 'github'], 2, /--client-id/],
    [['github', '--type', 'github', '--sandbox'], 2, /already exists/],
    [['totp', '--type', 'github', '--sandbox'], 2, /reserved/],
    [
      ['x', '--type', 'github', '--client-id', 'x', '--client-secret-env', 'A', '--client-secret-stdin'],
      2,
      /either --client-secret-env or --client-secret-stdin/,
    ],
  ];
  const results = await Promise.all(refusals.map(([args]) => runIdp(['connection', 'add', ...args], { home })));
  results.forEach((r, i) => {
    expectCode(r, refusals[i]![1], refusals[i]![0].join(' '));
    assert.match(r.stderr, refusals[i]![2]);
  });
  assert.equal(await snapshot(home), before);
});

test('connection remove: refused while an app offers it, --force takes it out of the steps, --yes needed without a terminal', async () => {
  const home = await seededHome();
  const inUse = expectCode(await runIdp(['connection', 'remove', 'github', '--yes'], { home }), 3);
  assert.match(inUse.stderr, /offered by thrift/);
  assert.match(inUse.stderr, /hint: .*--force/);
  const unconfirmed = expectCode(await runIdp(['connection', 'remove', 'github', '--force'], { home }), 2);
  assert.match(unconfirmed.stderr, /--yes/);
  const removed = await idpJson(['connection', 'remove', 'github', '--force', '--yes', '--json'], { home });
  assert.deepEqual([removed.removed, removed.apps_changed], ['github', ['thrift']]);
  const [thrift, names] = await Promise.all([
    idpJson(['app', 'show', 'thrift', '--json'], { home }),
    idpJson(['connection', 'list', '--json'], { home }).then((l) => l.connections.map((c: any) => c.name)),
  ]);
  assert.deepEqual(thrift.steps, [['password', 'google']]);
  assert.deepEqual(names, ['google']);
});

test('an unknown connection name gets exit 2 (bad input, like an unknown user) and "did you mean"', async () => {
  const home = await seededHome();
  const results = await Promise.all([
    runIdp(['connection', 'show', 'githb'], { home }),
    runIdp(['connection', 'set', 'gihtub', '--jit=false'], { home }),
    runIdp(['connection', 'remove', 'gogle', '--yes'], { home }),
  ]);
  for (const r of results) {
    expectCode(r, 2);
    assert.match(r.stderr, /^error: no connection named '\w+'\nhint: did you mean '(github|google)'\?/);
  }
  const far = expectCode(await runIdp(['connection', 'show', 'okta'], { home }), 2);
  assert.match(far.stderr, /hint: known connections: github, google/);
});
