// Use cases on an app's conditional-authentication script: set (only one that passes checkScript), show and clear.
import type { Admin } from './deps.js';
import { requireApp } from './lookup.js';
import { checkScript } from './scripts.js';

/** Stores the script after checking it; `from` names where it came from, in messages and the audit trail. */
export async function setScript({ store, actor, scripts }: Admin, name: string, source: string, from: string): Promise<{ changed: boolean }> {
  await checkScript(scripts, source, from);
  const current = requireApp(store, name);
  store.tx(() => {
    store.apps.update(name, { script: source });
    store.events.recordConfig({ actor, action: 'app.script.set', target: `app ${name}`, detail: `set the script of ${name} from ${from}`, before: current.script, after: source });
  });
  return { changed: current.script !== source };
}

export function clearScript({ store, actor }: Admin, name: string): { changed: boolean } {
  const current = requireApp(store, name);
  if (current.script === null) return { changed: false };
  store.tx(() => {
    store.apps.update(name, { script: null });
    store.events.recordConfig({ actor, action: 'app.script.clear', target: `app ${name}`, detail: `cleared the script of ${name}`, before: current.script, after: null });
  });
  return { changed: true };
}
