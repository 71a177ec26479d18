// Use cases on applications: list, show, create, set (sign-in steps, redirect URIs, attributes) and delete, each
// with its audit event. The JIT-off-before-MFA conflicts of the result come back as warnings for the driver to show.
import { IdpError } from '../core/errors.js';
import { newClientId } from '../core/ids.js';
import { refuseProtectedClaims } from '../core/protected-claims.js';
import { editSteps, effectiveSteps, mfaConflicts, type MfaConflict } from '../core/signin.js';
import type { App, SignInStep } from '../core/types.js';
import { validateRedirectUri } from '../core/urls.js';
import type { Store } from '../ports.js';
import type { Admin } from './deps.js';
import { diff, type Change } from './diff.js';
import { requireApp } from './lookup.js';
import { checkName } from './names.js';
import { appView } from './views.js';

const DEFAULT_ATTRIBUTES = ['username', 'email', 'email_verified', 'name'];
export const APP_ATTRIBUTE = 'an app attribute';

export interface AppSettings {
  /** `N=OPTIONS` edits in order; an empty list removes step N. */
  steps?: [number, string[]][];
  /** Replaces the list. */
  redirectUris?: string[];
  attributes?: string[];
}

/** Every app with the steps a flow really runs. */
export function listApps(store: Store): App[] {
  const connections = store.connections.names();
  return store.apps.list().map((a) => ({ ...a, steps: effectiveSteps(a, connections) }));
}

export function showApp(store: Store, name: string): App {
  const app = requireApp(store, name);
  return { ...app, steps: effectiveSteps(app, store.connections.names()) };
}

export function createApp({ store, actor }: Admin, name: string, settings: AppSettings): App {
  checkName('app', name);
  refuseProtectedClaims(settings.attributes ?? [], APP_ATTRIBUTE);
  if (store.apps.get(name))
    throw new IdpError('APP_EXISTS', `an app named '${name}' already exists`, [
      `change it with \``,
      { kind: 'set', on: 'app', name },
      '`',
    ]);
  const record = {
    name,
    clientId: newClientId(),
    redirectUris: (settings.redirectUris ?? []).map(validateRedirectUri),
    steps: editSteps([['password']], settings.steps ?? [], store.connections.names()),
    attributes: settings.attributes ?? DEFAULT_ATTRIBUTES,
  };
  store.tx(() => {
    store.apps.insert(record);
    store.events.recordConfig({
      actor,
      action: 'app.create',
      target: `app ${name}`,
      detail: `created app ${name}`,
      before: null,
      after: record,
    });
  });
  return store.apps.get(name)!;
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
export function setApp(
  { store, actor }: Admin,
  name: string,
  settings: AppSettings,
  opts: { dryRun: boolean },
): AppChange {
  const current = requireApp(store, name);
  refuseProtectedClaims(settings.attributes ?? [], APP_ATTRIBUTE);
  const patch = {
    steps: settings.steps ? editSteps(current.steps, settings.steps, store.connections.names()) : current.steps,
    redirectUris: settings.redirectUris ? settings.redirectUris.map(validateRedirectUri) : current.redirectUris,
    attributes: settings.attributes ?? current.attributes,
  };
  const before = appView(current);
  const after = appView({ ...current, ...patch });
  const changes = diff(before, after);
  if (changes.length > 0 && !opts.dryRun) {
    store.tx(() => {
      store.apps.update(name, patch);
      store.events.recordConfig({
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
    conflicts: mfaConflicts([{ ...current, ...patch }], store.connections.list()),
  };
}

/** The app, if it may be deleted: asked before the driver confirms, and again by deleteApp. */
export function deletableApp(store: Store, name: string): App {
  const app = requireApp(store, name);
  if (app.builtIn)
    throw new IdpError('APP_PROTECTED', `${name} is built in and cannot be deleted`, [
      `change its settings with \``,
      { kind: 'set', on: 'app', name },
      '` instead',
    ]);
  return app;
}

export function deleteApp({ store, actor }: Admin, name: string): void {
  const current = deletableApp(store, name);
  store.tx(() => {
    store.apps.delete(name);
    store.events.recordConfig({
      actor,
      action: 'app.delete',
      target: `app ${name}`,
      detail: `deleted app ${name}`,
      before: appView(current),
      after: null,
    });
  });
}
