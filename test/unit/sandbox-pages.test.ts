// The sandbox providers' chooser form (src/sandbox/pages.ts): one persona list offered page after page checks exactly
// the persona each page selects (the first one when none is), and reads back as the headless driver reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { form, parseForm, type PersonaChoice } from '../../src/sandbox/pages.js';

const choices: PersonaChoice[] = ['octocat', 'mona', 'hubot'].map((login) => ({
  value: login,
  label: login,
  detail: `${login} <${login}@example.com>`,
}));

function chooser(selected?: string): string {
  return form({
    action: '/login/oauth/authorize',
    hidden: { request_id: 'r1' },
    personas: { choices, selected },
    buttons: [{ decision: 'approve', label: 'Authorize' }],
  });
}

function checkedOf(html: string): string[] {
  return [...html.matchAll(/value="([^"]*)" checked/g)].map((m) => m[1] ?? '');
}

test('the same persona list, offered again and again, checks only the persona each page selects', () => {
  for (const [selected, checked] of [
    ['mona', 'mona'],
    [undefined, 'octocat'],
    ['hubot', 'hubot'],
    ['nobody', 'octocat'],
    ['mona', 'mona'],
  ] as const) {
    const html = chooser(selected);
    assert.deepEqual(checkedOf(html), [checked], `selected ${selected ?? 'none'}`);
    assert.deepEqual(parseForm(html)?.personas, ['octocat', 'mona', 'hubot']);
  }
  assert.match(chooser(), /octocat &#60;octocat@example\.com&#62;/, 'details are escaped');
});
