// Use cases on the organisation itself: what it is (issuer, signing keys, SMTP relay) and its one setting so far.
import { jwks } from '../core/jwks.js';
import { validateSmtpRelay } from '../core/urls.js';
import { orgIssuer } from '../flow/session.js';
import type { Store } from '../ports.js';
import type { Admin } from './deps.js';
import { diff, type Change } from './diff.js';

export function showOrg(store: Store) {
  return {
    issuer: orgIssuer(store),
    signingKeys: store.org.publicKeys().map((k) => k.kid),
    smtpRelay: store.org.smtpRelay(),
  };
}

/** The public keys apps verify idp's ID tokens with. */
export function orgJwks(store: Store) {
  return jwks(store.org.publicKeys());
}

export interface OrgSettings {
  /** A local mail catcher's URL; null stops relaying. */
  smtpRelay?: string | null;
}

export function setOrg(
  { store, actor }: Admin,
  settings: OrgSettings,
  opts: { dryRun: boolean },
): { changes: Change[]; before: { smtp_relay: string | null }; after: { smtp_relay: string | null } } {
  const next =
    settings.smtpRelay === undefined || settings.smtpRelay === null
      ? settings.smtpRelay
      : validateSmtpRelay(settings.smtpRelay);
  const before = { smtp_relay: store.org.smtpRelay() };
  const after = { smtp_relay: next === undefined ? before.smtp_relay : next };
  const changes = diff(before, after);
  if (changes.length > 0 && !opts.dryRun) {
    store.tx(() => {
      store.org.setSmtpRelay(after.smtp_relay);
      const detail = `org ${changes.map((c) => `${c.path}: ${c.before ?? 'none'} -> ${c.after ?? 'none'}`).join(', ')}`;
      store.events.recordConfig({ actor, action: 'org.set', target: 'org', detail, before, after });
    });
  }
  return { changes, before, after };
}
