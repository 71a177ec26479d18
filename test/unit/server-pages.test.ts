// The web driver's pages (src/server/pages): each view renders the fields it asks for, a form filled in as a browser
// would and read back by answerOf gives the engine's input, missing fields are refused, every form posts with the
// CSRF token, fields are labelled and tied to their errors, untrusted text is escaped everywhere, and only passkey
// pages run scripts (this server's two, with the options as inert JSON).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import QRCode from 'qrcode';
import { IdpError } from '../../src/core/errors.js';
import type { FlowView } from '../../src/flow/types.js';
import {
  accountActionOf,
  accountPage,
  passkeyEnrolPage,
  totpEnrolPage,
  type AccountPageView,
} from '../../src/server/pages/account.js';
import { errorPage } from '../../src/server/pages/error.js';
import { answerOf as answerOfPage, CSRF_FIELD, flowPage, type FlowPageContext } from '../../src/server/pages/flow.js';
import { escapeHtml } from '../../src/server/pages/layout.js';
import { qrSvg } from '../../src/server/pages/qr.js';

const ctx: FlowPageContext = {
  action: '/t/thrift/authenticationendpoint/u1',
  csrf: 'csrf-token-1',
  app: 'shop',
  org: 'thrift',
  assets: '/t/thrift/assets',
  passkeyName: 'Chrome on Linux',
};
/** The server's own origin, which a passkey answer is read with (never from the form). */
const SERVER = { origin: 'http://localhost:4000' };

function answerOf(view: FlowView, form: URLSearchParams) {
  return answerOfPage(view, form, SERVER);
}
const base = { flow: 'f_1', app: 'shop', step: 1, status: 'active' as const };
const enrol = {
  secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  uri: 'otpauth://totp/idp:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=idp',
};

const VIEWS = {
  choose: { ...base, waiting: 'choose', options: ['github', 'google', 'password'] },
  credentials: { ...base, waiting: 'credentials', fields: ['username', 'password'] },
  consent: {
    ...base,
    waiting: 'jit-prompt',
    connection: 'github',
    scheme: 'prompt-consent',
    proposed: { username: 'octocat', email: 'octo@example.com', name: 'The Octocat' },
    fields: ['consent'],
  },
  chooseName: {
    ...base,
    waiting: 'jit-prompt',
    connection: 'github',
    scheme: 'prompt-username-password-consent',
    proposed: { username: 'octocat', email: null, name: null },
    fields: ['consent', 'username', 'password'],
  },
  totp: { ...base, step: 2, waiting: 'mfa', method: 'totp', hint: '6-digit code from your authenticator app' },
  enrol: { ...base, step: 2, waiting: 'mfa', method: 'totp', hint: 'scan the QR code', enrol },
  email: { ...base, step: 2, waiting: 'mfa', method: 'email-otp', hint: '6-digit code sent to a***@example.com' },
  passwordless: {
    ...base,
    waiting: 'passkey',
    mode: 'authenticate',
    options: { challenge: 'c1', rpId: 'localhost', userVerification: 'required', allowCredentials: [] },
    alternatives: ['github', 'password'],
  },
  passkey: {
    ...base,
    step: 2,
    waiting: 'passkey',
    mode: 'authenticate',
    options: { challenge: 'c2', rpId: 'localhost', allowCredentials: [{ id: 'cred1', type: 'public-key' }] },
    alternatives: ['totp'],
  },
  passkeyEnrol: {
    ...base,
    step: 2,
    waiting: 'passkey',
    mode: 'enrol',
    options: {
      challenge: 'c3',
      rp: { id: 'localhost', name: 'thrift' },
      user: { id: 'dTE', name: 'alice', displayName: 'Alice' },
      pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
    },
    alternatives: [],
  },
} satisfies Record<string, FlowView>;

const PASSKEY_PAGES = ['passwordless', 'passkey', 'passkeyEnrol', 'passkeyRetry', 'passkeyAdd', 'passkeyAddRetry'];
const passkeyAdd = { pending: 'pend_1', options: VIEWS.passkeyEnrol.options };
const passkeyAddCtx = {
  ...{ csrf: 'csrf-token-1', action: '/t/thrift/myaccount', org: 'thrift' },
  assets: '/t/thrift/assets',
  name: 'Chrome on Linux',
};

const account: AccountPageView = {
  user: {
    id: 'u_1',
    username: 'alice',
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Liddell',
    given_name: 'Alice',
    family_name: 'Liddell',
    picture: null,
    attributes: { department: 'finance' },
    source: 'local',
  },
  linked: [{ connection: 'github', subject: '42', linked_at: '2025-01-02T03:04:05Z', last_login_at: null }],
  mfa: [{ id: 'fac_1', type: 'totp', created_at: '2025-01-03T00:00:00Z' }],
  password: true,
  passkeys: [
    {
      id: 'pk_1',
      name: 'Laptop',
      createdAt: '2025-01-04T00:00:00Z',
      lastUsedAt: '2025-01-05T00:00:00Z',
      software: false,
    },
    { id: 'pk_2', name: 'CI key', createdAt: '2025-01-06T00:00:00Z', lastUsedAt: null, software: true },
  ],
} as AccountPageView;
const accountCtx = { csrf: 'csrf-token-1', action: '/t/thrift/myaccount', org: 'thrift' };

/** Every page there is, by name: what the accessibility and CSRF checks run over. */
function everyPage(): Record<string, string> {
  const pages: Record<string, string> = {};
  for (const [name, view] of Object.entries(VIEWS)) pages[name] = flowPage(view, ctx);
  pages.credentialsRetry = flowPage(
    { ...VIEWS.credentials, retry: { code: 'BAD_CREDENTIALS', message: 'wrong username or password', hint: null } },
    ctx,
  );
  pages.chooseNameRetry = flowPage(
    {
      ...VIEWS.chooseName,
      retry: { code: 'USER_EXISTS', message: "username 'octocat' is taken", hint: 'choose another username' },
    },
    ctx,
  );
  pages.totpRetry = flowPage({ ...VIEWS.enrol, retry: { code: 'MFA_FAILED', message: 'wrong code', hint: null } }, ctx);
  pages.passkeyRetry = flowPage(
    { ...VIEWS.passkeyEnrol, retry: { code: 'MFA_FAILED', message: 'the passkey was refused', hint: 'try again' } },
    ctx,
  );
  pages.passkeyAdd = passkeyEnrolPage(passkeyAdd, passkeyAddCtx);
  pages.passkeyAddRetry = passkeyEnrolPage(passkeyAdd, { ...passkeyAddCtx, retry: 'the passkey was refused' });
  pages.account = accountPage(account, { ...accountCtx, notice: 'Saved.' });
  pages.accountEmpty = accountPage({ ...account, linked: [], mfa: [], passkeys: [] }, accountCtx);
  pages.totpEnrol = totpEnrolPage(enrol, accountCtx);
  pages.totpEnrolRetry = totpEnrolPage(enrol, { ...accountCtx, retry: 'wrong code' });
  pages.error = errorPage({
    title: 'Sign-in failed',
    message: 'nope',
    fix: 'try again',
    code: 'JIT_DENIED',
    flow: 'f_1',
  });
  return pages;
}

// --- a tiny reading of our own HTML: tags and their attributes --------------------------------------------------

type Attrs = Record<string, string>;

function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function attrsOf(tag: string): Attrs {
  const attrs: Attrs = {};
  for (const m of tag.matchAll(/\s([a-z-]+)(?:="([^"]*)")?/g)) attrs[m[1]!] = unescapeHtml(m[2] ?? '');
  return attrs;
}

/** The attributes of each start tag whose name matches `name` (a regex source). */
function tags(html: string, name: string): Attrs[] {
  return [...html.matchAll(new RegExp(`<(?:${name})\\b([^>]*)>`, 'g'))].map((m) => attrsOf(m[1]!));
}

function forms(html: string): string[] {
  return [...html.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((m) => m[0]);
}

/** The buttons of some HTML: their attributes and visible text. */
function buttons(html: string): (Attrs & { text: string })[] {
  return [...html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/g)].map((m) => ({
    ...attrsOf(m[1]!),
    text: unescapeHtml(m[2]!.replace(/<[^>]+>/g, '')).trim(),
  }));
}

/**
 * What a browser posts: the form holding the button clicked, its inputs with their values (`fill` overrides them by
 * name), and the button's own name and value.
 */
function submit(
  html: string,
  fill: Record<string, string> = {},
  click?: { name: string; value: string },
): URLSearchParams {
  const form = forms(html).find((f) =>
    click ? buttons(f).some((b) => b.name === click.name && b.value === click.value) : true,
  );
  assert.ok(form, `a form with the button ${JSON.stringify(click)}`);
  const body = new URLSearchParams();
  for (const input of tags(form, 'input')) {
    const value = fill[input.name!] ?? input.value;
    if (value !== undefined) body.append(input.name!, value);
  }
  if (click) body.append(click.name, click.value);
  return body;
}

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof IdpError, String(err));
    assert.equal(err.code, 'USAGE');
    assert.match(err.message, message);
    assert.ok(err.hint, 'a refusal carries a hint');
    return true;
  });
}

// --- what every page owes ----------------------------------------------------------------------------------------

test('every form posts and carries the CSRF token in the CSRF field', () => {
  for (const [name, html] of Object.entries(everyPage())) {
    for (const form of forms(html)) {
      assert.equal(tags(form, 'form')[0]!.method, 'post', `${name}: a form posts`);
      const csrf = tags(form, 'input').filter((i) => i.name === CSRF_FIELD);
      assert.deepEqual(
        csrf.map((i) => [i.type, i.value]),
        [['hidden', 'csrf-token-1']],
        `${name}: one hidden CSRF field per form`,
      );
    }
  }
  assert.equal(CSRF_FIELD, 'csrf');
});

test('every field has a label, every button a name, every description exists, and headings go in order', () => {
  for (const [name, html] of Object.entries(everyPage())) {
    const ids = tags(html, '[a-z0-9]+').flatMap((t) => (t.id ? [t.id] : []));
    assert.equal(new Set(ids).size, ids.length, `${name}: ids are unique`);
    const labelled = new Set(tags(html, 'label').map((l) => l.for));
    for (const input of tags(html, 'input').filter((i) => i.type !== 'hidden')) {
      assert.ok(labelled.has(input.id), `${name}: <label for> ties to input ${input.name}`);
      assert.ok(input.autocomplete, `${name}: input ${input.name} says what it autocompletes`);
    }
    for (const described of tags(html, '[a-z]+').flatMap((t) => t['aria-describedby']?.split(' ') ?? []))
      assert.ok(ids.includes(described), `${name}: aria-describedby names ${described}, which exists`);
    for (const button of buttons(html)) assert.ok(button.text, `${name}: every button has visible text`);
    const levels = [...html.matchAll(/<h([1-6])\b/g)].map((m) => Number(m[1]));
    assert.equal(levels.filter((l) => l === 1).length, 1, `${name}: one <h1>`);
    levels.forEach((level, i) => {
      assert.ok(level <= (levels[i - 1] ?? 0) + 1, `${name}: headings skip no level`);
    });
    assert.match(html, /^<!doctype html>\n<html lang="en">/, `${name}: a document with a language`);
    assert.doesNotMatch(html, /<link/, `${name}: no external stylesheet`);
    const scripts = tags(html, 'script');
    if (!PASSKEY_PAGES.includes(name)) {
      assert.doesNotMatch(html, /<script|\bsrc=/, `${name}: no JavaScript and no external assets`);
      continue;
    }
    // A passkey page: the options as data, and this server's two scripts, nothing from elsewhere.
    assert.deepEqual(
      scripts.map((t) => t.src ?? t.type),
      ['application/json', '/t/thrift/assets/simplewebauthn-browser.js', '/t/thrift/assets/passkey.js'],
      name,
    );
    assert.match(html, /<noscript>.*Passkeys need JavaScript/, `${name}: says what it needs without JavaScript`);
  }
});

test('an error or retry is an alert, and the fields it is about point at it', () => {
  const pages = everyPage();
  for (const name of [
    'credentialsRetry',
    'chooseNameRetry',
    'totpRetry',
    'totpEnrolRetry',
    'passkeyRetry',
    'passkeyAddRetry',
  ]) {
    const html = pages[name]!;
    const alert = tags(html, 'div').find((d) => d.role === 'alert');
    assert.ok(alert?.id, `${name}: an alert with an id`);
    const tied = tags(html, 'input').filter((i) => i['aria-describedby']?.split(' ').includes(alert.id!));
    assert.ok(tied.length > 0, `${name}: a field is described by the alert`);
    assert.ok(
      tied.every((i) => i['aria-invalid'] === 'true'),
      `${name}: the fields the alert is about are invalid`,
    );
  }
  assert.match(pages.credentialsRetry!, /Wrong username or password\./);
  assert.match(pages.chooseNameRetry!, /Username &#39;octocat&#39; is taken\. Choose another username\./);
  assert.doesNotMatch(pages.credentials!, /role="alert"|aria-invalid="/, 'no alert without a retry');
});

// --- each view: its fields, and its form read back --------------------------------------------------------------

test('choose: one named submit button per option, read back as that option', () => {
  const html = flowPage(VIEWS.choose, ctx);
  assert.deepEqual(
    buttons(html).map((b) => [b.name, b.value, b.text]),
    [
      ['choose', 'github', 'Sign in with GitHub'],
      ['choose', 'google', 'Sign in with Google'],
      ['choose', 'password', 'Sign in with a password'],
    ],
  );
  assert.match(html, /<h1>Sign in to shop<\/h1>/);
  assert.match(html, /<p class="org">thrift<\/p>/);
  assert.deepEqual(answerOf(VIEWS.choose, submit(html, {}, { name: 'choose', value: 'google' })), { choose: 'google' });
  refused(() => answerOf(VIEWS.choose, submit(html)), /the sign-in option is missing/);
  refused(() => answerOf(VIEWS.choose, new URLSearchParams({ choose: 'totp' })), /'totp' is not offered in this step/);
  const second = flowPage({ ...base, step: 2, waiting: 'choose', options: ['totp', 'email-otp', 'acme-sso'] }, ctx);
  assert.deepEqual(
    buttons(second).map((b) => b.text),
    ['Use an authenticator app', 'Email me a code', 'Sign in with acme-sso'],
  );
  const refusedChoice = {
    code: 'MFA_NOT_ENROLLED' as const,
    message: 'alice already has a passkey: use it',
    hint: null,
  };
  const again = flowPage(
    { ...base, step: 2, waiting: 'choose', options: ['totp', 'passkey'], retry: refusedChoice },
    ctx,
  );
  assert.match(again, /role="alert"[^>]*>[^<]*alice already has a passkey: use it/i, 'a refused choice says why');
});

test('credentials: username and current password, read back; a missing one is refused', () => {
  const html = flowPage(VIEWS.credentials, ctx);
  const inputs = tags(html, 'input').filter((i) => i.type !== 'hidden');
  assert.deepEqual(
    inputs.map((i) => [i.name, i.type, i.autocomplete]),
    [
      ['username', 'text', 'username'],
      ['password', 'password', 'current-password'],
    ],
  );
  assert.deepEqual(
    answerOf(VIEWS.credentials, submit(html, { username: ' alice ', password: ' pass word ' })),
    { credentials: { username: 'alice', password: ' pass word ' } },
    'the username is trimmed, the password kept as typed',
  );
  refused(() => answerOf(VIEWS.credentials, submit(html, { username: 'alice' })), /the password is missing/);
  refused(() => answerOf(VIEWS.credentials, submit(html, { password: 'x' })), /the username is missing/);
});

test('jit prompt (consent): two named answers and no fields; yes and no read back; no answer is refused', () => {
  const html = flowPage(VIEWS.consent, ctx);
  assert.deepEqual(
    tags(html, 'input').filter((i) => i.type !== 'hidden'),
    [],
  );
  assert.deepEqual(
    buttons(html).map((b) => [b.name, b.value, b.text]),
    [
      ['consent', 'yes', 'Create account'],
      ['consent', 'no', 'Cancel'],
    ],
  );
  assert.match(
    html,
    /You signed in with github as The Octocat \(octo@example\.com\)\. Create a local account in thrift/,
  );
  const yes = submit(html, {}, { name: 'consent', value: 'yes' });
  const no = submit(html, {}, { name: 'consent', value: 'no' });
  assert.deepEqual(answerOf(VIEWS.consent, yes), { jitAnswer: { consent: true } });
  assert.deepEqual(answerOf(VIEWS.consent, no), { jitAnswer: { consent: false } });
  refused(() => answerOf(VIEWS.consent, submit(html)), /the answer to creating an account is missing/);
});

test('jit prompt (username, password, consent): the proposed username, a new password; declining needs neither', () => {
  const html = flowPage(VIEWS.chooseName, ctx);
  const inputs = tags(html, 'input').filter((i) => i.type !== 'hidden');
  assert.deepEqual(
    inputs.map((i) => [i.name, i.type, i.autocomplete, i.value]),
    [
      ['username', 'text', 'username', 'octocat'],
      ['password', 'password', 'new-password', undefined],
    ],
  );
  assert.equal(inputs[1]!.minlength, '8');
  assert.ok('formnovalidate' in buttons(html).find((b) => b.value === 'no')!, 'declining skips the required fields');
  const yes = { name: 'consent', value: 'yes' };
  assert.deepEqual(answerOf(VIEWS.chooseName, submit(html, { password: 'long enough' }, yes)), {
    jitAnswer: { consent: true, username: 'octocat', password: 'long enough' },
  });
  assert.deepEqual(answerOf(VIEWS.chooseName, submit(html, {}, { name: 'consent', value: 'no' })), {
    jitAnswer: { consent: false },
  });
  refused(() => answerOf(VIEWS.chooseName, submit(html, { password: 'short' }, yes)), /at least 8 characters/);
  refused(
    () => answerOf(VIEWS.chooseName, submit(html, { username: ' ', password: 'long enough' }, yes)),
    /username is missing/,
  );
  refused(() => answerOf(VIEWS.chooseName, submit(html, {}, yes)), /the password is missing/);
});

test('mfa: a numeric one-time-code field with the hint; the code read back without spaces; not six digits is refused', () => {
  for (const view of [VIEWS.totp, VIEWS.email]) {
    const html = flowPage(view, ctx);
    const [code, ...rest] = tags(html, 'input').filter((i) => i.type !== 'hidden');
    assert.deepEqual(rest, []);
    assert.equal(code!.name, 'code');
    assert.equal(code!.autocomplete, 'one-time-code');
    assert.equal(code!.inputmode, 'numeric');
    const help = tags(html, 'p').find((p) => p.id === code!['aria-describedby']);
    assert.ok(help, 'the hint describes the field');
    assert.ok(html.includes(escapeHtml(view.hint.slice(1))), 'the hint is shown');
    assert.doesNotMatch(html, /<svg/, 'no QR code without an enrolment');
    assert.deepEqual(answerOf(view, submit(html, { code: '123 456' })), { otp: '123456' });
    refused(() => answerOf(view, submit(html, { code: '12345' })), /six digits/);
    refused(() => answerOf(view, submit(html)), /the code is missing/);
  }
  assert.match(flowPage(VIEWS.email, ctx), /<h2>Check your email<\/h2>/);
});

test('mfa with TOTP enrolment (and My Account enrolment): the QR code, the secret as text, the otpauth URI as a link', () => {
  for (const html of [flowPage(VIEWS.enrol, ctx), totpEnrolPage(enrol, accountCtx)]) {
    assert.match(html, /<svg class="qr"[^>]*role="img"[^>]*aria-label="[^"]+"/);
    assert.ok(html.includes(`>${enrol.secret}</code>`), 'the secret to type');
    assert.deepEqual(
      tags(html, 'a')
        .filter((a) => a.href?.startsWith('otpauth:'))
        .map((a) => a.href),
      [enrol.uri],
    );
  }
  const confirm = totpEnrolPage(enrol, accountCtx);
  assert.deepEqual(accountActionOf(submit(confirm, { code: '654321' }, { name: 'op', value: 'confirm-totp' })), {
    op: 'confirm-totp',
    code: '654321',
  });
  assert.ok(
    tags(confirm, 'a').some((a) => a.href === accountCtx.action),
    'a way back to My Account',
  );
  const notOtpauth = flowPage({ ...VIEWS.enrol, enrol: { ...enrol, uri: 'javascript:alert(1)' } }, ctx);
  assert.ok(!tags(notOtpauth, 'a').some((a) => a.href?.startsWith('javascript:')), 'only an otpauth URI is a link');
});

/** The form as the page script posts it: no button, the authenticator's answer as JSON in `response`. */
function scripted(html: string, answer: unknown, fill: Record<string, string> = {}): URLSearchParams {
  return submit(html, { ...fill, response: JSON.stringify(answer) });
}

test('passkey step: the options as data, a script button, the answer read back with the server origin, another way', () => {
  const html = flowPage(VIEWS.passkey, ctx);
  assert.match(html, /<h2>Use your passkey<\/h2>/);
  const form = tags(html, 'form')[0]!;
  assert.equal(form.id, 'passkey-form');
  assert.equal(form['data-mode'], 'authenticate');
  const json = /<script type="application\/json" id="passkey-options">([^<]*)<\/script>/.exec(html)?.[1];
  assert.deepEqual(JSON.parse(json!), VIEWS.passkey.options);
  assert.deepEqual(
    buttons(html).map((b) => [b.type, b.id ?? b.value, b.text, 'formnovalidate' in b]),
    [
      ['button', 'passkey-start', 'Use a passkey', false],
      ['submit', 'totp', 'Use an authenticator app', true],
    ],
    'the passkey button only runs the script; each other option posts the form without its checks',
  );
  assert.ok('disabled' in buttons(html)[0]!, 'the button waits for the script to find WebAuthn');
  assert.match(html, /<h3>Use another way<\/h3>/);
  assert.deepEqual(
    tags(html, 'input').filter((i) => i.type !== 'hidden'),
    [],
    'nothing to type when signing in',
  );

  const answer = { id: 'cred1', rawId: 'cred1', type: 'public-key', response: { signature: 'sig' } };
  const posted = scripted(html, answer);
  posted.set('origin', 'http://evil.example');
  assert.deepEqual(answerOf(VIEWS.passkey, posted), {
    passkey: { response: answer, origin: SERVER.origin },
  });
  assert.deepEqual(answerOf(VIEWS.passkey, submit(html, {}, { name: 'choose', value: 'totp' })), { choose: 'totp' });
  refused(
    () => answerOf(VIEWS.passkey, new URLSearchParams({ choose: 'password' })),
    /'password' is not offered in this step/,
  );
  refused(() => answerOf(VIEWS.passkey, submit(html)), /the passkey answer is missing/);
  refused(() => answerOf(VIEWS.passkey, submit(html, { response: '{"id":' })), /the passkey answer is not JSON/);
  refused(() => answerOf(VIEWS.passkey, submit(html, { response: '"text"' })), /the passkey answer is not JSON/);
});

test('passwordless step 1 and the choose page: passkey is an option like the others, with its fallbacks', () => {
  const html = flowPage(VIEWS.passwordless, ctx);
  assert.match(html, /<h2>Sign in with a passkey<\/h2>/);
  assert.deepEqual(
    buttons(html).map((b) => b.text),
    ['Use a passkey', 'Sign in with GitHub', 'Sign in with a password'],
  );
  const choose = flowPage({ ...VIEWS.choose, options: ['passkey', 'github'] }, ctx);
  assert.deepEqual(
    answerOf(
      { ...VIEWS.choose, options: ['passkey', 'github'] },
      submit(choose, {}, { name: 'choose', value: 'passkey' }),
    ),
    {
      choose: 'passkey',
    },
  );
  assert.equal(buttons(choose)[0]!.text, 'Use a passkey');
  assert.doesNotMatch(choose, /<script/, 'the choose page itself runs nothing');
});

test('passkey enrolment in a sign-in: a labelled name field with a sensible default, read back with the answer', () => {
  const html = flowPage(VIEWS.passkeyEnrol, ctx);
  assert.match(html, /<h2>Create a passkey<\/h2>/);
  assert.equal(tags(html, 'form')[0]!['data-mode'], 'enrol');
  const [name, ...rest] = tags(html, 'input').filter((i) => i.type !== 'hidden');
  assert.deepEqual(rest, []);
  assert.equal(name!.name, 'name');
  assert.equal(name!.value, 'Chrome on Linux');
  assert.ok(tags(html, 'label').some((l) => l.for === name!.id));
  assert.deepEqual(
    buttons(html).map((b) => b.text),
    ['Create a passkey'],
    'no other way when the step offers none',
  );
  const answer = { id: 'new', response: { attestationObject: 'a' } };
  assert.deepEqual(answerOf(VIEWS.passkeyEnrol, scripted(html, answer, { name: '  Work laptop ' })), {
    passkey: { response: answer, origin: SERVER.origin, name: 'Work laptop' },
  });
  assert.deepEqual(
    answerOf(VIEWS.passkeyEnrol, scripted(html, answer, { name: ' ' })),
    {
      passkey: { response: answer, origin: SERVER.origin },
    },
    'blank: the use case names it',
  );
  assert.deepEqual(answerOf(VIEWS.passkeyEnrol, scripted(html, answer, { name: '' })), {
    passkey: { response: answer, origin: SERVER.origin },
  });
  const retry = flowPage(
    { ...VIEWS.passkeyEnrol, retry: { code: 'MFA_FAILED', message: 'the passkey was refused', hint: 'try again' } },
    ctx,
  );
  assert.match(retry, /role="alert"[^>]*>The passkey was refused\. Try again\./);
});

test('a passkey page options JSON cannot end its <script> element, whatever a name in it says', () => {
  const evil = '</script><script>alert(1)</script>';
  const view = {
    ...VIEWS.passkeyEnrol,
    options: { ...VIEWS.passkeyEnrol.options, user: { id: 'x', name: evil, displayName: evil } },
  };
  for (const html of [flowPage(view, ctx), passkeyEnrolPage({ pending: 'p', options: view.options }, passkeyAddCtx)]) {
    assert.equal(html.match(/<script/g)?.length, 3, 'the JSON and the two asset scripts, no more');
    const json = /<script type="application\/json" id="passkey-options">([^<]*)<\/script>/.exec(html)?.[1];
    assert.equal(JSON.parse(json!).user.name, evil, 'the name survives as data');
  }
});

test('a form from a page the flow has moved past is refused, and views that are no page throw', () => {
  const old = submit(flowPage(VIEWS.choose, ctx), {}, { name: 'choose', value: 'password' });
  old.set('code', '123456');
  refused(() => answerOf(VIEWS.totp, old), /from an earlier page/);
  const done = { ...base, status: 'done', result: {} } as unknown as FlowView;
  const redirect: FlowView = {
    ...base,
    waiting: 'redirect',
    url: 'http://x',
    connection: 'github',
    provider: 'GitHub',
    sandbox: true,
  };
  for (const view of [done, redirect])
    assert.throws(
      () => flowPage(view, ctx),
      (err: unknown) => err instanceof IdpError && err.code === 'INTERNAL',
    );
});

// --- error page, My Account, pass-through -----------------------------------------------------------------------

test('the error page: the message as an alert, each fix line, commands as code, the code and flow id, a safe back link', () => {
  const html = errorPage({
    title: 'Sign-in failed',
    message: 'octocat passed through github without a local account',
    fix: 'either turn JIT on (idp connection set github --jit=true) so the first sign-in creates one\n\nor run `idp app check shop`\nidp flows show f_9',
    code: 'MFA_NEEDS_LOCAL_USER',
    flow: 'f_9',
    back: '/t/thrift/oauth2/authorize?client_id=a&x=1',
  });
  assert.match(html, /<div class="alert" role="alert">Octocat passed through github without a local account\.<\/div>/);
  assert.deepEqual([...html.matchAll(/<p>(.*?)<\/p>/g)].map((m) => m[1]).slice(0, 3), [
    'either turn JIT on (<code>idp connection set github --jit=true</code>) so the first sign-in creates one',
    'or run <code>idp app check shop</code>',
    '<code>idp flows show f_9</code>',
  ]);
  assert.match(html, /<code>MFA_NEEDS_LOCAL_USER<\/code>/);
  assert.match(html, /<code>f_9<\/code>/);
  assert.deepEqual(
    tags(html, 'a').map((a) => a.href),
    ['/t/thrift/oauth2/authorize?client_id=a&x=1'],
  );
  for (const back of ['javascript:alert(1)', '//evil.example/x'])
    assert.doesNotMatch(errorPage({ title: 't', message: 'm', fix: null, code: 'X', back }), /<a /);
  assert.doesNotMatch(errorPage({ title: 't', message: 'm', fix: null, code: 'X' }), /How to fix it|Flow</);
});

test('My Account shows what `idp account` shows, a remove button per factor, enrolment only without TOTP, and sign-out', () => {
  const html = accountPage(account, { ...accountCtx, notice: 'Saved.' });
  for (const text of [
    'alice',
    'alice@example.com (verified)',
    'Alice Liddell',
    'department=finance',
    'github',
    'linked 2025-01-02',
  ])
    assert.ok(html.includes(text), text);
  assert.match(html, /<dt>Password<\/dt><dd>set<\/dd>/);
  assert.match(html, /role="status">Saved\./);
  const remove = { name: 'op', value: 'remove-factor' };
  assert.deepEqual(accountActionOf(submit(html, {}, remove)), { op: 'remove-factor', factor: 'fac_1' });
  assert.match(buttons(html).find((b) => b.value === 'remove-factor')!['aria-label']!, /Remove Authenticator app/);
  assert.ok(!buttons(html).some((b) => b.value === 'enrol-totp'), 'one TOTP factor at most');
  assert.deepEqual(accountActionOf(submit(html, {}, { name: 'op', value: 'sign-out' })), { op: 'sign-out' });

  const empty = accountPage({ ...account, linked: [], mfa: [], password: false }, accountCtx);
  assert.deepEqual(accountActionOf(submit(empty, {}, { name: 'op', value: 'enrol-totp' })), { op: 'enrol-totp' });
  assert.match(empty, /<dt>Password<\/dt><dd>none<\/dd>/);
  refused(() => accountActionOf(new URLSearchParams({ op: 'drop-tables' })), /unknown My Account action/);
  refused(() => accountActionOf(new URLSearchParams({ op: 'remove-factor' })), /the factor is missing/);
  refused(() => accountActionOf(new URLSearchParams()), /the action is missing/);
});

test('My Account passkeys: each listed with its dates, renamed and removed by its id; adding one posts the answer', () => {
  const html = accountPage(account, accountCtx);
  assert.match(html, /<h2>Passkeys<\/h2>/);
  assert.ok(html.includes('Laptop<span class="meta">added 2025-01-04, last used 2025-01-05</span>'));
  assert.ok(html.includes('CI key<span class="meta">added 2025-01-06, never used, software authenticator'));
  const removeButtons = buttons(html).filter((b) => b.value === 'remove-factor');
  assert.deepEqual(
    removeButtons.map((b) => b['aria-label']),
    ['Remove Authenticator app (TOTP), added 2025-01-03', 'Remove passkey Laptop', 'Remove passkey CI key'],
  );
  const removeForm = forms(html).find((f) => f.includes('value="passkey:pk_2"'))!;
  assert.deepEqual(accountActionOf(submit(removeForm, {}, { name: 'op', value: 'remove-factor' })), {
    op: 'remove-factor',
    factor: 'passkey:pk_2',
  });
  const renameForm = forms(html).find((f) => f.includes('name="passkey" value="pk_1"'))!;
  assert.deepEqual(
    accountActionOf(submit(renameForm, { name: ' Old laptop ' }, { name: 'op', value: 'rename-passkey' })),
    {
      op: 'rename-passkey',
      passkey: 'pk_1',
      name: 'Old laptop',
    },
  );
  refused(
    () => accountActionOf(submit(renameForm, { name: ' ' }, { name: 'op', value: 'rename-passkey' })),
    /the new name is missing/,
  );
  assert.deepEqual(accountActionOf(submit(html, {}, { name: 'op', value: 'enrol-passkey' })), { op: 'enrol-passkey' });
  assert.match(accountPage({ ...account, passkeys: [] }, accountCtx), /No passkeys yet\./);

  const add = passkeyEnrolPage(passkeyAdd, passkeyAddCtx);
  assert.equal(tags(add, 'form')[0]!['data-mode'], 'enrol');
  assert.equal(tags(add, 'input').find((i) => i.name === 'name')!.value, 'Chrome on Linux');
  const answer = { id: 'new', response: { attestationObject: 'a' } };
  assert.deepEqual(accountActionOf(scripted(add, answer, { name: 'Phone' })), {
    op: 'finish-passkey',
    pending: 'pend_1',
    response: answer,
    name: 'Phone',
  });
  refused(() => accountActionOf(submit(add)), /the passkey answer is missing/);
  assert.ok(
    tags(add, 'a').some((a) => a.href === passkeyAddCtx.action),
    'a way back to My Account',
  );
});

// --- untrusted text -----------------------------------------------------------------------------------------------

const EVIL = '<script>alert("x")</script>\'&';
const EVIL_OUT = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;';

test('a <script> in every text field comes out escaped', () => {
  const evilCtx = { action: `/a${EVIL}`, csrf: EVIL, app: EVIL, org: EVIL, assets: EVIL, passkeyName: EVIL };
  const retry = { code: 'BAD_CREDENTIALS' as const, message: EVIL, hint: EVIL };
  const pages = [
    flowPage({ ...VIEWS.choose, options: [EVIL, 'password'] }, evilCtx),
    flowPage({ ...VIEWS.credentials, retry }, evilCtx),
    flowPage(
      { ...VIEWS.chooseName, connection: EVIL, proposed: { username: EVIL, email: EVIL, name: EVIL }, retry },
      evilCtx,
    ),
    flowPage({ ...VIEWS.consent, connection: EVIL, proposed: { username: EVIL, email: null, name: EVIL } }, evilCtx),
    flowPage({ ...VIEWS.enrol, hint: EVIL, enrol: { secret: EVIL, uri: `otpauth://${EVIL}` }, retry }, evilCtx),
    errorPage({
      title: EVIL,
      message: EVIL,
      fix: `${EVIL}\n(idp ${EVIL})\n\`${EVIL}\``,
      code: EVIL,
      flow: EVIL,
      back: `/${EVIL}`,
    }),
    accountPage(
      {
        user: {
          ...account.user,
          username: EVIL,
          email: EVIL,
          name: EVIL,
          given_name: EVIL,
          family_name: EVIL,
          attributes: { [EVIL]: EVIL },
        },
        linked: [{ connection: EVIL, subject: EVIL, linked_at: EVIL, last_login_at: EVIL }],
        mfa: [{ id: EVIL, type: 'totp', created_at: EVIL }],
        password: false,
        passkeys: [{ id: EVIL, name: EVIL, createdAt: EVIL, lastUsedAt: EVIL, software: false }],
      } as AccountPageView,
      { csrf: EVIL, action: EVIL, org: EVIL, notice: EVIL },
    ),
    totpEnrolPage({ secret: EVIL, uri: EVIL }, { csrf: EVIL, action: EVIL, org: EVIL, retry: EVIL }),
  ];
  const passkeyPages = [
    flowPage({ ...VIEWS.passkeyEnrol, alternatives: [EVIL], retry }, evilCtx),
    passkeyEnrolPage(
      { pending: EVIL, options: {} },
      { csrf: EVIL, action: EVIL, org: EVIL, assets: EVIL, name: EVIL, retry: EVIL },
    ),
  ];
  for (const html of passkeyPages) {
    // Their own <script> tags aside (checked above), the text is escaped like everywhere else.
    const text = html.replace(/<script[^>]*>[^<]*<\/script>/g, '');
    assert.doesNotMatch(text, /<script|alert\("/, text);
    assert.ok(text.includes('&lt;script&gt;alert(&quot;x&quot;)'), 'the text is shown, escaped');
  }
  for (const html of pages) {
    assert.doesNotMatch(html, /<script|alert\("/, html);
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)'), 'the text is shown, escaped');
  }
  assert.equal(escapeHtml(EVIL), EVIL_OUT);
});

// --- the QR code ---------------------------------------------------------------------------------------------------

test('qrSvg draws the QR matrix of the text with a quiet zone of four modules', () => {
  const svg = qrSvg(enrol.uri);
  const size = QRCode.create(enrol.uri, { errorCorrectionLevel: 'M' }).modules.size;
  assert.match(svg, new RegExp(`viewBox="0 0 ${size + 8} ${size + 8}"`));
  // The top-left finder pattern: its first row is a run of seven dark modules at the quiet zone's corner.
  assert.match(svg, /d="M4 4h7v1h-7z/);
  assert.notEqual(qrSvg('otpauth://a'), qrSvg('otpauth://b'));
  assert.match(qrSvg('x', `label ${EVIL}`), new RegExp(`aria-label="label ${EVIL_OUT.replace(/[()]/g, '\\$&')}"`));
});
