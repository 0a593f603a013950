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

// English plurals are KEY_one and KEY_other (Yard.t picks by count);
// Chinese has one KEY.
const base = (k) => k.replace(/_(one|other)$/, '');
const enHas = (k) => k in en || (`${k}_one` in en && `${k}_other` in en);

test('zh-CN and English have the same keys', () => {
  assert.deepStrictEqual(Object.keys(zh).filter((k) => !enHas(k)), [], 'keys only in zh-CN');
  assert.deepStrictEqual(Object.keys(en).filter((k) => !(base(k) in zh) && !(k in zh)), [], 'keys only in English');
});

test('each string has the same placeholders in both languages', () => {
  const same = (a, b) => JSON.stringify([...new Set(holes(a))]) === JSON.stringify([...new Set(holes(b))]);
  const diff = [];
  for (const k of Object.keys(zh)) {
    if (k in en && !same(zh[k], en[k])) diff.push(`${k}: ${zh[k]} | ${en[k]}`);
    // A plural's forms may leave out {count} ("1 task"), nothing else.
    for (const f of ['_one', '_other']) {
      const e = en[k + f];
      if (e !== undefined && !same(zh[k].replace(/\{count\}/g, ''), e.replace(/\{count\}/g, '')))
        diff.push(`${k}${f}: ${zh[k]} | ${e}`);
    }
  }
  assert.deepStrictEqual(diff, []);
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
