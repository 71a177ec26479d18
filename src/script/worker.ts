// The worker thread scripts are replayed in, so that a script stuck inside one native built-in (which QuickJS's
// interrupt handler never sees) can still be stopped: the main thread terminates the whole thread.
import { parentPort } from 'node:worker_threads';
import { isIdpError } from '../core/errors.js';
import { compileCheck } from './index.js';
import type { ReplayRequest } from '../ports.js';
import { replay } from './replay.js';

parentPort!.on('message', async (message: { id: number; replay?: ReplayRequest; compile?: string }) => {
  if (message.compile !== undefined) {
    parentPort!.postMessage({ id: message.id, compiled: await compileCheck(message.compile) });
    return;
  }
  if (!message.replay) {
    // A warm-up: load the WASM engine now, so the first real replay does not pay for it.
    await import('./sandbox.js').then((m) => m.loadQuickJS());
    parentPort!.postMessage({ id: message.id, warm: true });
    return;
  }
  try {
    parentPort!.postMessage({ id: message.id, result: await replay(message.replay) });
  } catch (err) {
    const error = isIdpError(err)
      ? err.toJSON()
      : { code: 'SCRIPT_ERROR', message: err instanceof Error ? err.message : String(err), hint: null };
    parentPort!.postMessage({ id: message.id, error });
  }
});
