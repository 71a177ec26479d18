// The two scripts a passkey page loads, served by idp's own servers (`idp serve`, the terminal login's loopback page):
// @simplewebauthn/browser's UMD bundle read from node_modules, and the small script that runs it on the page's
// options and posts the authenticator's answer in the page's form. Only these two names are served: no path from a
// request ever reaches the file system.
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The ids and field a passkey page gives its parts, which PASSKEY_SCRIPT looks up. */
export const PASSKEY_PAGE = {
  /** The form posted with the answer; `data-mode` is `authenticate` or `enrol`. */
  form: 'passkey-form',
  /** A `<script type="application/json">` holding the options for @simplewebauthn/browser. */
  options: 'passkey-options',
  /** The button that asks the authenticator (disabled until the script knows the browser can). */
  start: 'passkey-start',
  /** Where the script says what is happening (role="status"). */
  status: 'passkey-status',
  /** The hidden field the answer is posted in, as JSON. */
  response: 'response',
} as const;

/** The file names a page's <script src> uses, below the server's asset path. */
export const PASSKEY_ASSETS = { library: 'simplewebauthn-browser.js', script: 'passkey.js' } as const;

/** The scripts' full URLs below `assets` (`http://localhost:PORT/t/<org>/assets`): what a page's CSP allows. */
export function passkeyScriptUrls(assets: string): string[] {
  return Object.values(PASSKEY_ASSETS).map((name) => `${assets}/${name}`);
}

const ids = JSON.stringify(PASSKEY_PAGE);

/**
 * Runs in the page (plain ES2017, no build step). The challenge in the options is the server's: the page only relays
 * the authenticator's answer. A refusal by the browser (cancelled, timed out) stays on the page, so the person can try
 * again with the same challenge or use another way.
 */
const PASSKEY_SCRIPT = `(function () {
  'use strict';
  var ids = ${ids};
  var form = document.getElementById(ids.form);
  var start = document.getElementById(ids.start);
  var status = document.getElementById(ids.status);
  var webauthn = window.SimpleWebAuthnBrowser;
  if (!form || !start || !status) return;
  function say(text) { status.textContent = text; }
  if (!webauthn || !webauthn.browserSupportsWebAuthn()) {
    say('This browser cannot use passkeys.');
    return;
  }
  var options = JSON.parse(document.getElementById(ids.options).textContent);
  var enrol = form.getAttribute('data-mode') === 'enrol';
  start.disabled = false;
  start.addEventListener('click', function () {
    if (enrol && !form.reportValidity()) return;
    start.disabled = true;
    say(enrol ? 'Follow your browser to create the passkey.' : 'Follow your browser to use your passkey.');
    var ask = enrol ? webauthn.startRegistration : webauthn.startAuthentication;
    ask({ optionsJSON: options }).then(function (answer) {
      form.elements.namedItem(ids.response).value = JSON.stringify(answer);
      say('Checking the passkey.');
      form.submit();
    }, function (err) {
      start.disabled = false;
      say(explain(err));
    });
  });
  function explain(err) {
    var name = err && err.name;
    if (name === 'NotAllowedError') return 'The passkey prompt was cancelled or timed out. Try again, or use another way.';
    if (name === 'InvalidStateError') return 'This device already holds a passkey for this account.';
    if (name === 'SecurityError') return 'Passkeys here work only at http://localhost: open this page at that address.';
    return 'The passkey did not work: ' + (err && err.message ? err.message : String(err));
  }
})();
`;

let library: Buffer | undefined;

/** @simplewebauthn/browser's minified UMD bundle (it defines `SimpleWebAuthnBrowser`), read once. */
function libraryBundle(): Buffer {
  if (!library) {
    // The package exports only its entry point: its folder is two levels above the CommonJS entry (script/index.js).
    const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
    library = readFileSync(join(dirname(dirname(entry)), 'dist', 'bundle', 'index.umd.min.js'));
  }
  return library;
}

/** Answers a request for `name` (below the asset path) with the script; false for any other name (nothing sent). */
export function sendPasskeyAsset(res: ServerResponse, name: string): boolean {
  const body =
    name === PASSKEY_ASSETS.library ? libraryBundle() : name === PASSKEY_ASSETS.script ? PASSKEY_SCRIPT : undefined;
  if (body === undefined) return false;
  res.writeHead(200, {
    'content-type': 'text/javascript; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
  return true;
}
