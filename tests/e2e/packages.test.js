// Browser: a package is uploaded through the development EWS's upload page
// (tus-js-client, paused and resumed once) and Yard's verdict is shown; an
// implementer who manages the task opens it in the Packages page inside
// the EWS iframe (list, file tree, the diff against what the task has
// deployed by default, nothing here, then against the previous package of
// the task; Attach offered); a viewer sees it without Attach; the deep
// link /ui/packages/<id> opens it at the top level; a hostile zip shows
// the rejection reason on the upload page (issue 9; Attach and the
// deployed basis: issue 10, tests/e2e/deploy.test.js deploys).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startE2E, browser, withPage: signedIn, TOP } = require('../lib/stack.js');
const { zip } = require('../lib/zip.js');

const SHOTS = path.join(TOP, 'tests', 'e2e', 'screenshots');
let s, b, admin, taskId, pkgId, prevId, tmp;

async function userWith(sub, roles, grant) {
  const tok = await s.mint(sub, roles);
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: tok })).status, 200);
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, grant) });
  assert.strictEqual(r.status, 201, r.text);
  return tok;
}

test.before(async () => {
  s = await startE2E();
  b = await browser();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-pkgpage-'));
  admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  const r = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: {
      hostname: 'pkg-node', os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0', arch: 'x86_64',
      cpus: 2, mem_total: 8e9, boot_id: 'b0a7c0de-0000-4000-8000-000000000009', uptime: 100,
      agent_version: '0.1.0', disks: [{ path: '/', total: 1e11, free: 5e10 }],
    } }),
  });
  assert.strictEqual(r.status, 201, await r.clone().text());
  const nodeId = (await r.json()).node_id;
  taskId = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${nodeId}, 'shop', 'tomcat') RETURNING id`).split('\n')[0]);
  // The previous package of the task, as the upload path would store it.
  const m = JSON.stringify([
    { path: 'index.html', size: 5, sha256: 'a'.repeat(64) },
    { path: 'old/readme.txt', size: 9, sha256: 'b'.repeat(64) },
  ]);
  prevId = Number(s.sql(`INSERT INTO packages (sha256, name, version, task_id, size, entries, manifest, uploader_sub)
    VALUES ('${'c'.repeat(64)}', 'shop', '1.0', ${taskId}, 300, 2, '${m}', 'svc-ews') RETURNING id`).split('\n')[0]);
  await userWith('u-impl', ['implementer'], { task_id: taskId, level: 'manage' });
  await userWith('u-viewer', [], { task_id: taskId, level: 'view' });
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const withPage = (name, sub, start, fn) =>
  signedIn(b, s, { name, sub, start, width: 1100, height: 900 }, fn);

async function uploadThroughEws(page, file, fields, pauseOnce) {
  await page.waitForURL(/\/upload$/);
  await page.setInputFiles('#up-file', file);
  await page.fill('#up-task-id', String(taskId));
  for (const [k, v] of Object.entries(fields)) await page.fill(k, v);
  await page.fill('#up-chunk', '64');
  await page.click('#up-start');
  const box = page.locator('#ews-upload-progress');
  if (pauseOnce) {
    // Hold the second chunk until Pause, so a fast machine cannot finish
    // the whole file between the first progress event and the click.
    let patches = 0, held = null;
    await page.route('**/tus/uploads/**', (route) => {
      if (route.request().method() === 'PATCH' && ++patches === 2) {
        held = route;
        return;
      }
      route.continue().catch(() => {});
    });
    await page.waitForFunction(() => Number(document.querySelector('#ews-upload-progress').dataset.sent || 0) > 0);
    await page.waitForFunction(() => document.querySelectorAll('#ews-upload-log li').length >= 2);
    await page.click('#up-pause');
    await page.waitForFunction(() => document.querySelector('#ews-upload-progress').dataset.state === 'paused');
    if (held) await held.abort().catch(() => {});
    await page.unroute('**/tus/uploads/**');
    // Yard holds part of it: a partial upload, receiving.
    const row = s.sql(`SELECT state || ':' || (length > "offset")::text FROM uploads ORDER BY created_at DESC LIMIT 1`);
    assert.strictEqual(row, 'receiving:true');
    await page.screenshot({ path: path.join(SHOTS, 'packages-upload-paused.png'), fullPage: true });
    await page.click('#up-resume');
  }
  const v = page.locator('#ews-upload-verdict');
  await page.waitForFunction(() => ['accepted', 'rejected', 'error'].includes(document.querySelector('#ews-upload-verdict').dataset.state), null, { timeout: 60000 });
  assert.strictEqual(await box.getAttribute('data-state'), 'done');
  return v;
}

test('upload through the development EWS, paused and resumed once: accepted', async () => {
  const big = crypto.randomBytes(600 * 1024);	// about ten 64 KiB chunks
  const file = path.join(tmp, 'shop-2.0.zip');
  fs.writeFileSync(file, zip([
    { name: 'index.html', data: '<h1>shop 2.0</h1>' },
    { name: 'WEB-INF/web.xml', data: '<web-app/>', deflate: true },
    { name: 'WEB-INF/lib/app.jar', data: big },
    { name: '静态/说明.txt', data: '中文名', deflate: true },
  ]));
  await withPage('packages-upload', 'u-impl', '/upload', async (page) => {
    assert.match(await page.textContent('#ews-upload-note'), /Test tool/);
    const v = await uploadThroughEws(page, file, { '#up-name': 'shop', '#up-version': '2.0', '#up-notes': 'spring release' }, true);
    assert.strictEqual(await v.getAttribute('data-state'), 'accepted', await v.innerText());
    pkgId = Number(await v.getAttribute('data-package-id'));
    assert.ok(pkgId > prevId);
    const row = s.sql(`SELECT name || ':' || version || ':' || task_id || ':' || entries || ':' || uploader_sub FROM packages WHERE id = ${pkgId}`);
    assert.strictEqual(row, `shop:2.0:${taskId}:4:svc-ews`);
  });
});

test('an implementer sees the package, its files and its diff in the EWS iframe', async () => {
  assert.ok(pkgId, 'the upload test ran');
  await withPage('packages-implementer', 'u-impl', '/?module=packages', async (page, f) => {
    const row = f.locator(`tr[data-package-id="${pkgId}"]`);
    await row.waitFor({ timeout: 15000 });
    assert.match(await row.innerText(), /shop[\s\S]*2\.0[\s\S]*shop \(pkg-node\)/);
    assert.strictEqual(await f.locator(`tr[data-package-id="${prevId}"]`).count(), 1);
    await row.locator('[data-action=open]').click();
    const detail = f.locator(`#package-detail[data-package-id="${pkgId}"][data-state=ready]`);
    await detail.waitFor({ timeout: 10000 });
    assert.strictEqual(await f.locator('#detail-verdict').getAttribute('data-verdict'), 'accepted');
    assert.match(await f.locator('[data-fact=notes]').innerText(), /spring release/);
    // Attach: offered to a manager of a task.
    const attach = f.locator('#attach-wrap [data-action=attach]');
    await attach.waitFor({ timeout: 10000 });
    assert.strictEqual(await attach.isDisabled(), false);
    // The tree: top level, then a directory opened on demand.
    await f.locator('#detail-tree[data-state=ready]').waitFor();
    assert.strictEqual(await f.locator('#detail-tree > li[data-path="index.html"][data-dir="0"]').count(), 1);
    const web = f.locator('#detail-tree > li[data-path="WEB-INF"]');
    assert.strictEqual(await web.locator('li').count(), 0);
    await web.locator('[data-action=toggle]').first().click();
    await f.locator('li[data-path="WEB-INF/lib"]').waitFor();
    await f.locator('li[data-path="WEB-INF/lib"] [data-action=toggle]').click();
    const jar = f.locator('li[data-path="WEB-INF/lib/app.jar"]');
    await jar.waitFor();
    assert.match(await jar.getAttribute('data-sha256'), /^[0-9a-f]{64}$/);
    assert.strictEqual(await f.locator('li[data-path="静态"]').count(), 1);
    // By default the diff is against what the task runs: nothing yet.
    await f.locator('#detail-diff[data-state=ready][data-basis=deployed]').waitFor();
    assert.strictEqual(await f.locator('#detail-diff').getAttribute('data-against'), '');
    assert.match(await f.locator('#diff-basis').innerText(), /还没有运行中的版本|Nothing is live/);
    // Against the previous package of the task.
    await f.locator('#detail-diff [data-basis=previous]').click();
    const diff = f.locator(`#detail-diff[data-state=ready][data-basis=previous][data-against="${prevId}"]`);
    await diff.waitFor();
    assert.match(await f.locator('#diff-basis').innerText(), /上一个发布包|previous package for this task/);
    assert.strictEqual(await f.locator('[data-count=added]').getAttribute('data-n'), '3');
    assert.strictEqual(await f.locator('[data-count=changed]').getAttribute('data-n'), '1');
    assert.strictEqual(await f.locator('[data-count=removed]').getAttribute('data-n'), '1');
    assert.strictEqual(await f.locator('tr[data-change=changed][data-path="index.html"]').count(), 1);
    assert.strictEqual(await f.locator('tr[data-change=removed][data-path="old/readme.txt"]').count(), 1);
    assert.strictEqual(await f.locator('tr[data-change=added][data-path="WEB-INF/lib/app.jar"]').count(), 1);
    // The frame hugs the page (yard:resize).
    const h = await page.locator('#yard-frame').evaluate((e) => e.getBoundingClientRect().height);
    assert.ok(h > 400, `frame height ${h}`);
  });
});

test('a viewer sees the package without Attach; the deep link opens it', async () => {
  assert.ok(pkgId, 'the upload test ran');
  await withPage('packages-viewer', 'u-viewer', `/?module=packages&query=${encodeURIComponent('package=' + pkgId)}&lang=en`, async (page, f) => {
    await f.locator(`#package-detail[data-package-id="${pkgId}"][data-state=ready]`).waitFor({ timeout: 15000 });
    assert.strictEqual(await f.locator(`tr[data-package-id="${pkgId}"]`).count(), 1);
    await f.locator('#detail-diff[data-state=ready]').waitFor();
    await f.locator('#attach-wrap[data-state=ready]').waitFor({ state: 'attached' });
    assert.strictEqual(await f.locator('[data-action=attach]').count(), 0);
    assert.match(await f.locator('#diff-basis').innerText(), /Nothing is live on task shop/);
    await f.locator('#detail-diff [data-basis=previous]').click();
    await f.locator(`#detail-diff[data-state=ready][data-basis=previous][data-against="${prevId}"]`).waitFor();
    assert.match(await f.locator('#diff-basis').innerText(), /Compared with the previous package for this task/);
  });
  // The notification's deep link, at the top level with a fragment token.
  const ctx = await b.newContext({ viewport: { width: 800, height: 800 } });
  try {
    const page = await ctx.newPage();
    const tok = await s.mint('u-viewer');
    await page.goto(`${s.yard.url}/ui/packages/${pkgId}?lang=en&theme=dark#access_token=${tok}`);
    await page.locator(`#package-detail[data-package-id="${pkgId}"][data-state=ready]`).waitFor({ timeout: 15000 });
    assert.strictEqual(new URL(page.url()).hash, '');
    await page.screenshot({ path: path.join(SHOTS, 'packages-deeplink.png'), fullPage: true });
  } finally {
    await ctx.close();
  }
});

test('a hostile zip shows the rejection reason on the upload page', async () => {
  const file = path.join(tmp, 'evil.zip');
  fs.writeFileSync(file, zip([{ name: 'ok.txt', data: 'x' }, { name: '../../etc/evil.sh', data: 'boom' }]));
  await withPage('packages-upload-rejected', 'u-impl', '/upload', async (page) => {
    const v = await uploadThroughEws(page, file, { '#up-name': 'evil' }, false);
    assert.strictEqual(await v.getAttribute('data-state'), 'rejected', await v.innerText());
    assert.strictEqual(await v.getAttribute('data-reason'), 'path_traversal');
    assert.match(await v.innerText(), /\.\.\/\.\.\/etc\/evil\.sh/);
    assert.strictEqual(s.sql(`SELECT count(*) FROM packages WHERE name = 'evil'`), '0');
  });
});

test('no worker died', () => {
  assert.deepStrictEqual(s.yard.deaths(), []);
});
