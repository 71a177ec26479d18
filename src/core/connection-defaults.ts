// Defaults per connection type: scopes to request, JIT settings, and how upstream claims map to local attributes.
import type { ConnectionType, JitSettings } from './types.js';

const SCOPES: Record<ConnectionType, string[]> = {
  github: ['read:user', 'user:email'],
  google: ['openid', 'email', 'profile'],
  oidc: ['openid', 'email', 'profile'],
};

/** Upstream (normalised, OIDC-named) claim -> local user attribute. `--map` overrides entries. */
const ATTRIBUTE_MAP: Record<ConnectionType, Record<string, string>> = {
  github: {
    preferred_username: 'username',
    email: 'email',
    email_verified: 'email_verified',
    name: 'name',
    picture: 'picture',
  },
  google: {
    email: 'email',
    email_verified: 'email_verified',
    name: 'name',
    given_name: 'given_name',
    family_name: 'family_name',
    picture: 'picture',
  },
  oidc: {
    preferred_username: 'username',
    email: 'email',
    email_verified: 'email_verified',
    name: 'name',
    given_name: 'given_name',
    family_name: 'family_name',
    picture: 'picture',
  },
};

export function defaultScopes(type: ConnectionType): string[] {
  return [...SCOPES[type]];
}

export function defaultAttributeMap(type: ConnectionType): Record<string, string> {
  return { ...ATTRIBUTE_MAP[type] };
}

export function defaultJit(): JitSettings {
  return { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' };
}
