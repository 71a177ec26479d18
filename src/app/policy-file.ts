// Reading and writing policy files: YAML (JSON is accepted too) within size, alias and nesting limits, parse errors
// with their line, and the deterministic export of an org (same org, same bytes).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Node } from 'yaml';
import { IdpError } from '../core/errors.js';
import { MAX_DEPTH } from '../core/file-text.js';
import { exportApp, exportConnection, validatePolicy, type PolicyDoc } from '../core/policy.js';
import type { Store } from '../ports.js';
import { readText } from './files.js';

export function parsePolicy(text: string, file: string): unknown {
  // Without prettyErrors, yaml leaves linePos unset: the line comes from the error's offset instead.
  const lines = new LineCounter();
  const refuse = (
    offset: number,
    message: string,
    hint = 'fix the YAML (or JSON) syntax; nothing was changed',
  ): never => {
    throw new IdpError('FILE_INVALID', `${file}:${lines.linePos(offset).line}: ${message}`, hint);
  };
  // yaml's own uniqueKeys check compares each key with every earlier one (a 10 MB file took minutes): see checkShape.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false, lineCounter: lines });
  const [first] = doc.errors;
  if (first) refuse(first.pos[0], first.message.split('\n')[0]!);
  checkShape(doc.contents, refuse);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    throw new IdpError(
      'FILE_INVALID',
      `${file}: its YAML anchors and aliases expand to too many values`,
      'write the values out instead of through anchors and aliases; nothing was changed',
    );
  }
}

/** yaml's bound on how far aliases may expand (its default, stated here so that it stays): a billion laughs exceeds it. */
const MAX_ALIASES = 100;

/** Unique keys in every mapping (a Set per mapping: linear) and nesting at most MAX_DEPTH deep, without recursion. */
function checkShape(root: unknown, refuse: (offset: number, message: string, hint?: string) => never): void {
  const pending: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  while (pending.length) {
    const { node, depth } = pending.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_DEPTH)
      refuse(
        node.range?.[0] ?? 0,
        `nested more than ${MAX_DEPTH} levels deep`,
        'policy and scenario files nest a few levels only; nothing was changed',
      );
    if (isSeq(node)) {
      for (const item of node.items) pending.push({ node: item, depth: depth + 1 });
      continue;
    }
    const seen = new Set<unknown>();
    for (const { key, value } of node.items) {
      const name = isScalar(key) ? String(key.value) : key;
      if (seen.has(name)) refuse((key as Node).range?.[0] ?? 0, 'Map keys must be unique');
      seen.add(name);
      pending.push({ node: key, depth: depth + 1 }, { node: value, depth: depth + 1 });
    }
  }
}

export function readPolicyFile(file: string): PolicyDoc {
  return validatePolicy(parsePolicy(readText(file), file), file);
}

export async function exportPolicy(store: Store): Promise<PolicyDoc> {
  const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);
  return {
    org: { name: await store.org.name() },
    apps: Object.fromEntries((await store.apps.list()).sort(byName).map((a) => [a.name, exportApp(a)])),
    connections: Object.fromEntries(
      (await store.connections.list()).sort(byName).map((c) => [c.name, exportConnection(c)]),
    ),
  };
}

export function policyText(doc: PolicyDoc, format: 'yaml' | 'json'): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0, indent: 2 });
}
