// A scenario file for `idp check`: a name, an optional policy `config:` applied to the throwaway copy first, and
// logins, each with what it must come to. The scenario types the runner (app/scenarios.ts) uses come from here.
import * as v from 'valibot';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { SECOND_FACTORS } from '../signin.js';
import { JIT_DECISIONS, STAGES } from '../types.js';
import { fields, list, mapOf, oneOf, say, shown, text } from './base.js';
import { policySchema } from './policy.js';

const ANSWERS = ['approve', 'deny'] as const;

const otp = v.pipe(
  text(),
  v.check(
    (value) => value === 'outbox' || value === 'totp' || /^\d{6}$/.test(value),
    (issue) =>
      say(
        `'${shown(issue.input)}' is not outbox, totp or a six-digit code`,
        'otp: outbox reads the emailed code, otp: totp computes the code of the user\'s factor; quote a literal code: otp: "000000"',
      ),
  ),
);

/** One login, in the headless driver's terms (`otp`: 'outbox', 'totp' or a code). */
const login = v.pipe(
  fields({
    app: text(),
    connection: v.optional(text()),
    option: v.optional(text()),
    as: v.optional(text()),
    consent: v.optional(oneOf(ANSWERS), 'approve'),
    username: v.optional(text()),
    password: v.optional(text()),
    otp: v.optional(otp),
    jit_consent: v.optional(oneOf(ANSWERS)),
    jit_username: v.optional(text()),
    /** A later step's option when it offers several (totp, email-otp, passkey); else the one the answers can answer. */
    mfa: v.optional(oneOf(SECOND_FACTORS)),
    /** The environment variable holding a software passkey's key (a testing aid), for passkey steps. */
    passkey_key_env: v.optional(text()),
  }),
  v.check(
    (l) => l.connection === undefined || l.option === undefined,
    say('give connection or option, not both', 'e.g. connection: github, or option: password'),
  ),
  v.transform(({ jit_consent, jit_username, passkey_key_env, ...rest }) => ({
    ...rest,
    jitConsent: jit_consent,
    jitUsername: jit_username,
    passkeyKeyEnv: passkey_key_env,
  })),
);

/** "+1", "-1", "+0" (YAML reads an unquoted +1 as the number 1, which means the same). */
const userDelta = v.pipe(
  v.unknown(),
  v.check(
    (value) =>
      (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^[+-]?\d+$/.test(value)),
    (issue) =>
      say(
        `'${shown(issue.input)}' is not a change in the number of users`,
        'e.g. users: "+1", users: "+0" or users: "-1"',
      ),
  ),
  v.transform(Number),
);

const EXPECT = {
  outcome: v.optional(oneOf(['success', 'failed'] as const)),
  jit: v.optional(oneOf(JIT_DECISIONS)),
  error: v.optional(oneOf(Object.keys(ERROR_CODES) as ErrorCode[])),
  /** The change in the number of local users. */
  users: v.optional(userDelta),
  /** A subset of the ID token's claims (maps compared key by key, arrays whole). */
  claims: v.optional(mapOf(v.string(), v.unknown())),
  /** Stage names that must appear. */
  stages: v.optional(list(oneOf(STAGES), 'must be a list of stage names', `stages: ${STAGES.join(', ')}`)),
};

const expectFields = fields(EXPECT);

const expectation = v.pipe(
  expectFields,
  v.check(
    (e) => Object.keys(e).length > 0,
    say('expects nothing', `name at least one of ${Object.keys(EXPECT).join(', ')}`),
  ),
);

const scenario = fields({ name: text(), login, expect: expectation });

const scenarios = v.pipe(
  list(scenario, 'must be a non-empty list of scenarios', 'each scenario has name, login and expect'),
  v.check(
    (items) => items.length > 0,
    say('must be a non-empty list of scenarios', 'each scenario has name, login and expect'),
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Set<string>();
    dataset.value.forEach((s, i) => {
      if (seen.has(s.name)) {
        const message = say(
          `'${s.name}' names an earlier scenario too`,
          'give every scenario of a file its own name (CI reports tell them apart by it)',
        );
        addIssue({
          message,
          path: [
            { type: 'array', origin: 'value', input: dataset.value, key: i, value: s },
            { type: 'object', origin: 'value', input: s, key: 'name', value: s.name },
          ],
        });
      }
      seen.add(s.name);
    });
  }),
);

export const scenarioFileSchema = fields({ name: text(), config: v.optional(policySchema), scenarios });

export type ScenarioLogin = v.InferOutput<typeof login>;
export type Expectation = v.InferOutput<typeof expectation>;
export type Scenario = v.InferOutput<typeof scenario>;
