// Clickjacking and script injection on `idp serve`'s pages, over real HTTP: every HTML page (the sign-in pages, My
// Account, the provider's own error and sign-out pages, and the sandbox provider's pages on the way) forbids framing
// (CSP frame-ancestors 'none' and X-Frame-Options DENY), since any page on another localhost port is same-site and
// could overlay My Account's one-click buttons; idp serve's pages run only its two passkey scripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededHome } from '../helpers/idp.js';
import { startServe } from '../helpers/serve.js';
import { UserAgent, viaConnection, viaPassword } from '../helpers/user-agent.js';

/** A user agent that keeps every response it got, for their headers. */
class RecordingAgent extends UserAgent {
  readonly seen: { url: string; res: Response }[] = [];

  override async send(url: URL | string, init: { body?: URLSearchParams; headers?: Record<string, string> } = {}) {
    const res = await super.send(url, init);
    this.seen.push({ url: String(url), res });
    return res;
  }

  pages(): { url: string; res: Response }[] {
    return this.seen.filter(
      ({ res }) => res.status < 300 || (res.status >= 400 && res.headers.get('content-type')?.startsWith('text/html')),
    );
  }
}

function assertNotFramable(url: string, res: Response): string {
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /frame-ancestors 'none'/, `${url}: ${csp}`);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', url);
  return csp;
}

test("every page of idp serve forbids framing and runs only idp's two passkey scripts; the sandbox's pages forbid framing", async () => {
  const home = await seededHome();
  const server = await startServe(home);
  try {
    const origin = new URL(server.base).origin;
    const scripts = `script-src ${server.base}/assets/simplewebauthn-browser.js ${server.base}/assets/passkey.js;`;

    const ua = new RecordingAgent();
    const callback = await ua.authorize(
      `${server.base}/myaccount`,
      `${server.base}/myaccount/callback`,
      viaPassword('alice', 'thrift-demo'),
    );
    const landed = await ua.send(callback);
    await ua.send(new URL(landed.headers.get('location')!, origin));
    await ua.send(`${server.base}/oauth2/authorize?client_id=no-such-client`);
    await ua.send(`${server.base}/oidc/logout`);
    const idpPages = ua.pages();
    assert.deepEqual(
      idpPages.map(({ url, res }) => [new URL(url).pathname.replace(/\/[^/]{20,}$/, '/…'), res.status]),
      [
        ['/t/default/authenticationendpoint/…', 200],
        ['/t/default/authenticationendpoint/…', 200],
        ['/t/default/myaccount', 200],
        ['/t/default/oauth2/authorize', 400],
        ['/t/default/oidc/logout', 200],
      ],
      'the sign-in pages, My Account, the provider’s error page and its sign-out page',
    );
    for (const { url, res } of idpPages) assert.ok(assertNotFramable(url, res).includes(scripts), url);

    // Through github's sandbox: its pages (another port) forbid framing too, and run no script at all.
    const viaGithub = new RecordingAgent();
    await viaGithub
      .authorize(`${server.base}/myaccount`, `${server.base}/myaccount/callback`, viaConnection('github', 'octocat'))
      .catch(() => undefined);
    const sandboxPages = viaGithub.pages().filter(({ url }) => new URL(url).origin !== origin);
    assert.ok(sandboxPages.length > 0, 'the sign-in went through the sandbox');
    for (const { url, res } of sandboxPages) assert.match(assertNotFramable(url, res), /script-src 'none'/);
  } finally {
    await server.stop();
  }
});
