// The passkey part of a page (the sign-in's passkey step, My Account's enrolment): the options for the browser, the
// button that asks the authenticator, where its answer is posted, the two scripts that do it (served by this server,
// src/net/passkey-assets.ts), what a browser without JavaScript is told, and reading the posted answer.
import { PASSKEY_NAME_MAX } from '../../core/passkeys.js';
import { IdpError } from '../../core/errors.js';
import { PASSKEY_ASSETS, PASSKEY_PAGE } from '../../net/passkey-assets.js';
import { escapeHtml } from './layout.js';
import { field } from './parts.js';

export interface PasskeyBlock {
  mode: 'authenticate' | 'enrol';
  /** Options JSON for @simplewebauthn/browser. */
  options: unknown;
  /** The path the scripts are served below (`/t/<org>/assets`). */
  assets: string;
  /** The button's text. */
  label: string;
  /** 'enrol': the name field's value until the person changes it (blank: the use case numbers it). */
  name?: string;
  /** The page's alert is about this answer. */
  invalid?: boolean;
}

/** The field a new passkey's name is posted in. */
export const PASSKEY_NAME_FIELD = 'name';
/** What the field lets a person type; the use case's rule (core/passkeys.ts) decides. */

/** The form's attributes the script finds it by: put them on the form that holds passkeyBlock's HTML. */
export function passkeyFormAttrs(mode: PasskeyBlock['mode']): string {
  return `id="${PASSKEY_PAGE.form}" data-mode="${mode}"`;
}

/**
 * The inside of the passkey form. The options travel as JSON in an inert <script> element, with `<` escaped so no
 * name in them (a user's display name) can end it.
 */
export function passkeyBlock(block: PasskeyBlock): string {
  const options = JSON.stringify(block.options).replace(/</g, '\\u003c');
  const name =
    block.mode === 'enrol'
      ? field({
          name: PASSKEY_NAME_FIELD,
          label: 'Name for this passkey',
          type: 'text',
          autocomplete: 'off',
          value: block.name ?? '',
          help: 'to tell your passkeys apart, such as the device it is on; left blank, it is numbered',
          optional: true,
          invalid: !!block.invalid,
          attrs: `maxlength="${PASSKEY_NAME_MAX}"`,
        })
      : '';
  return (
    '<noscript><div class="alert">Passkeys need JavaScript: turn it on for this page, or use another way.</div></noscript>' +
    name +
    `<input type="hidden" name="${PASSKEY_PAGE.response}" value="">` +
    `<script type="application/json" id="${PASSKEY_PAGE.options}">${options}</script>` +
    `<button type="button" id="${PASSKEY_PAGE.start}" disabled>${escapeHtml(block.label)}</button>` +
    `<p class="muted" id="${PASSKEY_PAGE.status}" role="status" aria-live="polite"></p>` +
    `<script src="${escapeHtml(`${block.assets}/${PASSKEY_ASSETS.library}`)}"></script>` +
    `<script src="${escapeHtml(`${block.assets}/${PASSKEY_ASSETS.script}`)}"></script>`
  );
}

/** The posted answer: the authenticator's response as the script put it, JSON; refused as bad input otherwise. */
export function passkeyResponseOf(form: URLSearchParams): Record<string, unknown> {
  const raw = form.get(PASSKEY_PAGE.response) ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new IdpError(
      'USAGE',
      raw === '' ? 'the passkey answer is missing' : 'the passkey answer is not JSON',
      'use the passkey button on the page (it needs JavaScript), or use another way',
    );
  return parsed as Record<string, unknown>;
}

/** The posted name of a new passkey, trimmed; undefined when blank (the use case names it). Its rules are the use case's. */
export function passkeyNameOf(form: URLSearchParams): string | undefined {
  return (form.get(PASSKEY_NAME_FIELD) ?? '').trim() || undefined;
}
