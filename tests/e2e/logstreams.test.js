// The Logs page marks the lines a task wrote to stderr: exactly those
// lines carry .log-line--stderr and a visible, translated label (English
// and Chinese), in the last lines and in lines that arrive while
// following.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, withPage: signedIn, waitFor } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, b, admin, agent, kit, id, go;

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('streams-page', s.yard.url, e.json.token);
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    15000, 'node online');
  kit = taskKit(s, admin, agent);
  go = path.join(s.dir, 'streams-page-go');
  // 20 lines on each stream, in turn; later (go) 5 more of each.
  id = await kit.console('mixer',
    'i=0; while [ $i -lt 20 ]; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; sleep 0.01; done; ' +
    `while [ ! -e ${go} ]; do sleep 0.1; done; ` +
    'i=0; while [ $i -lt 5 ]; do i=$((i+1)); echo "out later $i"; echo "err later $i" >&2; sleep 0.01; done; exec sleep 300',
    { stop_grace: 2 });
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  await waitFor(() => fs.existsSync(kit.logPath(id)) && /err 20\n/.test(fs.readFileSync(kit.logPath(id), 'utf8')),
    10000, 'the task wrote its lines');
});
test.after(async () => {
  if (kit) kit.killAll();
  if (b) await b.close();
  if (s) await s.stop();
});

const open = (name, lang, fn) =>
  signedIn(b, s, { name, sub: 'u-admin', start: `/?module=logs&lang=${lang}&query=${encodeURIComponent('task=' + id)}`,
    width: 1200, height: 1000 }, fn);

// [text without the label, marked, label] of every line shown.
const shown = (f) => f.locator('#log-output .log-line').evaluateAll((ls) => ls.map((l) => {
  const label = l.querySelector('.log-stream');
  return [Array.from(l.childNodes).filter((c) => c !== label).map((c) => c.textContent).join(''),
    l.classList.contains('log-line--stderr') && l.dataset.stream === 'stderr',
    label ? label.textContent : null];
}));

test('stderr lines carry the mark (English), also when they arrive while following', async () => {
  await open('streams-en', 'en', async (page, f) => {
    await f.locator('#log-output[data-state=following]').waitFor({ timeout: 15000 });
    let lines = await shown(f);
    assert.strictEqual(lines.length, 40);
    for (const [text, marked, label] of lines) {
      const err = text.startsWith('err ');
      assert.strictEqual(marked, err, `line "${text}" marked ${marked}`);
      assert.strictEqual(label, err ? 'stderr' : null, `line "${text}" label`);
    }
    const mark = f.locator('.log-line--stderr .log-stream').first();
    assert.match(await mark.getAttribute('title'), /standard error/);
    assert.ok(await mark.isVisible());
    // The label is not part of the text a user copies.
    assert.strictEqual(await mark.evaluate((m) => getComputedStyle(m).userSelect), 'none');

    fs.writeFileSync(go, '');
    await f.locator('#log-output .log-line', { hasText: 'err later 5' }).waitFor({ timeout: 15000 });
    lines = await shown(f);
    const later = lines.filter(([text]) => text.includes('later'));
    assert.strictEqual(later.length, 10);
    for (const [text, marked] of later)
      assert.strictEqual(marked, text.startsWith('err '), `followed line "${text}" marked ${marked}`);
  });
});

test('the mark is translated (Chinese)', async () => {
  await open('streams-zh', 'zh-CN', async (page, f) => {
    await f.locator('#log-output[data-state=following]').waitFor({ timeout: 15000 });
    const lines = await shown(f);
    const marked = lines.filter(([, m]) => m);
    assert.strictEqual(marked.length, 25);
    assert.ok(marked.every(([text, , label]) => text.startsWith('err ') && label === '错误输出'), JSON.stringify(marked[0]));
    assert.match(await f.locator('.log-stream').first().getAttribute('title'), /标准错误输出/);
  });
});
