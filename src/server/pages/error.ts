// The web driver's error page: a refusal's one-line message, its fix as the server worded it, the error code and the
// flow id (what `flows show` and the events table know the sign-in by).
import { escapeHtml, page } from './layout.js';
import { sentence } from './parts.js';

export interface ErrorPageOptions {
  title: string;
  message: string;
  /**
   * Plain text, one remedy per line. A command is shown as code when it is in backticks, in parentheses starting
   * with `idp `, or a whole line starting with `idp `.
   */
  fix: string | null;
  code: string;
  flow?: string;
  /** Where "Try again" goes (a path on this server or an http(s) URL); without it, no link. */
  back?: string;
}

export function errorPage(opts: ErrorPageOptions): string {
  const lines = (opts.fix ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const fix = lines.length ? `<h2>How to fix it</h2>${lines.map((line) => `<p>${withCode(line)}</p>`).join('')}` : '';
  const details =
    `<dl class="muted"><dt>Error code</dt><dd><code>${escapeHtml(opts.code)}</code></dd>` +
    (opts.flow ? `<dt>Flow</dt><dd><code>${escapeHtml(opts.flow)}</code></dd>` : '') +
    '</dl>';
  const back =
    opts.back && /^(https?:\/\/|\/(?!\/))/.test(opts.back)
      ? `<p class="actions"><a href="${escapeHtml(opts.back)}">Try again</a></p>`
      : '';
  return page({
    title: opts.title,
    heading: opts.title,
    body: `<div class="alert" role="alert">${escapeHtml(sentence(opts.message))}</div>${fix}${details}${back}`,
  });
}

// `...`, (idp ...), or a line that is an `idp` command.
const COMMAND = /`([^`]+)`|\((idp [^()]+)\)|^(idp .+)$/g;

function withCode(line: string): string {
  let html = '';
  let last = 0;
  for (const m of line.matchAll(COMMAND)) {
    html += escapeHtml(line.slice(last, m.index));
    const [, ticked, inParens, whole] = m;
    const code = `<code>${escapeHtml(ticked ?? inParens ?? whole ?? '')}</code>`;
    html += inParens ? `(${code})` : code;
    last = m.index + m[0].length;
  }
  return html + escapeHtml(line.slice(last));
}
