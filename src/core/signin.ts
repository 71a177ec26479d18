// Sign-in methods: validating and editing an app's steps, printing them, and finding the JIT-off-before-MFA conflict.
import { IdpError } from './errors.js';
import { hint } from './fixes.js';
import { LOCAL_OPTIONS, type App, type Connection, type SignInStep } from './types.js';

/** Options that only verify a user an earlier step identified: never in step 1. */
export const MFA_OPTIONS = ['totp', 'email-otp'] as const;

/** What a step after the first may ask as a second factor: the MFA options, and a passkey (which in step 1 is
 *  passwordless sign-in instead). */
export const SECOND_FACTORS = [...MFA_OPTIONS, 'passkey'] as const;
export type SecondFactor = (typeof SECOND_FACTORS)[number];

/** The built-in self-service app. Its step 1 always offers every connection; it needs a local user. */
export const MY_ACCOUNT = 'myaccount';

export function isMyAccount(app: Pick<App, 'name' | 'builtIn'>): boolean {
  return app.builtIn && app.name === MY_ACCOUNT;
}

/** The steps a flow really runs: for My Account, step 1 also offers every connection of the org. */
export function effectiveSteps(app: Pick<App, 'name' | 'builtIn' | 'steps'>, connections: string[]): SignInStep[] {
  if (!isMyAccount(app)) return app.steps;
  const [first = [], ...rest] = app.steps;
  return [[...new Set([...first, ...connections])], ...rest];
}

/** The `amr` value (RFC 8176) a local option adds when its step completes; a connection adds `fed`. */
export const LOCAL_OPTION_AMR: Record<(typeof LOCAL_OPTIONS)[number], string> = {
  password: 'pwd',
  totp: 'otp',
  'email-otp': 'email',
  // RFC 8176 `hwk`: proof of a hardware-bound key; the flow adds `user` when the authenticator verified the person.
  passkey: 'hwk',
};
export const FEDERATED_AMR = 'fed';
/** RFC 8176 `swk`: a software-secured key, what a passkey of idp's software authenticator adds instead of `hwk`. */
export const SOFTWARE_KEY_AMR = 'swk';
/** RFC 8176 `user`: the authenticator verified the person (PIN or biometrics) besides proving the key. */
export const USER_VERIFIED_AMR = 'user';

/** The amr values a passkey step may add for its key. */
export const PASSKEY_AMRS = [LOCAL_OPTION_AMR.passkey, SOFTWARE_KEY_AMR];

/**
 * The kind of factor each amr value proves. An upstream's sign-in is one factor of its own (idp cannot see how it
 * was done); a passkey's user verification is a PIN or biometrics on the device, apart from holding the key.
 */
const FACTOR_KIND: Record<string, 'knowledge' | 'possession' | 'device-verification' | 'upstream'> = {
  pwd: 'knowledge',
  otp: 'possession',
  email: 'possession',
  hwk: 'possession',
  swk: 'possession',
  user: 'device-verification',
  fed: 'upstream',
};

/**
 * Whether a sign-in with these amr values is multi-factor (acr): two distinct kinds of factor, such as a password
 * and a TOTP, or a passkey with user verification alone. What counts is the factors, not which step ran them: a
 * script may run any step, and two possession factors are still one kind.
 */
export function multiFactor(amr: readonly string[]): boolean {
  return new Set(amr.map((value) => FACTOR_KIND[value]).filter(Boolean)).size >= 2;
}

/** The second factors a sign-in can enrol for a user who lacks them. */
export type EnrollableFactor = 'totp' | 'passkey';

/**
 * Enrolling a second factor during a sign-in is for an account with no second factor at all: otherwise whoever has
 * the password alone could choose the factor the account lacks and enrol their own. Null when it may go on; else the
 * refusal, naming the factors the account holds (`offered`: the options of the step).
 */
export function enrolmentRefusal(
  factor: EnrollableFactor,
  held: Record<EnrollableFactor, boolean>,
  offered: readonly string[],
): IdpError | null {
  const holds = (['totp', 'passkey'] as const).filter((f) => held[f]);
  if (holds.length === 0) return null;
  const usable = holds.filter((f) => offered.includes(f));
  const what = factor === 'totp' ? 'a TOTP factor' : 'a passkey';
  return new IdpError(
    'MFA_NOT_ENROLLED',
    `this account has no ${factor === 'totp' ? 'TOTP factor' : 'passkey'} to check, and a sign-in enrols one only for an account with no second factor yet (it holds ${holds.join(' and ')})`,
    usable.length > 0
      ? `use ${usable.join(' or ')}; to add ${what}, sign in to My Account`
      : `this step does not offer ${holds.join(' or ')}: add ${what} in My Account, or ask an admin to change the step`,
  );
}

/** The second factors a user enrols and then holds: a TOTP authenticator app, passkeys. */
export type HeldFactor = 'totp' | 'passkey';

/** Whether a sign-in with this amr used a factor the person holds (a TOTP code or a passkey), not only a password. */
export function usedHeldFactor(amr: readonly string[]): boolean {
  return amr.includes(LOCAL_OPTION_AMR.totp) || PASSKEY_AMRS.some((value) => amr.includes(value));
}

/**
 * The step My Account adds before its session when the person holds second factors and has used none: whoever opens
 * My Account can add or remove factors there, so a password alone must not open it once a factor exists (as major
 * identity providers ask for it). The step offers only the kinds held, so it never enrols one. Null: none to add.
 */
export function myAccountFactorStep(
  app: Pick<App, 'name' | 'builtIn'>,
  held: readonly HeldFactor[],
  amr: readonly string[],
): SignInStep | null {
  if (!isMyAccount(app) || held.length === 0 || usedHeldFactor(amr)) return null;
  return [...held];
}

export function isMfaOption(option: string): boolean {
  return (MFA_OPTIONS as readonly string[]).includes(option);
}

/** A second factor when offered after step 1: it needs a local user to hold it. */
export function isSecondFactor(option: string): boolean {
  return (SECOND_FACTORS as readonly string[]).includes(option);
}

export function isLocalOption(option: string): boolean {
  return (LOCAL_OPTIONS as readonly string[]).includes(option);
}

/** Applies `--step N=OPTIONS` edits in order; an empty list removes step N. Validates the result. */
export function editSteps(current: SignInStep[], edits: [number, string[]][], connections: string[]): SignInStep[] {
  const steps = current.map((s) => [...s]);
  for (const [n, options] of edits) {
    if (options.length === 0) {
      if (n > steps.length)
        throw new IdpError('INVALID_VALUE', `there is no step ${n} to remove`, `the app has ${steps.length} step(s)`);
      steps.splice(n - 1, 1);
    } else if (n <= steps.length + 1) {
      steps[n - 1] = [...new Set(options)];
    } else {
      throw new IdpError(
        'INVALID_VALUE',
        `step ${n} cannot come before step ${steps.length + 1}`,
        hint`add ${{ kind: 'option', option: 'step', value: `${steps.length + 1}=...` }} first`,
      );
    }
  }
  validateSteps(steps, connections);
  return steps;
}

export function validateSteps(steps: SignInStep[], connections: string[]): void {
  if (steps.length === 0)
    throw new IdpError(
      'INVALID_VALUE',
      'an app needs at least step 1',
      hint`e.g. ${{ kind: 'option', option: 'step', value: '1=password,github' }}`,
    );
  const valid = [...LOCAL_OPTIONS, ...connections];
  steps.forEach((options, i) => {
    if (options.length === 0)
      throw new IdpError(
        'INVALID_VALUE',
        `step ${i + 1} has no options`,
        'give each step at least one option, e.g. password',
      );
    for (const option of options) {
      if (!valid.includes(option)) {
        throw new IdpError(
          'UNKNOWN_SIGN_IN_OPTION',
          `unknown sign-in option '${option}' in step ${i + 1}`,
          `valid options: ${valid.join(', ')}`,
        );
      }
      if (i === 0 && isMfaOption(option)) {
        throw new IdpError(
          'INVALID_VALUE',
          `'${option}' cannot be in step 1: it needs a user identified by an earlier step`,
          hint`put it in step 2, e.g. ${{ kind: 'option', option: 'step', value: `2=${option}` }}`,
        );
      }
    }
  });
}

/** `step 1: password | google | github  ->  step 2: totp` */
export function formatMethod(steps: SignInStep[]): string {
  return steps.map((options, i) => `step ${i + 1}: ${options.join(' | ')}`).join('  ->  ');
}

export interface MfaConflict {
  app: string;
  connection: string;
  step: number;
  mfaStep: number;
  /** true when the app has a conditional script, which may already skip MFA for federated sign-ins */
  scripted: boolean;
}

/**
 * A connection with JIT off that is offered in a step followed by an MFA step: its users pass through without
 * a local account, so they can never hold a factor and their logins fail at MFA.
 */
export function mfaConflicts(
  apps: Pick<App, 'name' | 'steps' | 'script'>[],
  connections: Pick<Connection, 'name' | 'jit'>[],
): MfaConflict[] {
  const jitOff = new Set(connections.filter((c) => !c.jit.enabled).map((c) => c.name));
  const conflicts: MfaConflict[] = [];
  for (const app of apps) {
    app.steps.forEach((options, i) => {
      const mfaStep = app.steps.findIndex((later, j) => j > i && later.some(isSecondFactor));
      if (mfaStep < 0) return;
      for (const option of options) {
        if (jitOff.has(option))
          conflicts.push({
            app: app.name,
            connection: option,
            step: i + 1,
            mfaStep: mfaStep + 1,
            scripted: app.script !== null,
          });
      }
    });
  }
  return conflicts;
}
