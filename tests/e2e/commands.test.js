// Browser, zh-CN: the Commands page words a stop's result in Chinese from
// its code (no Latin word but the signal's name), names command types in
// Chinese and the issuer by display name (the sub in a tooltip), shows one
// start time and each stage's duration per command, opens a command's
// detail in place under its row from the keyboard, and keeps focus and
// the open detail through live refreshes (issue 13).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, TOP } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, b, agent, admin, k;

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('u-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('commands-page', s.yard.url, e.json.token);
  k = taskKit(s, admin, agent);
});
test.after(async () => {
  if (k) k.killAll();
  if (b) await b.close();
  if (s) await s.stop();
});

test('a stop reads in Chinese, by name, with stage times, its detail opening at its row', async () => {
  const id = await k.console('cmd-zh', 'exec sleep 300');
  assert.strictEqual((await k.run('start', id)).state, 'succeeded');
  const stop = await k.run('stop', id);
  assert.strictEqual(stop.code, 'stopped_signal', stop.output);
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=commands&lang=zh-CN&query=${encodeURIComponent('task=' + id)}`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    const f = page.frameLocator('#yard-frame');
    const row = f.locator(`tr[data-command-id="${stop.id}"][data-state="succeeded"]`);
    await row.waitFor({ timeout: 15000 });
    const name = s.sql(`SELECT name FROM users WHERE sub = 'u-admin'`);
    assert.ok(name.length > 0 && name !== 'u-admin', name);

    // The type in Chinese, the issuer by name with the sub as tooltip.
    assert.strictEqual(await row.locator('td[data-cell=type]').innerText(), '停止');
    assert.strictEqual(await f.locator(`tr[data-type="start"] td[data-cell=type]`).innerText(), '启动');
    assert.strictEqual(await row.locator('td[data-cell=user]').innerText(), name);
    assert.strictEqual(await row.locator('td[data-cell=user]').getAttribute('title'), 'u-admin');
    // One start time; each stage's duration, not three timestamps.
    const when = await row.locator('[data-cell=when]').innerText();
    assert.strictEqual((when.match(/\d{1,2}:\d{2}/g) || []).length, 1, when);
    const stages = await row.locator('td[data-cell=stages]').innerText();
    assert.match(stages, /^排队 \d+(\.\d)? (ms|s)( · 送达 \d+(\.\d)? (ms|s))? · 执行 \d+(\.\d)? (ms|s)$/, stages);

    // From the keyboard: the disclosure opens the detail right under its row.
    const toggle = row.locator('button[data-action=toggle]');
    assert.strictEqual(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.focus();
    await toggle.evaluate((n) => { n.dataset.marked = '1'; });
    await page.keyboard.press('Enter');
    await f.locator('#command-detail').waitFor({ state: 'visible', timeout: 10000 });
    assert.strictEqual(await toggle.getAttribute('aria-expanded'), 'true');
    assert.strictEqual(await row.evaluate((r) => r.nextElementSibling && r.nextElementSibling.id), 'command-detail-row');
    await f.locator('#detail-result', { hasText: '停止' }).waitFor({ timeout: 10000 });
    const result = await f.locator('#detail-result').innerText();
    assert.match(result, /^已用 SIGTERM 停止，用时 \d+ 毫秒$/, result);
    assert.doesNotMatch(result.replace(/\bSIG[A-Z]+\b/g, ''), /[A-Za-z]/, result);
    assert.strictEqual(await f.locator('#detail-result').getAttribute('aria-live'), 'polite');
    const states = await f.locator('#detail-events li').evaluateAll((li) => li.map((x) => x.dataset.state));
    assert.deepStrictEqual(states, ['queued', 'dispatched', 'succeeded']);
    // The agent's own words stay at hand, folded away.
    assert.match(await f.locator('#detail-output').textContent(), /^stopped by SIGTERM in \d+ ms$/);

    // Live refreshes (every 3 s) patch rows in place: focus and the
    // open detail stay.
    await page.waitForTimeout(3600);
    assert.strictEqual(await f.locator('body').evaluate(() => document.activeElement &&
      document.activeElement.dataset.marked), '1');
    assert.strictEqual(await row.evaluate((r) => r.nextElementSibling && r.nextElementSibling.id), 'command-detail-row');
    assert.strictEqual(await f.locator('#detail-result').innerText(), result);

    // Enter again closes it; focus still on its button.
    await page.keyboard.press('Enter');
    await f.locator('#command-detail').waitFor({ state: 'detached', timeout: 5000 });
    assert.strictEqual(await toggle.getAttribute('aria-expanded'), 'false');
    assert.strictEqual(await f.locator('body').evaluate(() => document.activeElement.dataset.marked), '1');
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', 'commands-zh.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
});

test('Yard.commandText words every documented code in both languages', () => {
  global.window = {};
  require(path.join(TOP, 'frontend-fragments', 'shared', 'i18n.js'));
  const { 'zh-CN': zh, en } = global.window.YardI18n;
  const doc = fs.readFileSync(path.join(TOP, 'docs', 'agent-protocol.md'), 'utf8');
  const from = doc.indexOf('#### Result codes');
  const sect = doc.slice(from, doc.indexOf('Start, restart and `apply-config` results add', from));
  const codes = [...sect.matchAll(/^\| (`[a-z0-9_]+`(?:, `[a-z0-9_]+`)*) \|/gm)]
    .flatMap((m) => m[1].split(', ').map((c) => c.replace(/`/g, '')));
  assert.ok(codes.length >= 30, String(codes.length));
  for (const c of codes) {
    assert.ok(zh['command.result.' + c], `zh-CN command.result.${c}`);
    assert.ok(en['command.result.' + c], `en command.result.${c}`);
    assert.doesNotMatch(zh['command.result.' + c].replace(/\{[a-z_]+\}|PID/g, ''), /[A-Za-z]/, c);
  }
});
