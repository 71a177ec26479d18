// The one shell every page of the web driver is rendered in (doctype, language, title, an inline stylesheet: no
// external assets; JavaScript only on passkey pages, from this server) and the escaping of text into HTML. Pages are
// pure: strings in, a string out.

/** Text (or an attribute value in double quotes) made inert in HTML: upstream names, usernames, errors, anything. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export interface PageOptions {
  /** The document's <title>: plain text. */
  title: string;
  /** The page's one <h1>: plain text. */
  heading?: string;
  /** A line above the heading naming where the person is (the organisation): plain text. */
  subtitle?: string;
  /** The card's content: HTML, already escaped by the caller. */
  body: string;
}

export function page(opts: PageOptions): string {
  const subtitle = opts.subtitle ? `<p class="org">${escapeHtml(opts.subtitle)}</p>` : '';
  const heading = opts.heading ? `<h1>${escapeHtml(opts.heading)}</h1>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(opts.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main class="card">
${subtitle}${heading}
${opts.body}
</main>
<footer>idp · local identity broker</footer>
</body>
</html>
`;
}

const STYLE = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;
padding:2rem 1rem;background:#eef1f5;color:#1d2330;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.card{width:100%;max-width:26rem;background:#fff;border-radius:10px;padding:2rem;
box-shadow:0 1px 3px rgba(20,30,50,.12),0 8px 24px rgba(20,30,50,.08)}
.org{margin:0 0 .25rem;font-size:.8rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:#5b6475}
h1{margin:0 0 1.25rem;font-size:1.5rem;line-height:1.25}
h2{margin:1.5rem 0 .75rem;font-size:1.1rem}
h3{margin:1.25rem 0 .6rem;font-size:1rem}
h1+h2,h1+form h2{margin-top:0}
p{margin:0 0 1rem}
.muted{color:#5b6475;font-size:.9rem}
.help{margin:0 0 .4rem;color:#5b6475;font-size:.9rem}
form{margin:0}
label{display:block;margin:0 0 .3rem;font-weight:600;font-size:.95rem}
input[type=text],input[type=password],input[type=email]{display:block;width:100%;padding:.6rem .75rem;
font:inherit;border:1px solid #b8c0cc;border-radius:6px;background:#fff;color:inherit}
input[aria-invalid=true]{border-color:#b3261e}
input:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #7aa7ff;outline-offset:2px}
.field{margin:0 0 1rem}
.code{font-size:1.4rem;letter-spacing:.3em;text-align:center;font-variant-numeric:tabular-nums}
button{display:block;width:100%;padding:.65rem 1rem;font:inherit;font-weight:600;border-radius:6px;cursor:pointer;
border:1px solid #1f4fd1;background:#1f4fd1;color:#fff}
button:hover{background:#173fab}
button:disabled{opacity:.6;cursor:not-allowed}
button.secondary{background:#fff;color:#1d2330;border-color:#b8c0cc}
button.secondary:hover{background:#f3f5f8}
button.danger{width:auto;display:inline-block;padding:.3rem .8rem;font-size:.9rem;background:#fff;color:#b3261e;
border-color:#e0b4b0}
button.link{display:inline;width:auto;padding:0;border:0;background:none;color:#1f4fd1;font-weight:400;
text-decoration:underline}
.stack>*+*{margin-top:.6rem}
.actions{display:flex;gap:.6rem;margin-top:1rem}
.actions>*{flex:1}
.alert{margin:0 0 1rem;padding:.75rem 1rem;border-radius:6px;background:#fdecea;color:#8a1c15;border:1px solid #f3c2bd}
.notice{margin:0 0 1rem;padding:.75rem 1rem;border-radius:6px;background:#e8f4ec;color:#1e5631;border:1px solid #b9dcc5}
.error-text{margin:.3rem 0 0;color:#b3261e;font-size:.9rem}
.qr{display:block;width:12rem;height:12rem;margin:0 auto 1rem}
.secret{display:block;padding:.5rem;margin:0 0 .5rem;background:#f3f5f8;border-radius:6px;text-align:center;
font:600 .95rem/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;letter-spacing:.02em;word-break:break-all}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f5f8;padding:.1em .3em;border-radius:4px;
word-break:break-word}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem}
dt{color:#5b6475}
dd{margin:0;word-break:break-word}
ul.items{list-style:none;margin:0;padding:0}
ul.items li{display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:.6rem 0;
border-top:1px solid #e3e7ed}
ul.items li:last-child{border-bottom:1px solid #e3e7ed}
details summary{cursor:pointer;color:#1f4fd1;font-size:.9rem}
details form{margin-top:.4rem}
details input[type=text]{margin:.3rem 0 .5rem}
.meta{display:block;color:#5b6475;font-size:.85rem}
a{color:#1f4fd1}
.card>:last-child{margin-bottom:0}
footer{margin-top:1.25rem;font-size:.8rem;color:#5b6475}
`.trim();
