// Use cases on an app's conditional-authentication script: set (only one that passes checkScript) from a file, from
// text the driver read (stdin) or from a shipped template; show the templates; clear.
import { didYouMean, IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { SCRIPT_TEMPLATES, type ScriptTemplate } from '../core/script-templates.js';
import type { Admin } from './deps.js';
import { readText } from './files.js';
import { requireApp } from './lookup.js';
import { checkScript } from './scripts.js';

/** Where a script comes from; `from` names text in messages and the audit trail (e.g. 'stdin'). */
export type ScriptSource = { file: string } | { template: string } | { text: string; from: string };

/** Stores the script after checking it; says where it came from. */
export async function setScript(
  admin: Admin,
  name: string,
  source: ScriptSource,
): Promise<{ changed: boolean; from: string }> {
  const { store, actor, scripts } = admin;
  const current = await requireApp(store, name);
  const { text, from } = resolve(source);
  await checkScript(scripts, text, from);
  await store.tx(async (tx) => {
    await tx.apps.update(name, { script: text });
    await tx.events.recordConfig({
      actor,
      action: 'app.script.set',
      target: `app ${name}`,
      detail: `set the script of ${name} from ${from}`,
      before: current.script,
      after: text,
    });
  });
  return { changed: current.script !== text, from };
}

function resolve(source: ScriptSource): { text: string; from: string } {
  if ('file' in source) return { text: readText(source.file), from: source.file };
  if ('template' in source)
    return { text: scriptTemplate(source.template).source, from: `the ${source.template} template` };
  return source;
}

export function scriptTemplates(): readonly ScriptTemplate[] {
  return SCRIPT_TEMPLATES;
}

function scriptTemplate(name: string): ScriptTemplate {
  const found = SCRIPT_TEMPLATES.find((t) => t.name === name);
  if (found) return found;
  const names = SCRIPT_TEMPLATES.map((t) => t.name);
  const close = didYouMean(name, names);
  const list = { kind: 'list', what: 'script-template' } as const;
  throw new IdpError(
    'INVALID_VALUE',
    `no script template named '${name}'`,
    close ? hint`did you mean '${close}'? (${list} lists them)` : hint`templates: ${names.join(', ')} (${list})`,
  );
}

export async function clearScript({ store, actor }: Admin, name: string): Promise<{ changed: boolean }> {
  const current = await requireApp(store, name);
  if (current.script === null) return { changed: false };
  await store.tx(async (tx) => {
    await tx.apps.update(name, { script: null });
    await tx.events.recordConfig({
      actor,
      action: 'app.script.clear',
      target: `app ${name}`,
      detail: `cleared the script of ${name}`,
      before: current.script,
      after: null,
    });
  });
  return { changed: true };
}
