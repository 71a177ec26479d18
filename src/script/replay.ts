// One replay of a conditional-authentication script against the steps a flow has finished: executeStep(n) on a
// finished step returns its outcome; on the first unfinished one the script stops, and that step runs next.
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { ReplayRequest, ReplayResult } from '../ports.js';
import { runConditionalScript } from './index.js';

class PendingStep extends Error {
  constructor(readonly step: number) {
    super(`step ${step} is pending`);
  }
}

export async function replay(r: ReplayRequest): Promise<ReplayResult> {
  try {
    const decision = await runConditionalScript(r.source, {
      app: r.app,
      request: r.request,
      runStep: (n) => {
        if (!Number.isInteger(n) || n < 1 || n > r.stepCount) {
          throw new IdpError(
            'SCRIPT_ERROR',
            `the script called executeStep(${n}), but ${r.app} has ${r.stepCount} step(s)`,
            hint`fix the script, or add the step: ${{ kind: 'set', on: 'app', name: r.app, setting: 'step', value: `${n}=...` }}`,
          );
        }
        const done = r.finished[n];
        if (!done) throw new PendingStep(n);
        return done;
      },
    });
    if (decision.failed) return { failed: decision.failed };
    return { next: null, ran: decision.steps };
  } catch (err) {
    if (err instanceof PendingStep) return { next: err.step };
    throw err;
  }
}
