// The sign-in pages of the web driver, one per view the flow engine waits on (choose, credentials, jit-prompt, mfa,
// passkey), and the reading of each page's posted form back into the FlowInput the engine takes. The same questions
// the terminal driver asks (src/cli/drivers/terminal.ts), as forms that work without JavaScript, except the passkey
// step's authenticator (which only a script can ask), whose page always offers the step's other options too.
import { IdpError } from '../../core/errors.js';
import { isLocalOption } from '../../core/signin.js';
import { MIN_PASSWORD_LENGTH } from '../../core/user-fields.js';
import type { FlowInput, FlowView, PasskeyAnswer } from '../../flow/types.js';
import { escapeHtml, page } from './layout.js';
import { alert, codeField, codeOf, enrolment, field, postForm, required } from './parts.js';
import { passkeyBlock, passkeyFormAttrs, passkeyNameOf, passkeyResponseOf } from './passkey.js';

export { CSRF_FIELD } from './parts.js';

export interface FlowPageContext {
  /** Where the page's form posts to. */
  action: string;
  csrf: string;
  app: string;
  org: string;
  /** The path this server serves the passkey scripts below (`/t/<org>/assets`). */
  assets: string;
  /** A passkey made in this step is named this until the person changes it (blank: the use case names it). */
  passkeyName?: string;
}

/** What the server itself knows about an answer, never read from the form. */
export interface AnswerContext {
  /** The origin the server serves its pages from (`http://localhost:PORT`): the one a passkey answer must be for. */
  origin: string;
}

type Waiting<K extends string> = Extract<FlowView, { waiting: K }>;
type PageView = Waiting<'choose' | 'credentials' | 'jit-prompt' | 'mfa' | 'passkey'>;

/**
 * The hidden field naming the view a form was rendered for: a form posted from a page the flow has moved past (the
 * browser's back button) is refused instead of being read as an answer to the current question.
 */
const VIEW_FIELD = 'view';

/** HTML for a waiting view. 'redirect' is not a page (the server redirects), nor are 'done' and 'failed'. */
export function flowPage(view: FlowView, ctx: FlowPageContext): string {
  const current = pageView(view);
  const { heading, body, form } = RENDER[current.waiting](current as never, ctx);
  const stamp = `<input type="hidden" name="${VIEW_FIELD}" value="${viewStamp(current)}">`;
  return page({
    title: `${heading} · ${ctx.app}`,
    subtitle: ctx.org,
    heading: `Sign in to ${ctx.app}`,
    body: `<h2>${escapeHtml(heading)}</h2>${postForm(ctx.action, ctx.csrf, stamp + body, { attrs: form })}`,
  });
}

/**
 * The posted form as the FlowInput the view waits for; a missing or malformed field is refused (USAGE) with a hint.
 * For 'choose', the server adds redirectUri itself afterwards.
 */
export function answerOf(view: FlowView, form: URLSearchParams, server: AnswerContext): FlowInput {
  const current = pageView(view);
  const stamp = form.get(VIEW_FIELD);
  if (stamp !== null && stamp !== viewStamp(current))
    throw new IdpError(
      'USAGE',
      'this form is from an earlier page of the sign-in',
      'use the page the sign-in is on now (reload it) and answer there',
    );
  switch (current.waiting) {
    case 'choose':
      return { choose: chosen(form, current.options) };
    case 'credentials':
      return {
        credentials: {
          username: required(form, 'username', 'the username'),
          password: required(form, 'password', 'the password', false),
        },
      };
    case 'jit-prompt':
      return { jitAnswer: jitAnswerOf(current, form) };
    case 'mfa':
      return { otp: codeOf(form) };
    case 'passkey':
      // "Use another way" is a submit button of the same form; the script posts the answer without one.
      if (form.has('choose')) return { choose: chosen(form, current.alternatives) };
      return { passkey: passkeyAnswerOf(current, form, server) };
  }
}

function passkeyAnswerOf(view: Waiting<'passkey'>, form: URLSearchParams, server: AnswerContext): PasskeyAnswer {
  const name = view.mode === 'enrol' ? passkeyNameOf(form) : undefined;
  return { response: passkeyResponseOf(form), origin: server.origin, ...(name && { name }) };
}

function chosen(form: URLSearchParams, offered: string[]): string {
  const option = required(form, 'choose', 'the sign-in option');
  if (!offered.includes(option))
    throw new IdpError('USAGE', `'${option}' is not offered in this step`, `choose one of: ${offered.join(', ')}`);
  return option;
}

function pageView(view: FlowView): PageView {
  if (view.status === 'active' && view.waiting !== 'redirect') return view;
  const what = view.status === 'active' ? `a ${view.waiting} view` : `a ${view.status} flow`;
  throw new IdpError('INTERNAL', `${what} has no page: the server answers it itself`);
}

function viewStamp(view: PageView): string {
  return `${view.waiting}-${view.step}`;
}

interface Rendered {
  /** The page's own question, as its <h2> and title. */
  heading: string;
  /** The form's content: fields and buttons. */
  body: string;
  /** Further attributes of the form, already safe. */
  form?: string;
}

const RENDER: { [K in PageView['waiting']]: (view: Waiting<K>, ctx: FlowPageContext) => Rendered } = {
  choose: (view) => ({
    heading: view.step === 1 ? 'Choose how to sign in' : 'Verify it’s you',
    body:
      (view.retry ? alert(view.retry) : '') +
      (view.step === 1 ? '' : `<p class="muted">Step ${view.step} of signing in: choose a second check.</p>`) +
      `<div class="stack">${view.options.map((o) => optionButton(o)).join('')}</div>`,
  }),
  credentials: (view) => ({
    heading: 'Sign in with a password',
    body:
      (view.retry ? alert(view.retry) : '') +
      field({
        name: 'username',
        label: 'Username or email',
        type: 'text',
        autocomplete: 'username',
        invalid: !!view.retry,
        autofocus: true,
        attrs: 'autocapitalize="none" spellcheck="false"',
      }) +
      field({
        name: 'password',
        label: 'Password',
        type: 'password',
        autocomplete: 'current-password',
        invalid: !!view.retry,
      }) +
      '<button type="submit">Sign in</button>',
  }),
  'jit-prompt': (view, ctx) => {
    const { name, email } = view.proposed;
    const who = name && email ? `${name} (${email})` : (name ?? email);
    const asks = view.fields.includes('username');
    const intro =
      `You signed in with ${view.connection}${who ? ` as ${who}` : ''}. ` +
      `Create a local account in ${ctx.org} for ${who ? 'yourself' : 'this account'}?`;
    const fields = asks
      ? field({
          name: 'username',
          label: 'Username for the new account',
          type: 'text',
          autocomplete: 'username',
          value: view.proposed.username,
          invalid: !!view.retry,
          autofocus: true,
          attrs: 'autocapitalize="none" spellcheck="false"',
        }) +
        field({
          name: 'password',
          label: 'Password for the new account',
          type: 'password',
          autocomplete: 'new-password',
          help: `at least ${MIN_PASSWORD_LENGTH} characters`,
          attrs: `minlength="${MIN_PASSWORD_LENGTH}"`,
        })
      : '';
    return {
      heading: 'Create your account',
      body:
        (view.retry ? alert(view.retry) : '') +
        `<p>${escapeHtml(intro)}</p>${fields}` +
        '<div class="actions">' +
        '<button type="submit" name="consent" value="yes">Create account</button>' +
        // formnovalidate: declining must not first demand a username and password.
        '<button type="submit" name="consent" value="no" class="secondary" formnovalidate>Cancel</button>' +
        '</div>',
    };
  },
  mfa: (view) => ({
    heading: view.enrol
      ? 'Set up an authenticator app'
      : view.method === 'totp'
        ? 'Enter your authenticator code'
        : 'Check your email',
    body:
      (view.enrol ? enrolment(view.enrol) : '') +
      (view.retry ? alert(view.retry) : '') +
      codeField(view.hint, !!view.retry) +
      '<button type="submit">Verify</button>',
  }),
  passkey: (view, ctx) => {
    const enrol = view.mode === 'enrol';
    const intro = enrol
      ? 'This sign-in needs a passkey, and you have none yet. Create one now: your device will ask for your ' +
        'fingerprint, face, screen lock or security key.'
      : view.step === 1
        ? 'Sign in with the passkey saved on this device, your phone or a security key.'
        : `Step ${view.step} of signing in: confirm it’s you with your passkey.`;
    const others = view.alternatives.length
      ? `<h3>Use another way</h3><div class="stack">${view.alternatives.map((o) => optionButton(o, true)).join('')}</div>`
      : '';
    return {
      heading: enrol ? 'Create a passkey' : view.step === 1 ? 'Sign in with a passkey' : 'Use your passkey',
      form: passkeyFormAttrs(view.mode),
      body:
        (view.retry ? alert(view.retry) : '') +
        `<p>${escapeHtml(intro)}</p>` +
        passkeyBlock({
          mode: view.mode,
          options: view.options,
          assets: ctx.assets,
          label: enrol ? 'Create a passkey' : 'Use a passkey',
          name: ctx.passkeyName,
          invalid: !!view.retry,
        }) +
        others,
    };
  },
};

/** How the well-known providers spell their own names on a sign-in button; other connections go by their name. */
const PROVIDER_NAMES: Record<string, string> = { github: 'GitHub', google: 'Google' };

const LOCAL_LABELS: Record<string, string> = {
  password: 'Sign in with a password',
  'email-otp': 'Email me a code',
  totp: 'Use an authenticator app',
  passkey: 'Use a passkey',
};

/** `fallback`: a button beside the passkey step's own, which must not first demand the form's fields. */
function optionButton(option: string, fallback = false): string {
  const label = isLocalOption(option)
    ? (LOCAL_LABELS[option] ?? option)
    : `Sign in with ${PROVIDER_NAMES[option] ?? option}`;
  const style = isLocalOption(option) && !fallback ? '' : ' class="secondary"';
  return (
    `<button type="submit" name="choose" value="${escapeHtml(option)}"${style}${fallback ? ' formnovalidate' : ''}>` +
    `${escapeHtml(label)}</button>`
  );
}

function jitAnswerOf(
  view: Waiting<'jit-prompt'>,
  form: URLSearchParams,
): { consent: boolean; username?: string; password?: string } {
  const consent = form.get('consent');
  if (consent !== 'yes' && consent !== 'no')
    throw new IdpError(
      'USAGE',
      'the answer to creating an account is missing',
      'choose to create the account or to cancel',
    );
  if (consent === 'no') return { consent: false };
  if (!view.fields.includes('username')) return { consent: true };
  const username = required(form, 'username', 'the username');
  const password = required(form, 'password', 'the password', false);
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new IdpError(
      'USAGE',
      `the new password must have at least ${MIN_PASSWORD_LENGTH} characters`,
      'choose a longer password',
    );
  return { consent: true, username, password };
}
