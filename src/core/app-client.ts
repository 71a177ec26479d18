// The rules of an app as an OpenID client, whichever way a change arrives (commands, policy files): its type is fixed
// at creation, and origins left to their default follow its redirect URIs.
import { IdpError } from './errors.js';
import type { App, AppType, SignInStep } from './types.js';
import { originsOf } from './urls.js';

/**
 * What a new app offers and receives unless told otherwise, from a command or a policy file alike: step 1 is a
 * password or any of the org's connections (as the demo's thrift), and the profile's basic attributes.
 */
export function newAppDefaults(connections: readonly string[]): { steps: SignInStep[]; attributes: string[] } {
  return { steps: [['password', ...connections]], attributes: ['username', 'email', 'email_verified', 'name'] };
}

/**
 * The origins an app gets when none are given: a spa calls the token endpoint from its redirect URIs' pages, so
 * those origins; a web app calls it from its server, so none (a web app may still list origins for browser calls).
 */
export function defaultOrigins(type: AppType, redirectUris: readonly string[]): string[] {
  return type === 'spa' ? originsOf(redirectUris) : [];
}

/**
 * The origins after the redirect URIs change: origins left to their default follow them (a spa moved to another port
 * keeps working); origins set by hand stay as they are.
 */
export function followedOrigins(
  current: Pick<App, 'type' | 'origins' | 'redirectUris'>,
  redirectUris: readonly string[],
): string[] {
  const defaulted =
    JSON.stringify(current.origins) === JSON.stringify(defaultOrigins(current.type, current.redirectUris));
  return defaulted ? defaultOrigins(current.type, redirectUris) : current.origins;
}

/** An app's type is fixed at creation (as on Asgardeo): a public client cannot become a confidential one in place. */
export function checkTypeUnchanged(app: Pick<App, 'name' | 'type'>, type: AppType | undefined): void {
  if (type !== undefined && type !== app.type)
    throw new IdpError(
      'INVALID_VALUE',
      `app ${app.name} is a ${app.type} app, and an app's type cannot change`,
      `create another app of type ${type} (it gets its own client id) and move to it`,
    );
}
