// Claim mapping (defaults per connection type, --map overrides), attribute sync on returning logins
// (override-all, preserve-local, none) and the username a provisioned user gets (collisions get -2, -3, ...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mapClaims,
  provisionUsername,
  refuseVerificationMap,
  syncPatch,
  type MappedProfile,
} from '../../src/core/claims.js';
import type { User } from '../../src/core/types.js';

const GITHUB_CLAIMS = {
  preferred_username: 'octocat',
  github_login: 'octocat',
  email: 'octocat@example.com',
  email_verified: true,
  name: 'The Octocat',
  given_name: 'Octo',
  picture: 'https://avatars.example/octocat.png',
};

const GOOGLE_CLAIMS = {
  preferred_username: 'bobby',
  email: 'bob@example.com',
  email_verified: true,
  name: 'Bob Builder',
  given_name: 'Bob',
  family_name: 'Builder',
  picture: 'https://avatars.example/bob.png',
};

test('github defaults: login -> username, email, email_verified, name, picture; nothing else', () => {
  assert.deepEqual(mapClaims(GITHUB_CLAIMS, 'github', {}), {
    username: 'octocat',
    email: 'octocat@example.com',
    emailVerified: true,
    name: 'The Octocat',
    givenName: null,
    familyName: null,
    picture: 'https://avatars.example/octocat.png',
    attributes: {},
  });
});

test('google defaults: given and family names map, and no username comes from Google', () => {
  const mapped = mapClaims(GOOGLE_CLAIMS, 'google', {});
  assert.equal(mapped.username, null);
  assert.equal(mapped.givenName, 'Bob');
  assert.equal(mapped.familyName, 'Builder');
  assert.equal(mapped.email, 'bob@example.com');
  assert.equal(mapped.emailVerified, true);
  assert.deepEqual(mapped.attributes, {});
});

test('oidc defaults: preferred_username and the name parts all map', () => {
  const mapped = mapClaims(GOOGLE_CLAIMS, 'oidc', {});
  assert.equal(mapped.username, 'bobby');
  assert.equal(mapped.givenName, 'Bob');
  assert.equal(mapped.familyName, 'Builder');
});

test('email_verified is true only for true or "true"; absent means unverified', () => {
  assert.equal(mapClaims({ email: 'a@x.example', email_verified: 'true' }, 'google', {}).emailVerified, true);
  assert.equal(mapClaims({ email: 'a@x.example', email_verified: false }, 'google', {}).emailVerified, false);
  assert.equal(mapClaims({ email: 'a@x.example', email_verified: 'yes' }, 'google', {}).emailVerified, false);
  assert.equal(mapClaims({ email: 'a@x.example' }, 'google', {}).emailVerified, false);
});

test('--map adds custom attributes and redirects a default claim elsewhere', () => {
  const mapped = mapClaims({ ...GITHUB_CLAIMS, groups: ['dev', 'ops'] }, 'github', {
    github_login: 'github',
    name: 'display_name',
    groups: 'groups',
  });
  assert.equal(mapped.name, null, 'name now goes to display_name');
  assert.deepEqual(mapped.attributes, { github: 'octocat', display_name: 'The Octocat', groups: '["dev","ops"]' });
  assert.equal(mapped.username, 'octocat', 'other defaults stay');
});

test('--map can point another claim at a core field', () => {
  const mapped = mapClaims({ ...GITHUB_CLAIMS, github_login: 'octo-login' }, 'github', {
    preferred_username: 'nickname',
    github_login: 'username',
  });
  assert.equal(mapped.username, 'octo-login');
  assert.deepEqual(mapped.attributes, { nickname: 'octocat' });
});

test('empty and null upstream values are not mapped', () => {
  const mapped = mapClaims({ name: '', email: null, picture: undefined }, 'google', {});
  assert.equal(mapped.name, null);
  assert.equal(mapped.email, null);
  assert.equal(mapped.picture, null);
});

function localUser(over: Partial<User> = {}): User {
  return {
    id: 'u-1',
    username: 'octocat',
    email: 'octocat@example.com',
    emailVerified: true,
    name: 'Local Name',
    givenName: null,
    familyName: null,
    picture: null,
    attributes: { team: 'local-team' },
    hasPassword: false,
    status: 'active',
    source: 'github',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    lastLoginAt: null,
    ...over,
  };
}

function upstream(over: Partial<MappedProfile> = {}): MappedProfile {
  return {
    username: 'octocat',
    email: 'octocat@example.com',
    emailVerified: true,
    name: 'Upstream Name',
    givenName: null,
    familyName: null,
    picture: 'https://avatars.example/new.png',
    attributes: { team: 'upstream-team', site: 'upstream-site' },
    ...over,
  };
}

test('override-all: upstream wins for every mapped attribute it sends', () => {
  const patch = syncPatch(localUser(), upstream({ email: 'new@example.com', emailVerified: false }), 'override-all');
  assert.deepEqual(patch, {
    name: 'Upstream Name',
    picture: 'https://avatars.example/new.png',
    email: 'new@example.com',
    emailVerified: false,
    attributes: { team: 'upstream-team', site: 'upstream-site' },
  });
});

test('override-all never clears a local value the upstream does not send', () => {
  const patch = syncPatch(
    localUser({ givenName: 'Octo' }),
    upstream({ name: null, email: null, attributes: {} }),
    'override-all',
  );
  assert.equal('givenName' in patch, false);
  assert.equal('name' in patch, false);
  assert.equal('email' in patch, false);
  assert.equal('attributes' in patch, false);
});

test('override-all with nothing changed upstream is an empty patch', () => {
  const user = localUser({
    name: 'Upstream Name',
    picture: 'https://avatars.example/new.png',
    attributes: { team: 'upstream-team', site: 'upstream-site' },
  });
  assert.deepEqual(syncPatch(user, upstream(), 'override-all'), {});
});

test('override-all marks the same email verified when the upstream verifies it', () => {
  assert.deepEqual(
    syncPatch(
      localUser({
        emailVerified: false,
        name: 'Upstream Name',
        picture: 'https://avatars.example/new.png',
        attributes: { team: 'upstream-team', site: 'upstream-site' },
      }),
      upstream(),
      'override-all',
    ),
    {
      emailVerified: true,
    },
  );
});

test('preserve-local: keeps every local value and fills only what is empty', () => {
  const patch = syncPatch(localUser(), upstream({ email: 'new@example.com', givenName: 'Octo' }), 'preserve-local');
  assert.deepEqual(patch, {
    givenName: 'Octo',
    picture: 'https://avatars.example/new.png',
    attributes: { team: 'local-team', site: 'upstream-site' },
  });
});

test('preserve-local fills an empty local email', () => {
  const patch = syncPatch(localUser({ email: null, emailVerified: false }), upstream(), 'preserve-local');
  assert.equal(patch.email, 'octocat@example.com');
  assert.equal(patch.emailVerified, true);
});

test('none: a returning login changes nothing', () => {
  assert.deepEqual(
    syncPatch(localUser({ email: null, name: null }), upstream({ email: 'new@example.com' }), 'none'),
    {},
  );
});

test('provisionUsername: the upstream username, else the email local part, else connection-subject', async () => {
  const free = (): boolean => false;
  assert.equal(await provisionUsername(upstream(), 'github', '583231', free), 'octocat');
  assert.equal(
    await provisionUsername(upstream({ username: null, email: 'bob.builder@example.com' }), 'google', '1082', free),
    'bob.builder',
  );
  assert.equal(
    await provisionUsername(upstream({ username: null, email: null }), 'google', '1082', free),
    'google-1082',
  );
});

test('provisionUsername: a taken username gets -2, then -3', async () => {
  const taken = new Set(['octocat']);
  const isTaken = (u: string): boolean => taken.has(u);
  assert.equal(await provisionUsername(upstream(), 'github', '1', isTaken), 'octocat-2');
  taken.add('octocat-2');
  assert.equal(await provisionUsername(upstream(), 'github', '1', isTaken), 'octocat-3');
  taken.add('octocat-3');
  assert.equal(await provisionUsername(upstream(), 'github', '1', isTaken), 'octocat-4');
});

test('provisionUsername makes characters outside the username alphabet safe and never starts with punctuation', async () => {
  const free = (): boolean => false;
  assert.equal(await provisionUsername(upstream({ username: 'Zoë Smith' }), 'oidc', '1', free), 'Zo--Smith');
  assert.equal(await provisionUsername(upstream({ username: '--lead' }), 'oidc', '1', free), 'lead');
  assert.equal(await provisionUsername(upstream({ username: '***' }), 'oidc', '1', free), 'oidc-user');
  assert.ok((await provisionUsername(upstream({ username: 'x'.repeat(100) }), 'oidc', '1', free)).length <= 56);
});

test('--map claim=- ignores a claim the connection type maps by default', () => {
  const mapped = mapClaims(GITHUB_CLAIMS, 'github', { picture: '-', name: '-' });
  assert.equal(mapped.picture, null);
  assert.equal(mapped.name, null);
  assert.equal(mapped.email, 'octocat@example.com', 'other defaults stay');
  assert.deepEqual(mapped.attributes, {}, "'-' is not taken as an attribute name");
});

test("email_verified is the provider's word on its own address: an email from any other claim is unverified", () => {
  for (const type of ['github', 'google', 'oidc'] as const) {
    const claims = { ...GOOGLE_CLAIMS, name: 'alice@example.com', nickname: 'alice@example.com', verified_flag: true };
    assert.equal(mapClaims(claims, type, {}).emailVerified, true, `${type}: the provider's email, verified`);
    const byName = mapClaims(claims, type, { name: 'email' });
    assert.deepEqual([byName.email, byName.emailVerified], ['alice@example.com', false], `${type}: --map name=email`);
    const byOther = mapClaims(claims, type, { email: '-', nickname: 'email' });
    assert.deepEqual(
      [byOther.email, byOther.emailVerified],
      ['alice@example.com', false],
      `${type}: email ignored, nickname mapped`,
    );
    assert.equal(
      mapClaims({ ...claims, email_verified: false }, type, { verified_flag: 'email_verified' }).emailVerified,
      false,
      `${type}: no claim stands in for the provider's word`,
    );
    assert.equal(
      mapClaims(claims, type, { email_verified: '-' }).emailVerified,
      false,
      `${type}: ignoring the provider's word leaves the email unverified`,
    );
    assert.equal(
      mapClaims({ ...claims, name: 'BOB@example.com' }, type, { name: 'email' }).emailVerified,
      true,
      `${type}: the same address from another claim is still the verified one`,
    );
  }
});

test('a --map edit cannot make another claim the source of email_verified', () => {
  assert.throws(
    () => refuseVerificationMap([['verified_flag', 'email_verified']]),
    /verified_flag cannot be mapped to email_verified/,
  );
  assert.doesNotThrow(() =>
    refuseVerificationMap([
      ['email_verified', 'email_verified'],
      ['name', 'email'],
      ['email_verified', 'checked'],
    ]),
  );
});

test("an email-shaped upstream username becomes the username only when it is the person's own verified email", async () => {
  const free = () => false;
  const profile = (username: string, email: string, emailVerified: boolean): MappedProfile => ({
    ...mapClaims({}, 'oidc', {}),
    username,
    email,
    emailVerified,
  });
  assert.equal(
    await provisionUsername(profile('alice@example.com', 'evil@example.com', true), 'corp', 's1', free),
    'alice',
  );
  assert.equal(
    await provisionUsername(profile('alice@example.com', 'alice@example.com', false), 'corp', 's1', free),
    'alice',
    "an unverified address is not the person's own",
  );
  assert.equal(
    await provisionUsername(profile('dana@example.com', 'Dana@example.com', true), 'corp', 's1', free),
    'dana@example.com',
  );
  // Taken (say, by the person's own address on another account): a numbered variant of an address is not an address.
  const taken = new Set(['dana@example.com', 'dana']);
  assert.equal(
    await provisionUsername(profile('dana@example.com', 'dana@example.com', true), 'corp', 's1', (u) => taken.has(u)),
    'dana-2',
  );
  assert.equal(
    await provisionUsername({ ...mapClaims({}, 'oidc', {}) }, 'corp', 'user@tenant', free),
    'corp-user',
    'a subject with an @ is not an address of the person',
  );
});
