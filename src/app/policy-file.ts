// Reading and writing policy files: YAML (JSON is accepted too), parse errors with their line, and the
// deterministic export of an org (same org, same bytes).
import { LineCounter, parseDocument, stringify } from 'yaml';
import { IdpError } from '../core/errors.js';
import { exportApp, exportConnection, validatePolicy, type PolicyDoc } from '../core/policy.js';
import type { Store } from '../ports.js';
import { readText } from './files.js';

export function parsePolicy(text: string, file: string): unknown {
  // Without prettyErrors, yaml leaves linePos unset: the line comes from the error's offset instead.
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const [first] = doc.errors;
  if (first) {
    const { line } = lines.linePos(first.pos[0]);
    throw new IdpError('FILE_INVALID', `${file}:${line}: ${first.message.split('\n')[0]}`, 'fix the YAML (or JSON) syntax; nothing was changed');
  }
  return doc.toJS();
}

export function readPolicyFile(file: string): PolicyDoc {
  return validatePolicy(parsePolicy(readText(file), file), file);
}

export function exportPolicy(store: Store): PolicyDoc {
  const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);
  return {
    apps: Object.fromEntries(store.apps.list().sort(byName).map((a) => [a.name, exportApp(a)])),
    connections: Object.fromEntries(store.connections.list().sort(byName).map((c) => [c.name, exportConnection(c)])),
  };
}

export function policyText(doc: PolicyDoc, format: 'yaml' | 'json'): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0, indent: 2 });
}
