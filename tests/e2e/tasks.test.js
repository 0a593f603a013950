// Browser: on the Tasks page an admin creates a console task on a node with
// a real agent, starts it, watches it run (pid, memory), stops it with
// confirmation, and sees the command's outcome; a field error from the
// server lands next to its field; a viewer sees no action buttons but a
// view-only note saying why; the Commands page shows every action with its
// timeline; the Logs page follows a task's output, searches it and
// downloads it (issue 4).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, TOP } = require('../lib/stack.js');
const { taskMenu, openTaskDrawer } = require('../lib/tasks.js');

let s, b, agent, admin;

// A token from the development EWS (the server trusts only its keys).
test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('tasks-page', s.yard.url, e.json.token);
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

async function withPage(name, sub, fn) {
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=tasks`);
    await page.waitForURL(/\/login/);
    await page.click(`#login-${sub}`);
    await fn(page, page.frameLocator('#yard-frame'));
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', name + '.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

test('create a console task, start it, watch it run, stop it', async () => {
  await withPage('tasks-run', 'u-admin', async (page, f) => {
    const form = f.locator('#task-create');
    await openTaskDrawer(f);
    await f.locator(`#task-node option[value="${agent.nodeId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await f.locator('#task-node').selectOption(String(agent.nodeId));
    await f.locator('#task-name').fill('web-echo');
    // A relative deploy directory: the server's error lands by the field.
    await f.locator('#task-deploy').fill('relative/dir');
    await f.locator('#task-command').fill('/bin/sh');
    await f.locator('#task-args').fill('-c\necho hello; exec sleep 300');
    await f.locator('#task-grace').fill('3');
    await form.locator('button[type=submit]').click();
    const err = f.locator('#task-deploy-error');
    await err.waitFor({ state: 'visible', timeout: 10000 });
    // In the page's language (zh-CN), not the server's English.
    assert.match(await err.innerText(), /绝对路径/);
    assert.strictEqual(s.sql(`SELECT count(*) FROM tasks WHERE name = 'web-echo'`), '0');

    await f.locator('#task-deploy').fill(path.join(s.dir, 'deploy', 'web-echo'));
    await form.locator('button[type=submit]').click();
    const row = f.locator('tr[data-task-name="web-echo"]');
    await row.waitFor({ timeout: 10000 });
    assert.strictEqual(await row.getAttribute('data-state'), 'new');
    // The drawer closed; a never-started task offers Start, not Stop or Restart.
    assert.strictEqual(await f.locator('#task-drawer').isVisible(), false);
    assert.strictEqual(await row.locator('[data-action="stop"]').count(), 0);
    await row.locator('[data-action="more"]').click();
    assert.strictEqual(await row.locator('[role=menu] [data-action="restart"]').count(), 0);
    assert.strictEqual(await row.locator('[role=menu] [data-action="uninstall"]').count(), 1);
    await f.locator('body').press('Escape');

    await row.locator('[data-action="start"]').click();
    await f.locator('#task-last[data-state="succeeded"]').waitFor({ timeout: 15000 });
    assert.match(await f.locator('#task-last').innerText(), /PID \d+/);
    await f.locator('tr[data-task-name="web-echo"][data-state="running"]').waitFor({ timeout: 15000 });
    const pid = Number(s.sql(`SELECT pid FROM tasks WHERE name = 'web-echo'`));
    assert.ok(pid > 1);
    await f.locator('tr[data-task-name="web-echo"] td[data-cell="mem"]', { hasText: / (KiB|MiB|GiB)$/ }).waitFor({ timeout: 10000 });
    await f.locator('tr[data-task-name="web-echo"] td[data-cell="uptime"]', { hasText: /\d/ }).waitFor({ timeout: 10000 });
    // Running: Stop in place of Start, Restart in the menu.
    assert.strictEqual(await row.locator('[data-action="start"]').count(), 0);

    await row.locator('[data-action="stop"]').click();
    await f.locator('#yard-confirm [data-action="confirm"]').click({ timeout: 5000 });
    await f.locator('#task-last[data-state="succeeded"]', { hasText: /SIGTERM/ }).waitFor({ timeout: 15000 });
    await f.locator('tr[data-task-name="web-echo"][data-state="stopped"]').waitFor({ timeout: 15000 });
    let alive = true;
    try { process.kill(pid, 0); } catch { alive = false; }
    assert.strictEqual(alive, false, 'the program is gone');
    // Every action is in the ledger.
    assert.strictEqual(s.sql(`SELECT string_agg(c.type || ':' || c.state, ',' ORDER BY c.seq) FROM commands c
      JOIN tasks t ON t.id = c.task_id WHERE t.name = 'web-echo'`), 'start:succeeded,stop:succeeded');
  });
});

test('a viewer sees the task but no action buttons, with a view-only note saying why', async () => {
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: await s.mint('u-viewer') })).status, 200);
  const uid = s.sql(`SELECT id FROM users WHERE sub = 'u-viewer'`);
  const r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: Number(uid), node_id: agent.nodeId, level: 'view' } });
  assert.strictEqual(r.status, 201, r.text);
  await withPage('tasks-viewer', 'u-viewer', async (page, f) => {
    const row = f.locator('tr[data-task-name="web-echo"]');
    await row.waitFor({ timeout: 15000 });
    for (const a of ['start', 'stop', 'restart', 'logs', 'edit', 'uninstall', 'deploy'])
      assert.strictEqual(await row.locator(`[data-action="${a}"]`).count(), 0, a);
    assert.strictEqual(await row.locator('button:disabled').count(), 0, 'nothing greyed out');
    const note = row.locator('[data-view-only]');
    assert.ok((await note.getAttribute('title')).length > 0);
    assert.strictEqual(await f.locator('#task-new').isHidden(), true);
  });
});

test('every action is on the Commands page, filtered by task, with its timeline', async () => {
  const taskId = s.sql(`SELECT id FROM tasks WHERE name = 'web-echo'`);
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    // From the task's row: History opens the Commands page through EWS.
    await page.goto(`${s.ews.url}/?module=tasks`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    let f = page.frameLocator('#yard-frame');
    await taskMenu(f.locator('tr[data-task-name="web-echo"]'), 'history');
    await page.waitForURL(/module=commands/, { timeout: 10000 });
    f = page.frameLocator('#yard-frame');
    await f.locator('#commands-panel').waitFor({ timeout: 15000 });
    // Preselected by the deep link: only this task's commands.
    assert.strictEqual(await f.locator('#f-task').inputValue(), taskId);
    await f.locator('tr[data-type="stop"][data-state="succeeded"]').waitFor({ timeout: 10000 });
    const types = await f.locator('#commands-body tr').evaluateAll((rows) => rows.map((r) => r.dataset.type));
    assert.deepStrictEqual(types, ['stop', 'start']);
    await f.locator('#f-state').selectOption('failed');
    await f.locator('#commands-body tr.empty-row').waitFor({ timeout: 10000 });
    await f.locator('#f-state').selectOption('');
    await f.locator('tr[data-type="stop"]').click();
    await f.locator('#command-detail').waitFor({ state: 'visible', timeout: 10000 });
    // The result in the page's language; the agent's words folded away.
    await f.locator('#detail-result', { hasText: /SIGTERM/ }).waitFor({ timeout: 10000 });
    const states = await f.locator('#detail-events li').evaluateAll((li) => li.map((x) => x.dataset.state));
    assert.deepStrictEqual(states, ['queued', 'dispatched', 'succeeded']);
    assert.match(await f.locator('#detail-output').textContent(), /stopped by SIGTERM/);
    // An admin filters by who issued: the viewer issued nothing.
    const viewerId = s.sql(`SELECT id FROM users WHERE sub = 'u-viewer'`);
    const adminId = s.sql(`SELECT id FROM users WHERE sub = 'u-admin'`);
    await f.locator(`#f-user option[value="${viewerId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await f.locator('#f-user').selectOption(viewerId);
    await f.locator('#commands-body tr.empty-row').waitFor({ timeout: 10000 });
    await f.locator('#f-user').selectOption(adminId);
    await f.locator('tr[data-type="stop"]').waitFor({ timeout: 10000 });
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', 'commands.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
});

test('uninstall from the page: confirmed, the task leaves the list', async () => {
  await withPage('tasks-uninstall', 'u-admin', async (page, f) => {
    const row = f.locator('tr[data-task-name="web-echo"]');
    await taskMenu(row, 'uninstall');
    await f.locator('#yard-confirm [data-action="confirm"]').click({ timeout: 5000 });
    await f.locator('#task-last[data-state="succeeded"]', { hasText: /已卸载/ }).waitFor({ timeout: 15000 });
    await row.waitFor({ state: 'detached', timeout: 10000 });
    assert.strictEqual(s.sql(`SELECT count(*) FROM tasks WHERE name = 'web-echo'`), '0');
  });
});

test('Logs: open from the task row, follow new lines, search, download', async () => {
  const spec = { kind: 'console', deploy_dir: path.join(s.dir, 'deploy', 'chatty'),
    console: { command: '/bin/sh', args: ['-c', 'echo "hello from chatty"; exec sleep 300'] }, stop_grace: 2 };
  let r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: agent.nodeId, name: 'chatty', spec } });
  assert.strictEqual(r.status, 201, r.text);
  const id = r.json.id;
  r = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'start', task_id: id } });
  assert.strictEqual(r.status, 201, r.text);
  const log = path.join(agent.state, 'logs', `${id}.log`);
  const t0 = Date.now();
  while (!(fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('hello')) && Date.now() - t0 < 15000) {
    await new Promise((res) => setTimeout(res, 100));
  }
  await withPage('tasks-logs', 'u-admin', async (page, f) => {
    await taskMenu(f.locator('tr[data-task-name="chatty"]'), 'logs');
    await page.waitForURL(/module=logs/, { timeout: 10000 });
    f = page.frameLocator('#yard-frame');
    const out = f.locator('#log-output[data-state="following"]');
    await out.waitFor({ timeout: 15000 });
    assert.strictEqual(await f.locator('#l-task').inputValue(), String(id));
    assert.match(await out.innerText(), /hello from chatty/);
    // A line written now shows up without reloading.
    fs.appendFileSync(log, 'a brand new line\n');
    await f.locator('#log-output', { hasText: 'a brand new line' }).waitFor({ timeout: 5000 });
    // Search: only matching lines, and how many matched.
    await f.locator('#l-q').fill('BRAND');
    await f.locator('#l-search').click();
    await f.locator('#log-output[data-state="done"]').waitFor({ timeout: 10000 });
    assert.strictEqual((await f.locator('#log-output').innerText()).trim(), 'a brand new line');
    assert.match(await f.locator('#log-status').innerText(), /1/);
    // Download: the file as it is on the node.
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }),
      f.locator('#l-download').click()]);
    const saved = path.join(s.dir, 'download.log');
    await dl.saveAs(saved);
    assert.strictEqual(fs.readFileSync(saved, 'utf8'), fs.readFileSync(log, 'utf8'));
  });
});

test('Metrics: a task\'s CPU and memory beside its node\'s, from the task row', async () => {
  const id = s.sql(`SELECT id FROM tasks WHERE name = 'chatty'`);
  // A few heartbeats (1 s apart here) with the task running.
  const t0 = Date.now();
  while (Number(s.sql(`SELECT count(*) FROM task_metrics WHERE task_id = ${id}`)) < 2 && Date.now() - t0 < 15000) {
    await new Promise((res) => setTimeout(res, 200));
  }
  await withPage('tasks-metrics', 'u-admin', async (page, f) => {
    await taskMenu(f.locator('tr[data-task-name="chatty"]'), 'metrics');
    await page.waitForURL(/module=metrics/, { timeout: 10000 });
    f = page.frameLocator('#yard-frame');
    await f.locator('#task-panel').waitFor({ state: 'visible', timeout: 15000 });
    assert.strictEqual(await f.locator('#metrics-task').inputValue(), id);
    const n = Number(await f.locator('svg[data-chart="task-mem"]').getAttribute('data-points'));
    assert.ok(n >= 1, `task-mem points ${n}`);
    assert.match(await f.locator('#task-summary').innerText(), /\d/);
  });
  const r = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'stop', task_id: Number(id) } });
  assert.strictEqual(r.status, 201, r.text);
});

test('Edit: change a task\'s settings on the page; settings the form hides are kept', async () => {
  const spec = { kind: 'console', deploy_dir: path.join(s.dir, 'deploy', 'editable'),
    console: { command: '/bin/sh', args: ['-c', 'exec sleep 300'] }, stop_grace: 4,
    restart: { policy: 'always', backoff_initial: 7, backoff_max: 70, crash_loop: 3 },
    preserved_paths: ['conf/local.properties'], keep_releases: 4 };
  let r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: agent.nodeId, name: 'editable', spec } });
  assert.strictEqual(r.status, 201, r.text);
  const id = r.json.id;
  await withPage('tasks-edit', 'u-admin', async (page, f) => {
    await taskMenu(f.locator('tr[data-task-name="editable"]'), 'edit');
    await f.locator('#task-create[data-mode="edit"]').waitFor({ timeout: 10000 });
    assert.strictEqual(await f.locator('#task-name').inputValue(), 'editable');
    assert.strictEqual(await f.locator('#task-kind').isDisabled(), true);
    assert.strictEqual(await f.locator('#task-args').inputValue(), '-c\nexec sleep 300');
    // A bad value: the server's error lands by its field, nothing changes.
    await f.locator('#task-health-path').fill('no-slash');
    await f.locator('#task-health-port').fill('8080');
    await f.locator('#task-submit').click();
    await f.locator('#task-health-path-error').waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await f.locator('#task-health-path-error').innerText(), /以 \/ 开头/);
    await f.locator('#task-health-path').fill('/ready');
    await f.locator('#task-log-files').fill('logs/*.log');
    await f.locator('#task-grace').fill('9');
    // What an update keeps, shown with the task's values and edited.
    assert.strictEqual(await f.locator('#task-preserved').inputValue(), 'conf/local.properties');
    assert.strictEqual(await f.locator('#task-keep').inputValue(), '4');
    await f.locator('#task-preserved').fill('conf/local.properties\ndata/');
    await f.locator('#task-shared').fill('uploads');
    await f.locator('#task-keep').fill('3');
    await f.locator('#task-submit').click();
    await f.locator('#task-create[data-mode="create"]').waitFor({ state: 'attached', timeout: 10000 });
    assert.strictEqual(await f.locator('#task-drawer').isVisible(), false);
  });
  r = await s.api('GET', `/api/v1/tasks/${id}`, { token: admin });
  assert.strictEqual(r.json.spec.stop_grace, 9);
  assert.deepStrictEqual(r.json.spec.log_files, ['logs/*.log']);
  assert.deepStrictEqual(r.json.spec.preserved_paths, ['conf/local.properties', 'data/']);
  assert.deepStrictEqual(r.json.spec.shared_paths, ['uploads']);
  assert.strictEqual(r.json.spec.keep_releases, 3);
  assert.strictEqual(r.json.spec.health.path, '/ready');
  assert.strictEqual(r.json.spec.health.port, 8080);
  // Kept although the form does not show them.
  assert.strictEqual(r.json.spec.restart.backoff_initial, 7);
  assert.strictEqual(r.json.spec.restart.crash_loop, 3);
  assert.strictEqual(r.json.spec.restart.policy, 'always');
});

test('a web task from the form: health-checked, running, then stopped', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  await withPage('tasks-web', 'u-admin', async (page, f) => {
    const form = f.locator('#task-create');
    await openTaskDrawer(f);
    await f.locator(`#task-node option[value="${agent.nodeId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await f.locator('#task-node').selectOption(String(agent.nodeId));
    await f.locator('#task-name').fill('web-python');
    await f.locator('#task-deploy').fill(path.join(s.dir, 'deploy', 'web-python'));
    await f.locator('#task-command').fill('python3');
    await f.locator('#task-args').fill(`-m\nhttp.server\n${port}\n--bind\n127.0.0.1`);
    await f.locator('#task-health-path').fill('/');
    await f.locator('#task-health-port').fill(String(port));
    await f.locator('#task-health-interval').fill('1');
    await f.locator('#task-grace').fill('3');
    await form.locator('button[type=submit]').click();
    const row = f.locator('tr[data-task-name="web-python"]');
    await row.waitFor({ timeout: 10000 });
    await row.locator('[data-action="start"]').click();
    // The start answers once the health check passes.
    await f.locator('#task-last[data-state="succeeded"]', { hasText: /\d+ 毫秒后健康检查通过/ }).waitFor({ timeout: 20000 });
    await f.locator('tr[data-task-name="web-python"][data-state="running"]').waitFor({ timeout: 15000 });
    const r = await fetch(`http://127.0.0.1:${port}/`);
    assert.strictEqual(r.status, 200);
    await row.locator('[data-action="stop"]').click();
    await f.locator('#yard-confirm [data-action="confirm"]').click({ timeout: 5000 });
    await f.locator('tr[data-task-name="web-python"][data-state="stopped"]').waitFor({ timeout: 15000 });
  });
  assert.strictEqual(s.sql(`SELECT string_agg(c.type || ':' || c.state, ',' ORDER BY c.seq) FROM commands c
    JOIN tasks t ON t.id = c.task_id WHERE t.name = 'web-python'`), 'start:succeeded,stop:succeeded');
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
