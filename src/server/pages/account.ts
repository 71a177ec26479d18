// My Account on the web: the signed-in local user's profile, linked connections, MFA factors (each removable) and
// passkeys (each renamable and removable), TOTP enrolment with its confirming code, passkey enrolment, and reading what
// a form asked for.
// It shows what `idp account` prints (src/cli/commands/account.ts).
import { PASSKEY_NAME_MAX } from '../../core/passkeys.js';
import type { accountView } from '../../app/account.js';
import { IdpError } from '../../core/errors.js';
import { escapeHtml, page } from './layout.js';
import { alert, codeField, codeOf, enrolment, postForm, required } from './parts.js';
import { PASSKEY_NAME_FIELD, passkeyBlock, passkeyFormAttrs, passkeyNameOf, passkeyResponseOf } from './passkey.js';

/** A passkey as the list shows it. */
export interface PasskeyItem {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** Made by `idp`'s software authenticator (a testing aid), not a device. */
  software: boolean;
}

export type AccountPageView = Awaited<ReturnType<typeof accountView>> & { passkeys: PasskeyItem[] };

export interface AccountPageContext {
  csrf: string;
  /** Where the page's forms post to (and, fetched, the account page itself). */
  action: string;
  org: string;
  /** What the last action did ("Authenticator app removed."): plain text. */
  notice?: string;
}

/** What a My Account form asks for, read by accountActionOf. */
export type AccountAction =
  | { op: 'enrol-totp' }
  | { op: 'confirm-totp'; code: string }
  | { op: 'remove-factor'; factor: string }
  | { op: 'enrol-passkey' }
  | { op: 'finish-passkey'; pending: string; response: Record<string, unknown>; name?: string }
  | { op: 'rename-passkey'; passkey: string; name: string }
  | { op: 'sign-out' };

/** The posted form's action; an unknown or incomplete one is refused (USAGE) with a hint. */
export function accountActionOf(form: URLSearchParams): AccountAction {
  const op = required(form, 'op', 'the action');
  switch (op) {
    case 'enrol-totp':
    case 'enrol-passkey':
    case 'sign-out':
      return { op };
    case 'finish-passkey': {
      const name = passkeyNameOf(form);
      return {
        op,
        pending: required(form, 'pending', 'the enrolment'),
        response: passkeyResponseOf(form),
        ...(name && { name }),
      };
    }
    case 'rename-passkey':
      return {
        op,
        passkey: required(form, 'passkey', 'the passkey'),
        name: required(form, PASSKEY_NAME_FIELD, 'the new name'),
      };
    case 'confirm-totp':
      return { op, code: codeOf(form) };
    case 'remove-factor':
      return { op, factor: required(form, 'factor', 'the factor') };
    default:
      throw new IdpError('USAGE', `unknown My Account action '${op}'`, 'use the buttons on the My Account page');
  }
}

export function accountPage(view: AccountPageView, ctx: AccountPageContext): string {
  const notice = ctx.notice ? `<div class="notice" role="status">${escapeHtml(ctx.notice)}</div>` : '';
  return page({
    title: `My Account · ${ctx.org}`,
    subtitle: ctx.org,
    heading: 'My Account',
    body:
      notice +
      profile(view) +
      linked(view) +
      factors(view, ctx) +
      passkeys(view, ctx) +
      `<p class="actions">${postForm(ctx.action, ctx.csrf, button('sign-out', 'Sign out', 'link'))}</p>`,
  });
}

export function totpEnrolPage(
  enrol: { secret: string; uri: string },
  ctx: { csrf: string; action: string; org: string; retry?: string },
): string {
  return page({
    title: `Set up an authenticator app · ${ctx.org}`,
    subtitle: ctx.org,
    heading: 'Set up an authenticator app',
    body:
      '<p>Scan the QR code with an authenticator app, then type the 6-digit code it shows to confirm.</p>' +
      enrolment(enrol) +
      postForm(
        ctx.action,
        ctx.csrf,
        (ctx.retry ? alert({ message: ctx.retry, hint: null }) : '') +
          codeField('the 6-digit code from your authenticator app', !!ctx.retry) +
          button('confirm-totp', 'Confirm'),
      ) +
      `<p class="actions"><a href="${escapeHtml(ctx.action)}">Cancel</a></p>`,
  });
}

/** My Account's passkey enrolment: the name, the button that asks the authenticator, and where the answer goes. */
export function passkeyEnrolPage(
  enrol: { pending: string; options: unknown },
  ctx: { csrf: string; action: string; org: string; assets: string; name?: string; retry?: string },
): string {
  return page({
    title: `Add a passkey · ${ctx.org}`,
    subtitle: ctx.org,
    heading: 'Add a passkey',
    body:
      '<p>A passkey signs you in with your fingerprint, face, screen lock or a security key instead of a code. ' +
      'Name it, then create it: your browser will ask.</p>' +
      postForm(
        ctx.action,
        ctx.csrf,
        (ctx.retry ? alert({ message: ctx.retry, hint: null }) : '') +
          `<input type="hidden" name="op" value="finish-passkey">` +
          `<input type="hidden" name="pending" value="${escapeHtml(enrol.pending)}">` +
          passkeyBlock({
            mode: 'enrol',
            options: enrol.options,
            assets: ctx.assets,
            label: 'Create a passkey',
            name: ctx.name,
            invalid: !!ctx.retry,
          }),
        { attrs: passkeyFormAttrs('enrol') },
      ) +
      `<p class="actions"><a href="${escapeHtml(ctx.action)}">Cancel</a></p>`,
  });
}

function profile(view: AccountPageView): string {
  const { user } = view;
  const email = user.email ? `${user.email} (${user.email_verified ? 'verified' : 'not verified'})` : null;
  const attributes = Object.entries(user.attributes).map(([k, v]) => `${k}=${String(v)}`);
  const rows: [string, string | null][] = [
    ['Username', user.username],
    ['Email', email],
    ['Name', user.name],
    ['Given name', user.given_name],
    ['Family name', user.family_name],
    ['Attributes', attributes.join(', ') || null],
    ['Password', view.password ? 'set' : 'none'],
  ];
  return (
    '<h2>Profile</h2><dl>' +
    rows.map(([term, value]) => `<dt>${term}</dt><dd>${escapeHtml(value ?? '–')}</dd>`).join('') +
    '</dl>'
  );
}

function linked(view: AccountPageView): string {
  const items = view.linked.map(
    (l) =>
      `<li><span>${escapeHtml(l.connection)}<span class="meta">linked ${day(l.linked_at)}` +
      `${l.last_login_at ? `, last sign-in ${day(l.last_login_at)}` : ''}</span></span></li>`,
  );
  return `<h2>Linked connections</h2>${items.length ? `<ul class="items">${items.join('')}</ul>` : '<p>None.</p>'}`;
}

function factors(view: AccountPageView, ctx: AccountPageContext): string {
  const items = view.mfa.map((f) => {
    const what = f.type === 'totp' ? 'Authenticator app (TOTP)' : f.type;
    const remove = postForm(
      ctx.action,
      ctx.csrf,
      `<input type="hidden" name="factor" value="${escapeHtml(f.id)}">` +
        `<button type="submit" name="op" value="remove-factor" class="danger" ` +
        `aria-label="Remove ${escapeHtml(what)}, added ${day(f.created_at)}">Remove</button>`,
    );
    return `<li><span>${escapeHtml(what)}<span class="meta">added ${day(f.created_at)}</span></span>${remove}</li>`;
  });
  // One TOTP factor per user (the enrol use case refuses a second).
  const enrol = view.mfa.some((f) => f.type === 'totp')
    ? ''
    : `<div class="actions">${postForm(ctx.action, ctx.csrf, button('enrol-totp', 'Enrol an authenticator app', 'secondary'))}</div>`;
  return (
    '<h2>Multi-factor authentication</h2>' +
    (items.length ? `<ul class="items">${items.join('')}</ul>` : '<p>No factors yet.</p>') +
    enrol
  );
}

function passkeys(view: AccountPageView, ctx: AccountPageContext): string {
  const items = view.passkeys.map((p, i) => {
    const used = p.lastUsedAt ? `last used ${day(p.lastUsedAt)}` : 'never used';
    const kind = p.software ? ', software authenticator (a testing aid)' : '';
    const id = `passkey-name-${i}`;
    const rename = postForm(
      ctx.action,
      ctx.csrf,
      `<input type="hidden" name="passkey" value="${escapeHtml(p.id)}">` +
        `<label for="${id}">New name for ${escapeHtml(p.name)}</label>` +
        `<input id="${id}" name="${PASSKEY_NAME_FIELD}" type="text" autocomplete="off" required ` +
        `maxlength="${PASSKEY_NAME_MAX}" value="${escapeHtml(p.name)}">` +
        `<button type="submit" name="op" value="rename-passkey" class="secondary">Save name</button>`,
    );
    const remove = postForm(
      ctx.action,
      ctx.csrf,
      `<input type="hidden" name="factor" value="${escapeHtml(`passkey:${p.id}`)}">` +
        `<button type="submit" name="op" value="remove-factor" class="danger" ` +
        `aria-label="Remove passkey ${escapeHtml(p.name)}">Remove</button>`,
    );
    return (
      `<li><span>${escapeHtml(p.name)}<span class="meta">added ${day(p.createdAt)}, ${used}${kind}</span>` +
      `<details><summary>Rename</summary>${rename}</details></span>${remove}</li>`
    );
  });
  return (
    '<h2>Passkeys</h2>' +
    (items.length ? `<ul class="items">${items.join('')}</ul>` : '<p>No passkeys yet.</p>') +
    `<div class="actions">${postForm(ctx.action, ctx.csrf, button('enrol-passkey', 'Add a passkey', 'secondary'))}</div>`
  );
}

function button(op: AccountAction['op'], label: string, style?: string): string {
  const cls = style ? ` class="${style}"` : '';
  return `<button type="submit" name="op" value="${op}"${cls}>${escapeHtml(label)}</button>`;
}

/** An ISO timestamp's date, which is what a person reading the list needs. */
function day(iso: string): string {
  return escapeHtml(iso.slice(0, 10));
}
