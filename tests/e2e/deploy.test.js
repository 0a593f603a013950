// Browser: deploy from the pages with a real server and agent (issue 10).
// An implementer who manages a console task attaches a package to it from
// the Packages page, confirms the deploy in the Tasks page's dialog (what
// the package brings, the paths kept on the node), sees the command's
// progress on the row and then release 1 live in the Releases view;
// updates it with a second package (the diff against what runs, the
// preserved file keeps the node's bytes), compares the two releases,
// rolls back to release 1, and moves the task; the Commands page lists
// every one of them; a viewer sees the releases but no deploy control.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { startE2E, browser, withPage: signedIn, waitFor } = require('../lib/stack.js');
const { zip } = require('../lib/zip.js');

let s, b, agent, admin, taskId, deployDir, pkg1, pkg2;

async function grant(sub, roles, g) {
  const tok = await s.mint(sub, roles);
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: tok })).status, 200);
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, g) });
  assert.strictEqual(r.status, 201, r.text);
}

// A package for the task, uploaded by tus in 4 MiB chunks (as EWS's
// backend would) and checked by the server; resolves to its id.
async function upload(version, files) {
  const buf = zip(Object.entries(files).map(([name, data]) => ({ name, data, deflate: true })));
  const meta = Object.entries({ name: 'echo', version, filename: `echo-${version}.zip`, task_id: taskId })
    .map(([k, v]) => k + ' ' + Buffer.from(String(v)).toString('base64')).join(',');
  const c = await fetch(s.yard.url + '/api/v1/uploads', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + admin, 'tus-resumable': '1.0.0',
      'upload-length': String(buf.length), 'upload-metadata': meta },
  });
  assert.strictEqual(c.status, 201, await c.text());
  const loc = c.headers.get('location');
  for (let off = 0; off < buf.length; off += 4 << 20) {
    const p = await fetch(loc, {
      method: 'PATCH',
      headers: { authorization: 'Bearer ' + admin, 'tus-resumable': '1.0.0',
        'content-type': 'application/offset+octet-stream', 'upload-offset': String(off) },
      body: buf.subarray(off, Math.min(off + (4 << 20), buf.length)),
    });
    assert.strictEqual(p.status, 204, await p.text());
  }
  let v;
  await waitFor(async () => {
    v = await (await fetch(loc, { headers: { authorization: 'Bearer ' + admin } })).json();
    return v.state === 'accepted' || v.state === 'rejected';
  }, 30000, 'the package check');
  assert.strictEqual(v.state, 'accepted', JSON.stringify(v));
  return v.package_id;
}

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('deploy-page', s.yard.url, e.json.token);
  await waitFor(() => s.sql(`SELECT status FROM nodes WHERE id = ${agent.nodeId}`) === 'online', 15000, 'the agent online');
  deployDir = path.join(s.dir, 'deploy', 'echo');
  const spec = { kind: 'console', deploy_dir: deployDir, stop_grace: 2,
    console: { command: '/bin/sh', args: ['run.sh'] },
    preserved_paths: ['conf/app.properties'], shared_paths: ['data'] };
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: agent.nodeId, name: 'echo', spec } });
  assert.strictEqual(r.status, 201, r.text);
  taskId = r.json.id;
  await grant('u-impl', ['implementer'], { task_id: taskId, level: 'manage' });
  await grant('u-viewer', [], { node_id: agent.nodeId, level: 'view' });
  // Big enough that download and unpack take a moment (progress).
  pkg1 = await upload('1.0', {
    'run.sh': 'echo "echo 1.0 up"; exec sleep 300\n',
    'conf/app.properties': 'greeting=hello\n',
    'data/seed.txt': 'seed\n',
    'lib/blob.bin': crypto.randomBytes(24 << 20),
  });
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

const withPage = (name, sub, start, fn) =>
  signedIn(b, s, { name, sub, start, width: 1200, height: 900 }, fn);

// Record, inside the Tasks page's frame, every progress bar shown on a
// task row (its step and label), however briefly.
async function recordProgress(page) {
  await waitFor(() => page.frames().some((fr) => /\/ui\/tasks/.test(fr.url())), 15000, 'the tasks frame');
  const fr = page.frames().find((x) => /\/ui\/tasks/.test(x.url()));
  await fr.evaluate(() => {
    window.__progress = [];
    new MutationObserver(() => {
      document.querySelectorAll('[data-cell=state] .progress').forEach((p) => {
        const k = p.dataset.step + '|' + p.textContent;
        if (!window.__progress.includes(k)) window.__progress.push(k);
      });
    }).observe(document.body, { subtree: true, childList: true });
  });
  return async () => fr.evaluate(() => window.__progress);
}

async function releaseStates(f) {
  return f.locator(`[data-releases-of="${taskId}"] tr[data-release]`).evaluateAll((rows) =>
    rows.map((r) => r.dataset.release + ':' + r.dataset.releaseState).join(','));
}

test('attach from the Packages page, deploy in the dialog, progress, then release 1 live', async (t) => {
  await withPage('deploy-first', 'u-impl', `/?module=packages&query=${encodeURIComponent('package=' + pkg1)}`, async (page, f) => {
    await f.locator(`#package-detail[data-package-id="${pkg1}"][data-state=ready]`).waitFor({ timeout: 15000 });
    // Nothing deployed yet: the diff against the task says so.
    await f.locator('#detail-diff[data-state=ready][data-basis=deployed]').waitFor({ timeout: 10000 });
    assert.strictEqual(await f.locator('#detail-diff').getAttribute('data-against'), '');
    await f.locator('[data-action=attach]').click({ timeout: 10000 });
    assert.strictEqual(await f.locator('#attach-task').inputValue(), String(taskId));
    await f.locator('[data-action=attach-confirm]').click();
    await page.waitForURL(/module=tasks/, { timeout: 10000 });
    const dlg = f.locator(`#deploy-dialog[data-task-id="${taskId}"][data-mode=deploy][data-state=ready]`);
    await dlg.waitFor({ timeout: 15000 });
    // The package of the link is picked; every file is new.
    await f.locator(`#deploy-packages li[data-package-id="${pkg1}"].is-selected`).waitFor({ timeout: 10000 });
    await f.locator('#deploy-diff[data-state=ready]').waitFor({ timeout: 10000 });
    assert.strictEqual(await f.locator('#deploy-diff').getAttribute('data-against'), '');
    assert.strictEqual(await f.locator('#deploy-diff tr[data-change=added]').count(), 4);
    assert.strictEqual(await f.locator('#deploy-kept li[data-preserved="conf/app.properties"]').count(), 1);
    assert.strictEqual(await f.locator('#deploy-kept li[data-shared="data"]').count(), 1);
    assert.strictEqual(await f.locator('#deploy-adopt').isChecked(), false);
    assert.strictEqual(await f.locator('#deploy-clean').count(), 0);
    const seen = await recordProgress(page);
    await f.locator('[data-action=deploy-confirm]').click();
    await dlg.waitFor({ state: 'detached', timeout: 5000 });
    // The row shows the command's progress while it runs, then the outcome.
    await f.locator('#task-last[data-state=succeeded]', { hasText: /已部署版本 1（echo 1\.0），已启动，PID \d+/ }).waitFor({ timeout: 60000 });
    const steps = await seen();
    t.diagnostic('progress shown: ' + JSON.stringify(steps));
    assert.ok(steps.length > 0, 'a progress bar was shown');
    for (const k of steps) {
      const [step, label] = k.split('|');
      if (step !== '') assert.ok(!label.includes(step), `step ${step} translated: ${label}`);
    }
    // The task's page, its Releases tab opened with the command: release 1 live.
    await f.locator('[role=tab][data-tab=releases][aria-selected=true]').waitFor({ timeout: 5000 });
    await waitFor(async () => (await releaseStates(f)) === '1:live', 15000, 'release 1 live');
    assert.match(await f.locator(`[data-releases-of="${taskId}"] tr[data-release="1"]`).innerText(), /echo · 1\.0[\s\S]*(Ivan Implementer|u-impl)/);
    await f.locator(`#task-head[data-task-id="${taskId}"][data-state=running]`).waitFor({ timeout: 15000 });
  });
  // On the node: the release, the link to it, the shared directory seeded.
  assert.ok(fs.existsSync(path.join(deployDir, 'releases', '1', 'run.sh')));
  assert.strictEqual(fs.readlinkSync(path.join(deployDir, 'current')).replace(/\/$/, ''), 'releases/1');
  assert.strictEqual(fs.readFileSync(path.join(deployDir, 'shared', 'data', 'seed.txt'), 'utf8'), 'seed\n');
});

test('update with a second package: the diff, the preserved file kept, release 2 live', async () => {
  assert.ok(fs.existsSync(path.join(deployDir, 'releases', '1')), 'the deploy test ran');
  pkg2 = await upload('2.0', {
    'run.sh': 'echo "echo 2.0 up"; exec sleep 300\n',
    'conf/app.properties': 'greeting=bonjour\n',
    'data/seed.txt': 'seed 2\n',
    'lib/blob.bin': crypto.randomBytes(24 << 20),
    'lib/new.txt': 'new\n',
  });
  // The node's own setting, changed after the deploy: an update keeps it.
  fs.writeFileSync(path.join(deployDir, 'releases', '1', 'conf', 'app.properties'), 'greeting=local\n');
  await withPage('deploy-update', 'u-impl', `/?module=tasks&query=${encodeURIComponent('task=' + taskId)}`, async (page, f) => {
    // From the task's own page: its "more" menu.
    const head = f.locator(`#task-head[data-task-id="${taskId}"]`);
    await head.locator('[data-action=more]').click({ timeout: 15000 });
    await head.locator('[role=menu] [data-action=deploy]').click();
    const dlg = f.locator('#deploy-dialog[data-mode=update][data-state=ready]');
    await dlg.waitFor({ timeout: 15000 });
    assert.match(await f.locator('#deploy-current').innerText(), /1/);
    // The task's own packages first, newest first.
    const ids = await f.locator('#deploy-packages li[data-package-id]').evaluateAll((li) => li.map((x) => x.dataset.packageId));
    assert.deepStrictEqual(ids.slice(0, 2), [String(pkg2), String(pkg1)]);
    await f.locator(`#deploy-packages li[data-package-id="${pkg2}"]`).click();
    const diff = f.locator(`#deploy-diff[data-state=ready][data-against="${pkg1}"]`);
    await diff.waitFor({ timeout: 10000 });
    assert.strictEqual(await f.locator('#deploy-diff [data-count=added]').getAttribute('data-n'), '1');
    assert.strictEqual(await f.locator('#deploy-diff [data-count=changed]').getAttribute('data-n'), '4');
    assert.strictEqual(await f.locator('#deploy-diff tr[data-change=added][data-path="lib/new.txt"]').count(), 1);
    assert.strictEqual(await f.locator('#deploy-kept li[data-preserved="conf/app.properties"]').count(), 1);
    // Clean warns; left unticked (overlay).
    await f.locator('#deploy-clean').check();
    assert.strictEqual(await f.locator('#deploy-clean-hint').getAttribute('data-warning'), '1');
    await f.locator('#deploy-clean').uncheck();
    assert.strictEqual(await f.locator('#deploy-adopt').count(), 0);
    await f.locator('[data-action=deploy-confirm]').click();
    await f.locator('#task-last[data-state=succeeded]', { hasText: /已更新到版本 2（echo 2\.0），已启动，PID \d+/ }).waitFor({ timeout: 90000 });
    await waitFor(async () => (await releaseStates(f)) === '2:live,1:good', 15000, 'release 2 live');
    // The two releases compared.
    const rel = f.locator(`[data-releases-of="${taskId}"]`);
    await rel.locator('tr[data-release="1"] [data-action=select-release]').check();
    await rel.locator('tr[data-release="2"] [data-action=select-release]').check();
    await rel.locator('[data-action=release-diff]').click();
    await f.locator(`#releases-diff-${taskId}[data-state=ready][data-from="1"][data-to="2"]`).waitFor({ timeout: 10000 });
    assert.strictEqual(await f.locator(`#releases-diff-${taskId} tr[data-change=changed][data-path="run.sh"]`).count(), 1);
  });
  assert.strictEqual(fs.readFileSync(path.join(deployDir, 'releases', '2', 'conf', 'app.properties'), 'utf8'), 'greeting=local\n');
  assert.match(fs.readFileSync(path.join(deployDir, 'releases', '2', 'run.sh'), 'utf8'), /2\.0/);
  assert.strictEqual(fs.readlinkSync(path.join(deployDir, 'current')).replace(/\/$/, ''), 'releases/2');
});

test('roll back to release 1 from the Releases view, confirmed', async () => {
  assert.ok(pkg2, 'the update test ran');
  await withPage('deploy-rollback', 'u-impl', '/?module=tasks&lang=en', async (page, f) => {
    // The list's menu opens the task's page on its Releases tab.
    const row = f.locator(`tr[data-task-id="${taskId}"]`);
    await row.locator('[data-action=more]').click({ timeout: 15000 });
    await row.locator('[role=menu] [data-action=releases]').click();
    const rel = f.locator(`[data-releases-of="${taskId}"]`);
    await rel.locator('.releases[data-state=ready]').waitFor({ timeout: 10000 });
    // No roll back to what is live.
    assert.strictEqual(await rel.locator('tr[data-release="2"] [data-action=rollback]').count(), 0);
    await rel.locator('tr[data-release="1"] [data-action=rollback]').click();
    assert.match(await f.locator('#yard-confirm').innerText(), /release 1/);
    await f.locator('#yard-confirm [data-action=confirm]').click();
    await f.locator('#task-last[data-state=succeeded]', { hasText: /rolled back to release 1/ }).waitFor({ timeout: 60000 });
    await waitFor(async () => /^2:(good|kept),1:live$/.test(await releaseStates(f)), 15000, 'release 1 live again');
    await f.locator(`#task-head[data-task-id="${taskId}"][data-state=running]`).waitFor({ timeout: 15000 });
  });
  assert.strictEqual(fs.readlinkSync(path.join(deployDir, 'current')).replace(/\/$/, ''), 'releases/1');
});

test('move: a relative directory is refused in the page, then the task moves', async () => {
  assert.ok(pkg2, 'the update test ran');
  const to = path.join(s.dir, 'deploy', 'echo-moved');
  await withPage('deploy-move', 'u-impl', '/?module=tasks', async (page, f) => {
    const row = f.locator(`tr[data-task-id="${taskId}"]`);
    await row.locator('[data-action=more]').click({ timeout: 15000 });
    await row.locator('[role=menu] [data-action=move]').click();
    const dlg = f.locator('#move-dialog');
    await f.locator('#move-current[data-dir]').waitFor({ timeout: 10000 });
    assert.strictEqual(await f.locator('#move-current').getAttribute('data-dir'), deployDir);
    const before = s.sql(`SELECT count(*) FROM commands WHERE task_id = ${taskId}`);
    await f.locator('#move-dir').fill('relative/dir');
    await f.locator('[data-action=move-confirm]').click();
    await f.locator('#move-error').waitFor({ state: 'visible' });
    assert.strictEqual(s.sql(`SELECT count(*) FROM commands WHERE task_id = ${taskId}`), before);
    await f.locator('#move-dir').fill(to);
    await f.locator('[data-action=move-confirm]').click();
    await dlg.waitFor({ state: 'detached', timeout: 5000 });
    await f.locator('#task-last[data-state=succeeded]', { hasText: /已迁移到/ }).waitFor({ timeout: 60000 });
  });
  assert.ok(fs.existsSync(path.join(to, 'releases', '1', 'run.sh')));
  assert.ok(!fs.existsSync(deployDir));
  const r = await s.api('GET', `/api/v1/tasks/${taskId}`, { token: admin });
  assert.strictEqual(r.json.spec.deploy_dir, to);
});

test('the Commands page lists the release commands', async () => {
  assert.ok(pkg2, 'the update test ran');
  await withPage('deploy-commands', 'u-impl', `/?module=commands&query=${encodeURIComponent('task=' + taskId)}`, async (page, f) => {
    await f.locator('tr[data-type=move][data-state=succeeded]').waitFor({ timeout: 15000 });
    const types = await f.locator('#commands-body tr').evaluateAll((rows) => rows.map((r) => r.dataset.type + ':' + r.dataset.state));
    assert.deepStrictEqual(types, ['move:succeeded', 'rollback:succeeded', 'update:succeeded', 'deploy:succeeded']);
  });
});

test('a viewer sees the releases but no deploy control', async () => {
  await withPage('deploy-viewer', 'u-viewer', '/?module=tasks', async (page, f) => {
    const row = f.locator(`tr[data-task-id="${taskId}"]`);
    await row.waitFor({ timeout: 15000 });
    await row.locator('[data-action=more]').click();
    await row.locator('[role=menu] [data-action=releases]').waitFor({ timeout: 5000 });
    assert.strictEqual(await row.locator('[data-action=deploy]').count(), 0);
    assert.strictEqual(await row.locator('[data-action=move]').count(), 0);
    await row.locator('[role=menu] [data-action=releases]').click();
    const rel = f.locator(`[data-releases-of="${taskId}"]`);
    await rel.locator('.releases[data-state=ready]').waitFor({ timeout: 10000 });
    assert.ok(await rel.locator('tr[data-release]').count() >= 2);
    assert.strictEqual(await rel.locator('[data-action=rollback]').count(), 0);
  });
  await withPage('deploy-viewer-package', 'u-viewer', `/?module=packages&query=${encodeURIComponent('package=' + pkg1)}`, async (page, f) => {
    await f.locator(`#package-detail[data-package-id="${pkg1}"][data-state=ready]`).waitFor({ timeout: 15000 });
    await f.locator('#attach-wrap[data-state=ready]').waitFor({ state: 'attached', timeout: 10000 });
    assert.strictEqual(await f.locator('[data-action=attach]').count(), 0);
  });
  // The server refuses the viewer anyway.
  const r = await s.api('POST', '/api/v1/commands', { token: await s.mint('u-viewer'),
    body: { type: 'rollback', task_id: taskId, release: 2 } });
  assert.strictEqual(r.status, 403, r.text);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.yard.deaths(), []);
});
