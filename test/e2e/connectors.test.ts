// Issue 11, items 5 (sandbox part) and 11 to 14, through bin/idp: --token-auth and --base-url on connection add/set
// and in policy files, --issuer refused on github, a discovery document refused before the browser (exit 4), a sandbox
// github configured like the README's CI example, and sandbox personas that meet a suspended app or a rate limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  childEnv,
  expectCode,
  IDP_BIN,
  idpJson,
  idpOk,
  runIdp,
  seededHome,
  snapshot,
  tempDir,
} from '../helpers/idp.js';
import { startOidcProvider } from '../integration/third-party-providers.js';

function fileWith(name: string, text: string): string {
  const file = join(tempDir('connectors'), name);
  writeFileSync(file, text);
  return file;
}

/** idp on a terminal (a pty from util-linux `script`), where a login with a real provider is allowed to start. */
function onTerminal(home: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn('script', ['-qefc', `exec '${process.execPath}' '${IDP_BIN}' ${args.join(' ')}`, '/dev/null'], {
    env: childEnv({ home, env: { NO_COLOR: '1' } }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

interface ConnectionJson {
  base_url: string | null;
  token_auth: string;
  issuer: string | null;
  client_secret: string | null;
}

test('item 13: connection add --type github --issuer is refused (exit 2) with --base-url as the fix, and nothing is added', async () => {
  const home = await seededHome();
  const before = await snapshot(home);
  const r = expectCode(
    await runIdp(
      [
        'connection',
        'add',
        'ghe',
        '--type',
        'github',
        '--issuer',
        'https://ghe.example.com',
        '--client-id',
        'Iv1.x',
        '--client-secret-env',
        'GHE_SECRET',
      ],
      { home },
    ),
    2,
  );
  assert.match(r.stderr, /error: a github connection has no issuer/);
  assert.match(
    r.stderr,
    /hint: for GitHub Enterprise Server give its address as the base URL instead: --base-url https:\/\/github\.example\.com/,
  );
  const other = expectCode(
    await runIdp(
      [
        'connection',
        'add',
        'corp',
        '--type',
        'oidc',
        '--issuer',
        'https://login.example.com',
        '--base-url',
        'https://ghe.example.com',
        '--client-id',
        'x',
      ],
      { home },
    ),
    2,
  );
  assert.match(other.stderr, /only a github connection has a base URL/);
  assert.equal(await snapshot(home), before);
});

test('item 13: --base-url points a github connection at a GitHub Enterprise Server; show, export and apply carry it', async () => {
  const home = await seededHome();
  await idpOk(
    [
      'connection',
      'add',
      'ghe',
      '--type',
      'github',
      '--base-url',
      'https://ghe.example.com/',
      '--client-id',
      'Iv1.ghe',
      '--client-secret-env',
      'GHE_SECRET',
    ],
    { home },
  );
  const shown = await idpJson<ConnectionJson>(['connection', 'show', 'ghe', '--json'], { home });
  assert.deepEqual([shown.base_url, shown.issuer], ['https://ghe.example.com', null]);
  assert.match((await idpOk(['connection', 'show', 'ghe'], { home })).stdout, /base URL +https:\/\/ghe\.example\.com/);
  const exported = (await idpOk(['export'], { home })).stdout;
  assert.match(exported, /ghe:\n(?: {4}.*\n)*? {4}base_url: https:\/\/ghe\.example\.com\n/);

  const moved = fileWith('moved.yaml', 'connections:\n  ghe:\n    base_url: https://ghe2.example.com\n');
  await idpOk(['apply', '-f', moved], { home });
  assert.equal(
    (await idpJson<ConnectionJson>(['connection', 'show', 'ghe', '--json'], { home })).base_url,
    'https://ghe2.example.com',
  );
  const withIssuer = fileWith('issuer.yaml', 'connections:\n  ghe:\n    issuer: https://ghe.example.com\n');
  const refused = expectCode(await runIdp(['apply', '-f', withIssuer], { home }), 2, 'apply of a github issuer');
  assert.match(refused.stderr, /issuer\.yaml: connections\.ghe: a github connection has no issuer/);
  const sandboxed = expectCode(
    await runIdp(['connection', 'set', 'github', '--base-url', 'https://ghe.example.com'], { home }),
    2,
  );
  assert.match(
    sandboxed.stderr,
    /sandbox connection github uses the bundled GitHub-like provider, so it takes no base URL/,
  );
});

test('item 11: --token-auth is stored, shown and exported; none makes a public client that needs no secret', async () => {
  const home = await seededHome();
  await idpOk(
    ['connection', 'add', 'public-gh', '--type', 'github', '--client-id', 'Iv1.public', '--token-auth', 'none'],
    { home },
  );
  const pub = await idpJson<ConnectionJson>(['connection', 'show', 'public-gh', '--json'], { home });
  assert.deepEqual([pub.token_auth, pub.client_secret], ['none', null]);
  await idpOk(
    [
      'connection',
      'add',
      'corp',
      '--type',
      'oidc',
      '--issuer',
      'https://login.example.com',
      '--client-id',
      'x',
      '--client-secret-env',
      'CORP_SECRET',
      '--token-auth',
      'client_secret_post',
    ],
    { home },
  );
  assert.equal(
    (await idpJson<ConnectionJson>(['connection', 'show', 'corp', '--json'], { home })).token_auth,
    'client_secret_post',
  );
  assert.match((await idpOk(['export'], { home })).stdout, /token_auth: client_secret_post/);
  await idpOk(['connection', 'set', 'corp', '--token-auth', 'auto'], { home });
  assert.equal((await idpJson<ConnectionJson>(['connection', 'show', 'corp', '--json'], { home })).token_auth, 'auto');
  const file = fileWith('auth.yaml', 'connections:\n  corp:\n    token_auth: client_secret_basic\n');
  await idpOk(['apply', '-f', file], { home });
  assert.equal(
    (await idpJson<ConnectionJson>(['connection', 'show', 'corp', '--json'], { home })).token_auth,
    'client_secret_basic',
  );
  const bad = expectCode(
    await runIdp(['apply', '-f', fileWith('bad.yaml', 'connections:\n  corp:\n    token_auth: private_key_jwt\n')], {
      home,
    }),
    2,
  );
  assert.match(bad.stderr, /connections\.corp\.token_auth/);
});

test('item 12: a discovery document without authorization_endpoint fails the login with exit 4 naming it, before any browser opens', async () => {
  const provider = await startOidcProvider({
    clientId: 'corp-client',
    accepts: 'none',
    edit: (doc) => delete doc.authorization_endpoint,
  });
  try {
    const home = await seededHome();
    await idpOk(
      [
        'connection',
        'add',
        'corp',
        '--type',
        'oidc',
        '--issuer',
        provider.url,
        '--client-id',
        'corp-client',
        '--token-auth',
        'none',
      ],
      { home },
    );
    await idpOk(['app', 'create', 'portal', '--step', '1=corp'], { home });
    const r = await onTerminal(home, [
      'login',
      '--app',
      'portal',
      '--connection',
      'corp',
      '--no-browser',
      '--timeout',
      '5',
    ]);
    assert.equal(r.code, 4, r.output);
    assert.match(
      r.output,
      /error: the discovery document of 127\.0\.0\.1:\d+ at .* is unusable: authorization_endpoint is missing/,
    );
    assert.equal(provider.authorizeHits, 0);
    assert.doesNotMatch(r.output, /\/authorize\?/, 'no URL for a browser was printed');

    const doctor = expectCode(await runIdp(['doctor', '--json'], { home }), 9, 'doctor');
    const check = (
      JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string }[] }
    ).checks.find((c) => c.name === 'connection corp');
    assert.equal(check?.status, 'failed');
    assert.match(check?.detail ?? '', /authorization_endpoint is missing/);
  } finally {
    await provider.close();
  }
});

test('item 5: a sandbox github configured with its own client id and a secret from the environment signs in (the README CI shape)', async () => {
  const home = tempDir('ci-org');
  await idpOk(['init', '--empty', '--home', home]);
  const policy = fileWith(
    'idp.yaml',
    'connections:\n  github:\n    type: github\n    sandbox: true\n    client_id: Iv1.example\n    client_secret_env: GITHUB_CLIENT_SECRET\napps:\n  thrift:\n    steps: [[github]]\n',
  );
  const env = { GITHUB_CLIENT_SECRET: 'ci-secret-from-the-environment' };
  await idpOk(['apply', '-f', policy, '--home', home], { env });
  const login = await idpJson<{ outcome: string; jit: { user: { username: string } } }>(
    ['login', '--app', 'thrift', '--headless', '--connection', 'github', '--as', 'octocat', '--json', '--home', home],
    { env },
  );
  assert.deepEqual([login.outcome, login.jit.user.username], ['success', 'octocat']);
  const doctor = await idpJson<{ checks: { name: string; status: string; detail: string }[] }>(
    ['doctor', '--json', '--home', home],
    { env },
  );
  assert.match(
    doctor.checks.find((c) => c.name === 'connection github')?.detail ?? '',
    /registers client Iv1\.example with \$GITHUB_CLIENT_SECRET/,
  );
  const unset = expectCode(
    await runIdp(['doctor', '--json', '--home', home], { env: { GITHUB_CLIENT_SECRET: undefined } }),
    9,
    'doctor without the secret',
  );
  assert.match(unset.stdout, /cannot register github, whose secret is unusable/);
});

test('item 14: sandbox personas meet a suspended app and a rate-limited API; idp says so (exit 4) and provisions nobody', async () => {
  const home = await seededHome();
  const personas = fileWith(
    'personas.json',
    JSON.stringify({
      github: [
        {
          login: 'suspended-gh',
          id: 9000001,
          name: 'Sus Pended',
          publicEmail: null,
          emails: [{ email: 'sus@example.com', primary: true, verified: true, visibility: null }],
          avatarUrl: 'https://avatars.example/s.png',
          appSuspended: true,
        },
        {
          login: 'limited-gh',
          id: 9000002,
          name: 'Lim Ited',
          publicEmail: null,
          emails: [{ email: 'lim@example.com', primary: true, verified: true, visibility: null }],
          avatarUrl: 'https://avatars.example/l.png',
          rateLimited: true,
        },
      ],
    }),
  );
  const login = (as: string) =>
    runIdp(['login', '--app', 'thrift', '--headless', '--connection', 'github', '--as', as, '--personas', personas], {
      home,
    });
  const suspended = expectCode(await login('suspended-gh'), 4, 'suspended app');
  assert.match(
    suspended.stderr,
    /GitHub refused the login: application_suspended \(Your application has been suspended/,
  );
  assert.match(suspended.stderr, /hint: the provider has suspended the OAuth app of this connection/);
  const limited = expectCode(await login('limited-gh'), 4, 'rate limited');
  assert.match(
    limited.stderr,
    /GitHub \/user(\/emails)? answered HTTP 403: the API rate limit is exhausted; it resets in 15 min/,
  );
  assert.match(limited.stderr, /hint: wait 15 min/);
  const users = await idpJson<{ users: { username: string }[] }>(['users', 'list', '--json'], { home });
  assert.ok(!users.users.some((u) => /suspended|limited|lim-ited/i.test(u.username)), 'nobody was provisioned');
});
