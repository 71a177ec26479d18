// What every file schema is built from: refusals in idp's words (one line each, with a hint carrying "did you mean"
// and the allowed keys or values), the checks valibot leaves open (a list is not a mapping; a key valibot's records
// would drop silently), and the one place that turns a schema's first issue into a refusal naming the path.
import * as v from 'valibot';
import { didYouMean, IdpError } from '../errors.js';
import type { Hint } from '../fixes.js';

/** A valibot issue carries one message string: a refusal's message and hint travel in it as JSON. */
export function say(message: string, hint?: Hint): string {
  return JSON.stringify({ message, hint });
}

function heard(issueMessage: string): { message: string; hint: Hint | undefined } {
  try {
    const { message, hint } = JSON.parse(issueMessage) as { message: string; hint?: Hint };
    if (typeof message === 'string') return { message, hint };
  } catch {
    // a message of valibot's own, in words
  }
  return { message: issueMessage, hint: undefined };
}

/**
 * A value from the file as a refusal quotes it: control characters escaped (a refusal is one line, and a terminal
 * must not run what a file says) and only the start of a long value (a hostile one may be a megabyte).
 */
export function shown(value: unknown, max = 40): string {
  const text =
    typeof value === 'string'
      ? value
      : value === undefined || value === null
        ? ''
        : (JSON.stringify(value) ?? String(value));
  const escaped = text
    .slice(0, max)
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > max ? `${escaped}...` : escaped;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const QUOTE = 'quote values YAML would read as numbers or booleans';

/** A string with something in it besides blanks. */
export function text(hint: Hint = QUOTE) {
  const message = say('must be a non-empty string', hint);
  return v.pipe(
    v.string(message),
    v.check((s) => s.trim() !== '', message),
  );
}

export const bool = v.boolean(say('must be true or false'));

export function list<T extends v.GenericSchema>(item: T, message = 'must be a list', hint?: Hint) {
  return v.array(item, say(message, hint));
}

/** "did you mean", for inputs short enough to be a typo: the edit distance grows with the input's length. */
function near(input: string, allowed: readonly string[]): string | undefined {
  return input.length <= 64 ? didYouMean(input, allowed) : undefined;
}

/** One of `allowed`; a near miss is named ("did you mean"). */
export function oneOf<const T extends readonly string[]>(allowed: T) {
  return v.picklist(allowed, (issue) => {
    const close = typeof issue.input === 'string' ? near(issue.input, allowed) : undefined;
    return say(
      `'${shown(issue.input)}' is not one of the allowed values`,
      `${close ? `did you mean '${close}'? ` : ''}allowed values: ${allowed.join(', ')}`,
    );
  });
}

/**
 * A mapping with only these keys (each required or optional as its schema says). Another key is refused by name
 * before any value is read, so a misspelt key is reported as such rather than as the key it stands for missing.
 */
export function fields<E extends v.ObjectEntries>(entries: E, notMapping = 'must be a mapping') {
  const allowed = Object.keys(entries);
  const keys = `allowed keys: ${allowed.join(', ')}`;
  return v.pipe(
    v.custom<Record<string, unknown>>(isMapping, say(notMapping, keys)),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const input = dataset.value as Record<string, unknown>;
      const unknown = Object.keys(input).find((k) => !Object.hasOwn(entries, k));
      if (unknown === undefined) return;
      const close = near(unknown, allowed);
      const message = say('unknown key', `${close ? `did you mean '${close}'? ` : ''}${keys}`);
      addIssue({
        message,
        expected: UNKNOWN_KEY,
        path: [{ type: 'object', origin: 'key', input, key: unknown, value: input[unknown] }],
      });
    }),
    v.strictObject(entries, say('is required', keys)),
  );
}

/** What an issue about a key no schema names expects: nothing. */
const UNKNOWN_KEY = 'never';

// valibot's records skip these keys without a word, so a mapping holding one is refused instead of losing it.
const DROPPED_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** A mapping from keys (checked by `key`) to values. */
export function mapOf<K extends v.GenericSchema<string, string>, V extends v.GenericSchema>(
  key: K,
  value: V,
  message = 'must be a mapping',
  hint?: Hint,
) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isMapping, say(message, hint)),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const input = dataset.value as Record<string, unknown>;
      const dropped = Object.keys(input).find((k) => DROPPED_KEYS.has(k));
      if (dropped === undefined) return;
      addIssue({
        message: say(`'${dropped}' cannot be used as a key`),
        path: [{ type: 'object', origin: 'key', input, key: dropped, value: input[dropped] }],
      });
    }),
    v.record(key, value),
  );
}

/** A rule kept elsewhere in core that throws IdpError (a URL rule, say), reported at the value's path. */
export function rule<T>(check: (value: T) => unknown) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      check(dataset.value);
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      addIssue({ message: say(err.message, err.hint) });
    }
  });
}

/** Where an issue is: `apps.thrift.steps[0]`; `root` names the top (and prefixes an unknown key found there). */
function pathOf(issue: v.BaseIssue<unknown>, root: string): string {
  const items = issue.path ?? [];
  const path = items
    .map((item, i) =>
      item.type === 'array' ? `[${String(item.key)}]` : i === 0 ? shown(item.key, 64) : `.${shown(item.key, 64)}`,
    )
    .join('');
  if (!path) return root;
  return issue.expected === UNKNOWN_KEY && items.length === 1 ? `${root}.${path}` : path;
}

export type Refuse = (path: string, message: string, hint?: Hint) => never;

/** `value` as `schema` reads it, or the first refusal, handed to `refuse` with its path. */
export function parseWith<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  root: string,
  refuse: Refuse,
): v.InferOutput<S> {
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (result.success) return result.output;
  const [issue] = result.issues;
  const { message, hint } = heard(issue.message);
  return refuse(pathOf(issue, root), message, hint);
}

/** A refusal of a policy or scenario file: `f.yaml: apps.thrift.steps[0]: ...`, exit 2. */
export function fileRefusal(file: string, defaultHint: Hint): Refuse {
  return (path, message, hint) => {
    throw new IdpError('FILE_INVALID', `${file}: ${path}: ${message}`, hint ?? defaultHint);
  };
}
