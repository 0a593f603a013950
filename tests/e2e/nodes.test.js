// Browser: an admin enrols a node from the Nodes page, runs the command it
// shows with the real yard-agent, watches the node come online, and tests
// the connection (issue 3).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, TOP } = require('../lib/stack.js');

let s, b;
test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

test('admin enrols a node from the page and watches it come online', async () => {
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=nodes`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    const f = page.frameLocator('#yard-frame');
    await f.locator('[data-action="enroll"]').click({ timeout: 15000 });
    // The box exists before the token arrives: wait for the command.
    const box = f.locator('#enroll-command', { hasText: 'yard-agent enroll' });
    await box.waitFor({ timeout: 10000 });
    const cmd = (await box.innerText()).trim();
    const m = cmd.match(/^yard-agent enroll --server (\S+) --token ([A-Za-z0-9_-]{43})$/);
    assert.ok(m, cmd);
    assert.strictEqual(m[1], s.yard.url);
    const agent = await s.agent('from-page', s.yard.url, m[2]);
    const row = f.locator(`tr[data-node-id="${agent.nodeId}"]`);
    await row.waitFor({ timeout: 15000 });
    await row.locator('[data-status="online"]').waitFor({ timeout: 15000 });
    await row.click();
    await f.locator('[data-action="ping"]').click({ timeout: 10000 });
    await f.locator('#ping-result[data-state="succeeded"]').waitFor({ timeout: 15000 });
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', 'nodes-enrol.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
