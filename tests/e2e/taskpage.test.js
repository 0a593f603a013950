// Browser: a task's own page (issue 13). Opened inside EWS with ?task=ID
// and at the top level as /ui/tasks/ID: the header (name, node, state in
// colour and text, uptime, PID, health, last exit and restart, actions the
// user may take), tabs with arrow keys and the tab kept in the address,
// each tab's content (spec, events, the logs view, metrics, commands, releases,
// configuration, alerts), the header patched in place while the focus
// stays, and a viewer's page without actions.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const { startE2E, browser, withPage: signedIn, waitFor, sleep } = require('../lib/stack.js');

let s, b, agent, admin, taskId;

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('taskpage', s.yard.url, e.json.token);
  const spec = { kind: 'console', deploy_dir: path.join(s.dir, 'deploy', 'pagey'),
    console: { command: '/bin/sh', args: ['-c', 'echo up; exec sleep 300'] }, stop_grace: 2 };
  let r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: agent.nodeId, name: 'pagey', spec } });
  assert.strictEqual(r.status, 201, r.text);
  taskId = r.json.id;
  r = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'start', task_id: taskId } });
  assert.strictEqual(r.status, 201, r.text);
  await waitFor(() => s.sql(`SELECT state FROM tasks WHERE id = ${taskId}`) === 'running', 20000, 'running');
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

const withPage = (name, sub, start, fn) =>
  signedIn(b, s, { name, sub, start, width: 1200, height: 900 }, fn);

const tasksFrame = (page) => page.frames().find((x) => /\/ui\/tasks/.test(x.url()));

test('the header: state in colour and text, facts, and only the actions that make sense', async () => {
  await withPage('taskpage-head', 'u-admin', `/?module=tasks&lang=en&query=${encodeURIComponent('task=' + taskId)}`, async (page, f) => {
    await f.locator(`#task-page[data-task-id="${taskId}"][data-state=ready]`).waitFor({ timeout: 15000 });
    const head = f.locator(`#task-head[data-task-id="${taskId}"]`);
    assert.strictEqual(await head.locator('h2').innerText(), 'pagey');
    await f.locator('#task-head[data-state=running]').waitFor({ timeout: 10000 });
    assert.strictEqual(await head.locator('[data-cell=state] .badge').innerText(), 'Running');
    assert.strictEqual(await head.locator('[data-cell=state] .state-dot').getAttribute('data-tone'), 'success');
    assert.strictEqual(await head.locator('[data-fact=node]').innerText(), s.sql(`SELECT name FROM nodes WHERE id = ${agent.nodeId}`));
    const pid = s.sql(`SELECT pid FROM tasks WHERE id = ${taskId}`);
    await head.locator('[data-fact=pid]', { hasText: pid }).waitFor({ timeout: 10000 });
    assert.match(await head.locator('[data-fact=uptime]').innerText(), /\d+ (s|min)/);
    // Running: Stop, not Start; Restart and the rest in the menu.
    assert.strictEqual(await head.locator('button[data-action=stop]').isVisible(), true);
    assert.strictEqual(await head.locator('[data-action=start]').count(), 0);
    await head.locator('[data-action=more]').click();
    const items = await head.locator('[role=menu] [role=menuitem]').evaluateAll((x) => x.map((e) => e.dataset.action));
    assert.deepStrictEqual(items, ['restart', 'deploy', 'move', 'edit', 'mute', 'uninstall']);
    await head.locator('[role=menuitem]').first().press('Escape');
    assert.strictEqual(await head.locator('[role=menu]').isHidden(), true);
    assert.strictEqual(await head.locator('[data-action=more]').getAttribute('aria-expanded'), 'false');
    assert.strictEqual(await tasksFrame(page).evaluate(() => document.activeElement.dataset.action), 'more');

    // Patched in place: the focused Stop button survives several refreshes.
    await head.locator('button[data-action=stop]').focus();
    await tasksFrame(page).evaluate(() => { document.activeElement.__mark = 1; });
    let gets = 0;
    page.on('request', (r) => { if (new RegExp(`/api/v1/tasks/${taskId}$`).test(r.url())) gets++; });
    await sleep(5000);
    assert.ok(gets >= 2, `refreshed ${gets} times`);
    assert.strictEqual(await tasksFrame(page).evaluate(() => document.activeElement.__mark === 1 &&
      document.activeElement.dataset.action), 'stop');
  });
});

test('tabs: arrow keys, the tab in the address, and each tab\'s content', async () => {
  await withPage('taskpage-tabs', 'u-admin', `/?module=tasks&lang=en&query=${encodeURIComponent('task=' + taskId)}`, async (page, f) => {
    await f.locator('#task-page[data-state=ready]').waitFor({ timeout: 15000 });
    const tabs = await f.locator('[role=tablist] [role=tab]').evaluateAll((x) => x.map((e) => e.dataset.tab));
    assert.deepStrictEqual(tabs, ['overview', 'events', 'logs', 'metrics', 'commands', 'releases', 'config', 'alerts']);
    assert.strictEqual(await f.locator('[role=tab][data-tab=overview]').getAttribute('aria-selected'), 'true');
    // Overview: the spec, readable.
    assert.strictEqual(await f.locator('#task-spec [data-spec=deploy_dir]').innerText(), path.join(s.dir, 'deploy', 'pagey'));
    assert.strictEqual(await f.locator('#task-spec [data-spec=args]').innerText(), '-c\necho up; exec sleep 300');
    // Keyboard: only the selected tab is in the Tab order; arrows move.
    assert.strictEqual(await f.locator('[role=tab][tabindex="0"]').count(), 1);
    await f.locator('[role=tab][data-tab=overview]').focus();
    await f.locator('[role=tab][data-tab=overview]').press('ArrowRight');
    const fr = tasksFrame(page);
    assert.strictEqual(await fr.evaluate(() => document.activeElement.dataset.tab), 'events');
    assert.strictEqual(await f.locator('[role=tab][data-tab=events]').getAttribute('aria-selected'), 'true');
    assert.strictEqual(await f.locator('#tab-events').isVisible(), true);
    assert.strictEqual(await f.locator('#tab-overview').isHidden(), true);
    assert.match(fr.url(), /[?&]tab=events(&|$)/);
    await fr.press('[role=tab][data-tab=events]', 'End');
    assert.strictEqual(await fr.evaluate(() => document.activeElement.dataset.tab), 'alerts');
    await f.locator('#task-alerts').waitFor({ timeout: 10000 });
    await fr.press('[role=tab][data-tab=alerts]', 'ArrowRight');
    assert.strictEqual(await fr.evaluate(() => document.activeElement.dataset.tab), 'overview');
    assert.doesNotMatch(fr.url(), /tab=/);

    await f.locator('[role=tab][data-tab=commands]').click();
    await f.locator('#task-commands tr[data-type=start][data-state=succeeded]').waitFor({ timeout: 10000 });
    await f.locator('[role=tab][data-tab=metrics]').click();
    await f.locator('#task-metrics svg[data-chart=cpu]').waitFor({ timeout: 10000 });
    await f.locator('#task-metrics svg[data-chart=mem]').waitFor({ timeout: 10000 });
    await f.locator('[role=tab][data-tab=releases]').click();
    await f.locator(`[data-releases-of="${taskId}"] .releases[data-state=ready]`).waitFor({ timeout: 10000 });
    await f.locator('[role=tab][data-tab=config]').click();
    await f.locator(`#config-panel[data-task-id="${taskId}"][data-state=ready]`).waitFor({ timeout: 10000 });
    await f.locator('[role=tab][data-tab=logs]').click();
    await f.locator(`#tab-logs #task-logs[data-task-id="${taskId}"] #log-output`).waitFor({ timeout: 10000 });
    assert.match(page.url(), /module=tasks/, 'the logs are in the tab, not on the Logs page');
  });
});

// The Logs tab is the logs view (shared/logview.js) for this task only.
test('the Logs tab shows the task\'s lines, follows, searches, and stops following when left', async () => {
  const log = path.join(agent.state, 'logs', `${taskId}.log`);
  await withPage('taskpage-logs', 'u-admin', `/?module=tasks&lang=en&query=${encodeURIComponent(`task=${taskId}&tab=logs`)}`, async (page, f) => {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const polls = [], answers = [];
    const isPoll = (u) => new RegExp(`/api/v1/tasks/${taskId}/logs\\?.*request=`).test(u);
    page.on('request', (r) => { if (isPoll(r.url())) polls.push(Date.now()); });
    page.on('requestfinished', (r) => { if (isPoll(r.url())) answers.push(Date.now()); });
    await f.locator('#task-page[data-state=ready]').waitFor({ timeout: 15000 });
    const out = f.locator('#tab-logs #log-output');
    await f.locator('#tab-logs #log-output[data-state=following]').waitFor({ timeout: 15000 });
    assert.strictEqual(await f.locator('#l-task').count(), 0, 'no task picker');
    await out.locator('.log-line', { hasText: /^up$/ }).first().waitFor({ timeout: 5000 });
    assert.match(await out.locator('.log-line').first().getAttribute('data-n'), /^\d+$/);

    // Follow: a line the task writes shows up.
    fs.appendFileSync(log, 'tab line one\n');
    await out.locator('.log-line', { hasText: 'tab line one' }).waitFor({ timeout: 5000 });
    assert.ok(polls.length >= 1, 'the tab follows with polls');

    // Search: hits are marked.
    await f.locator('#tab-logs #l-q').fill('LINE ONE');
    await f.locator('#tab-logs #l-hits', { hasText: 'of 1' }).waitFor({ timeout: 5000 });
    assert.deepStrictEqual(await out.locator('mark.log-hit').allTextContents(), ['line one']);

    // Leaving the tab ends the follow: no poll after the one in flight.
    await f.locator('[role=tab][data-tab=overview]').click();
    await f.locator('#log-output[data-state=stopped]').waitFor({ state: 'attached', timeout: 5000 });
    const left = Date.now();
    fs.appendFileSync(log, 'while away\n'); // answers the poll in flight
    await waitFor(() => answers.some((t) => t > left), 25000, 'the poll in flight answered');
    const answered = answers.find((t) => t > left);
    await sleep(1500);
    assert.deepStrictEqual(polls.filter((t) => t > left + 200 || t >= answered).map((t) => t - left), [],
      'no follow poll after leaving the tab');

    // Back on the tab: read afresh (with what was written meanwhile), following again.
    await f.locator('[role=tab][data-tab=logs]').click();
    await f.locator('#tab-logs #log-output[data-state=following]').waitFor({ timeout: 15000 });
    await out.locator('.log-line', { hasText: 'while away' }).waitFor({ timeout: 5000 });
    fs.appendFileSync(log, 'tab line two\n');
    await out.locator('.log-line', { hasText: 'tab line two' }).waitFor({ timeout: 5000 });
    assert.deepStrictEqual(errors, []);
  });
});

test('the Events tab reads each event as a sentence, with its reason, time and who', async (t) => {
  await withPage('taskpage-events', 'u-admin', `/?module=tasks&lang=en&query=${encodeURIComponent(`task=${taskId}&tab=events`)}`, async (page, f) => {
    await f.locator('#task-page[data-state=ready]').waitFor({ timeout: 15000 });
    assert.strictEqual(await f.locator('[role=tab][data-tab=events]').getAttribute('aria-selected'), 'true');
    const text = await tasksFrame(page).evaluate(() => [
      window.YardTaskPage.eventText({ kind: 'killed', code: 'outside', params: { signal: 'SIGKILL', by: 'outside' } }),
      window.YardTaskPage.eventText({ kind: 'restarted', code: 'exited', params: { reason: 'exited', restarts: 1 } }),
      window.YardTaskPage.eventText({ kind: 'exited', code: 'self', params: { status: 3, by: 'self' } }),
      window.YardTaskPage.eventText({ kind: 'crash_loop', code: 'policy', params: { restarts: 5 } }),
      window.YardTaskPage.eventText({ kind: 'stopped', code: 'stop', params: { signal: 'SIGTERM' } }),
    ]);
    assert.deepStrictEqual(text, ['Killed by outside signal SIGKILL', 'Restarted by policy (attempt 1)',
      'Exited with code 3', 'Crashed repeatedly (5 restarts); automatic restarts paused until a start',
      'Stopped (signal SIGTERM)']);
    const list = f.locator('#task-events');
    await f.locator('#task-events[data-state=ready], #task-events[data-state=error]').waitFor({ timeout: 10000 });
    const r = await s.api('GET', `/api/v1/tasks/${taskId}/events?limit=5`, { token: admin });
    if (r.status === 404 && !Array.isArray(r.json && r.json.items)) {
      t.diagnostic('GET /tasks/ID/events is not in this build yet: the list is not checked');
      assert.strictEqual(await list.getAttribute('data-state'), 'error');
      return;
    }
    assert.strictEqual(r.status, 200, r.text);
    await f.locator('#task-events[data-state=ready] li[data-kind=started]').first().waitFor({ timeout: 10000 });
    const first = f.locator('#task-events li[data-kind=started]').last();
    assert.match(await first.innerText(), /Started, PID \d+/);
    assert.match(await first.innerText(), /by /);
    // Killed from outside: the policy restarts it; the open tab shows both
    // with their reasons, and the header says how it last ended.
    const pid = Number(s.sql(`SELECT pid FROM tasks WHERE id = ${taskId}`));
    process.kill(pid, 'SIGKILL');
    const killed = f.locator('#task-events li[data-kind=killed]');
    await killed.first().waitFor({ timeout: 20000 });
    assert.match(await killed.first().innerText(), /Killed by outside signal SIGKILL/);
    await f.locator('#task-events li[data-kind=restarted]', { hasText: /Restarted by policy \(attempt 1\)/ }).waitFor({ timeout: 20000 });
    await f.locator('#task-head [data-fact=exit]', { hasText: /killed by outside signal SIGKILL/ }).waitFor({ timeout: 10000 });
    await f.locator('#task-head [data-fact=restart]', { hasText: /restarted by policy/ }).waitFor({ timeout: 10000 });
  });
});

test('/ui/tasks/ID at the top level opens the page on the tab of the address', async () => {
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    const tok = await s.mint('e2e-admin', ['yard-admin']);
    await page.goto(`${s.yard.url}/ui/tasks/${taskId}?lang=en&tab=commands#access_token=${tok}`);
    await page.locator(`#task-page[data-task-id="${taskId}"][data-state=ready]`).waitFor({ timeout: 15000 });
    assert.strictEqual(await page.locator('[role=tab][data-tab=commands]').getAttribute('aria-selected'), 'true');
    await page.locator('#task-commands').waitFor({ timeout: 10000 });
    const u = new URL(page.url());
    assert.strictEqual(u.searchParams.get('task'), String(taskId));
    assert.strictEqual(u.searchParams.get('tab'), 'commands');
    assert.strictEqual(u.hash, '', 'the token left the address');
  } finally {
    await ctx.close();
  }
});

test('a viewer\'s task page has no actions and no Logs tab', async () => {
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: await s.mint('u-viewer') })).status, 200);
  const uid = s.sql(`SELECT id FROM users WHERE sub = 'u-viewer'`);
  const r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: Number(uid), task_id: taskId, level: 'view' } });
  assert.strictEqual(r.status, 201, r.text);
  await withPage('taskpage-viewer', 'u-viewer', `/?module=tasks&lang=en&query=${encodeURIComponent('task=' + taskId)}`, async (page, f) => {
    await f.locator('#task-page[data-state=ready]').waitFor({ timeout: 15000 });
    const head = f.locator('#task-head[data-level=view]');
    await head.waitFor({ timeout: 10000 });
    for (const a of ['start', 'stop', 'restart', 'uninstall', 'edit', 'deploy'])
      assert.strictEqual(await head.locator(`[data-action="${a}"]`).count(), 0, a);
    assert.strictEqual(await head.locator('[data-action=more]').isVisible(), false);
    assert.strictEqual(await f.locator('button:disabled').count(), 0, 'nothing greyed out');
    assert.strictEqual(await f.locator('[role=tab][data-tab=logs]').isVisible(), false);
    assert.strictEqual(await f.locator('[role=tab][data-tab=releases]').isVisible(), true);
  });
});

// Inside EWS the portal's own address follows the page (yard:location):
// a task's tab and a node opened can be copied, bookmarked and reloaded.
test('inside EWS the portal address follows a task\'s tab and a node; a reload opens them again', async () => {
  await withPage('taskpage-portal-address', 'u-admin', '/?module=tasks&lang=en', async (page, f) => {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const portalQuery = () => new URL(page.url()).searchParams;
    await f.locator(`tr[data-task-id="${taskId}"] a[data-action=open]`).click({ timeout: 15000 });
    await f.locator(`#task-page[data-task-id="${taskId}"][data-state=ready]`).waitFor({ timeout: 15000 });
    await f.locator('[role=tab][data-tab=commands]').click();
    await waitFor(() => portalQuery().get('query') === `task=${taskId}&tab=commands`, 5000,
      'the portal address names the tab: ' + page.url());
    assert.strictEqual(portalQuery().get('module'), 'tasks');
    assert.strictEqual(portalQuery().get('lang'), 'en');
    await f.locator('[role=tab][data-tab=releases]').click();
    await waitFor(() => portalQuery().get('query') === `task=${taskId}&tab=releases`, 5000, 'follows the next tab');

    // A reload of the portal (as a bookmark or a shared link would) opens
    // the same task on the same tab.
    await page.reload();
    await f.locator(`#task-page[data-task-id="${taskId}"][data-state=ready]`).waitFor({ timeout: 15000 });
    assert.strictEqual(await f.locator('[role=tab][data-tab=releases]').getAttribute('aria-selected'), 'true');
    assert.strictEqual(await f.locator('#tab-releases').isVisible(), true);

    // A node opened on the Nodes page: its own address, Back closes it.
    await page.goto(`${s.ews.url}/?module=nodes&lang=en`);
    await f.locator(`tr[data-node-id="${agent.nodeId}"] a[data-action=open]`).click({ timeout: 15000 });
    await f.locator(`#node-detail[data-node-id="${agent.nodeId}"][data-state=ready]`).waitFor({ timeout: 10000 });
    await waitFor(() => portalQuery().get('module') === 'nodes' && portalQuery().get('query') === `node=${agent.nodeId}`,
      5000, 'the portal address names the node: ' + page.url());
    const opened = page.url();
    await page.goBack();
    await f.locator('#node-detail[data-state="none"]').waitFor({ state: 'attached', timeout: 10000 });
    await waitFor(() => portalQuery().get('module') === 'nodes' && !portalQuery().get('query'), 5000,
      'Back in the frame: the portal address is the list again: ' + page.url());
    await page.goto(opened);
    await f.locator(`#node-detail[data-node-id="${agent.nodeId}"][data-state=ready]`).waitFor({ timeout: 15000 });
    assert.deepStrictEqual(errors, []);
  });
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
