// Every string of the pages in both languages: the same keys in zh-CN and
// English, the same {placeholders} in both, and no Latin-script word in a
// Chinese string beyond product names, units, key and signal names
// (tests/lib/latin.js).  The page walk (tests/e2e/walk.test.js) checks what
// the pages really show; this checks the strings they may show, including
// those of dialogs and errors a walk does not open.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { foreignWords } = require('../lib/latin.js');

const file = path.join(__dirname, '..', '..', 'frontend-fragments', 'shared', 'i18n.js');
const ctx = { window: {} };
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(file, 'utf8'), ctx);
const { 'zh-CN': zh, en } = ctx.window.YardI18n;

const holes = (v) => [...v.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]).sort();

test('zh-CN and English have the same keys', () => {
  assert.deepStrictEqual(Object.keys(zh).filter((k) => !(k in en)), [], 'keys only in zh-CN');
  assert.deepStrictEqual(Object.keys(en).filter((k) => !(k in zh)), [], 'keys only in English');
});

test('each string has the same placeholders in both languages', () => {
  const diff = Object.keys(zh).filter((k) => k in en &&
    JSON.stringify([...new Set(holes(zh[k]))]) !== JSON.stringify([...new Set(holes(en[k]))]));
  assert.deepStrictEqual(diff.map((k) => `${k}: ${zh[k]} | ${en[k]}`), []);
});

test('no zh-CN string carries English words', () => {
  const bad = [];
  for (const [k, v] of Object.entries(zh)) {
    assert.strictEqual(typeof v, 'string', k);
    const words = foreignWords(v.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, ''));
    if (words.length) bad.push(`${k}: "${v}" (${words.join(', ')})`);
  }
  assert.deepStrictEqual(bad, []);
});

test('the checker is not blind: English words in a Chinese sentence are found', () => {
  assert.deepStrictEqual(foreignWords('节点 agent 没有响应'), ['agent']);
  assert.deepStrictEqual(foreignWords('name: name must be 1 to 64'), ['name:', 'name', 'must', 'be', 'to']);
  assert.deepStrictEqual(foreignWords('内存 3 MiB，CPU 2%，信号 SIGTERM，路径 /srv/yard'), []);
});
