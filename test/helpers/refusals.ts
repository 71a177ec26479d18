// The refusal a use case answers with, for tests that look at its code and remedies: an IdpError, or the test fails.
import assert from 'node:assert/strict';
import { IdpError } from '../../src/core/errors.js';

export async function asyncRefusal(promise: Promise<unknown>): Promise<IdpError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof IdpError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}
