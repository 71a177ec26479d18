// The ScriptRunner port: scripts run in the isolated worker (isolated.ts), which loads only when a script runs.
import type { ScriptRunner } from '../ports.js';

export const scriptRunner: ScriptRunner = {
  async replay(request) {
    const { replayIsolated } = await import('./isolated.js');
    return replayIsolated(request);
  },
  async compile(source) {
    const { compileIsolated } = await import('./isolated.js');
    return compileIsolated(source);
  },
};
