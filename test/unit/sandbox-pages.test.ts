// The sandbox providers' form pages: the persona radio list a sandbox renders once and reuses for every chooser (the
// hinted persona checked, else the first), and the headless driver's reading of it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { form, parseForm, PersonaRadios, type PersonaChoice } from '../../src/sandbox/pages.js';

const CHOICES: PersonaChoice[] = ['octocat', 'hubot', 'mona'].map((login) => ({
  value: login,
  label: login,
  detail: `${login} · ${login}@example.test`,
}));

function chooser(radios: PersonaRadios, selected?: string): string {
  return form({
    action: '/login/oauth/authorize',
    hidden: { request_id: 'r&1' },
    personas: { radios, selected },
    buttons: [{ decision: 'approve', label: 'Authorize' }],
  });
}

const checked = (html: string): string[] =>
  [...html.matchAll(/<input type="radio" name="persona" value="([^"]*)" checked>/g)].map((m) => m[1]!);

test('one rendered radio list serves every chooser: the hinted persona is checked, else the first, never an earlier one', () => {
  const radios = new PersonaRadios(CHOICES);
  assert.deepEqual(checked(chooser(radios)), ['octocat']);
  assert.deepEqual(checked(chooser(radios, 'mona')), ['mona']);
  assert.deepEqual(checked(chooser(radios)), ['octocat'], 'the hint of the page before is not kept');
  assert.deepEqual(checked(chooser(radios, 'nobody')), ['octocat'], 'an unknown hint checks the first');
  assert.deepEqual(checked(chooser(radios, 'hubot')), ['hubot']);
  assert.equal(chooser(new PersonaRadios([])).includes('type="radio"'), false);
});

test('the headless driver reads back every persona, the hidden fields (unescaped) and the buttons', () => {
  const parsed = parseForm(chooser(new PersonaRadios(CHOICES), 'hubot'));
  assert.deepEqual(parsed, {
    action: '/login/oauth/authorize',
    hidden: { request_id: 'r&1' },
    personas: ['octocat', 'hubot', 'mona'],
    decisions: ['approve'],
  });
});
