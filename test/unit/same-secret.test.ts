// One constant-time secret comparison for the broker and the sandbox (src/core/same-secret.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameSecret } from '../../src/core/same-secret.js';

test('equal secrets match, different ones (of any length) do not, and an empty secret matches nothing', () => {
  assert.equal(sameSecret('s3cret-state', 's3cret-state'), true);
  assert.equal(sameSecret('s3cret-state', 's3cret-stat'), false);
  assert.equal(sameSecret('s3cret-state', ''), false);
  assert.equal(sameSecret('', ''), false, 'a missing state or client secret never passes as a match');
});
