// Test plumbing for the browser suites: one headless Debian chromium per test file, driven by playwright-core (which
// never downloads a browser), with a fresh context (cookies, storage) per test, and a virtual passkey authenticator
// for a page through the Chrome DevTools Protocol.
import { after, before } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Without the background-networking flags Chromium dials out at start (updates, sync, field trials), and this
 * machine's closed network refuses those connections loudly; no test needs them.
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches chromium with a throwaway profile (launch() makes and removes a temporary user data dir). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** One browser for a whole test file, closed after its last test; `context()` gives each test a clean jar. */
export function sharedBrowser(): { browser(): Browser; context(): Promise<BrowserContext> } {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  const get = (): Browser => {
    if (!browser) throw new Error('the browser is not launched yet: use it inside a test');
    return browser;
  };
  return { browser: get, context: () => get().newContext() };
}

export interface VirtualAuthenticator {
  /** The credentials the authenticator holds (resident or not), as CDP reports them. */
  credentials(): Promise<{ credentialId: string; rpId?: string; userHandle?: string; signCount: number }[]>;
}

/**
 * A platform authenticator for `page` (what a laptop's fingerprint reader is): CTAP2, internal transport, resident
 * keys (discoverable credentials, for passwordless sign-in) and user verification that always succeeds. It belongs
 * to the page's tab, so it keeps its credentials when the tab goes to another origin (any RP ID `localhost`).
 */
export async function virtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}
