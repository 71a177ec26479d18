// Constant-time equality for secrets (an OAuth state, a client secret): both are hashed first, so neither their
// content nor their length shows in the timing.
import { createHash, timingSafeEqual } from 'node:crypto';

/** An empty secret equals nothing, not even another empty one: a missing value must never pass as a match. */
export function sameSecret(expected: string, given: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given)) && expected.length > 0;
}
