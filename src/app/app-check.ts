// `idp app check`: the hazards of an app's sign-in policy, found before a login hits them: JIT-off connections
// feeding an MFA step (unless the app's script really skips MFA for them), unknown options, a script that does not
// compile or that fails, times out or skips MFA when replayed as each option of step 1 would run it, empty steps,
// linking that cannot work, protected claims stored where attributes come from (idp ignores them in tokens, but they
// show that something let them in).
import { emptyProfile } from '../core/claims.js';
import { isIdpError } from '../core/errors.js';
import { hint, type Hint } from '../core/fixes.js';
import { protectedAmong } from '../core/protected-claims.js';
import { effectiveSteps, isLocalOption, isSecondFactor, mfaConflicts } from '../core/signin.js';
import type { App, Connection } from '../core/types.js';
import type { ScriptRunner, Store } from '../ports.js';
import { planNextStep, simulatedFlow } from '../flow/script-plan.js';
import type { CompletedStep, Identity } from '../flow/types.js';

export interface Hazard {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  fix: Hint;
}

export async function checkApp(store: Store, scripts: ScriptRunner, app: App): Promise<Hazard[]> {
  const connections = await store.connections.list();
  const names = connections.map((c) => c.name);
  const steps = effectiveSteps(app, names);
  const hazards: Hazard[] = [];

  steps.forEach((options, i) => {
    if (options.length === 0) {
      const fix = { kind: 'set', on: 'app', name: app.name, setting: 'step', value: `${i + 1}=` } as const;
      hazards.push({
        severity: 'error',
        code: 'EMPTY_STEP',
        message: `step ${i + 1} offers no options, so no sign-in can pass it`,
        fix: hint`give it an option, or remove it: ${fix}`,
      });
    }
    for (const option of options) {
      if (!isLocalOption(option) && !names.includes(option)) {
        hazards.push({
          severity: 'error',
          code: 'UNKNOWN_OPTION',
          message: `step ${i + 1} offers '${option}', which is neither a local option nor a connection`,
          fix: [
            {
              kind: 'set',
              on: 'app',
              name: app.name,
              setting: 'step',
              value: `${i + 1}=${options.filter((o) => o !== option).join(',')}`,
            },
          ],
        });
      }
    }
  });

  let scriptCompiles = true;
  if (app.script !== null) {
    const compiled = await scripts.compile(app.script);
    if (!compiled.ok) {
      scriptCompiles = false;
      hazards.push({
        severity: 'error',
        code: 'SCRIPT_ERROR',
        message: `the script does not compile${compiled.line ? ` (line ${compiled.line})` : ''}: ${compiled.message}`,
        fix: hint`fix it and run ${{ kind: 'set-script', app: app.name }}`,
      });
    } else {
      hazards.push(...(await replayHazards(store, scripts, app, steps, connections)));
    }
  }

  for (const conflict of mfaConflicts([{ ...app, steps }], connections)) {
    if (
      conflict.scripted &&
      scriptCompiles &&
      (await scriptSkipsMfa(store, scripts, app, steps, conflict.connection, conflict.step, conflict.mfaStep))
    )
      continue;
    hazards.push({
      severity: 'error',
      code: 'MFA_NEEDS_LOCAL_USER',
      message: `${conflict.connection} (step ${conflict.step}) has JIT off, so its users pass through without a local account and fail at the MFA step ${conflict.mfaStep}${conflict.scripted ? ' (the script does not skip it for them)' : ''}`,
      fix: hint`${jitOn(conflict.connection)}, or a script that runs step ${conflict.mfaStep} only when context.steps[${conflict.step}].idp == 'LOCAL'`,
    });
  }

  const offered = connections.filter((c) => steps.some((s) => s.includes(c.name)));
  hazards.push(...(await storedProtectedClaims(store, app, offered)));

  for (const c of offered) {
    if (c.jit.linking === 'verified-email' && !c.jit.enabled) {
      hazards.push({
        severity: 'warning',
        code: 'LINKING_WITHOUT_JIT',
        message: `${c.name} links by verified email, but JIT is off, so nothing is ever linked`,
        fix: hint`${jitOn(c.name)}, or ${{ kind: 'option', option: 'linking', value: 'off' }}`,
      });
    }
    if (c.jit.linking === 'verified-email' && c.type === 'oidc') {
      hazards.push({
        severity: 'warning',
        code: 'LINKING_UNVERIFIED_EMAIL',
        message: `${c.name} links by verified email, but a generic OIDC issuer may not send email_verified (then nothing links and first logins with a taken email are refused)`,
        fix: hint`check that ${c.issuer ?? 'the issuer'} sends email_verified: true, or ${{ kind: 'set', on: 'connection', name: c.name, setting: 'linking', value: 'off' }}`,
      });
    }
  }
  return hazards;
}

/** Protected claims among the app's attributes, the attribute maps of the connections it offers, and users' attributes. */
async function storedProtectedClaims(store: Store, app: App, offered: Connection[]): Promise<Hazard[]> {
  const hazards: Hazard[] = [];
  const hazard = (message: string, fix: Hint): void =>
    void hazards.push({ severity: 'error', code: 'PROTECTED_CLAIM', message, fix });
  const inApp = protectedAmong(app.attributes);
  if (inApp.length) {
    const value = app.attributes.filter((a) => !inApp.includes(a)).join(',');
    hazard(
      `the app's attributes name the protected claim(s) ${inApp.join(', ')}, which idp sets itself`,
      hint`drop them: ${{ kind: 'set', on: 'app', name: app.name, setting: 'attributes', value }}`,
    );
  }
  for (const c of offered) {
    for (const [upstream, local] of Object.entries(c.attributeMap).filter(
      ([, local]) => protectedAmong([local]).length,
    )) {
      hazard(
        `${c.name} maps ${upstream} to the protected claim ${local}`,
        hint`map it back to its default: ${{ kind: 'set', on: 'connection', name: c.name, setting: 'map', value: `${upstream}=` }}`,
      );
    }
  }
  const holders: string[] = [];
  let example = '';
  for await (const user of store.users.iterate()) {
    const found = protectedAmong(Object.keys(user.attributes));
    if (found.length === 0) continue;
    holders.push(user.username);
    example ||= found[0]!;
  }
  if (holders.length) {
    const some = holders.slice(0, 3).join(', ') + (holders.length > 3 ? ', ...' : '');
    hazard(
      `${holders.length} user(s) have a protected claim among their attributes (${some})`,
      hint`remove it from each: ${{ kind: 'set', on: 'user', name: holders[0]!, setting: 'attr', value: `${example}=` }}`,
    );
  }
  return hazards;
}

const SIMULATED_USER: Identity = { kind: 'local', userId: 'app-check', username: 'app-check' };

/**
 * Replays the script as logins would (the runner's limits, step by step) at the start and after each option of step 1:
 * a script that fails or times out breaks those logins; one that finishes without the MFA steps after a local option
 * lets a password alone in. (Skipping MFA after a connection is the documented pattern, so it is no hazard.)
 */
async function replayHazards(
  store: Store,
  scripts: ScriptRunner,
  app: App,
  steps: string[][],
  connections: Connection[],
): Promise<Hazard[]> {
  const fixScript = hint`see it with ${{ kind: 'show', what: 'app-script', name: app.name }}, then fix it: ${{ kind: 'set-script', app: app.name }}`;
  const replayFrom = (identity: Identity | null, completed: CompletedStep[]) => {
    const state = simulatedFlow(app.name, steps, identity ?? SIMULATED_USER, completed);
    return planNextStep({ store, scripts }, app.script!, state, { app: app.name, clientId: app.clientId }).catch(
      (err: unknown) => {
        if (isIdpError(err)) return { error: err.message };
        throw err;
      },
    );
  };
  const start = await replayFrom(null, []);
  if ('error' in start)
    return [{ severity: 'error', code: 'SCRIPT_ERROR', message: `every login fails: ${start.error}`, fix: fixScript }];

  const hazards: Hazard[] = [];
  for (const option of steps[0] ?? []) {
    const local = isLocalOption(option);
    const connection = connections.find((c) => c.name === option);
    if (!local && !connection) continue; // an unknown option, reported above
    const label = local ? `the ${option} option` : option;
    const identity: Identity =
      local || connection!.jit.enabled
        ? SIMULATED_USER
        : { kind: 'pass-through', connection: option, subject: 'app-check', profile: emptyProfile() };
    const completed: CompletedStep[] = [{ step: 1, option, idp: local ? 'LOCAL' : option }];
    // Each later step the script asks for is taken as done with its first option, until the script finishes.
    for (let replays = 0; replays < steps.length; replays++) {
      const plan = await replayFrom(identity, completed);
      if ('error' in plan) {
        hazards.push({
          severity: 'error',
          code: 'SCRIPT_ERROR',
          message: `logins through ${label} (step 1) fail: ${plan.error}`,
          fix: fixScript,
        });
        break;
      }
      if ('failed' in plan) {
        hazards.push({
          severity: 'warning',
          code: 'SCRIPT_FAILS_LOGIN',
          message: `the script refuses every login through ${label} (step 1)${plan.failed.errorMessage ? `: ${plan.failed.errorMessage}` : ''}`,
          fix: fixScript,
        });
        break;
      }
      if (plan.next === null) {
        const skipped = steps
          .map((_, i) => i + 1)
          .filter((n) => n > 1 && steps[n - 1]!.every(isSecondFactor) && !plan.ran.includes(n));
        if (local && skipped.length) {
          hazards.push({
            severity: 'warning',
            code: 'MFA_SKIPPED',
            message: `the script skips the MFA step ${skipped.join(', ')} after ${label}: a password alone signs in`,
            fix: fixScript,
          });
        }
        break;
      }
      if (identity.kind === 'pass-through' && steps[plan.next - 1]!.every(isLocalOption)) break; // the MFA conflict, reported above
      if (completed.some((c) => c.step === plan.next)) break; // the engine reruns nothing: a finished step counts as done
      completed.push({ step: plan.next, option: steps[plan.next - 1]![0]!, idp: 'LOCAL' });
    }
  }
  return hazards;
}

const jitOn = (name: string) => ({ kind: 'set', on: 'connection', name, setting: 'jit', value: 'true' }) as const;

/** Plays the script with step `step` done through `connection` as a pass-through user: does it still ask for the MFA step? */
async function scriptSkipsMfa(
  store: Store,
  scripts: ScriptRunner,
  app: App,
  steps: string[][],
  connection: string,
  step: number,
  mfaStep: number,
): Promise<boolean> {
  const completed = Array.from({ length: step }, (_, i) => ({
    step: i + 1,
    option: i + 1 === step ? connection : 'password',
    idp: i + 1 === step ? connection : 'LOCAL',
  }));
  const state = simulatedFlow(
    app.name,
    steps,
    { kind: 'pass-through', connection, subject: 'app-check', profile: emptyProfile() },
    completed,
  );
  try {
    const plan = await planNextStep({ store, scripts }, app.script!, state, { app: app.name, clientId: app.clientId });
    return !('next' in plan && plan.next === mfaStep);
  } catch {
    return false;
  }
}
