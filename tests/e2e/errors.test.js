// Browser: a form refused by the server shows every refused field next to
// its input in the page's language (issue 13): submitting the task form in
// zh-CN with two bad fields shows two Chinese messages by the two inputs,
// no Latin text in them, focus on the first, and the live region says so.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, TOP } = require('../lib/stack.js');

let s, b, agent;

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  const admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('errors-page', s.yard.url, e.json.token);
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

test('task form in zh-CN: two refused fields, two Chinese messages, focus on the first', async () => {
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=tasks&lang=zh-CN`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    const f = page.frameLocator('#yard-frame');
    const form = f.locator('#task-create');
    await f.locator('#task-new').click({ timeout: 15000 });
    await form.waitFor({ timeout: 5000 });
    await f.locator(`#task-node option[value="${agent.nodeId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await f.locator('#task-node').selectOption(String(agent.nodeId));
    // Two refusals only the server makes: a name starting with a dash and
    // a relative deploy directory.
    await f.locator('#task-name').fill('-bad');
    await f.locator('#task-deploy').fill('relative/dir');
    await f.locator('#task-command').fill('/bin/true');
    await form.locator('button[type=submit]').click();

    const nameErr = f.locator('#task-name-error');
    const dirErr = f.locator('#task-deploy-error');
    await nameErr.waitFor({ state: 'visible', timeout: 10000 });
    await dirErr.waitFor({ state: 'visible', timeout: 10000 });
    const texts = [await nameErr.innerText(), await dirErr.innerText()];
    for (const t of texts) {
      assert.match(t, /[\u4e00-\u9fff]/, t);
      assert.doesNotMatch(t, /[A-Za-z]/, t);
    }
    assert.match(texts[1], /绝对路径/);
    // Each input says it is invalid and which text describes it.
    for (const [input, box] of [['#task-name', 'task-name-error'], ['#task-deploy', 'task-deploy-error']]) {
      assert.strictEqual(await f.locator(input).getAttribute('aria-invalid'), 'true');
      assert.ok((await f.locator(input).getAttribute('aria-describedby')).split(' ').includes(box));
    }
    // Focus on the first refused input in the form's order.
    assert.strictEqual(await f.locator('#task-name').evaluate((n) => n === document.activeElement), true);
    // The assertive live region read out both, by their labels.
    const live = form.locator('[aria-live="assertive"]');
    const said = await live.innerText();
    assert.match(said, /2 处/);
    assert.match(said, /名称/);
    assert.doesNotMatch(said, /spec|must|deploy_dir/);
    assert.strictEqual(s.sql(`SELECT count(*) FROM tasks WHERE name = '-bad'`), '0');

    // Fixed and sent again: the old messages go.
    await f.locator('#task-name').fill('good-name');
    await form.locator('button[type=submit]').click();
    await f.locator('#task-name-error').waitFor({ state: 'hidden', timeout: 10000 });
    assert.strictEqual(await f.locator('#task-name').getAttribute('aria-invalid'), null);
    await dirErr.waitFor({ state: 'visible', timeout: 10000 });
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', 'errors-task.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
});
