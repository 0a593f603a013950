// Browser, keyboard only (issue 13): on the Tasks page inside EWS an admin,
// with Tab, Shift-Tab, Enter, Space, arrows and Escape only, opens the
// New task drawer, creates a task, starts it, opens its "more" menu, stops
// it (the confirmation focuses Cancel first) and opens its logs, while the
// list refreshes every 2 s underneath without taking the focus away.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { startE2E, browser, withPage: signedIn, waitFor, sleep } = require('../lib/stack.js');

let s, b, agent;

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  const admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('kbd-node', s.yard.url, e.json.token);
  // Another task, so that the list has rows to refresh around ours.
  const spec = { kind: 'console', deploy_dir: path.join(s.dir, 'deploy', 'other'),
    console: { command: '/bin/sh', args: ['-c', 'exec sleep 300'] } };
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: agent.nodeId, name: 'other', spec } });
  assert.strictEqual(r.status, 201, r.text);
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

// What has the focus inside the Tasks frame: a short description.
async function focused(fr) {
  return fr.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body) return 'body';
    return a.dataset.action || (a.id ? '#' + a.id : a.tagName.toLowerCase());
  });
}

// Press Tab (or Shift+Tab) until `sel` has the focus in the frame.
async function tabTo(page, fr, sel, back = false, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await fr.evaluate((q) => document.activeElement && document.activeElement.matches(q), sel)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`no focus on ${sel} after ${max} presses (on ${await focused(fr)})`);
}

test('keyboard only: drawer, create, start, menu, stop with confirmation, logs', async () => {
  await signedIn(b, s, { name: 'keyboard', sub: 'u-admin', start: '/?module=tasks&lang=en', width: 1200, height: 900 }, async (page, f) => {
    await f.locator('#task-new').waitFor({ state: 'visible', timeout: 15000 });
    await f.locator(`#task-node option[value="${agent.nodeId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    const fr = page.frames().find((x) => /\/ui\/tasks/.test(x.url()));
    let lists = 0;
    page.on('request', (r) => { if (/\/api\/v1\/tasks\?/.test(r.url())) lists++; });

    // From the top of the portal into the frame, to New task.
    await page.locator('body').focus();
    await tabTo(page, fr, '#task-new');
    await page.keyboard.press('Enter');
    await f.locator('#task-drawer[open]').waitFor({ timeout: 5000 });
    assert.strictEqual(await focused(fr), '#task-node', 'the drawer focuses its first field');
    // Escape closes it, the focus back on New task; Space opens it again.
    await page.keyboard.press('Escape');
    await f.locator('#task-drawer:not([open])').waitFor({ state: 'attached', timeout: 5000 });
    assert.strictEqual(await focused(fr), '#task-new');
    await page.keyboard.press('Space');
    await f.locator('#task-drawer[open]').waitFor({ timeout: 5000 });
    // The form, field by field. The node is the only one, already chosen.
    await tabTo(page, fr, '#task-name');
    await page.keyboard.type('kbd-echo');
    await tabTo(page, fr, '#task-deploy');
    await page.keyboard.type(path.join(s.dir, 'deploy', 'kbd-echo'));
    await tabTo(page, fr, '#task-command');
    await page.keyboard.type('/bin/sh');
    await tabTo(page, fr, '#task-args');
    await page.keyboard.type('-c');
    await page.keyboard.press('Enter');
    await page.keyboard.type('echo hello from kbd; exec sleep 300');
    await tabTo(page, fr, '#task-grace');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('2');
    // The drawer traps the focus: Tab never leaves it.
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await fr.evaluate(() => document.getElementById('task-drawer').contains(document.activeElement)),
        'the focus stays in the drawer');
      if (await focused(fr) === '#task-submit') break;
    }
    assert.strictEqual(await focused(fr), '#task-submit');
    // Past the last control (Cancel) Tab wraps to the first (Close), and back.
    await page.keyboard.press('Tab');
    assert.strictEqual(await focused(fr), 'cancel-edit');
    await page.keyboard.press('Tab');
    assert.strictEqual(await focused(fr), 'drawer-close');
    await page.keyboard.press('Shift+Tab');
    assert.strictEqual(await focused(fr), 'cancel-edit');
    await page.keyboard.press('Shift+Tab');
    assert.strictEqual(await focused(fr), '#task-submit');
    await page.keyboard.press('Enter');
    const row = f.locator('tr[data-task-name="kbd-echo"]');
    await row.waitFor({ timeout: 10000 });
    await f.locator('#task-drawer:not([open])').waitFor({ state: 'attached', timeout: 5000 });
    assert.strictEqual(await focused(fr), '#task-new', 'the focus is back on New task');

    // Start: the row's first button. The same button then reads Stop and
    // keeps the focus through the refreshes.
    await tabTo(page, fr, 'tr[data-task-name="kbd-echo"] button[data-action=start]');
    await fr.evaluate(() => { document.activeElement.__mark = 1; });
    await page.keyboard.press('Enter');
    await f.locator('tr[data-task-name="kbd-echo"][data-state=running]').waitFor({ timeout: 20000 });
    await f.locator('#task-last[data-state=succeeded]').waitFor({ timeout: 15000 });
    const before = lists;
    await sleep(4500);
    assert.ok(lists - before >= 2, `the list refreshed ${lists - before} times`);
    assert.deepStrictEqual(await fr.evaluate(() => [document.activeElement.__mark, document.activeElement.dataset.action]),
      [1, 'stop'], 'the focused button became Stop and kept the focus');

    // The more menu: Tab to it, ArrowDown opens it on its first item,
    // arrows move, Escape closes it and returns the focus.
    await page.keyboard.press('Tab');
    assert.strictEqual(await focused(fr), 'more');
    await page.keyboard.press('ArrowDown');
    const menu = row.locator('[role=menu]');
    await menu.waitFor({ state: 'visible', timeout: 5000 });
    assert.strictEqual(await row.locator('[data-action=more]').getAttribute('aria-expanded'), 'true');
    assert.strictEqual(await focused(fr), 'restart');
    await page.keyboard.press('ArrowDown');
    assert.strictEqual(await focused(fr), 'logs');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    assert.notStrictEqual(await focused(fr), 'restart', 'ArrowUp wraps to the last item');
    await sleep(2500); // a refresh while the menu is open: it stays open
    assert.strictEqual(await menu.isVisible(), true);
    await page.keyboard.press('Escape');
    assert.strictEqual(await menu.isHidden(), true);
    assert.strictEqual(await focused(fr), 'more');

    // Stop (Shift-Tab back to it): the confirmation focuses Cancel first.
    await page.keyboard.press('Shift+Tab');
    assert.strictEqual(await focused(fr), 'stop');
    await page.keyboard.press('Enter');
    await f.locator('#yard-confirm').waitFor({ timeout: 5000 });
    assert.strictEqual(await fr.evaluate(() => document.activeElement.closest('#yard-confirm') !== null &&
      document.activeElement.dataset.action), 'cancel');
    await page.keyboard.press('Tab');
    assert.strictEqual(await fr.evaluate(() => document.activeElement.dataset.action), 'confirm');
    await page.keyboard.press('Enter');
    await f.locator('tr[data-task-name="kbd-echo"][data-state=stopped]').waitFor({ timeout: 20000 });
    assert.strictEqual(await fr.evaluate(() => document.activeElement.closest('tr') &&
      document.activeElement.closest('tr').dataset.taskName), 'kbd-echo', 'the focus came back to the row');

    // Logs: from the menu, by its first letter.
    await tabTo(page, fr, 'tr[data-task-name="kbd-echo"] [data-action=more]');
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'visible', timeout: 5000 });
    await page.keyboard.press('l');
    assert.strictEqual(await focused(fr), 'logs');
    await page.keyboard.press('Enter');
    await page.waitForURL(/module=logs/, { timeout: 10000 });
    const id = s.sql(`SELECT id FROM tasks WHERE name = 'kbd-echo'`);
    assert.strictEqual(await f.locator('body[data-yard-page=ready] #l-task').inputValue(), id);
  });
  assert.strictEqual(s.sql(`SELECT string_agg(c.type || ':' || c.state, ',' ORDER BY c.seq) FROM commands c
    JOIN tasks t ON t.id = c.task_id WHERE t.name = 'kbd-echo'`), 'start:succeeded,stop:succeeded');
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
