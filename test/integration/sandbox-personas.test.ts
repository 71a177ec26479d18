// The sandbox personas: the bundled fixture file, merging a user's personas file, and refusing a bad one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPersonas } from '../../src/sandbox/personas.js';
import { IdpError } from '../../src/core/errors.js';

function userFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'idp-personas-')), 'personas.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function assertFileInvalid(file: string, detail: RegExp): void {
  assert.throws(
    () => loadPersonas(file),
    (err: unknown) => {
      assert.ok(err instanceof IdpError);
      assert.equal(err.code, 'FILE_INVALID');
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.message, detail);
      assert.ok(err.hint);
      return true;
    },
  );
}

const dave = {
  username: 'dave',
  sub: '108234567890123456799',
  email: 'dave@example.com',
  emailVerified: true,
  name: 'Dave Lister',
  givenName: 'Dave',
  familyName: 'Lister',
  picture: 'https://avatars.example/dave.png',
};

test('the bundled personas are those the scenarios rely on', () => {
  const { github, google } = loadPersonas();
  assert.deepEqual(
    github.map((p) => p.login),
    ['octocat', 'hubber', 'alice-gh', 'unverified-gh'],
  );
  assert.deepEqual(
    google.map((p) => p.username),
    ['bob', 'alice', 'carol'],
  );
  const byLogin = Object.fromEntries(github.map((p) => [p.login, p]));
  assert.equal(byLogin['octocat']?.publicEmail, 'octocat@example.com');
  assert.equal(byLogin['hubber']?.publicEmail, null);
  assert.deepEqual(byLogin['hubber']?.emails, [
    { email: 'hubber@example.com', primary: true, verified: true, visibility: 'private' },
  ]);
  assert.equal(byLogin['alice-gh']?.emails.find((e) => e.primary)?.email, 'alice@example.com');
  assert.equal(byLogin['unverified-gh']?.publicEmail, null);
  assert.ok(byLogin['unverified-gh']?.emails.every((e) => !e.verified));
  assert.equal(google.find((p) => p.username === 'carol')?.emailVerified, false);
  assert.ok(google.filter((p) => p.username !== 'carol').every((p) => p.emailVerified));
  for (const p of github) assert.ok(Number.isSafeInteger(p.id) && !p.avatarUrl.includes('127.0.0.1'));
});

test('a user file adds personas and replaces bundled ones of the same name', () => {
  const file = userFile({
    google: [dave, { ...dave, username: 'bob', sub: '108234567890123456781', name: 'Robert Builder' }],
  });
  const { github, google } = loadPersonas(file);
  assert.equal(github.length, 4);
  assert.deepEqual(
    google.map((p) => p.username),
    ['alice', 'carol', 'dave', 'bob'],
  );
  assert.equal(google.find((p) => p.username === 'bob')?.name, 'Robert Builder');
});

test('a bad personas file is refused, naming the file and what is wrong', () => {
  assertFileInvalid(userFile('{ not json'), /cannot read/);
  assertFileInvalid(join(tmpdir(), 'idp-no-such-personas.json'), /cannot read/);
  assertFileInvalid(userFile([]), /must be an object/);
  assertFileInvalid(userFile({ google: [{ ...dave, emailVerified: 'yes' }] }), /google\[0\]\.emailVerified/);
  assertFileInvalid(userFile({ google: [dave, dave] }), /'dave' appears twice/);
  assertFileInvalid(userFile({ google: [{ ...dave, sub: '108234567890123456782' }] }), /google sub/);
  const gh = {
    login: 'newbie',
    id: 2000001,
    name: 'New Bie',
    publicEmail: null,
    avatarUrl: 'https://avatars.example/newbie.png',
  };
  assertFileInvalid(userFile({ github: [{ ...gh, emails: [] }] }), /github\[0\]\.emails must have exactly one primary/);
  const emails = [{ email: 'n@example.com', primary: true, verified: false, visibility: 'private' }];
  assertFileInvalid(userFile({ github: [{ ...gh, emails, publicEmail: 'n@example.com' }] }), /publicEmail/);
  assertFileInvalid(
    userFile({ github: [{ ...gh, emails: [{ ...emails[0], visibility: 'secret' }] }] }),
    /github\[0\]\.emails\[0\]\.visibility/,
  );
  assertFileInvalid(userFile({ github: [{ ...gh, emails, id: '7' }] }), /github\[0\]\.id/);
});

test('issue 11 item 14: a GitHub persona may meet a suspended app or a rate limit; both default to false', () => {
  const troubled = {
    login: 'limited-gh',
    id: 9_000_002,
    name: 'Rate Limited',
    publicEmail: null,
    emails: [{ email: 'limited@example.com', primary: true, verified: true, visibility: 'private' }],
    avatarUrl: 'https://avatars.example/limited.png',
    appSuspended: true,
    rateLimited: true,
  };
  const personas = loadPersonas(userFile({ github: [troubled] }));
  const loaded = personas.github.find((p) => p.login === 'limited-gh');
  assert.deepEqual([loaded?.appSuspended, loaded?.rateLimited], [true, true]);
  assert.deepEqual(
    [
      personas.github.find((p) => p.login === 'octocat')?.rateLimited,
      personas.github.find((p) => p.login === 'octocat')?.appSuspended,
    ],
    [false, false],
  );
  assertFileInvalid(
    userFile({ github: [{ ...troubled, rateLimited: 'yes' }] }),
    /github\[0\]\.rateLimited must be true or false/,
  );
});
