// What the CLI says about passkeys, after review: a corrupt software key is bad input refused before any flow starts;
// software passkeys are numbered; JSON keys are snake_case like every other listing; `users show` prints passkey ids and
// refusals point to the listing that has them; flags a method ignores are refused; names cannot spoof text; the
// software-passkey refusal is a configuration exit; the docs' passkey commands run as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dbHash, expectCode, fileWith, idpJson, idpOk, ROOT, runIdp, seededHome, tempDir } from '../helpers/idp.js';

interface Enrolled {
  factor: string;
  key: string;
  passkey: Record<string, unknown> & { id: string; name: string };
}

const enrol = (home: string, user = 'alice', ...flags: string[]) =>
  idpJson<Enrolled>(['users', 'mfa', 'enroll', user, 'passkey', '--software', '--json', ...flags], { home });

function passkeyLogin(home: string, key: string | undefined) {
  return runIdp(
    ['login', '--app', 'thrift', '--headless', '--option', 'passkey', '--passkey-key-env', 'PK', '--json'],
    {
      home,
      env: { PK: key },
    },
  );
}

test('a corrupt or empty --passkey-key-env is bad input (exit 2) refused before any flow starts', async () => {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '1=passkey,github'], { home });
  const before = dbHash(home);
  const fields = { rpId: 'localhost', credentialId: 'abc', userHandle: 'u1', privateKey: 'AAAA' };
  const corrupt = `idp-passkey-v1.${Buffer.from(JSON.stringify(fields)).toString('base64url')}`;
  const r = expectCode(await passkeyLogin(home, corrupt), 2);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'INVALID_VALUE');
  assert.match(r.stderr, /a key starts with idp-passkey-v1\./);
  assert.equal(dbHash(home), before, 'no flow row, nothing written');

  const empty = expectCode(await passkeyLogin(home, ''), 2);
  assert.match(empty.stderr, /\$PK, which is empty/);
  assert.doesNotMatch(empty.stderr, /not set/);
  assert.equal(dbHash(home), before);
});

test('software passkeys without --name are numbered "Software passkey N"', async () => {
  const home = await seededHome();
  const first = await enrol(home);
  const second = await enrol(home);
  assert.deepEqual([first.passkey.name, second.passkey.name], ['Software passkey 1', 'Software passkey 2']);
  const help = (await idpOk(['users', 'mfa', 'enroll', '--help'], { home })).stdout;
  assert.match(help, /default: Software passkey N/);
});

test('passkeys in --json are snake_case, as factors and users export are', async () => {
  const home = await seededHome();
  const enrolled = await enrol(home);
  const listed = await idpJson<{ passkeys: Record<string, unknown>[] }>(['users', 'mfa', 'list', 'alice', '--json'], {
    home,
  });
  const shown = await idpJson<{ passkeys: Record<string, unknown>[] }>(['users', 'show', 'alice', '--json'], { home });
  for (const p of [enrolled.passkey, listed.passkeys[0]!, shown.passkeys[0]!]) {
    assert.deepEqual(Object.keys(p).sort(), [
      'aaguid',
      'created_at',
      'factor',
      'id',
      'last_used_at',
      'name',
      'software',
    ]);
  }
  assert.deepEqual(listed.passkeys, shown.passkeys);
});

test('users show prints passkey ids, and refusals about a factor point to users mfa list', async () => {
  const home = await seededHome();
  const { factor } = await enrol(home);
  const shown = (await idpOk(['users', 'show', 'alice'], { home })).stdout;
  assert.ok(shown.includes(factor), shown);
  await idpOk(['users', 'create', 'bob', '--email', 'bob@example.com'], { home });
  const rename = expectCode(await runIdp(['users', 'mfa', 'rename', 'bob', factor, '--name', 'x'], { home }), 2);
  assert.match(rename.stderr, /hint: .*idp users mfa list bob/);
  const remove = expectCode(await runIdp(['users', 'mfa', 'remove', 'bob', 'totp-nope', '--yes'], { home }), 2);
  assert.match(remove.stderr, /hint: .*idp users mfa list bob/);
});

test('users mfa enroll USER totp refuses --software and --name, which only a passkey takes', async () => {
  const home = await seededHome();
  const before = dbHash(home);
  const r = expectCode(
    await runIdp(['users', 'mfa', 'enroll', 'alice', 'totp', '--software', '--name', 'foo', '--json'], { home }),
    2,
  );
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'USAGE');
  assert.match(r.stderr, /--software/);
  assert.match(r.stderr, /hint: /);
  assert.equal(dbHash(home), before);
});

test('a passkey name with a bidi override or a C1 control is refused, by rename and by import', async () => {
  const home = await seededHome();
  const { factor } = await enrol(home);
  for (const name of ['Work\u202elaptop', 'Work\u0085laptop', 'Work\u2066laptop']) {
    const r = expectCode(await runIdp(['users', 'mfa', 'rename', 'alice', factor, '--name', name], { home }), 2);
    assert.match(r.stderr, /1 to 64 characters without control characters/);
  }
  const exported = JSON.parse((await idpOk(['users', 'export'], { home })).stdout) as {
    username: string;
    passkeys?: { name: string }[];
  }[];
  const alice = exported.find((u) => u.username === 'alice')!;
  alice.passkeys![0]!.name = 'gpj.exe\u202e';
  const target = `${tempDir('import')}/org`;
  await idpOk(['init', '--empty', '--quiet'], { home: target });
  const r = expectCode(
    await runIdp(['users', 'import', fileWith('u.json', JSON.stringify(exported))], { home: target }),
    2,
  );
  assert.match(r.stderr, /passkey name must be 1 to 64 characters/);
});

test('a software passkey in an org with a real connection is a configuration refusal (exit 3)', async () => {
  const home = await seededHome();
  await idpOk(['connection', 'add', 'corp', '--type', 'github', '--client-id', 'x', '--client-secret-env', 'X'], {
    home,
  });
  const r = expectCode(
    await runIdp(['users', 'mfa', 'enroll', 'alice', 'passkey', '--software', '--json'], { home }),
    3,
  );
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'SOFTWARE_PASSKEY_REFUSED');
});

test("the docs: --step lists passkey; the README's passkey commands run after idp init; scenario keys name passkey_key_env", async () => {
  const home = tempDir('readme');
  await idpOk(['init', '--quiet'], { home });
  const help = (await idpOk(['app', 'set', '--help'], { home })).stdout;
  assert.match(help, /--step <N=OPTIONS>[\s\S]*passkey/);

  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### Passkeys\n');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
  const commands = [...section.matchAll(/^idp app (?:create|set) .*?(?=\s+#|$)/gm)].map((m) => m[0]);
  assert.ok(commands.length >= 4, commands.join('\n'));
  for (const command of commands) await idpOk(command.split(/\s+/).slice(1), { home });

  const scenario = readme.slice(readme.indexOf('#### Scenario file'), readme.indexOf('\n## Use in CI'));
  assert.match(scenario, /`passkey_key_env`/);
  assert.match(scenario, /`mfa`: `totp`, `email-otp` or `passkey`/);
});
