// Scripts from anywhere: the shipped templates (`app script templates`, `app script set --template`), with no checkout
// around them, the MFA conflict's hint naming the template command that works, and scripts piped in with `--file -`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expectCode, idpJson, idpOk, ROOT, runIdp, seededHome } from '../helpers/idp.js';
import { SKIP_MFA_SCRIPT } from '../helpers/scripts.js';

test('app script templates lists each template with a one-line description (text and --json)', async () => {
  const home = await seededHome();
  const text = await idpOk(['app', 'script', 'templates'], { home });
  assert.match(text.stdout, /^skip-mfa-for-federated {2}run the MFA step 2 only after a local sign-in in step 1/m);
  const { templates } = await idpJson<{ templates: { name: string; description: string }[] }>(
    ['app', 'script', 'templates', '--json'],
    { home },
  );
  assert.ok(templates.length >= 1);
  for (const t of templates) assert.ok(t.description.length > 0 && !t.description.includes('\n'), t.name);
});

test('the MFA conflict hint names --template; run as printed, it fixes the conflict with no fixtures/ around', async () => {
  assert.equal(existsSync(join(ROOT, 'fixtures', 'scripts')), false, 'templates ship in the bundle, not in fixtures/');
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=email-otp'], { home });
  await idpOk(['connection', 'set', 'google', '--jit=false'], { home });
  const failed = expectCode(
    await runIdp(['login', '--app', 'thrift', '--headless', '--connection', 'google', '--as', 'bob'], { home }),
    8,
  );
  const command = /idp app script set thrift --template [\w-]+/.exec(failed.stderr)?.[0];
  assert.equal(command, 'idp app script set thrift --template skip-mfa-for-federated', failed.stderr);
  const set = await idpOk(command.split(' ').slice(1), { home });
  assert.match(set.stdout, /script of thrift set from the skip-mfa-for-federated template/);
  assert.equal(
    (await idpJson<{ script: string }>(['app', 'script', 'show', 'thrift', '--json'], { home })).script,
    SKIP_MFA_SCRIPT,
  );
  await idpOk(['login', '--app', 'thrift', '--headless', '--connection', 'google', '--as', 'bob'], { home });
});

test('an unknown template exits 2 with a did-you-mean; --file with --template, or neither, exits 2; the app is unchanged', async () => {
  const home = await seededHome();
  const typo = expectCode(
    await runIdp(['app', 'script', 'set', 'thrift', '--template', 'skip-mfa-for-federatd'], { home }),
    2,
  );
  assert.match(
    typo.stderr,
    /no script template named 'skip-mfa-for-federatd'\nhint: did you mean 'skip-mfa-for-federated'\? \(idp app script templates lists them\)/,
  );
  assert.match(
    expectCode(
      await runIdp(['app', 'script', 'set', 'thrift', '--template', 'skip-mfa-for-federated', '--file', 'x.js'], {
        home,
      }),
      2,
    ).stderr,
    /pass --file or --template, not both/,
  );
  assert.match(
    expectCode(await runIdp(['app', 'script', 'set', 'thrift'], { home }), 2).stderr,
    /--file FILE, --file - \(stdin\) or --template NAME/,
  );
  assert.equal(
    (await idpJson<{ script: string | null }>(['app', 'script', 'show', 'thrift', '--json'], { home })).script,
    null,
  );
});

test('--file - reads the script from stdin, byte for byte, and checks it like a file', async () => {
  const home = await seededHome();
  const source = '// piped\nvar onLoginRequest = function (context) {\n\texecuteStep(1);\n};\n\n';
  const set = await idpOk(['app', 'script', 'set', 'thrift', '--file', '-'], { home, input: source });
  assert.match(set.stdout, /script of thrift set from stdin/);
  assert.equal(
    (await idpJson<{ script: string }>(['app', 'script', 'show', 'thrift', '--json'], { home })).script,
    source,
  );
  const broken = expectCode(
    await runIdp(['app', 'script', 'set', 'thrift', '--file', '-'], {
      home,
      input: 'var onLoginRequest = function (context) {\n',
    }),
    2,
  );
  assert.match(broken.stderr, /^error: stdin:\d*:? ?.*SyntaxError/m);
  assert.equal(
    (await idpJson<{ script: string }>(['app', 'script', 'show', 'thrift', '--json'], { home })).script,
    source,
    'unchanged',
  );
});
