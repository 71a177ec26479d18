// Parsing `users import` files (src/core/user-records.ts): JSON arrays, JSON lines and CSV, each record keeping the
// line it starts on, so the first bad one is named as FILE:LINE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpError } from '../../src/core/errors.js';
import { hashPassword } from '../../src/core/password.js';
import { parseUserFile } from '../../src/core/user-records.js';
import { validEmail, validUsername } from '../../src/core/user-fields.js';
import { hintOf } from '../helpers/hints.js';

function badAt(text: string, where: string, why: RegExp): void {
  assert.throws(
    () => parseUserFile(text, 'f'),
    (err: unknown) =>
      err instanceof IdpError &&
      err.code === 'IMPORT_INVALID' &&
      err.exitCode === 2 &&
      err.message.startsWith(`f:${where}:`) &&
      why.test(err.message),
  );
}

test('a JSON array: each record gets the line its object starts on, whatever the layout', () => {
  const text = [
    '[',
    '  {"username": "a", "note": "has a ] and a { and a \\" inside"},',
    '',
    '  {',
    '    "username": "b",',
    '    "attributes": {"nested": "[1, 2] {}"}',
    '  }, {"username": "c"}',
    ']',
  ].join('\n');
  assert.deepEqual(
    parseUserFile(text, 'f').map((r) => [r.username, r.line]),
    [
      ['a', 2],
      ['b', 4],
      ['c', 7],
    ],
  );
  badAt(text.replace('"c"', '"bad name"'), '7', /invalid or missing username 'bad name'/);
  badAt(text.replace('"username": "b"', '"username": "b", "email": "nope"'), '4', /invalid email 'nope'/);
  badAt(text.replace('"[1, 2] {}"', '{"deep": [1, 2]}'), '4', /attribute nested must be text, a number or true\/false/);
});

test('a compact one-line JSON array puts every record on line 1; a non-object element is named', () => {
  assert.deepEqual(
    parseUserFile('[{"username":"a"},{"username":"b"}]', 'f').map((r) => r.line),
    [1, 1],
  );
  badAt('[\n{"username":"a"},\n42\n]', '3', /must be an object/);
});

test('invalid JSON is refused without a record line', () => {
  assert.throws(
    () => parseUserFile('[{"username": "a"},', 'f'),
    (err: unknown) =>
      err instanceof IdpError && err.code === 'IMPORT_INVALID' && err.message.startsWith('f: not valid JSON'),
  );
});

test('JSON lines: one record per line, blank lines skipped, a broken line named', () => {
  const text = '{"username":"a"}\n\n{"username":"b","email":"b@example.test","email_verified":true}\n';
  const records = parseUserFile(text, 'f');
  assert.deepEqual(
    records.map((r) => [r.username, r.line, r.email, r.emailVerified]),
    [
      ['a', 1, null, false],
      ['b', 3, 'b@example.test', true],
    ],
  );
  badAt('{"username":"a"}\n{"username":\n', '2', /not valid JSON/);
});

test('CSV: quoted fields may hold commas, quotes and newlines; line numbers count physical lines', () => {
  const text =
    'username,name,email_verified,department\r\n"ann","Smith, Ann ""A""",true,ops\r\nbob,"two\nline name",false,\r\ncid,Cid,true,"x"\r\n';
  const records = parseUserFile(text, 'f');
  assert.deepEqual(
    records.map((r) => [r.username, r.line, r.name, r.emailVerified, r.attributes]),
    [
      ['ann', 2, 'Smith, Ann "A"', true, { department: 'ops' }],
      ['bob', 3, 'two\nline name', false, {}],
      ['cid', 5, 'Cid', true, { department: 'x' }],
    ],
  );
  badAt(`${text}"d e",D,true,x\n`, '6', /username 'd e'/);
  badAt('username,email\nann,a@example.test\nbob,b@example.test,extra\n', '3', /expected 2 fields, found 3/);
  badAt('username,email\nann,a@example.test\nbob,b@example.test\ncarl,not-an-email\n', '4', /invalid email/);
});

test('CSV needs a username column in its header', () => {
  badAt('email,name\na@example.test,A\n', '1', /username column/);
});

test('status must be known; password hashes must be idp scrypt hashes, plain passwords are refused', async () => {
  badAt('username,status\nann,banned\n', '2', /status must be one of active, locked, disabled/);
  badAt('username,password_hash\nann,hunter2\n', '2', /plain passwords are not imported/);
  const hash = await hashPassword('correct horse');
  const [record] = parseUserFile(`[{"username": "ann", "password_hash": "${hash}", "status": "locked"}]`, 'f');
  assert.equal(record?.passwordHash, hash);
  assert.equal(record?.status, 'locked');
});

test('unknown columns become attributes; what an export writes (id, source, times, links, factors) is taken back, not made attributes', () => {
  const id = '0b6c1f6e-4a57-4c8e-9a3e-0d2f4f4b2a10';
  const [record] = parseUserFile(
    `[{"username":"a","id":"${id}","source":"github","created_at":"2026-01-02T03:04:05Z","has_password":true,"team":"blue","attributes":{"level":3},` +
      '"associations":[{"connection":"github","subject":"583231","linked_at":"2026-01-02T03:04:05.000Z"}],"mfa":[{"type":"totp","created_at":"2026-01-03T00:00:00.000Z"}]}]',
    'f',
  );
  assert.deepEqual(record?.attributes, { level: '3', team: 'blue' });
  assert.deepEqual(
    [record?.id, record?.source, record?.createdAt, record?.lastLoginAt],
    [id, 'github', '2026-01-02T03:04:05.000Z', null],
  );
  assert.deepEqual(record?.associations, [
    { connection: 'github', subject: '583231', linkedAt: '2026-01-02T03:04:05.000Z', lastLoginAt: null },
  ]);
  assert.deepEqual(record?.mfa, [
    { type: 'totp', createdAt: '2026-01-03T00:00:00.000Z', confirmedAt: null, secretSealed: null, lastUsedStep: null },
  ]);
  assert.equal(record?.passwordLeftBehind, true, 'has_password without password_hash: reported, not guessed at');
  badAt('[{"username":"a","has_password":"yes"}]', '1', /has_password must be true or false, not 'yes'/);
  badAt('[{"username":"a","source":"git hub"}]', '1', /source 'git hub' is neither local nor a connection name/);
  badAt('[{"username":"a","created_at":"yesterday"}]', '1', /created_at 'yesterday' is not an ISO 8601 date-time/);
  badAt('[{"username":"a","associations":{"github":"1"}}]', '1', /associations must be a list/);
  badAt(
    '[{"username":"a","associations":[{"connection":"github"}]}]',
    '1',
    /an association needs connection and subject, and may have linked_at and last_login_at; nothing else/,
  );
  badAt(
    '[{"username":"a","associations":[{"connection":"github","subject":"1","claims":{}}]}]',
    '1',
    /an association needs connection and subject, and may have linked_at and last_login_at; nothing else/,
  );
  badAt(
    '[{"username":"a","associations":[{"connection":"github","subject":""}]}]',
    '1',
    /an association's subject must be text of 1 to 256 characters/,
  );
  badAt('[{"username":"a","mfa":[{"type":"sms"}]}]', '1', /an MFA factor type must be totp/);
  badAt('username,associations\na,not json\n', '2', /associations must be a list/);
});

test('username and email rules', () => {
  for (const ok of ['a', 'alice.smith', 'bob_1', 'c+d@e', 'x'.repeat(64)]) assert.ok(validUsername(ok), ok);
  for (const bad of ['', '.dot', 'has space', 'x'.repeat(65), 'semi;colon']) assert.ok(!validUsername(bad), bad);
  assert.ok(validEmail('a@b.co'));
  for (const bad of ['a@b', 'a b@c.d', '@b.co', 'a@']) assert.ok(!validEmail(bad), bad);
});

test('email_verified is a boolean: in JSON only true or false, in CSV only the text true or false (empty is false)', () => {
  badAt('[{"username": "a", "email_verified": "yes"}]', '1', /email_verified must be true or false, not 'yes'/);
  badAt('{"username": "a", "email_verified": "true"}\n', '1', /email_verified must be true or false/);
  badAt('{"username": "a", "email_verified": 1}\n', '1', /email_verified must be true or false/);
  badAt('username,email_verified\na,yes\n', '2', /email_verified must be true or false, not 'yes'/);
  badAt('username,email_verified\na,true\nb,1\n', '3', /email_verified must be true or false, not '1'/);
  assert.deepEqual(
    parseUserFile('username,email_verified\na,true\nb,false\nc,\n', 'f').map((r) => r.emailVerified),
    [true, false, false],
  );
});

test('__proto__ is refused as a field, an attribute or a CSV column, never dropped', () => {
  badAt('[{"username": "a", "__proto__": {"x": 1}}]', '1', /'__proto__' cannot be a field name/);
  badAt('[{"username": "a", "attributes": {"__proto__": "x"}}]', '1', /'__proto__' cannot be an attribute name/);
  badAt('username,__proto__\na,x\n', '2', /'__proto__' cannot be a field name/);
});

test('a password field is refused, pointing at password_hash: it never becomes an attribute', () => {
  for (const text of ['username,password\nann,hunter2\n', '[{"username": "ann", "password": "hunter2"}]']) {
    assert.throws(
      () => parseUserFile(text, 'f'),
      (err: unknown) =>
        err instanceof IdpError &&
        err.exitCode === 2 &&
        /password field is never imported/.test(err.message) &&
        /password_hash/.test(hintOf(err)) &&
        !err.message.includes('hunter2'),
    );
  }
});

test('every field has a size limit; a refusal quotes at most the start of a long value', () => {
  const long = (n: number) => 'x'.repeat(n);
  badAt(`[{"username": "a", "name": "${long(1024 * 1024)}"}]`, '1', /^f:1: name is longer than 256 characters$/);
  assert.ok(parseUserFile(`[{"username": "a", "name": "${long(256)}"}]`, 'f')[0]?.name?.length === 256);
  badAt(`[{"username": "a", "given_name": "${long(257)}"}]`, '1', /given_name is longer than 256/);
  badAt(`[{"username": "a", "email": "${long(250)}@b.co"}]`, '1', /email is longer than 254/);
  badAt(`[{"username": "a", "picture": "https://x/${long(2048)}"}]`, '1', /picture is longer than 2048/);
  badAt(`[{"username": "${long(100_000)}"}]`, '1', /^f:1: invalid or missing username 'x{40}\.\.\.' /);
  badAt(`[{"username": "a", "team": "${long(257)}"}]`, '1', /attribute team is longer than 256/);
  badAt(
    `[{"username": "a", "attributes": {"${long(65)}": "x"}}]`,
    '1',
    /attribute name 'x{40}\.\.\.' is longer than 64/,
  );
  const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, 'x']));
  badAt(JSON.stringify([{ username: 'a', attributes: many }]), '1', /more than 50 attributes/);
  badAt(
    '[{"username": "a", "attributes": {"tags": ["x"]}}]',
    '1',
    /attribute tags must be text, a number or true\/false/,
  );
});

test('a CSV header naming a column twice is refused, not read as the last one', () => {
  badAt('username,email,email\na,a@example.test,b@example.test\n', '1', /column 'email' twice/);
});

test('a JSON record giving a key twice is refused, not read as the last one', () => {
  badAt(
    '[\n{"username": "a", "email": "a@example.test"},\n{"username": "b",\n "email": "b@example.test", "e\\u006dail": "c@example.test"}\n]',
    '4',
    /the record gives email twice/,
  );
  badAt('{"username": "a"}\n{"username": "b", "attributes": {"team": "x", "team": "y"}}\n', '2', /gives team twice/);
  assert.deepEqual(
    parseUserFile('[{"username": "a", "attributes": {"username": "x"}}, {"username": "b"}]', 'f').map(
      (r) => r.username,
    ),
    ['a', 'b'],
  );
});
