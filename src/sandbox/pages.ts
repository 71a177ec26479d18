// The HTML pages of both sandbox providers (account chooser, consent, errors) and the form contract
// they share with the headless driver (automate.ts): a `persona` radio list and `decision` submit buttons.

export const PERSONA_FIELD = 'persona';
export const DECISION_FIELD = 'decision';
/** Decision values: `continue` only moves past an account chooser; `approve` / `deny` answer consent. */
export type Decision = 'approve' | 'deny' | 'continue';

export interface PersonaChoice {
  value: string;
  label: string;
  detail: string;
}

export interface FormSpec {
  action: string;
  hidden: Record<string, string>;
  personas?: { choices: PersonaChoice[]; selected?: string | undefined };
  buttons: { decision: Decision; label: string }[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f6f8fa;color:#1f2328;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:24px 32px}
h1{font-size:20px;margin-top:0}.sandbox{font-size:12px;color:#656d76;text-transform:uppercase;letter-spacing:.06em}
label.persona{display:block;border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:6px 0;cursor:pointer}
label.persona small{display:block;color:#656d76}.buttons{display:flex;gap:8px;margin-top:20px}
button{flex:1;padding:8px;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa;font-size:14px;cursor:pointer}
button.primary{background:#1f883d;color:#fff;border-color:#1a7f37}.error{color:#d1242f}
</style></head>
<body><main><p class="sandbox">idp sandbox</p>
${body}
</main></body></html>`;
}

export function form(spec: FormSpec): string {
  const hidden = Object.entries(spec.hidden)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const offered = spec.personas?.choices ?? [];
  const checked = offered.find((c) => c.value === spec.personas?.selected)?.value ?? offered[0]?.value;
  const choices = personaRadios(offered, checked);
  const buttons = spec.buttons
    .map(
      (b) =>
        `<button type="submit" name="${DECISION_FIELD}" value="${b.decision}"${b.decision === 'deny' ? '' : ' class="primary"'}>${escapeHtml(b.label)}</button>`,
    )
    .join('\n');
  return `<form method="post" action="${escapeHtml(spec.action)}">
${hidden}
${choices}
<div class="buttons">
${buttons}
</div>
</form>`;
}

/**
 * Each persona list's radios, rendered once: a sandbox offers the same list on every chooser page (a few hundred
 * personas in bench/serve), so only the checked one is rendered per page.
 */
const renderedRadios = new WeakMap<PersonaChoice[], string[]>();

function personaRadios(offered: PersonaChoice[], checked: string | undefined): string {
  let radios = renderedRadios.get(offered);
  if (!radios) {
    radios = offered.map((c) => personaRadio(c, false));
    renderedRadios.set(offered, radios);
  }
  return offered.map((c, i) => (c.value === checked ? personaRadio(c, true) : radios[i])).join('\n');
}

function personaRadio(choice: PersonaChoice, checked: boolean): string {
  return `<label class="persona"><input type="radio" name="${PERSONA_FIELD}" value="${escapeHtml(choice.value)}"${checked ? ' checked' : ''}> <strong>${escapeHtml(choice.label)}</strong><small>${escapeHtml(choice.detail)}</small></label>`;
}

export function errorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}

/** What the headless driver reads back from one of these pages. */
export interface ParsedForm {
  action: string;
  hidden: Record<string, string>;
  personas: string[];
  decisions: string[];
}

/** Reads a form rendered by form() above; null when the page has none (an error page). */
export function parseForm(html: string): ParsedForm | null {
  const formTag = /<form\b([^>]*)>/i.exec(html);
  const action = formTag && attributes(formTag[1] ?? '')['action'];
  if (action === undefined || action === null) return null;
  const parsed: ParsedForm = { action, hidden: {}, personas: [], decisions: [] };
  for (const [, tag, attrText] of html.matchAll(/<(input|button)\b([^>]*)>/gi)) {
    const a = attributes(attrText ?? '');
    const name = a['name'] ?? '';
    const value = a['value'] ?? '';
    if (tag === 'input' && a['type'] === 'hidden') parsed.hidden[name] = value;
    else if (tag === 'input' && a['type'] === 'radio' && name === PERSONA_FIELD) parsed.personas.push(value);
    else if (tag === 'button' && name === DECISION_FIELD) parsed.decisions.push(value);
  }
  return parsed;
}

/** The title and message of a page, as one line (for errors). */
export function pageMessage(html: string): string {
  const text = (pattern: RegExp): string =>
    unescapeHtml((pattern.exec(html)?.[1] ?? '').replace(/<[^>]*>/g, '').trim());
  return [text(/<h1>([\s\S]*?)<\/h1>/i), text(/<p class="error">([\s\S]*?)<\/p>/i)].filter(Boolean).join(': ');
}

/** The double-quoted attributes of one tag's text, unescaped, by lower-case name. */
export function attributes(text: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(/([a-zA-Z-]+)="([^"]*)"/g))
    if (name) found[name.toLowerCase()] = unescapeHtml(value ?? '');
  return found;
}

export function unescapeHtml(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
  return text.replace(/&(#\d+|amp|lt|gt|quot);/g, (_, entity: string) =>
    entity.startsWith('#') ? String.fromCharCode(Number(entity.slice(1))) : (named[entity] ?? ''),
  );
}
