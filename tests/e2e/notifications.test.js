// Browser: a package stored for a task (inserted with SQL, as the upload
// path would; the packages trigger queues the inbox items) shows in the
// inbox of the implementer who manages the task, inside the EWS iframe;
// the development EWS shows the unread count (yard:badge) on its menu
// entry; clicking an item marks it read and opens the package in the
// Packages page; "Mark all read" brings the badge to 0 (issue 9).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, withPage: signedIn, waitFor, TOP } = require('../lib/stack.js');

const SHOTS = path.join(TOP, 'tests', 'e2e', 'screenshots');
let s, b, admin, taskId, uid;
const pkgs = [];

test.before(async () => {
  s = await startE2E();
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: admin })).status, 200);
  const node = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('inbox-node', 'inbox.local') RETURNING id`).split('\n')[0]);
  taskId = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${node}, 'mall', 'tomcat') RETURNING id`).split('\n')[0]);
  const tok = await s.mint('u-impl', ['implementer']);
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: tok })).status, 200);
  uid = Number(s.sql(`SELECT id FROM users WHERE sub = 'u-impl'`));
  const r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, task_id: taskId, level: 'manage' } });
  assert.strictEqual(r.status, 201, r.text);
  // Two packages for the task, as the upload path stores them.
  for (const [i, v] of [['1', '3.0'], ['2', '3.1']].entries()) {
    pkgs.push(Number(s.sql(`INSERT INTO packages (sha256, name, version, task_id, size, entries, manifest, uploader_sub)
      VALUES ('${String(i + 1).repeat(64)}', 'mall', '${v[1]}', ${taskId}, 10, 1,
      '[{"path":"index.html","size":10,"sha256":"${'e'.repeat(64)}"}]', 'svc-ews') RETURNING id`).split('\n')[0]));
  }
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

const unread = () => Number(s.sql(`SELECT count(*) FROM notifications WHERE user_id = ${uid} AND read_at IS NULL`));

const withPage = (name, sub, start, fn) =>
  signedIn(b, s, { name, sub, start, width: 1100, height: 800 }, fn);

test('the inbox, the badge, an item opening its package, mark all read', async () => {
  assert.strictEqual(unread(), 2);
  await withPage('notifications-read-all', 'u-impl', '/?module=notifications&lang=en', async (page, f) => {
    // Newest first, both unread; the portal's menu shows 2.
    const rows = f.locator('tr[data-notification-id]');
    await f.locator('tr[data-notification-id][data-read=false]').nth(1).waitFor({ timeout: 15000 });
    assert.strictEqual(await rows.count(), 2);
    assert.deepStrictEqual(await rows.evaluateAll((rs) => rs.map((r) => Number(r.dataset.packageId))), [pkgs[1], pkgs[0]]);
    assert.match(await rows.first().innerText(), /mall/);
    await page.locator('#ews-badge-notifications[data-count="2"]').waitFor({ timeout: 10000 });
    assert.strictEqual(await page.locator('#ews-badge-notifications').isVisible(), true);
    assert.strictEqual(await f.locator('#unread-count').getAttribute('data-unread'), '2');
    await page.screenshot({ path: path.join(SHOTS, 'notifications-inbox.png'), fullPage: true });

    // Click the newest: read, and the Packages page opens that package.
    await rows.first().locator('[data-action=open]').click();
    await f.locator(`#package-detail[data-package-id="${pkgs[1]}"][data-state=ready]`).waitFor({ timeout: 15000 });
    assert.match(page.url(), /module=packages/);
    await page.locator('#ews-badge-notifications[data-count="1"]').waitFor({ timeout: 10000 });
    assert.strictEqual(unread(), 1);
    await page.screenshot({ path: path.join(SHOTS, 'notifications-package.png'), fullPage: true });

    // Back to the inbox (EWS's own Back): one read, one not; mark all.
    await page.goBack();
    await f.locator(`tr[data-notification-id][data-package-id="${pkgs[1]}"][data-read=true]`).waitFor({ timeout: 15000 });
    assert.strictEqual(await f.locator(`tr[data-package-id="${pkgs[0]}"]`).getAttribute('data-read'), 'false');
    await f.locator('#read-all').click();
    await f.locator('tr[data-notification-id][data-read=false]').waitFor({ state: 'detached', timeout: 10000 });
    await page.locator('#ews-badge-notifications[data-count="0"]').waitFor({ state: 'attached', timeout: 10000 });
    assert.strictEqual(await page.locator('#ews-badge-notifications').isVisible(), false);
    assert.strictEqual(await f.locator('#read-all').isDisabled(), true);
    await waitFor(() => unread() === 0, 5000, 'all read');
  });
});

test('another module posts the badge on load too', async () => {
  s.sql(`INSERT INTO packages (sha256, name, version, task_id, size, entries, manifest)
    VALUES ('${'3'.repeat(64)}', 'mall', '3.2', ${taskId}, 10, 1, '[]')`);
  await withPage('notifications-badge-tasks', 'u-impl', '/?module=tasks', async (page) => {
    await page.locator('#ews-badge-notifications[data-count="1"]').waitFor({ timeout: 15000 });
  });
});

test('no worker died', () => {
  assert.deepStrictEqual(s.yard.deaths(), []);
});
