// The hint of a refusal (an IdpError or a flow's error) as the CLI words it, for tests that match on it.
import type { Hint } from '../../src/core/fixes.js';
import { renderHint } from '../../src/cli/hints.js';

export function hintOf(err: { hint?: Hint | null }): string {
  return renderHint(err.hint) ?? '';
}
