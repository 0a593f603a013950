// The Logs page (issue 13 item 5): it reaches "ready"; lines carry
// numbers and, when they have no time of their own, the time the server
// received them; a search highlights its hits with <mark>, Enter and
// Shift-Enter jump, a context shows the hits with lines around them;
// wrap and pause are toggles (pause holds new lines while the follow goes
// on, resume shows them); the view resizes by keyboard and keeps its
// height; ~4 MB of output is shown and searched without the page hanging.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const { startE2E, browser, withPage: signedIn, waitFor } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, b, admin, agent, kit, id;

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('logs-page', s.yard.url, e.json.token);
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    15000, 'node online');
  kit = taskKit(s, admin, agent);
  // 150 lines, every tenth with a time of its own.
  id = await kit.console('talker', 'i=0; while [ $i -lt 150 ]; do i=$((i+1)); ' +
    'if [ $((i % 10)) -eq 0 ]; then echo "2026-01-02 03:04:05 stamped $i"; else echo "line $i"; fi; done; exec sleep 300',
    { stop_grace: 2 });
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  await waitFor(() => fs.existsSync(kit.logPath(id)) && /stamped 150/.test(fs.readFileSync(kit.logPath(id), 'utf8')),
    10000, 'the task wrote its lines');
});
test.after(async () => {
  if (kit) kit.killAll();
  if (b) await b.close();
  if (s) await s.stop();
});

const withPage = (name, fn) =>
  signedIn(b, s, { name, sub: 'u-admin', start: `/?module=logs&lang=en&query=${encodeURIComponent('task=' + id)}`,
    width: 1200, height: 1000 }, fn);

test('numbers, times, search with marks and jumps, context, wrap', async () => {
  await withPage('logs-search', async (page, f) => {
    await f.locator('body[data-yard-page=ready]').waitFor({ timeout: 15000 });
    const out = f.locator('#log-output');
    await f.locator('#log-output[data-state=following]').waitFor({ timeout: 15000 });
    const lines = out.locator('.log-line');
    assert.strictEqual(await lines.count(), 150);
    const nums = await lines.evaluateAll((ls) => ls.map((l) => l.dataset.n));
    assert.deepStrictEqual(nums, Array.from({ length: 150 }, (_, k) => String(k + 1)));
    // A received time on lines without one; none on "stamped" lines.
    assert.match(await lines.nth(0).getAttribute('data-time'), /^\d\d:\d\d:\d\d$/);
    assert.strictEqual(await lines.nth(9).getAttribute('data-time'), null);
    assert.strictEqual(await lines.nth(9).textContent(), '2026-01-02 03:04:05 stamped 10');
    // The numbers and times are drawn, not text: copying takes the lines.
    assert.strictEqual(await lines.last().innerText(), '2026-01-02 03:04:05 stamped 150');

    // Search "line 12": line 12 and 121..129 (120 is stamped) = 10.
    await f.locator('#l-q').fill('LINE 12');
    await f.locator('#l-hits', { hasText: 'of 10' }).waitFor({ timeout: 5000 });
    assert.strictEqual(await out.locator('mark.log-hit').count(), 10);
    assert.deepStrictEqual(await out.locator('mark.log-hit').allTextContents(), Array(10).fill('line 12'));
    const current = () => out.locator('mark.log-hit--current').evaluate((m) => m.parentNode.dataset.n);
    await f.locator('#l-q').press('Enter');
    assert.strictEqual(await current(), '12');
    assert.strictEqual(await f.locator('#l-hits').innerText(), '1 of 10');
    await f.locator('#l-q').press('Enter');
    assert.strictEqual(await current(), '121');
    await f.locator('#l-q').press('Shift+Enter');
    assert.strictEqual(await current(), '12');
    await f.locator('#l-q').press('Shift+Enter');
    assert.strictEqual(await current(), '129');
    await f.locator('#l-next').click();
    assert.strictEqual(await current(), '12');

    // Context ± 2: the hits and two lines each side, gaps between.
    await f.locator('#l-context').selectOption('2');
    const shown = await lines.evaluateAll((ls) => ls.map((l) => Number(l.dataset.n)));
    assert.deepStrictEqual(shown, [10, 11, 12, 13, 14, ...Array.from({ length: 13 }, (_, k) => 119 + k)]);
    assert.strictEqual(await out.locator('.log-gap').count(), 1);
    await f.locator('#l-context').selectOption('all');
    assert.strictEqual(await lines.count(), 150);
    await f.locator('#l-q').fill('');
    await f.locator('#l-hits:empty').waitFor({ state: 'attached', timeout: 5000 });
    assert.strictEqual(await out.locator('mark').count(), 0);

    // Wrap: a toggle button.
    const wrap = f.locator('#l-wrap');
    assert.strictEqual(await wrap.getAttribute('aria-pressed'), 'false');
    await wrap.click();
    assert.strictEqual(await wrap.getAttribute('aria-pressed'), 'true');
    assert.match(await out.getAttribute('class'), /log-output--wrap/);
    assert.strictEqual(await out.evaluate((n) => getComputedStyle(n).whiteSpace), 'pre-wrap');
    await wrap.click();
    assert.strictEqual(await out.evaluate((n) => getComputedStyle(n).whiteSpace), 'pre');
  });
});

test('pause holds new lines while the follow goes on; resume shows them', async () => {
  await withPage('logs-pause', async (page, f) => {
    const out = f.locator('#log-output');
    await f.locator('#log-output[data-state=following]').waitFor({ timeout: 15000 });
    const pause = f.locator('#l-pause');
    await pause.click();
    assert.strictEqual(await pause.getAttribute('aria-pressed'), 'true');
    await f.locator('#log-output[data-state=paused]').waitFor({ timeout: 5000 });
    fs.appendFileSync(kit.logPath(id), 'while paused 1\nwhile paused 2\n');
    await f.locator('#log-status', { hasText: '2 new lines waiting' }).waitFor({ timeout: 5000 });
    assert.strictEqual(await out.locator('.log-line', { hasText: 'while paused' }).count(), 0);
    await pause.click();
    assert.strictEqual(await pause.getAttribute('aria-pressed'), 'false');
    await out.locator('.log-line', { hasText: 'while paused 2' }).waitFor({ timeout: 5000 });
    const last = out.locator('.log-line').last();
    assert.strictEqual(await last.getAttribute('data-n'), '152');
    assert.match(await last.getAttribute('data-time'), /^\d\d:\d\d:\d\d$/);
    await f.locator('#log-output[data-state=following]').waitFor({ timeout: 5000 });
    // And the follow goes on after resuming.
    fs.appendFileSync(kit.logPath(id), 'after resume\n');
    await out.locator('.log-line', { hasText: 'after resume' }).waitFor({ timeout: 5000 });
  });
});

test('the view resizes by keyboard and keeps its height', async () => {
  await withPage('logs-resize', async (page, f) => {
    await f.locator('#log-output[data-state=following]').waitFor({ timeout: 15000 });
    const out = f.locator('#log-output');
    const h0 = await out.evaluate((n) => n.offsetHeight);
    await f.locator('#l-handle').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const h1 = await out.evaluate((n) => n.offsetHeight);
    assert.strictEqual(h1, h0 + 80);
    await page.keyboard.press('ArrowUp');
    const h2 = await out.evaluate((n) => n.offsetHeight);
    assert.strictEqual(h2, h0 + 40);
    assert.strictEqual(await f.locator('#l-handle').getAttribute('aria-valuenow'), String(h2));
    await page.reload();
    await page.frameLocator('#yard-frame').locator('#log-output[data-state=following]').waitFor({ timeout: 15000 });
    assert.strictEqual(await page.frameLocator('#yard-frame').locator('#log-output').evaluate((n) => n.offsetHeight), h2);
  });
});

test('~4 MB of output is shown and searched without the page hanging', async () => {
  await withPage('logs-big', async (page, f) => {
    const out = f.locator('#log-output');
    await f.locator('#log-output[data-state=following]').waitFor({ timeout: 15000 });
    const before = Number(await out.getAttribute('data-lines'));
    // 50,000 lines of 80 bytes, one a needle.
    const N = 50000;
    const parts = [];
    for (let i = 0; i < N; i++) {
      const tag = i === 31337 ? 'NEEDLE' : 'filler';
      parts.push(`${tag} ${String(i).padStart(6, '0')} ${'x'.repeat(65)}`);
    }
    const big = parts.join('\n') + '\n';
    assert.ok(big.length > 3.9e6);
    fs.appendFileSync(kit.logPath(id), big);
    await f.locator(`#log-output[data-lines="${before + N}"]`).waitFor({ timeout: 150000 });
    // The page answers at once, with a bounded number of lines in it.
    const lag = await out.evaluate(() => new Promise((r) => {
      const t = performance.now();
      setTimeout(() => r(performance.now() - t), 0);
    }));
    assert.ok(lag < 500, `the page's event loop lags ${lag} ms`);
    assert.ok(await out.locator('.log-line').count() <= 1000);
    assert.strictEqual(await out.locator('.log-line').last().getAttribute('data-n'), String(before + N));
    // Search all of it: one hit, and Enter brings it into the page.
    // The work in the page (highlight, jump) is measured there: the
    // machine running the tests may be busy.
    const ms = await f.locator('#l-q').evaluate((q) => {
      const t = performance.now();
      q.value = 'needle';
      q.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      return performance.now() - t;
    });
    assert.ok(ms < 1500, `search and jump took ${ms} ms`);
    await f.locator('#l-q').fill('');
    await out.locator('mark').first().waitFor({ state: 'detached', timeout: 5000 });
    const t1 = Date.now();
    await f.locator('#l-q').fill('needle');
    await f.locator('#l-hits', { hasText: 'of 1' }).waitFor({ timeout: 5000 });
    await f.locator('#l-q').press('Enter');
    const m = out.locator('mark.log-hit--current');
    console.log('in-page search and jump:', ms, 'ms; through playwright:', Date.now() - t1, 'ms');
    await m.waitFor({ timeout: 5000 });
    assert.ok(Date.now() - t1 < 15000, `search took ${Date.now() - t1} ms`);
    assert.strictEqual(await m.evaluate((n) => n.parentNode.dataset.n), String(before + 31338));
    assert.ok(await out.locator('.log-line').count() <= 1000);
    assert.strictEqual(await f.locator('#l-later').isVisible(), true);
  });
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
