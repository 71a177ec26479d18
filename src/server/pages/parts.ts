// The pieces the flow and My Account pages are built from: a POST form carrying the CSRF token, a labelled field
// tied to its error, an alert, the TOTP enrolment block; and reading a posted field, refused as bad input when absent.
import { IdpError } from '../../core/errors.js';
import type { FlowError } from '../../flow/types.js';
import { escapeHtml } from './layout.js';
import { qrSvg } from './qr.js';

/** The field name every form carries its CSRF token in. */
export const CSRF_FIELD = 'csrf';

/** The id of a form's alert, which the fields it is about name in aria-describedby. */
export const ALERT_ID = 'form-error';

/** `attrs`: further attributes of the form, already safe (the passkey form's id). */
export function postForm(
  action: string,
  csrf: string,
  inner: string,
  opts: { label?: string; attrs?: string } = {},
): string {
  const name = opts.label ? ` aria-label="${escapeHtml(opts.label)}"` : '';
  const attrs = opts.attrs ? ` ${opts.attrs}` : '';
  return (
    `<form method="post" action="${escapeHtml(action)}"${name}${attrs}>` +
    `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(csrf)}">${inner}</form>`
  );
}

/** A message as a sentence: the engine's one-line messages start in lower case and end without a full stop. */
export function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** A refusal the person can fix on this page, announced by screen readers; fields it is about name ALERT_ID. */
export function alert(error: Pick<FlowError, 'message' | 'hint'>): string {
  const fix = typeof error.hint === 'string' ? ` ${escapeHtml(sentence(error.hint))}` : '';
  return `<div class="alert" role="alert" id="${ALERT_ID}">${escapeHtml(sentence(error.message))}${fix}</div>`;
}

export interface FieldSpec {
  name: string;
  label: string;
  type: 'text' | 'password' | 'email';
  autocomplete: string;
  value?: string;
  /** A line under the label that says what to type: becomes part of the field's description. */
  help?: string;
  /** The field is what the page's alert is about. */
  invalid?: boolean;
  /** Further attributes, already safe (inputmode, pattern, minlength...). */
  attrs?: string;
  autofocus?: boolean;
  /** The form may be sent with the field blank. */
  optional?: boolean;
}

export function field(spec: FieldSpec): string {
  const id = `f-${spec.name}`;
  const described = [spec.help ? `${id}-help` : '', spec.invalid ? ALERT_ID : ''].filter(Boolean).join(' ');
  const help = spec.help ? `<p class="help" id="${id}-help">${escapeHtml(sentence(spec.help))}</p>` : '';
  return (
    `<div class="field"><label for="${id}">${escapeHtml(spec.label)}</label>${help}` +
    `<input id="${id}" name="${spec.name}" type="${spec.type}" autocomplete="${spec.autocomplete}"` +
    (spec.optional ? '' : ' required') +
    (spec.value === undefined ? '' : ` value="${escapeHtml(spec.value)}"`) +
    (described ? ` aria-describedby="${described}"` : '') +
    (spec.invalid ? ' aria-invalid="true"' : '') +
    (spec.autofocus ? ' autofocus' : '') +
    (spec.attrs ? ` ${spec.attrs}` : '') +
    '></div>'
  );
}

/** The six-digit code field of MFA and TOTP enrolment. */
export function codeField(help: string, invalid: boolean): string {
  return field({
    name: 'code',
    label: 'Code',
    type: 'text',
    autocomplete: 'one-time-code',
    help,
    invalid,
    autofocus: true,
    attrs: 'class="code" inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7"',
  });
}

/** The posted six-digit code (spaces allowed, as authenticator apps show "123 456"). */
export function codeOf(form: URLSearchParams): string {
  const code = required(form, 'code', 'the code').replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) throw new IdpError('USAGE', 'the code must be six digits', 'type the 6-digit code');
  return code;
}

/** What an authenticator app needs: the QR code, the secret to type instead, and the otpauth link for this device. */
export function enrolment(enrol: { secret: string; uri: string }): string {
  const link = enrol.uri.startsWith('otpauth://')
    ? `<p class="muted">On this device: <a href="${escapeHtml(enrol.uri)}">open in an authenticator app</a></p>`
    : '';
  return (
    qrSvg(enrol.uri, 'QR code for your authenticator app') +
    `<p class="muted">Can't scan it? Enter this secret instead:</p>` +
    `<code class="secret" id="totp-secret">${escapeHtml(enrol.secret)}</code>${link}`
  );
}

/** A posted field's value, trimmed unless it is a password; refused as bad input when absent or blank. */
export function required(form: URLSearchParams, name: string, what: string, trim = true): string {
  const raw = form.get(name);
  const value = raw === null ? '' : trim ? raw.trim() : raw;
  if (value === '') throw new IdpError('USAGE', `${what} is missing`, `fill in ${what} and send the form again`);
  return value;
}
