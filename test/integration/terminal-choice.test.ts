// The terminal driver's chooser: --connection/--option answer step 1 only; a later step takes --mfa when it offers
// it (and would prompt otherwise), so `--connection github` never reaches an MFA step as its choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminalAnswerer } from '../../src/cli/drivers/terminal.js';
import { Renderer } from '../../src/cli/render.js';

const out = new Renderer({ json: false, quiet: true, color: false, debug: false });

function chooser(mfa?: string) {
  return terminalAnswerer({
    out,
    browser: false,
    connectionByName: async () => undefined,
    preselected: 'github',
    ...(mfa && { mfa }),
  });
}

const step = (n: number, options: string[]) =>
  ({ flow: 'f_test', app: 'thrift', step: n, status: 'active', waiting: 'choose', options }) as const;

test('step 1 takes --connection; step 2 (totp, email-otp) takes --mfa, not the connection', async () => {
  assert.equal(await chooser('email-otp').choose(step(1, ['password', 'google', 'github'])), 'github');
  assert.equal(await chooser('email-otp').choose(step(2, ['totp', 'email-otp'])), 'email-otp');
  assert.equal(await chooser('totp').choose(step(2, ['totp', 'email-otp'])), 'totp');
});
