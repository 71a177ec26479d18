// The JIT decision table of DESIGN.md, row by row, through the pure decideJit: the decision, the refusal code,
// the user it points at, and a reason that is one sentence naming the facts that decided it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHint } from '../../src/cli/hints.js';
import { asksBeforeProvisioning, decideJit, type JitInput } from '../../src/core/jit.js';
import { exitCodeFor, type ErrorCode } from '../../src/core/errors.js';
import type { JitDecisionKind, JitSettings, UserStatus } from '../../src/core/types.js';

const ALICE = { id: 'u-alice', username: 'alice' };
const OCTO = { id: 'u-octo', username: 'octocat' };

function input(over: {
  jit?: Partial<JitSettings>;
  associated?: UserStatus;
  emailOwner?: UserStatus;
  ownerVerified?: boolean;
  email?: string | null;
  verified?: boolean;
}): JitInput {
  const jit: JitSettings = { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off', ...over.jit };
  // Frozen: a pure function must not write to its input (strict mode turns a write into a TypeError).
  return Object.freeze({
    connection: 'github',
    jit: Object.freeze(jit),
    associatedUser: over.associated ? Object.freeze({ ...OCTO, status: over.associated }) : undefined,
    emailOwner: over.emailOwner
      ? Object.freeze({ ...ALICE, status: over.emailOwner, emailVerified: over.ownerVerified ?? true })
      : undefined,
    upstreamEmail: over.email === undefined ? 'alice@example.com' : over.email,
    upstreamEmailVerified: over.verified ?? true,
  });
}

interface Row {
  name: string;
  input: JitInput;
  kind: JitDecisionKind;
  userId?: string;
  code?: ErrorCode;
  /** Facts the one-sentence reason must name. */
  says: string[];
}

const ON = { enabled: true };
const OFF = { enabled: false };
const LINKING = { linking: 'verified-email' as const };

const ROWS: Row[] = [
  {
    name: 'association exists, JIT on -> returning',
    input: input({ jit: ON, associated: 'active' }),
    kind: 'returning',
    userId: OCTO.id,
    says: ['JIT on', 'association exists', 'octocat', 'override-all'],
  },
  {
    name: 'association exists, JIT off -> returning (JIT governs creation only)',
    input: input({ jit: OFF, associated: 'active' }),
    kind: 'returning',
    userId: OCTO.id,
    says: ['JIT off', 'association exists'],
  },
  {
    name: 'association exists, sync policy is named',
    input: input({ jit: { sync: 'preserve-local' }, associated: 'active' }),
    kind: 'returning',
    userId: OCTO.id,
    says: ['preserve-local'],
  },
  {
    name: 'associated user locked -> deny USER_LOCKED',
    input: input({ jit: ON, associated: 'locked' }),
    kind: 'deny',
    code: 'USER_LOCKED',
    says: ['octocat', 'locked'],
  },
  {
    name: 'associated user disabled -> deny USER_DISABLED',
    input: input({ jit: ON, associated: 'disabled' }),
    kind: 'deny',
    code: 'USER_DISABLED',
    says: ['octocat', 'disabled'],
  },
  {
    name: 'associated user locked, JIT off -> still deny USER_LOCKED',
    input: input({ jit: OFF, associated: 'locked' }),
    kind: 'deny',
    code: 'USER_LOCKED',
    says: ['locked'],
  },
  {
    name: 'no association, email free, JIT on -> provision',
    input: input({ jit: ON }),
    kind: 'provision',
    says: ['JIT on', 'no association', 'not taken'],
  },
  {
    name: 'no association, no upstream email, JIT on -> provision',
    input: input({ jit: ON, email: null, verified: false }),
    kind: 'provision',
    says: ['no association', 'not given'],
  },
  {
    name: 'no association, email free, JIT off -> pass-through',
    input: input({ jit: OFF }),
    kind: 'pass-through',
    says: ['JIT off', 'no association', 'no local account'],
  },
  {
    name: 'email taken, JIT on, linking verified-email, upstream verified -> link to the email owner',
    input: input({ jit: { ...ON, ...LINKING }, emailOwner: 'active', verified: true }),
    kind: 'link',
    userId: ALICE.id,
    says: ['verified email', 'alice@example.com', 'alice', 'verified-email'],
  },
  {
    name: 'email taken, JIT on, linking off -> deny LINK_CONFLICT',
    input: input({ jit: ON, emailOwner: 'active' }),
    kind: 'deny',
    code: 'LINK_CONFLICT',
    says: ['alice@example.com', 'alice', 'linking is off'],
  },
  {
    name: 'email taken, JIT on, linking off, even verified -> deny LINK_CONFLICT',
    input: input({ jit: ON, emailOwner: 'active', verified: true }),
    kind: 'deny',
    code: 'LINK_CONFLICT',
    says: ['linking is off'],
  },
  {
    name: 'email taken, JIT on, linking verified-email, upstream unverified -> deny LINK_CONFLICT',
    input: input({ jit: { ...ON, ...LINKING }, emailOwner: 'active', verified: false }),
    kind: 'deny',
    code: 'LINK_CONFLICT',
    says: ['alice', 'verified'],
  },
  {
    name: 'email held unverified by a local user, upstream verified -> provision, taking the address (linking verified-email)',
    input: input({ jit: { ...ON, ...LINKING }, emailOwner: 'active', ownerVerified: false, verified: true }),
    kind: 'provision',
    says: ['alice@example.com', 'held unverified by local user alice', 'cleared'],
  },
  {
    name: 'email held unverified by a local user, upstream verified -> provision, taking the address (linking off)',
    input: input({ jit: ON, emailOwner: 'locked', ownerVerified: false, verified: true }),
    kind: 'provision',
    says: ['held unverified by local user alice'],
  },
  {
    name: 'email held unverified by a local user, upstream unverified too -> deny LINK_CONFLICT (neither proved it)',
    input: input({ jit: { ...ON, ...LINKING }, emailOwner: 'active', ownerVerified: false, verified: false }),
    kind: 'deny',
    code: 'LINK_CONFLICT',
    says: ['alice', 'does not say it is verified'],
  },
  {
    name: 'email taken by a locked user, linking verified-email -> deny USER_LOCKED, not a link',
    input: input({ jit: { ...ON, ...LINKING }, emailOwner: 'locked', verified: true }),
    kind: 'deny',
    code: 'USER_LOCKED',
    says: ['alice', 'locked'],
  },
  {
    name: 'email taken, JIT off -> pass-through',
    input: input({ jit: OFF, emailOwner: 'active' }),
    kind: 'pass-through',
    says: ['JIT off', 'alice'],
  },
  {
    name: 'email taken, JIT off, linking verified-email and verified -> still pass-through',
    input: input({ jit: { ...OFF, ...LINKING }, emailOwner: 'active', verified: true }),
    kind: 'pass-through',
    says: ['JIT off'],
  },
];

/** One sentence: one line, no sentence break inside, no trailing full stop (stages print it mid-line). */
function assertOneSentence(reason: string): void {
  assert.ok(reason.length > 0, 'a reason is given');
  assert.doesNotMatch(reason, /\n/, `one line: ${reason}`);
  assert.doesNotMatch(reason, /[.!?]\s/, `one sentence: ${reason}`);
  assert.doesNotMatch(reason, /\.$/, `no trailing full stop: ${reason}`);
}

for (const row of ROWS) {
  test(row.name, () => {
    const decision = decideJit(row.input);
    assert.equal(decision.kind, row.kind, decision.reason);
    assert.equal('userId' in decision ? decision.userId : undefined, row.userId);
    assertOneSentence(decision.reason);
    for (const fact of row.says)
      assert.ok(decision.reason.includes(fact), `reason names '${fact}': ${decision.reason}`);
    if (decision.kind === 'deny') {
      assert.equal(decision.refusal.code, row.code);
      assert.equal(exitCodeFor(decision.refusal.code), 7, 'access refused exits 7');
      assertOneSentence(decision.refusal.message);
      assert.ok(decision.refusal.hint.length > 0);
    }
  });
}

test('an unverified local email is taken over by a provider-verified first sign-in: the decision names whose address is cleared', () => {
  const decision = decideJit(input({ jit: ON, emailOwner: 'active', ownerVerified: false, verified: true }));
  assert.equal(decision.kind, 'provision');
  assert.deepEqual(decision.kind === 'provision' && decision.takesEmailFrom, { id: ALICE.id, username: 'alice' });
});

test("an unverified local email that is also its holder's username is not taken over (the account was made for that address)", () => {
  const owner = Object.freeze({
    id: 'u-x',
    username: 'Alice@Example.com',
    status: 'active' as const,
    emailVerified: false,
  });
  const decision = decideJit({ ...input({ jit: ON, verified: true }), emailOwner: owner });
  assert.equal(decision.kind, 'deny');
  assert.equal(decision.kind === 'deny' && decision.refusal.code, 'LINK_CONFLICT');
});

test("a refusal told to the person signing in never names another account's username (the stage reason for admins does)", () => {
  const cases = [
    input({ jit: ON, emailOwner: 'active' }),
    input({ jit: ON, emailOwner: 'active', verified: true }),
    input({ jit: { ...ON, ...LINKING }, emailOwner: 'active', verified: false }),
    input({ jit: { ...ON, ...LINKING }, emailOwner: 'active', ownerVerified: false, verified: false }),
  ];
  for (const c of cases) {
    const decision = decideJit(c);
    assert.equal(decision.kind, 'deny');
    if (decision.kind !== 'deny') continue;
    assert.match(decision.reason, /local user alice\b/);
    const told = `${decision.refusal.message} ${renderHint(decision.refusal.hint) ?? ''}`;
    assert.doesNotMatch(told.replaceAll('alice@example.com', ''), /alice/, told);
    assert.match(decision.refusal.message, /belongs to an existing account/);
  }
});

test('a link conflict names the fix: the linking command when linking is off, verifying the email otherwise', () => {
  const off = refusalHint(input({ emailOwner: 'active' }));
  assert.match(off, /idp connection set github --linking verified-email/);
  const unverified = refusalHint(input({ jit: LINKING, emailOwner: 'active', verified: false }));
  assert.match(unverified, /verify the email/);
  assert.doesNotMatch(unverified, /--linking/);
});

test('a locked or disabled user gets the admin command that restores access', () => {
  assert.match(refusalHint(input({ associated: 'locked' })), /idp users set octocat --unlock/);
  assert.match(refusalHint(input({ associated: 'disabled' })), /idp users set octocat --enable/);
});

test('the scheme does not change the decision, only whether a provisioning is asked first', () => {
  for (const scheme of ['silent', 'prompt-consent', 'prompt-username-password-consent'] as const) {
    const provision = input({ jit: { scheme } });
    const returning = input({ jit: { scheme }, associated: 'active' });
    assert.equal(decideJit(provision).kind, 'provision');
    assert.equal(decideJit(returning).kind, 'returning');
    assert.equal(asksBeforeProvisioning(provision.jit, decideJit(provision)), scheme !== 'silent', scheme);
    assert.equal(
      asksBeforeProvisioning(returning.jit, decideJit(returning)),
      false,
      `${scheme}: a returning user is not asked`,
    );
  }
});

/** The refusal's hint as the CLI words it. */
function refusalHint(jitInput: JitInput): string {
  const decision = decideJit(jitInput);
  assert.equal(decision.kind, 'deny');
  return renderHint(decision.refusal.hint) ?? '';
}
