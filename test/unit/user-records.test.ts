// Parsing `users import` files (src/core/user-records.ts): JSON arrays, JSON lines and CSV, each record keeping the
// line it starts on, so the first bad one is named as FILE:LINE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpError } from '../../src/core/errors.js';
import { hashPassword } from '../../src/core/password.js';
import { parseUserFile } from '../../src/core/user-records.js';
import { validEmail, validUsername } from '../../src/core/user-fields.js';

function badAt(text: string, where: string, why: RegExp): void {
  assert.throws(
    () => parseUserFile(text, 'f'),
    (err: unknown) => err instanceof IdpError && err.code === 'IMPORT_INVALID' && err.exitCode === 2 && err.message.startsWith(`f:${where}:`) && why.test(err.message),
  );
}

test('a JSON array: each record gets the line its object starts on, whatever the layout', () => {
  const text = [
    '[',
    '  {"username": "a", "note": "has a ] and a { and a \\" inside"},',
    '',
    '  {',
    '    "username": "b",',
    '    "id": {"nested": {"deep": [1, 2]}}',
    '  }, {"username": "c"}',
    ']',
  ].join('\n');
  assert.deepEqual(parseUserFile(text, 'f').map((r) => [r.username, r.line]), [['a', 2], ['b', 4], ['c', 7]]);
  badAt(text.replace('"c"', '"bad name"'), '7', /invalid or missing username 'bad name'/);
  badAt(text.replace('"username": "b"', '"username": "b", "email": "nope"'), '4', /invalid email 'nope'/);
  badAt(text.replace('"id"', '"attributes"'), '4', /attribute nested must be text, a number or true\/false/);
});

test('a compact one-line JSON array puts every record on line 1; a non-object element is named', () => {
  assert.deepEqual(parseUserFile('[{"username":"a"},{"username":"b"}]', 'f').map((r) => r.line), [1, 1]);
  badAt('[\n{"username":"a"},\n42\n]', '3', /must be an object/);
});

test('invalid JSON is refused without a record line', () => {
  assert.throws(() => parseUserFile('[{"username": "a"},', 'f'), (err: unknown) => err instanceof IdpError && err.code === 'IMPORT_INVALID' && err.message.startsWith('f: not valid JSON'));
});

test('JSON lines: one record per line, blank lines skipped, a broken line named', () => {
  const text = '{"username":"a"}\n\n{"username":"b","email":"b@example.test","email_verified":true}\n';
  const records = parseUserFile(text, 'f');
  assert.deepEqual(records.map((r) => [r.username, r.line, r.email, r.emailVerified]), [['a', 1, null, false], ['b', 3, 'b@example.test', true]]);
  badAt('{"username":"a"}\n{"username":\n', '2', /not valid JSON/);
});

test('CSV: quoted fields may hold commas, quotes and newlines; line numbers count physical lines', () => {
  const text = 'username,name,email_verified,department\r\n"ann","Smith, Ann ""A""",true,ops\r\nbob,"two\nline name",false,\r\ncid,Cid,true,"x"\r\n';
  const records = parseUserFile(text, 'f');
  assert.deepEqual(records.map((r) => [r.username, r.line, r.name, r.emailVerified, r.attributes]), [
    ['ann', 2, 'Smith, Ann "A"', true, { department: 'ops' }],
    ['bob', 3, 'two\nline name', false, {}],
    ['cid', 5, 'Cid', true, { department: 'x' }],
  ]);
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

test('unknown columns become attributes; exported bookkeeping fields do not', () => {
  const [record] = parseUserFile('[{"username":"a","id":"u1","source":"github","created_at":"x","team":"blue","attributes":{"level":3}}]', 'f');
  assert.deepEqual(record?.attributes, { level: '3', team: 'blue' });
});

test('username and email rules', () => {
  for (const ok of ['a', 'alice.smith', 'bob_1', 'c+d@e', 'x'.repeat(64)]) assert.ok(validUsername(ok), ok);
  for (const bad of ['', '.dot', 'has space', 'x'.repeat(65), 'semi;colon']) assert.ok(!validUsername(bad), bad);
  assert.ok(validEmail('a@b.co'));
  for (const bad of ['a@b', 'a b@c.d', '@b.co', 'a@']) assert.ok(!validEmail(bad), bad);
});
