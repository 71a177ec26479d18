// The remedy every script failure names, wherever the script ran (in the worker or on this thread).
import { hint, type Hint } from '../core/fixes.js';

/** Names the app whose script failed when it is known (a replay always knows it). */
export function fixTheScript(app: string | undefined): Hint {
  if (app === undefined) return "fix the app's script, or remove it to run every step";
  return hint`fix ${app}'s script (${{ kind: 'app-check', app }} reports its errors), or remove it to run every step`;
}
