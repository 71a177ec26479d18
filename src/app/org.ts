// Use cases on the organisation itself: what it is (name, URLs, issuer, signing keys, SMTP relay) and its settings.
import { IdpError } from '../core/errors.js';
import { jwks } from '../core/jwks.js';
import { ORG_NAME_RULE, validOrgName } from '../core/names.js';
import { validateSmtpRelay } from '../core/urls.js';
import { orgIssuer } from '../flow/session.js';
import type { Store } from '../ports.js';
import type { Admin } from './deps.js';
import { diff, type Change } from './diff.js';

/** Where apps find the org: the SDKs' base URL (Asgardeo's /t/<org>), the issuer and its discovery document. */
export async function orgUrls(store: Store): Promise<{ base: string; issuer: string; discovery: string }> {
  const issuer = await orgIssuer(store);
  return {
    base: `${await store.org.baseUrl()}/t/${await store.org.name()}`,
    issuer,
    discovery: `${issuer}/.well-known/openid-configuration`,
  };
}

export async function showOrg(store: Store) {
  return {
    name: await store.org.name(),
    baseUrl: await store.org.baseUrl(),
    ...(await orgUrls(store)),
    signingKeys: (await store.org.publicKeys()).map((k) => ({ kid: k.kid, alg: k.alg })),
    smtpRelay: await store.org.smtpRelay(),
  };
}

/** The public keys apps verify idp's ID tokens with. */
export async function orgJwks(store: Store) {
  return jwks(await store.org.publicKeys());
}

/** The org's name is a segment of its URLs (/t/<name>/...) and of its issuer. */
export function checkOrgName(name: string): string {
  if (!validOrgName(name))
    throw new IdpError(
      'INVALID_VALUE',
      `'${name}' is not a valid organisation name`,
      `use ${ORG_NAME_RULE}, e.g. thrift`,
    );
  return name;
}

export interface OrgSettings {
  /** The URL-safe name; apps configured with the old base URL or issuer must be told the new one. */
  name?: string;
  /** A local mail catcher's URL; null stops relaying. */
  smtpRelay?: string | null;
}

interface OrgView {
  name: string;
  smtp_relay: string | null;
}

export async function setOrg(
  { store, actor }: Admin,
  settings: OrgSettings,
  opts: { dryRun: boolean },
): Promise<{ changes: Change[]; before: OrgView; after: OrgView }> {
  const smtpRelay =
    settings.smtpRelay === undefined || settings.smtpRelay === null
      ? settings.smtpRelay
      : validateSmtpRelay(settings.smtpRelay);
  const before = { name: await store.org.name(), smtp_relay: await store.org.smtpRelay() };
  const after = {
    name: settings.name === undefined ? before.name : checkOrgName(settings.name),
    smtp_relay: smtpRelay === undefined ? before.smtp_relay : smtpRelay,
  };
  const changes = diff(before, after);
  if (changes.length > 0 && !opts.dryRun) {
    await store.tx(async (tx) => {
      await tx.org.setName(after.name);
      await tx.org.setSmtpRelay(after.smtp_relay);
      const detail = `org ${changes.map((c) => `${c.path}: ${c.before ?? 'none'} -> ${c.after ?? 'none'}`).join(', ')}`;
      await tx.events.recordConfig({ actor, action: 'org.set', target: 'org', detail, before, after });
    });
  }
  return { changes, before, after };
}
