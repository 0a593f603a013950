// Browser: permission levels on the pages.  The Permissions page grants
// manage; on the Tasks page an operator sees start, stop, restart and Logs
// but no Edit, Uninstall or create form, a manager sees those too (the
// node picker offering only nodes they manage), a viewer sees none of
// them; a failed latest command's output shows under its task (a policy
// refusal marked as such); the form offers the node's allowed deploy roots
// and refuses a directory outside them before sending anything; the Nodes
// page offers Test connection only with operate and shows the policy.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, waitFor, TOP } = require('../lib/stack.js');

let s, b, admin, n1, n2, taskA, taskB;

const POLICY = {
  roots: [{ path: '/srv/yard', user: 'yard-task' }, { path: '/opt/legacy', user: 'root' }],
  user: 'yard-task', kinds: {}, refuse_env: ['LD_*'], limits: { tasks: 256, log_bytes: 10485760 },
};

async function userId(sub) {
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: await s.mint(sub) })).status, 200);
  return Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
}

async function grant(sub, target, level) {
  const r = await s.api('POST', '/api/v1/grants', { token: admin,
    body: Object.assign({ user_id: await userId(sub), level }, target) });
  assert.ok(r.status === 201 || r.status === 200, r.text);
}

test.before(async () => {
  s = await startE2E();
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  n1 = Number(s.sql(`INSERT INTO nodes (name, hostname, facts) VALUES ('lv-node', 'lv.local',
    '${JSON.stringify({ hostname: 'lv.local', policy: POLICY })}') RETURNING id`));
  n2 = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('lv-other', 'other.local') RETURNING id`));
  const mk = async (name) => {
    const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: n1, name,
      spec: { kind: 'console', deploy_dir: '/srv/yard/' + name, console: { command: '/bin/sleep', args: ['300'] } } } });
    assert.strictEqual(r.status, 201, r.text);
    return r.json.id;
  };
  taskA = await mk('alpha');
  taskB = await mk('beta');
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

async function withPage(name, sub, module, fn) {
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=${module}`);
    await page.waitForURL(/\/login/);
    await page.click(`#login-${sub}`);
    await page.waitForSelector('#yard-frame');
    await fn(page, page.frameLocator('#yard-frame'));
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', name + '.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

const ACTIONS = ['start', 'stop', 'restart', 'uninstall', 'edit', 'logs', 'deploy', 'move'];

// Which actions a task row offers: its buttons and its "more" menu's items.
async function shown(row) {
  const out = [];
  const more = row.locator('[data-action="more"]');
  const open = await more.isVisible();
  if (open) await more.click();
  for (const a of ACTIONS) {
    if (await row.locator(`[data-action="${a}"]`).count() > 0) out.push(a);
  }
  if (open) await row.locator('[role=menuitem]').first().press('Escape');
  return out;
}

test('the Permissions page grants manage', async () => {
  const implId = await userId('u-impl');
  await withPage('levels-perm', 'u-admin', 'permissions', async (page, f) => {
    await f.locator(`#grant-user option[value="${implId}"]`).waitFor({ state: 'attached', timeout: 15000 });
    await f.locator('#grant-user').selectOption(String(implId));
    await f.locator('#grant-target-type').selectOption('node');
    await f.locator(`#grant-target option[value="${n1}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await f.locator('#grant-target').selectOption(String(n1));
    const levels = await f.locator('#grant-level option').evaluateAll((o) => o.map((x) => x.value));
    assert.deepStrictEqual(levels, ['view', 'operate', 'manage']);
    await f.locator('#grant-level').selectOption('manage');
    await f.locator('#grant-create button[type=submit]').click();
    await f.locator(`#grants-body tr[data-target-id="${n1}"][data-level="manage"]`).waitFor({ timeout: 10000 });
  });
  assert.strictEqual(s.sql(`SELECT level FROM grants WHERE user_id = ${implId} AND node_id = ${n1}`), 'manage');
});

test('a manager sees edit, uninstall and New task; the picker offers only managed nodes', async () => {
  // Operate on another node: not enough to create there.
  await grant('u-impl', { node_id: n2 }, 'operate');
  await withPage('levels-manage', 'u-impl', 'tasks', async (page, f) => {
    const row = f.locator(`tr[data-task-id="${taskA}"]`);
    await row.waitFor({ timeout: 15000 });
    assert.strictEqual(await row.getAttribute('data-level'), 'manage');
    // Never started: Start, no Stop or Restart.
    assert.deepStrictEqual(await shown(row), ['start', 'uninstall', 'edit', 'logs', 'deploy', 'move']);
    await f.locator('#task-new').waitFor({ state: 'visible', timeout: 10000 });
    await f.locator(`#task-node option[value="${n1}"]`).waitFor({ state: 'attached', timeout: 10000 });
    const offered = await f.locator('#task-node option').evaluateAll((o) => o.map((x) => Number(x.value)));
    assert.deepStrictEqual(offered, [n1]);
  });
});

test('an operator sees Start and Logs, but no edit, uninstall or create', async () => {
  await grant('u-viewer', { node_id: n1 }, 'operate');
  await withPage('levels-operate', 'u-viewer', 'tasks', async (page, f) => {
    const row = f.locator(`tr[data-task-id="${taskA}"]`);
    await row.waitFor({ timeout: 15000 });
    assert.strictEqual(await row.getAttribute('data-level'), 'operate');
    assert.deepStrictEqual(await shown(row), ['start', 'logs']);
    assert.strictEqual(await f.locator('#task-new').isHidden(), true);
    assert.strictEqual(await row.locator('[data-view-only]').count(), 0);
  });
});

test('a viewer sees the task but none of its actions', async () => {
  await grant('u-viewer', { node_id: n1 }, 'view');
  await withPage('levels-view', 'u-viewer', 'tasks', async (page, f) => {
    const row = f.locator(`tr[data-task-id="${taskA}"][data-level="view"]`);
    await row.waitFor({ timeout: 15000 });
    assert.deepStrictEqual(await shown(row), []);
    const badge = row.locator('[data-view-only]');
    assert.strictEqual(await badge.count(), 1);
    assert.ok((await badge.getAttribute('title')).length > 0);
    assert.strictEqual(await row.locator('button:disabled').count(), 0, 'nothing greyed out');
    // Metrics and history stay in the menu: viewing them needs view only.
    await row.locator('[data-action="more"]').click();
    assert.strictEqual(await row.locator('[role=menu] [data-action="metrics"]').count(), 1);
    assert.strictEqual(await f.locator('#task-new').isHidden(), true);
  });
});

test('a failed latest command shows its output under the task; a policy refusal says so', async () => {
  const out = 'start failed: policy: deploy_dir /srv/yard/beta is outside the allowed roots (/srv/apps)';
  s.sql(`INSERT INTO commands (type, node_id, task_id, state, output, deadline, finished_at, exit_status)
    VALUES ('start', ${n1}, ${taskB}, 'failed', '${out}', now(), now(), 1)`);
  s.sql(`INSERT INTO commands (type, node_id, task_id, state, output, deadline, finished_at)
    VALUES ('start', ${n1}, ${taskA}, 'succeeded', 'started, pid 42', now(), now())`);
  await withPage('levels-lastcmd', 'u-viewer', 'tasks', async (page, f) => {
    const box = f.locator(`tr[data-last-command-of="${taskB}"]`);
    await box.waitFor({ timeout: 15000 });
    assert.strictEqual(await box.getAttribute('data-policy'), '1');
    assert.strictEqual(await box.getAttribute('data-command-state'), 'failed');
    assert.match(await box.locator('pre').innerText(), /policy: deploy_dir \/srv\/yard\/beta is outside/);
    // The row sits right under its task's row.
    const prev = await box.evaluate((tr) => tr.previousElementSibling.dataset.taskId);
    assert.strictEqual(prev, String(taskB));
    // A succeeded latest command shows nothing.
    assert.strictEqual(await f.locator(`tr[data-last-command-of="${taskA}"]`).count(), 0);
  });
});

test('the form offers the node\'s roots and refuses a directory outside them before sending', async () => {
  const before = s.sql('SELECT count(*) FROM tasks');
  await withPage('levels-roots', 'u-admin', 'tasks', async (page, f) => {
    await f.locator('#task-new').click({ timeout: 15000 });
    await f.locator(`#task-node option[value="${n1}"]`).waitFor({ state: 'attached', timeout: 15000 });
    await f.locator('#task-node').selectOption(String(n1));
    const roots = await f.locator('#task-deploy-roots option').evaluateAll((o) => o.map((x) => x.value));
    assert.deepStrictEqual(roots, ['/srv/yard/', '/opt/legacy/']);
    const hint = f.locator('#task-deploy-hint');
    assert.strictEqual(await hint.isVisible(), true);
    assert.match(await hint.innerText(), /\/srv\/yard.*yard-task/);
    let requests = 0;
    page.on('request', (r) => { if (r.method() === 'POST' && /\/api\/v1\/tasks$/.test(r.url())) requests++; });
    await f.locator('#task-name').fill('escape');
    await f.locator('#task-command').fill('/bin/sh');
    await f.locator('#task-deploy').fill('/srv/yardx/escape');
    await f.locator('#task-create button[type=submit]').click();
    const err = f.locator('#task-deploy-error');
    await err.waitFor({ state: 'visible', timeout: 5000 });
    assert.match(await err.innerText(), /\/srv\/yardx\/escape/);
    assert.strictEqual(requests, 0, 'refused in the page');
    // A node that reports no policy: no roots offered, the hint hidden.
    await f.locator('#task-node').selectOption(String(n2));
    assert.strictEqual(await f.locator('#task-deploy-roots option').count(), 0);
    assert.strictEqual(await hint.isHidden(), true);
    // Inside a root: created.
    await f.locator('#task-node').selectOption(String(n1));
    await f.locator('#task-deploy').fill('/srv/yard/escape');
    await f.locator('#task-create button[type=submit]').click();
    await f.locator('tr[data-task-name="escape"]').waitFor({ timeout: 10000 });
    assert.strictEqual(requests, 1);
  });
  await waitFor(() => Number(s.sql('SELECT count(*) FROM tasks')) === Number(before) + 1, 5000, 'one task created');
});

test('the Nodes page offers Test connection only with operate, and shows the node\'s policy roots', async () => {
  // u-viewer holds view on lv-node by now, u-impl manage.
  for (const [sub, ping] of [['u-viewer', false], ['u-impl', true]]) {
    await withPage('levels-nodes-' + sub, sub, 'nodes', async (page, f) => {
      await f.locator(`tr[data-node-id="${n1}"]`).click({ timeout: 15000 });
      await f.locator(`#node-detail[data-node-id="${n1}"][data-state="ready"]`).waitFor({ timeout: 10000 });
      assert.strictEqual(await f.locator('#ping-wrap').isVisible(), ping, sub);
      const roots = await f.locator('[data-fact="policy"] [data-root]').evaluateAll((d) => d.map((x) => x.dataset.root));
      assert.deepStrictEqual(roots, ['/srv/yard', '/opt/legacy'], sub);
    });
  }
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
