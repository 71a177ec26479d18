// What would fix a refusal, as data. Core, flow and app code name a remedy (turn JIT on for github, run app check on
// thrift) without spelling any driver's syntax; each driver words it: the CLI as an `idp ...` line (src/cli/hints.ts),
// a web page as a sentence or a link. See src/README.md, "Errors and hints".

export type SettingTarget = 'app' | 'connection' | 'user' | 'org';
export type ShowTarget = 'app' | 'app-script' | 'connection' | 'user' | 'keys' | 'events' | 'outbox' | 'flows' | 'flow';
export type ListTarget = 'app' | 'connection' | 'user' | 'flow' | 'script-template';

export type Fix =
  /** Change one setting: `setting` is the setting's name as the policy file and the CLI flag spell it (jit, linking);
   *  without one, change the entity's settings in general. */
  | { kind: 'set'; on: SettingTarget; name: string; setting?: string; value?: string }
  /** Give an app one of the shipped conditional-authentication scripts. */
  | { kind: 'script-template'; app: string; template: string }
  /** Give an app a script of the admin's own. */
  | { kind: 'set-script'; app: string }
  | { kind: 'show'; what: ShowTarget; name?: string }
  | { kind: 'list'; what: ListTarget; search?: string }
  | { kind: 'app-check'; app: string }
  | { kind: 'remove-factor'; user: string; factor?: string }
  /** See a user's factors and passkeys with the ids that removing or renaming one takes. */
  | { kind: 'list-factors'; user: string }
  /** Give a web app a new client secret (shown once). */
  | { kind: 'rotate-secret'; app: string }
  /** An option of the command or request at hand (the CLI's `--option value`): a longer timeout, another port. */
  | { kind: 'option'; option: string; value?: string }
  | { kind: 'doctor' }
  | { kind: 'init' }
  /** Bring the store at `location` (a data directory or a database URL) up to this idp's schema. */
  | { kind: 'store-migrate'; location: string };

/** Prose with remedies in it: `hint\`either ${fix}, or sign in with a password\``. */
export type HintPart = string | Fix;
export type Hint = string | readonly HintPart[];

export function hint(strings: TemplateStringsArray, ...values: Array<string | number | Fix>): HintPart[] {
  const parts: HintPart[] = [];
  strings.forEach((text, i) => {
    if (text) parts.push(text);
    const value = values[i];
    if (value === undefined) return;
    if (typeof value === 'object') parts.push(value);
    else parts.push(String(value));
  });
  return parts;
}

/** A hint in plain words with each remedy described by `describe`: used by drivers and by text-only records. */
export function hintText(h: Hint, describe: (fix: Fix) => string): string {
  return typeof h === 'string' ? h : h.map((p) => (typeof p === 'string' ? p : describe(p))).join('');
}
