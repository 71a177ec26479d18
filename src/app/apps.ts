// Use cases on applications: list, show (with the SDK configuration an app needs), create, set (client type, origins,
// ID token algorithm, sign-in steps, redirect URIs, attributes), rotate a web app's secret, and delete, each with its
// audit event. The JIT-off-before-MFA conflicts of the result come back as warnings for the driver to show.
import { checkTypeUnchanged, defaultOrigins, followedOrigins, newAppDefaults } from '../core/app-client.js';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { newAppSecret, newClientId } from '../core/ids.js';
import { refuseProtectedClaims } from '../core/protected-claims.js';
import { editSteps, effectiveSteps, mfaConflicts, type MfaConflict } from '../core/signin.js';
import type { App, AppType, IdTokenAlg, SignInStep } from '../core/types.js';
import { validateOrigin, validateRedirectUri } from '../core/urls.js';
import type { Store } from '../ports.js';
import type { Admin } from './deps.js';
import { diff, type Change } from './diff.js';
import { requireApp } from './lookup.js';
import { checkName } from './names.js';
import { orgUrls } from './org.js';
import { appView } from './views.js';

export const APP_ATTRIBUTE = 'an app attribute';

export interface AppSettings {
  /** Only at creation (default spa); a set naming another type is refused. */
  type?: AppType;
  /** Replaces the list. Absent at creation: a spa's redirect URIs' origins, none for a web app. */
  origins?: string[];
  idTokenAlg?: IdTokenAlg;
  /** `N=OPTIONS` edits in order; an empty list removes step N. */
  steps?: [number, string[]][];
  /** Replaces the list. */
  redirectUris?: string[];
  attributes?: string[];
}

/** Every app with the steps a flow really runs. */
export async function listApps(store: Store): Promise<App[]> {
  const connections = await store.connections.names();
  return (await store.apps.list()).map((a) => ({ ...a, steps: effectiveSteps(a, connections) }));
}

export async function showApp(store: Store, name: string): Promise<App> {
  const app = await requireApp(store, name);
  return { ...app, steps: effectiveSteps(app, await store.connections.names()) };
}

export interface CreatedApp {
  app: App;
  /** A web app's new secret: shown this once, stored sealed. */
  clientSecret: string | null;
}

export async function createApp({ store, actor }: Admin, name: string, settings: AppSettings): Promise<CreatedApp> {
  checkName('app', name);
  refuseProtectedClaims(settings.attributes ?? [], APP_ATTRIBUTE);
  if (await store.apps.get(name))
    throw new IdpError('APP_EXISTS', `an app named '${name}' already exists`, [
      `change it with \``,
      { kind: 'set', on: 'app', name },
      '`',
    ]);
  const type = settings.type ?? 'spa';
  const connections = await store.connections.names();
  const defaults = newAppDefaults(connections);
  const redirectUris = (settings.redirectUris ?? []).map(validateRedirectUri);
  const record = {
    name,
    clientId: newClientId(),
    type,
    origins: settings.origins?.map(validateOrigin) ?? defaultOrigins(type, redirectUris),
    idTokenAlg: settings.idTokenAlg ?? 'RS256',
    redirectUris,
    steps: editSteps(defaults.steps, settings.steps ?? [], connections),
    attributes: settings.attributes ?? defaults.attributes,
  };
  const clientSecret = type === 'web' ? newAppSecret() : null;
  await store.tx(async (tx) => {
    await tx.apps.insert({ ...record, ...(clientSecret !== null && { clientSecret }) });
    await tx.events.recordConfig({
      actor,
      action: 'app.create',
      target: `app ${name}`,
      detail: `created ${type} app ${name}`,
      before: null,
      after: { ...record, has_secret: clientSecret !== null },
    });
  });
  return { app: (await store.apps.get(name))!, clientSecret };
}

/** A web app's new secret, shown this once; the old one stops working. A spa is a public client: it has none. */
export async function rotateAppSecret({ store, actor }: Admin, name: string): Promise<string> {
  const app = await requireApp(store, name);
  if (app.type !== 'web')
    throw new IdpError(
      'INVALID_VALUE',
      `app ${name} is a spa, a public client: it has no secret to rotate`,
      hint`a browser app proves itself with PKCE instead; for a server-side app, create an app of type web (${{ kind: 'show', what: 'app', name }} shows this one)`,
    );
  const secret = newAppSecret();
  await store.tx(async (tx) => {
    await tx.apps.setClientSecret(name, secret);
    await tx.events.recordConfig({
      actor,
      action: 'app.secret.rotate',
      target: `app ${name}`,
      detail: `rotated the client secret of app ${name}: the old one no longer works`,
      before: { has_secret: app.hasSecret },
      after: { has_secret: true },
    });
  });
  return secret;
}

/** What an app's code needs to sign in through `idp serve`: an SDK's configuration, never a secret. */
export type SdkConfig =
  | {
      package: '@asgardeo/auth-spa';
      config: {
        signInRedirectURL: string | null;
        signOutRedirectURL: string | null;
        clientID: string;
        baseUrl: string;
        scope: string[];
      };
    }
  | { package: 'openid-client'; config: { discovery: string; client_id: string; redirect_uri: string | null } };

export async function sdkConfig(store: Store, app: App): Promise<SdkConfig> {
  const urls = await orgUrls(store);
  const redirect = app.redirectUris[0] ?? null;
  if (app.type === 'spa')
    return {
      package: '@asgardeo/auth-spa',
      config: {
        signInRedirectURL: redirect,
        signOutRedirectURL: redirect,
        clientID: app.clientId,
        baseUrl: urls.base,
        scope: ['openid', 'profile', 'email'],
      },
    };
  return {
    package: 'openid-client',
    config: { discovery: urls.discovery, client_id: app.clientId, redirect_uri: redirect },
  };
}

export interface AppChange {
  changes: Change[];
  before: ReturnType<typeof appView>;
  after: ReturnType<typeof appView>;
  steps: SignInStep[];
  /** Connections with JIT off offered before an MFA step of this app: their logins will fail. */
  conflicts: MfaConflict[];
}

/** Changes only the given settings; with dryRun, reports what would change and writes nothing. */
export async function setApp(
  { store, actor }: Admin,
  name: string,
  settings: AppSettings,
  opts: { dryRun: boolean },
): Promise<AppChange> {
  const current = await requireApp(store, name);
  checkTypeUnchanged(current, settings.type);
  refuseProtectedClaims(settings.attributes ?? [], APP_ATTRIBUTE);
  const redirectUris = settings.redirectUris ? settings.redirectUris.map(validateRedirectUri) : current.redirectUris;
  const patch = {
    origins: settings.origins?.map(validateOrigin) ?? followedOrigins(current, redirectUris),
    idTokenAlg: settings.idTokenAlg ?? current.idTokenAlg,
    steps: settings.steps ? editSteps(current.steps, settings.steps, await store.connections.names()) : current.steps,
    redirectUris,
    attributes: settings.attributes ?? current.attributes,
  };
  const before = appView(current);
  const after = appView({ ...current, ...patch });
  const changes = diff(before, after);
  if (changes.length > 0 && !opts.dryRun) {
    await store.tx(async (tx) => {
      await tx.apps.update(name, patch);
      await tx.events.recordConfig({
        actor,
        action: 'app.set',
        target: `app ${name}`,
        detail: changes.map((c) => c.path).join(', '),
        before,
        after,
      });
    });
  }
  return {
    changes,
    before,
    after,
    steps: patch.steps,
    conflicts: mfaConflicts([{ ...current, ...patch }], await store.connections.list()),
  };
}

/** The app, if it may be deleted: asked before the driver confirms, and again by deleteApp. */
export async function deletableApp(store: Store, name: string): Promise<App> {
  const app = await requireApp(store, name);
  if (app.builtIn)
    throw new IdpError('APP_PROTECTED', `${name} is built in and cannot be deleted`, [
      `change its settings with \``,
      { kind: 'set', on: 'app', name },
      '` instead',
    ]);
  return app;
}

export async function deleteApp({ store, actor }: Admin, name: string): Promise<void> {
  const current = await deletableApp(store, name);
  await store.tx(async (tx) => {
    await tx.apps.delete(name);
    await tx.events.recordConfig({
      actor,
      action: 'app.delete',
      target: `app ${name}`,
      detail: `deleted app ${name}`,
      before: appView(current),
      after: null,
    });
  });
}
