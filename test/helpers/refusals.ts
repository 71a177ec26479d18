// What a call under test refuses with, for tests that look at it: a use case's IdpError (its code and remedies), or
// whatever a store throws; if nothing is thrown the test fails.
import assert from 'node:assert/strict';
import { IdpError } from '../../src/core/errors.js';

/** The IdpError `promise` rejects with; anything else, or no refusal, fails the test. */
export async function asyncRefusal(promise: Promise<unknown>): Promise<IdpError> {
  const err = await refusal(() => promise);
  assert.ok(err instanceof IdpError, String(err));
  return err;
}

/** Whatever `run` throws, an IdpError or not (a store's unique index may answer first); the test fails if nothing. */
export async function refusal(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  assert.fail('expected a refusal');
}
