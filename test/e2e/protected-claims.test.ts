// Protected claims through the real CLI (issue 10, item 1): every way an attribute comes in (app create/set,
// connection --map, users set --attr, My Account --attr, users import, apply) refuses one that idp sets itself, with
// exit 2 and the database byte for byte as it was; values stored behind idp's back never reach a token, and
// `app check` reports them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/store.js';
import { dbHash, expectCode, fileWith, idpJson, runIdp, seededHome } from '../helpers/idp.js';

const OCTOCAT_LOGIN = ['login', '--app', 'thrift', '--headless', '--connection', 'github', '--as', 'octocat', '--json'];
const OCTOCAT_ACCOUNT = ['account', '--headless', '--connection', 'github', '--as', 'octocat', '--json'];

/**
 * Runs the command, which must be refused with exit 2 and PROTECTED_CLAIM naming `claim`, changing nothing: the
 * database file by default, or what `state` reads (My Account signs in first, and the sign-in is recorded).
 */
async function refused(
  home: string,
  args: string[],
  claim: string,
  state: () => Promise<string> | string = () => dbHash(home),
): Promise<void> {
  const before = await state();
  const r = expectCode(await runIdp([...args, '--json'], { home }), 2, `idp ${args.join(' ')}`);
  const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
  assert.equal(error.code, 'PROTECTED_CLAIM', args.join(' '));
  assert.match(error.message, new RegExp(`\\b${claim} is a protected claim`));
  assert.match(
    error.hint,
    /protected claims are iss, sub, aud, exp, iat, nbf, auth_time, nonce, acr, amr, azp, sid, jti, idp, pass_through/,
  );
  assert.equal(await state(), before, `${args.join(' ')} changed the database`);
}

test("app set and app create refuse protected claims as attributes (the issue's own command among them)", async () => {
  const home = await seededHome();
  await refused(home, ['app', 'set', 'thrift', '--attributes', 'username,email,sub,acr,amr,iss,aud,idp'], 'sub');
  for (const claim of [
    'iss',
    'aud',
    'exp',
    'iat',
    'nbf',
    'auth_time',
    'nonce',
    'acr',
    'amr',
    'azp',
    'sid',
    'jti',
    'idp',
    'pass_through',
  ]) {
    await refused(home, ['app', 'set', 'thrift', '--attributes', `email,${claim}`], claim);
  }
  await refused(home, ['app', 'set', 'thrift', '--attributes', 'email,acr', '--dry-run'], 'acr');
  await refused(home, ['app', 'create', 'shop', '--attributes', 'email,amr'], 'amr');
});

test('connection add and set refuse a mapping onto a protected claim; mapping from an upstream claim of that name is fine', async () => {
  const home = await seededHome();
  await refused(home, ['connection', 'set', 'github', '--map', 'login=sub'], 'sub');
  await refused(home, ['connection', 'set', 'google', '--map', 'hd=acr'], 'acr');
  await refused(home, ['connection', 'add', 'gh2', '--type', 'github', '--sandbox', '--map', 'id=sub'], 'sub');
  const r = await idpJson<{ after: { attribute_map: Record<string, string> } }>(
    ['connection', 'set', 'google', '--map', 'sub=google_id', '--json'],
    { home },
  );
  assert.equal(r.after.attribute_map.sub, 'google_id');
});

test('users set --attr and My Account --attr refuse protected claims; an unrelated attribute still goes in', async () => {
  const home = await seededHome();
  await refused(
    home,
    ['users', 'set', 'alice', '--attr', 'department=finance', '--attr', 'acr=urn:idp:acr:mfa'],
    'acr',
  );
  const alice = await idpJson<{ id: string }>(['users', 'show', 'alice', '--json'], { home });
  expectCode(await runIdp(OCTOCAT_LOGIN, { home }), 0, 'octocat provisioned by JIT');
  const attributes = async () =>
    JSON.stringify(
      (await idpJson<{ attributes: object }>(['users', 'show', 'octocat', '--json'], { home })).attributes,
    );
  await refused(
    home,
    [...OCTOCAT_ACCOUNT.slice(0, -1), '--attr', `sub=${alice.id}`, '--attr', 'acr=urn:idp:acr:mfa'],
    'sub',
    attributes,
  );
  assert.equal(await attributes(), '{}');
  const account = await idpJson<{ user: { attributes: Record<string, string> } }>(
    [...OCTOCAT_ACCOUNT, '--attr', 'team=octo'],
    { home },
  );
  assert.deepEqual(account.user.attributes, { team: 'octo' });
});

test('users import refuses a protected claim among the attributes (JSON and CSV), naming the line; nothing is imported', async () => {
  const home = await seededHome();
  const json = fileWith(
    'people.json',
    JSON.stringify(
      [
        { username: 'carol', email: 'carol@example.com' },
        { username: 'mallory', attributes: { sub: 'x' } },
      ],
      null,
      1,
    ),
  );
  await refused(home, ['users', 'import', json], 'sub');
  const r = await runIdp(['users', 'import', json], { home });
  assert.match(r.stderr, /people\.json:\d+: sub is a protected claim and cannot be a user attribute/);
  const csv = fileWith(
    'people.csv',
    'username,email,acr\ncarol,carol@example.com,\nmallory,mallory@example.com,urn:idp:acr:mfa\n',
  );
  await refused(home, ['users', 'import', csv], 'acr');
  assert.match((await runIdp(['users', 'import', csv], { home })).stderr, /people\.csv:3: acr is a protected claim/);
  expectCode(await runIdp(['users', 'show', 'carol'], { home }), 2, 'carol was not imported');
});

test('apply refuses protected claims in app attributes and in attribute maps, with the place in the file', async () => {
  const home = await seededHome();
  const apps = fileWith('apps.yaml', 'apps:\n  thrift:\n    attributes: [username, email, sub, acr]\n');
  await refused(home, ['apply', '-f', apps], 'sub');
  assert.match(
    (await runIdp(['apply', '-f', apps], { home })).stderr,
    /apps\.yaml: apps\.thrift\.attributes: sub is a protected claim and cannot be an app attribute/,
  );
  const maps = fileWith('maps.yaml', 'connections:\n  github:\n    attribute_map:\n      login: iss\n');
  await refused(home, ['apply', '-f', maps], 'iss');
  assert.match(
    (await runIdp(['apply', '-f', maps, '--dry-run'], { home })).stderr,
    /connections\.github\.attribute_map: iss is a protected claim and cannot be a mapped attribute/,
  );
});

test("values stored behind idp's back: the token keeps its own sub and acr, and app check reports every one as an error", async () => {
  const home = await seededHome();
  const first = await idpJson<{ claims: Record<string, unknown> }>(OCTOCAT_LOGIN, { home });
  const octocat = first.claims.sub as string;
  const alice = await idpJson<{ id: string }>(['users', 'show', 'alice', '--json'], { home });

  // The state the attack left before the rule existed: the app asks for the claims, the user holds forged ones.
  const store = openStore(home);
  try {
    store.db
      .prepare("UPDATE apps SET attributes = ? WHERE name = 'thrift'")
      .run(JSON.stringify(['username', 'email', 'sub', 'acr', 'amr', 'iss', 'aud', 'idp']));
    store.db
      .prepare("UPDATE connections SET attribute_map = ? WHERE name = 'github'")
      .run(JSON.stringify({ login: 'sid' }));
    store.db.prepare('UPDATE users SET attributes = ? WHERE id = ?').run(
      JSON.stringify({
        sub: alice.id,
        acr: 'urn:idp:acr:mfa',
        amr: '["otp"]',
        iss: 'https://evil.example',
        aud: 'other',
        idp: 'LOCAL',
        username: 'alice',
      }),
      octocat,
    );
  } finally {
    store.close();
  }

  const { claims } = await idpJson<{ claims: Record<string, unknown> }>(OCTOCAT_LOGIN, { home });
  assert.equal(claims.sub, octocat, 'sub is the signed-in user, not alice');
  assert.equal(claims.acr, 'urn:idp:acr:sfa', 'no MFA was done');
  assert.deepEqual(claims.amr, first.claims.amr);
  assert.equal(claims.iss, first.claims.iss);
  assert.equal(claims.aud, first.claims.aud);
  assert.equal(claims.idp, 'github');
  assert.equal(claims.username, 'octocat', 'a custom attribute named like a profile field does not replace it');

  const r = expectCode(await runIdp(['app', 'check', 'thrift', '--json'], { home }), 0, 'app check');
  const hazards = (
    JSON.parse(r.stdout) as { hazards: { severity: string; code: string; message: string; fix: string }[] }
  ).hazards.filter((h) => h.code === 'PROTECTED_CLAIM');
  assert.deepEqual(
    hazards.map((h) => [h.severity, h.message, h.fix]),
    [
      [
        'error',
        "the app's attributes name the protected claim(s) sub, acr, amr, iss, aud, idp, which idp sets itself",
        'drop them: idp app set thrift --attributes username,email',
      ],
      [
        'error',
        'github maps login to the protected claim sid',
        'map it back to its default: idp connection set github --map login=',
      ],
      [
        'error',
        '1 user(s) have a protected claim among their attributes (octocat)',
        'remove it from each: idp users set octocat --attr sub=',
      ],
    ],
  );
  expectCode(await runIdp(['app', 'check', 'thrift', '--strict'], { home }), 9, 'app check --strict');
});
