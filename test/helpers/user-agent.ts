// A browser without a browser, for `idp serve`'s relying-party tests and bench/serve: a cookie jar per origin, requests
// that never follow redirects by themselves, and a walk from an authorization URL to the redirect back to the app that
// answers each HTML form on the way (idp's sign-in pages, the sandbox provider's chooser and consent).

import { attributes, unescapeHtml } from '../../src/sandbox/pages.js';

/** What a page's first form asks: enough to answer idp's pages and the sandbox's. */
export interface PageForm {
  action: string;
  hidden: Record<string, string>;
  /** radio groups: name -> values offered */
  radios: Record<string, string[]>;
  /** text and password inputs by name */
  fields: string[];
  /** submit buttons that carry a name */
  buttons: { name: string; value: string }[];
}

/** Fills a form: the fields to post (hidden ones are added by the walk). */
export type Answer = (form: PageForm, page: { url: URL; html: string }) => Record<string, string>;

export class UserAgent {
  private readonly jars = new Map<string, Map<string, string>>();

  /** One request, as the browser would send it with its cookies; redirects are returned, not followed. */
  async send(url: URL | string, init: { body?: URLSearchParams; headers?: Record<string, string> } = {}) {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookie = [...(this.jars.get(target.origin) ?? [])].map(([name, value]) => `${name}=${value}`).join('; ');
    if (cookie) headers['cookie'] = cookie;
    const res = await fetch(target, {
      method: init.body ? 'POST' : 'GET',
      headers,
      body: init.body,
      redirect: 'manual',
    });
    this.store(target.origin, res.headers.getSetCookie());
    return res;
  }

  private store(origin: string, setCookies: string[]): void {
    let jar = this.jars.get(origin);
    if (!jar) this.jars.set(origin, (jar = new Map()));
    for (const line of setCookies) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const value = pair.slice(eq + 1);
      if (value === '' || /;\s*max-age=0\b/i.test(line) || /;\s*expires=Thu, 01 Jan 1970/i.test(line))
        jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), value);
    }
  }

  /**
   * Follows `authorizationUrl` until a redirect to `redirectUri` (returned, with its code or error), answering each
   * form with `answer`. A page without a form, or an error status, throws with the page's text.
   */
  async authorize(authorizationUrl: URL | string, redirectUri: string, answer: Answer): Promise<URL> {
    let url = new URL(authorizationUrl);
    let body: URLSearchParams | undefined;
    for (let step = 0; step < 20; step++) {
      const res = await this.send(url, { body });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, url);
        if (next.href.startsWith(redirectUri)) return next;
        url = next;
        body = undefined;
        continue;
      }
      const html = await res.text();
      const form = res.ok ? parseForm(html) : null;
      if (!form) throw new Error(`${url.href} answered HTTP ${res.status} without a form:\n${pageText(html)}`);
      body = new URLSearchParams({ ...form.hidden, ...answer(form, { url, html }) });
      url = new URL(form.action || url.href, url);
    }
    throw new Error('the sign-in did not come back to the app within 20 pages');
  }
}

/** Signs in through a connection of idp's first step and the sandbox's pages (account chooser, then consent). */
export function viaConnection(connection: string, persona: string, consent: 'approve' | 'deny' = 'approve'): Answer {
  return (form): Record<string, string> => {
    if (form.buttons.some((b) => b.name === 'choose')) return { choose: connection };
    const decisions = form.buttons.filter((b) => b.name === 'decision').map((b) => b.value);
    if (decisions.length === 0) throw new Error(`a page this sign-in does not expect: ${JSON.stringify(form)}`);
    const decision = decisions.includes('continue') ? 'continue' : consent;
    return form.radios['persona'] ? { persona, decision } : { decision };
  };
}

/** Signs in with idp's password option. */
export function viaPassword(username: string, password: string): Answer {
  return (form): Record<string, string> => {
    if (form.buttons.some((b) => b.name === 'choose')) return { choose: 'password' };
    if (form.fields.includes('password')) return { username, password };
    throw new Error(`a page this sign-in does not expect: ${JSON.stringify(form)}`);
  };
}

export function parseForm(html: string): PageForm | null {
  const tag = /<form\b([^>]*)>/i.exec(html);
  if (!tag) return null;
  const form: PageForm = {
    action: attributes(tag[1] ?? '')['action'] ?? '',
    hidden: {},
    radios: {},
    fields: [],
    buttons: [],
  };
  for (const [, kind, text] of html.matchAll(/<(input|button)\b([^>]*)>/gi)) {
    const a = attributes(text ?? '');
    const name = a['name'];
    if (!name) continue;
    if (kind?.toLowerCase() === 'button') form.buttons.push({ name, value: a['value'] ?? '' });
    else if (a['type'] === 'hidden') form.hidden[name] = a['value'] ?? '';
    else if (a['type'] === 'radio') (form.radios[name] ??= []).push(a['value'] ?? '');
    else form.fields.push(name);
  }
  return form;
}

/** A page's visible text on one line, for failure messages. */
export function pageText(html: string): string {
  return unescapeHtml(html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}
