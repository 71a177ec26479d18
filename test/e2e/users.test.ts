// `idp users ...` through the real CLI: keyset pages over a few hundred imported users, show by id/username/email,
// create/set/delete (cascading to associations and factors), all-or-nothing import naming the bad line, and export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { expectCode, idpJson, idpOk, orgBytes, runIdp, seededHome, snapshot, tempDir } from '../helpers/idp.js';

const files = tempDir('files');

function file(name: string, text: string): string {
  const path = join(files, name);
  writeFileSync(path, text);
  return path;
}

/** `count` users as CSV: mixed-case usernames and quoted names with commas, every third from "hr". */
function peopleCsv(count: number): string {
  const rows = ['username,email,email_verified,name,department'];
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(3, '0');
    rows.push(
      `${i % 2 ? 'Person' : 'person'}${n},p${n}@example.org,${i % 2 === 0},"Person ${n}, Jr.",${i % 3 ? 'eng' : 'hr'}`,
    );
  }
  return `${rows.join('\n')}\n`;
}

async function userCount(home: string): Promise<number> {
  const store = openStore(home);
  try {
    return await store.users.count();
  } finally {
    store.close();
  }
}

test('users list walks every page of a few hundred imported users: no duplicates, none missing', async () => {
  const home = await seededHome();
  const imported = await idpJson(['users', 'import', file('people.csv', peopleCsv(300)), '--json'], { home });
  assert.equal(imported.imported, 300);
  const seen: string[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const page: { users: { username: string }[]; next: string | null } = await idpJson(
      ['users', 'list', '--limit', '40', '--json', ...(after ? ['--after', after] : [])],
      { home },
    );
    assert.ok(page.users.length <= 40);
    seen.push(...page.users.map((u) => u.username));
    after = page.next;
    pages++;
  } while (after !== null && pages < 50);
  assert.equal(pages, 8, '301 users in pages of 40');
  assert.equal(new Set(seen).size, seen.length, 'no duplicates');
  const expected = [
    'alice',
    ...Array.from({ length: 300 }, (_, i) => `${i % 2 ? 'Person' : 'person'}${String(i).padStart(3, '0')}`),
  ];
  assert.deepEqual([...seen].sort(), [...expected].sort(), 'none missing');

  const [text, search, source, empty] = await Promise.all([
    idpOk(['users', 'list', '--limit', '2'], { home }),
    idpJson(['users', 'list', '--search', 'person29', '--json'], { home }),
    idpJson(['users', 'list', '--source', 'github', '--json'], { home }),
    idpOk(['users', 'list', '--search', 'nobody-like-this'], { home }),
  ]);
  assert.match(text.stdout, /^USERNAME\s+EMAIL\s+SOURCE\s+STATUS\s+CREATED\s+LAST LOGIN$/m);
  assert.match(text.stdout, /^more: idp users list --after \S+$/m);
  const bad = expectCode(await runIdp(['users', 'list', '--after', 'garbage'], { home }), 2);
  assert.match(bad.stderr, /^error: 'garbage' is not a page cursor\nhint: pass the cursor the previous page printed/);
  assert.deepEqual(
    search.users.map((u: any) => u.username.toLowerCase()),
    Array.from({ length: 10 }, (_, i) => `person29${i}`),
  );
  assert.deepEqual(source, { users: [], next: null });
  assert.match(empty.stdout, /no users match/);
  const [person] = search.users;
  assert.deepEqual(
    [person.name, person.attributes, person.source],
    ['Person 290, Jr.', { department: 'eng' }, 'local'],
  );
});

test('users show finds a user by id, username or email; an unknown user is exit 2', async () => {
  const home = await seededHome();
  const alice = await idpJson(['users', 'show', 'alice', '--json'], { home });
  const [byId, byEmail, text, missing] = await Promise.all([
    idpJson(['users', 'show', alice.id, '--json'], { home }),
    idpJson(['users', 'show', 'ALICE@example.com', '--json'], { home }),
    idpOk(['users', 'show', 'alice'], { home }),
    runIdp(['users', 'show', 'nobody'], { home }),
  ]);
  const [typo, emailTypo] = await Promise.all([
    runIdp(['users', 'show', 'alcie'], { home }),
    runIdp(['users', 'show', 'alice@exmaple.com'], { home }),
  ]);
  assert.equal(byId.username, 'alice');
  assert.equal(byEmail.id, alice.id);
  assert.deepEqual([alice.associations, alice.mfa_factors], [[], []]);
  assert.match(text.stdout, /email\s+alice@example\.com \(verified\)/);
  expectCode(missing, 2);
  assert.match(missing.stderr, /hint: see `idp users list --search nobody`/);
  assert.match(expectCode(typo, 2).stderr, /hint: did you mean 'alice'\? see `idp users list --search alcie`/);
  assert.match(expectCode(emailTypo, 2).stderr, /hint: did you mean 'alice@example\.com'\?/);
});

test('users create (password from stdin), set --attr/--lock/--unlock/--disable, and the events they leave', async () => {
  const home = await seededHome();
  const dave = await idpJson(
    ['users', 'create', 'dave', '--email', 'dave@example.com', '--name', 'Dave', '--password-stdin', '--json'],
    { home, input: 'a-long-password\n' },
  );
  assert.deepEqual(
    [dave.username, dave.email, dave.email_verified, dave.has_password, dave.status],
    ['dave', 'dave@example.com', false, true, 'active'],
  );
  const refusals = await Promise.all([
    runIdp(['users', 'create', 'dave', '--email', 'other@example.com'], { home }),
    runIdp(['users', 'create', 'eve', '--email', 'DAVE@example.com'], { home }),
    runIdp(['users', 'create', 'bad name', '--email', 'x@example.com'], { home }),
    runIdp(['users', 'create', 'eve', '--email', 'not-an-email'], { home }),
    runIdp(['users', 'create', 'eve', '--email', 'eve@example.com', '--password-stdin'], { home, input: 'short' }),
    runIdp(['users', 'set', 'dave', '--lock', '--unlock'], { home }),
    runIdp(['users', 'set', 'dave', '--attr', 'username=x'], { home }),
    runIdp(['users', 'set', 'dave', '--attr', 'email=alice@example.com'], { home }),
  ]);
  for (const r of refusals) expectCode(r, 2);

  const set = await idpJson(
    ['users', 'set', 'dave', '--attr', 'department=finance', '--attr', 'name=David', '--lock', '--json'],
    { home },
  );
  assert.equal(set.changed, true);
  assert.deepEqual(
    [set.after.attributes, set.after.name, set.after.status],
    [{ department: 'finance' }, 'David', 'locked'],
  );
  assert.equal(
    (await idpJson(['users', 'set', 'dave', '--attr', 'department=finance', '--lock', '--json'], { home })).changed,
    false,
  );
  assert.equal(
    (await idpJson(['users', 'set', 'dave', '--unlock', '--attr', 'department=', '--json'], { home })).after.status,
    'active',
  );
  await idpOk(['users', 'set', 'dave', '--disable'], { home });
  const shown = await idpJson(['users', 'show', 'dave', '--json'], { home });
  assert.deepEqual([shown.status, shown.attributes, shown.name], ['disabled', {}, 'David']);
  const actions = (await idpJson(['events', '--json'], { home })).events.map((e: any) => e.action);
  assert.deepEqual(actions.slice(0, 4), ['users.set', 'users.set', 'users.set', 'users.create']);
});

test('users delete needs --yes without a terminal and takes associations and MFA factors with the user', async () => {
  const home = await seededHome();
  const alice = await idpJson(['users', 'show', 'alice', '--json'], { home });
  const store = openStore(home);
  try {
    await store.associations.insert({
      connection: 'github',
      subject: '583231',
      userId: alice.id,
      claims: { login: 'alice' },
    });
    store.db
      .prepare(
        "INSERT INTO mfa_factors (id, user_id, type, secret_sealed, created_at) VALUES ('f1', ?, 'totp', 'sealed', 'now')",
      )
      .run(alice.id);
  } finally {
    store.close();
  }
  const shown = await idpJson(['users', 'show', 'alice', '--json'], { home });
  assert.deepEqual([shown.associations.length, shown.mfa_factors.length], [1, 1]);

  const refused = expectCode(await runIdp(['users', 'delete', 'alice'], { home }), 2);
  assert.match(refused.stderr, /--yes/);
  assert.deepEqual(await idpJson(['users', 'delete', 'alice@example.com', '--yes', '--json'], { home }), {
    deleted: alice.id,
    username: 'alice',
  });
  const check = openStore(home);
  try {
    assert.equal(await check.users.byId(alice.id), undefined);
    assert.equal(await check.associations.get('github', '583231'), undefined);
    assert.equal(check.db.prepare('SELECT count(*) FROM mfa_factors').pluck().get(), 0);
  } finally {
    check.close();
  }
});

test('users import is all or nothing: a bad CSV record at line 4 is named and nothing is imported', async () => {
  const home = await seededHome();
  const before = await snapshot(home);
  const bad = file(
    'bad.csv',
    'username,email\nann,ann@example.org\nbob,bob@example.org\ncarl,not-an-email\ndora,dora@example.org\n',
  );
  const dupInFile = file(
    'dup.json',
    '[\n  {"username": "ann"},\n  {"username": "bob"},\n  {"username": "Ann", "email": "x@example.org"}\n]\n',
  );
  const dupInStore = file('dup.jsonl', '{"username":"zed"}\n{"username":"alice"}\n');
  const results = await Promise.all(
    [bad, dupInFile, dupInStore, join(files, 'missing.csv')].map((f) => runIdp(['users', 'import', f], { home })),
  );
  for (const r of results) expectCode(r, 2);
  assert.match(results[0]!.stderr, /^error: .*bad\.csv:4: invalid email 'not-an-email'\nhint: .*nothing was imported/);
  assert.match(results[1]!.stderr, /dup\.json:4: username Ann already exists/);
  assert.match(results[2]!.stderr, /dup\.jsonl:2: username alice already exists/);
  assert.match(results[3]!.stderr, /cannot read .*missing\.csv/);
  assert.equal(await userCount(home), 1);
  assert.equal(await snapshot(home), before, 'not a row, not an event');
});

test('users import refuses what it would have to change, by file and line, and leaves the org byte for byte as it was', async () => {
  const home = await seededHome();
  const before = orgBytes(home);
  const invalidUtf8 = join(files, 'latin1.csv');
  writeFileSync(
    invalidUtf8,
    Buffer.concat([Buffer.from('username,name\nann,Ann\nbob,'), Buffer.from([0x42, 0xe9, 0x62]), Buffer.from('\n')]),
  );
  const cases: [string, RegExp][] = [
    [invalidUtf8, /latin1\.csv:3: not valid UTF-8\nhint: save the file as UTF-8/],
    [
      file('proto.json', '[\n{"username": "ann", "__proto__": {"admin": true}}\n]'),
      /proto\.json:2: '__proto__' cannot be a field name/,
    ],
    [
      file('yes.jsonl', '{"username": "ann", "email": "ann@example.org", "email_verified": "yes"}\n'),
      /yes\.jsonl:1: email_verified must be true or false, not 'yes'/,
    ],
    [
      file('huge.csv', `username,name\nann,${'A'.repeat(1024 * 1024)}\n`),
      /huge\.csv:2: name is longer than 256 characters/,
    ],
    [
      file('plain.csv', 'username,password\nann,hunter2\n'),
      /plain\.csv:2: a password field is never imported.*\nhint: give password_hash instead/,
    ],
    [
      file('taken.jsonl', '{"username": "zed"}\n{"username": "alice"}\n'),
      /taken\.jsonl:2: username alice already exists/,
    ],
  ];
  for (const [path, reason] of cases) {
    const r = expectCode(await runIdp(['users', 'import', path], { home }), 2, path);
    assert.match(r.stderr, reason);
    assert.ok(!r.stderr.includes('hunter2'), 'a password is never echoed');
    assert.equal(orgBytes(home), before, `${path} changed nothing`);
  }
});

test('users import takes a UTF-8 byte order mark (as Excel writes one) in CSV and JSON', async () => {
  const home = await seededHome();
  const bom = '\uFEFF';
  await idpOk(
    [
      'users',
      'import',
      file('excel.csv', `${bom}username,email,email_verified,name\r\nrene,rene@example.org,true,René Ñúñez\r\n`),
    ],
    { home },
  );
  await idpOk(
    ['users', 'import', file('bom.json', `${bom}[{"username": "zoe", "name": "Zoë", "email": "zoe@example.org"}]`)],
    { home },
  );
  const rene = await idpJson(['users', 'show', 'rene@example.org', '--json'], { home });
  assert.equal(rene.username, 'rene');
  assert.equal(rene.name, 'René Ñúñez');
  assert.equal(rene.email_verified, true);
  assert.equal((await idpJson(['users', 'show', 'zoe@example.org', '--json'], { home })).name, 'Zoë');
});

test('users export writes JSON or CSV that users import reads back into another org', async () => {
  const home = await seededHome();
  await idpOk(['users', 'import', file('few.csv', peopleCsv(5))], { home });
  const [json, csv, withHashes] = await Promise.all([
    idpOk(['users', 'export'], { home }),
    idpOk(['users', 'export', '--format', 'csv'], { home }),
    idpOk(['users', 'export', '--with-password-hashes'], { home }),
  ]);
  const exported = JSON.parse(json.stdout);
  assert.equal(exported.length, 6);
  assert.ok(
    exported.every((u: any) => !('password_hash' in u)),
    'no hashes unless asked',
  );
  assert.match(JSON.parse(withHashes.stdout).find((u: any) => u.username === 'alice').password_hash, /^scrypt\$/);
  assert.match(csv.stdout, /^id,username,email,email_verified,name,/);
  assert.match(csv.stdout, /"Person 001, Jr\."/);

  const [fromJson, fromCsv] = [join(tempDir('copy-json'), 'org'), join(tempDir('copy-csv'), 'org')];
  await Promise.all([idpOk(['init', '--empty'], { home: fromJson }), idpOk(['init', '--empty'], { home: fromCsv })]);
  await Promise.all([
    idpOk(['users', 'import', file('export.json', withHashes.stdout)], { home: fromJson }),
    idpOk(['users', 'import', file('export.csv', csv.stdout)], { home: fromCsv }),
  ]);
  const [a, b] = await Promise.all([
    idpJson(['users', 'list', '--json'], { home: fromJson }),
    idpJson(['users', 'list', '--json'], { home: fromCsv }),
  ]);
  const essence = (u: any) => [u.username, u.email, u.email_verified, u.name, u.attributes];
  assert.deepEqual(a.users.map(essence), exported.map(essence));
  assert.deepEqual(b.users.map(essence), exported.map(essence));
  assert.equal(
    a.users.find((u: any) => u.username === 'alice').has_password,
    true,
    'hashes travel with --with-password-hashes',
  );
});

test("one identifier, one account: create, set and import refuse a username shaped like an email that is not the user's own (exit 2, nothing changed)", async () => {
  const home = await seededHome();
  const before = await snapshot(home);
  const refusals = await Promise.all([
    runIdp(['users', 'create', 'alice@example.com', '--email', 'evil@example.com'], { home }),
    runIdp(['users', 'create', 'mallory', '--email', 'alice@example.com'], { home }),
    runIdp(
      [
        'users',
        'import',
        file('shaped.csv', 'username,email\nann,ann@example.org\nalice@example.com,evil@example.org\n'),
      ],
      { home },
    ),
    runIdp(['users', 'import', file('taken.jsonl', '{"username":"alice@example.com","email":"alice@example.com"}\n')], {
      home,
    }),
  ]);
  for (const r of refusals) expectCode(r, 2);
  assert.match(
    refusals[0]!.stderr,
    /username 'alice@example\.com' looks like an email address but is not the user's own email/,
  );
  assert.match(refusals[1]!.stderr, /email alice@example\.com belongs to another user/);
  assert.match(refusals[2]!.stderr, /shaped\.csv:3: username 'alice@example\.com' looks like an email address/);
  assert.match(refusals[3]!.stderr, /taken\.jsonl:1: .*already exists/);
  assert.equal(await snapshot(home), before, 'not a row, not an event');

  // A user whose username is their own email keeps the two together: the email cannot move away from it.
  await idpOk(['users', 'create', 'dana@example.com', '--email', 'dana@example.com'], { home });
  const moved = expectCode(
    await runIdp(['users', 'set', 'dana@example.com', '--attr', 'email=dana@elsewhere.example'], { home }),
    2,
  );
  assert.match(moved.stderr, /the email of dana@example\.com cannot change: the username is that email address/);
  assert.equal((await idpJson(['users', 'show', 'dana@example.com', '--json'], { home })).email, 'dana@example.com');
});
