// The sign-in pages of the web driver, one per view the flow engine waits on (choose, credentials, jit-prompt, mfa),
// and the reading of each page's posted form back into the FlowInput the engine takes. The same questions the
// terminal driver asks (src/cli/drivers/terminal.ts), as forms that work without JavaScript.
import { IdpError } from '../../core/errors.js';
import { isLocalOption } from '../../core/signin.js';
import { MIN_PASSWORD_LENGTH } from '../../core/user-fields.js';
import type { FlowInput, FlowView } from '../../flow/types.js';
import { escapeHtml, page } from './layout.js';
import { alert, codeField, codeOf, enrolment, field, postForm, required } from './parts.js';

export { CSRF_FIELD } from './parts.js';

export interface FlowPageContext {
  /** Where the page's form posts to. */
  action: string;
  csrf: string;
  app: string;
  org: string;
}

type Waiting<K extends string> = Extract<FlowView, { waiting: K }>;
type PageView = Waiting<'choose' | 'credentials' | 'jit-prompt' | 'mfa'>;

/**
 * The hidden field naming the view a form was rendered for: a form posted from a page the flow has moved past (the
 * browser's back button) is refused instead of being read as an answer to the current question.
 */
const VIEW_FIELD = 'view';

/** HTML for a waiting view. 'redirect' is not a page (the server redirects), nor are 'done' and 'failed'. */
export function flowPage(view: FlowView, ctx: FlowPageContext): string {
  const current = pageView(view);
  const { heading, body } = RENDER[current.waiting](current as never, ctx);
  const stamp = `<input type="hidden" name="${VIEW_FIELD}" value="${viewStamp(current)}">`;
  return page({
    title: `${heading} · ${ctx.app}`,
    subtitle: ctx.org,
    heading: `Sign in to ${ctx.app}`,
    body: `<h2>${escapeHtml(heading)}</h2>${postForm(ctx.action, ctx.csrf, stamp + body)}`,
  });
}

/**
 * The posted form as the FlowInput the view waits for; a missing or malformed field is refused (USAGE) with a hint.
 * For 'choose', the server adds redirectUri itself afterwards.
 */
export function answerOf(view: FlowView, form: URLSearchParams): FlowInput {
  const current = pageView(view);
  const stamp = form.get(VIEW_FIELD);
  if (stamp !== null && stamp !== viewStamp(current))
    throw new IdpError(
      'USAGE',
      'this form is from an earlier page of the sign-in',
      'use the page the sign-in is on now (reload it) and answer there',
    );
  switch (current.waiting) {
    case 'choose': {
      const option = required(form, 'choose', 'the sign-in option');
      if (!current.options.includes(option))
        throw new IdpError(
          'USAGE',
          `'${option}' is not offered in this step`,
          `choose one of: ${current.options.join(', ')}`,
        );
      return { choose: option };
    }
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
  }
}

function pageView(view: FlowView): PageView {
  if (view.status === 'active' && view.waiting !== 'redirect' && view.waiting !== 'passkey') return view;
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
}

const RENDER: { [K in PageView['waiting']]: (view: Waiting<K>, ctx: FlowPageContext) => Rendered } = {
  choose: (view) => ({
    heading: view.step === 1 ? 'Choose how to sign in' : 'Verify it’s you',
    body:
      (view.step === 1 ? '' : `<p class="muted">Step ${view.step} of signing in: choose a second check.</p>`) +
      `<div class="stack">${view.options.map(optionButton).join('')}</div>`,
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
};

/** How the well-known providers spell their own names on a sign-in button; other connections go by their name. */
const PROVIDER_NAMES: Record<string, string> = { github: 'GitHub', google: 'Google' };

const LOCAL_LABELS: Record<string, string> = {
  password: 'Sign in with a password',
  'email-otp': 'Email me a code',
  totp: 'Use an authenticator app',
};

function optionButton(option: string): string {
  const label = isLocalOption(option)
    ? (LOCAL_LABELS[option] ?? option)
    : `Sign in with ${PROVIDER_NAMES[option] ?? option}`;
  const style = isLocalOption(option) ? '' : ' class="secondary"';
  return `<button type="submit" name="choose" value="${escapeHtml(option)}"${style}>${escapeHtml(label)}</button>`;
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
