// The error registry (src/core/errors.ts): exit codes per kind, the JSON form, and "did you mean" for unknown names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean, ERROR_CODES, EXIT, exitCodeFor, IdpError, unknownNameHint } from '../../src/core/errors.js';

test('each error kind maps to the exit code DESIGN.md lists', () => {
  assert.deepEqual(
    [exitCodeFor('INTERNAL'), exitCodeFor('USAGE'), exitCodeFor('APP_NOT_FOUND'), exitCodeFor('UPSTREAM_DENIED'), exitCodeFor('TIMEOUT')],
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    [exitCodeFor('STATE_MISMATCH'), exitCodeFor('JIT_DENIED'), exitCodeFor('MFA_NEEDS_LOCAL_USER'), exitCodeFor('CHECKS_FAILED'), exitCodeFor('INTERRUPTED')],
    [6, 7, 8, 9, 130],
  );
  assert.deepEqual([exitCodeFor('DB_NEWER'), exitCodeFor('DB_NOT_IDP'), exitCodeFor('NO_TTY'), exitCodeFor('IMPORT_INVALID')], [3, 3, 2, 2]);
  for (const kind of Object.values(ERROR_CODES)) assert.ok(kind in EXIT, kind);
});

test('an IdpError carries code, hint and exit code, and serialises without its stack or cause', () => {
  const err = new IdpError('APP_NOT_FOUND', "no app named 'x'", 'see idp app list', { cause: new Error('secret detail') });
  assert.equal(err.exitCode, 3);
  assert.deepEqual(JSON.parse(JSON.stringify(err)), { code: 'APP_NOT_FOUND', message: "no app named 'x'", hint: 'see idp app list' });
  assert.deepEqual(new IdpError('USAGE', 'm').toJSON(), { code: 'USAGE', message: 'm', hint: null });
});

test('didYouMean picks the closest name within two edits, ignoring case', () => {
  const apps = ['thrift', 'shop', 'my-account'];
  assert.equal(didYouMean('thrfit', apps), 'thrift'); // a transposition is two edits
  assert.equal(didYouMean('THRIFT', apps), 'thrift');
  assert.equal(didYouMean('shp', apps), 'shop');
  assert.equal(didYouMean('myaccount', apps), 'my-account');
  assert.equal(didYouMean('billing', apps), undefined);
  assert.equal(didYouMean('x', []), undefined);
  assert.equal(didYouMean('gihub', ['github', 'gitlab']), 'github', 'the closer of two candidates');
});

test('unknownNameHint suggests the close name, else lists the known ones, else says there are none', () => {
  assert.equal(unknownNameHint('app', 'thrfit', ['thrift'], 'idp app list'), "did you mean 'thrift'? (idp app list lists every app)");
  assert.equal(unknownNameHint('connection', 'okta', ['github', 'google'], 'idp connection list'), 'known connections: github, google');
  assert.equal(unknownNameHint('app', 'x', [], 'idp app list'), 'there is no app yet; see idp app list');
});
