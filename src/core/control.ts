// Which characters count as control characters wherever idp shows or accepts text that a person reads: one definition,
// so what a name may contain and what the terminal escapes cannot drift apart.

/**
 * C0 controls, DEL, C1 controls, and the invisible characters that break a line or reorder text (bidi marks,
 * embeddings, overrides and isolates, line and paragraph separators): each can make shown text say something else.
 * A regular-expression character class body, for callers that need their own flags or exceptions.
 */
export const CONTROL_CHARS = '\\x00-\\x1f\\x7f-\\x9f\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';

const ANY_CONTROL = new RegExp(`[${CONTROL_CHARS}]`);

/** Whether `text` holds any control character. */
export function hasControl(text: string): boolean {
  return ANY_CONTROL.test(text);
}
