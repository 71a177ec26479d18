// Table columns line up by what a terminal shows: CJK characters and emoji take two columns, combining marks none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, Renderer } from '../../src/cli/render.js';

const renderer = new Renderer({ json: false, quiet: false, color: false, debug: false });

test('display width: ASCII 1 per character, CJK and emoji 2, combining marks 0, a ZWJ emoji sequence 2', () => {
  assert.equal(displayWidth('alice'), 5);
  assert.equal(displayWidth('田中太郎'), 8);
  assert.equal(displayWidth('김민수'), 6);
  assert.equal(displayWidth('ｆｕｌｌ'), 8);
  assert.equal(displayWidth('🚀'), 2);
  assert.equal(displayWidth('dev👩‍💻'), 5);
  assert.equal(displayWidth('e\u0301te\u0301'), 3);
  assert.equal(displayWidth('\u0301'), 0);
  assert.equal(displayWidth('❤️'), 2);
});

test('a table with CJK, emoji and combining names puts the next column at the same screen column on every line', () => {
  const rows = [
    { name: 'alice', email: 'alice@example.com' },
    { name: '田中太郎', email: 'tanaka@example.jp' },
    { name: 'rocket🚀', email: 'rocket@example.com' },
    { name: 'Zoe\u0301', email: 'zoe@example.com' },
  ];
  const table = renderer.table(rows, [
    { header: 'USERNAME', value: (r) => r.name },
    { header: 'EMAIL', value: (r) => r.email },
  ]);
  const lines = table.split('\n');
  const columns = lines.map((line) => displayWidth(line.slice(0, line.search(/(EMAIL|\S+@example)/))));
  assert.equal(new Set(columns).size, 1, `EMAIL starts at different columns:\n${table}`);
  assert.equal(columns[0], displayWidth('田中太郎') + 2, 'the widest name sets the column');
});
