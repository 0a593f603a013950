// Browser: the first run inside the development EWS.  The portal opens
// Yard's start page, which lands each user on the first module they can
// use (a viewer and an implementer on Tasks, never on "Admins only"); the
// menu lists only usable modules, and none of them answers 404; a user
// with no grant gets a notice; helpful empty states; on Users an admin's
// own row offers neither Disable nor Make admin, and never-signed-in users
// are marked and can be filtered; the Permissions picker grants to an
// account name before its first sign-in (zh-CN) and says so, names task
// kinds in the page language; English says "1 task" and "2 tasks".
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, TOP } = require('../lib/stack.js');

let s, b, admin, n1, taskA;
const shots = path.join(TOP, 'tests', 'e2e', 'screenshots');

async function userId(sub) {
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: await s.mint(sub) })).status, 200);
  return Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
}

async function grant(sub, target, level) {
  const r = await s.api('POST', '/api/v1/grants', { token: admin,
    body: Object.assign({ user_id: await userId(sub), level }, target) });
  assert.ok(r.status === 201 || r.status === 200, r.text);
}

// Sign in through the dev EWS (a test user's button, or any other sub)
// at path; fn(page, frame); a screenshot on the way out.
async function asUser(name, sub, where, fn) {
  const ctx = await b.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await ctx.newPage();
  fs.mkdirSync(shots, { recursive: true });
  try {
    await page.goto(s.ews.url + where);
    await page.waitForURL(/\/login/);
    if (/^u-(admin|impl|viewer)$/.test(sub)) {
      await page.click(`#login-${sub}`);
    } else {
      await page.fill('#ews-custom-sub', sub);
      await page.click('#ews-login-custom button[type=submit]');
    }
    await page.waitForSelector('#yard-frame');
    await fn(page, page.frameLocator('#yard-frame'));
    await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
  } catch (e) {
    await page.screenshot({ path: path.join(shots, name + '-failed.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

async function menu(page) {
  await page.waitForSelector('#ews-menu[data-filtered="true"]', { state: 'attached' });
  return page.$$eval('#ews-menu li:not([hidden]) a[data-module]', (as) => as.map((a) => a.dataset.module));
}

async function ready(frame, module) {
  await frame.locator(`body[data-yard-module="${module}"][data-yard-page="ready"]`).waitFor({ timeout: 15000 });
}

test.before(async () => {
  s = await startE2E();
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  n1 = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('fr-node', 'fr.local') RETURNING id`));
  taskA = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${n1}, 'clock', 'console') RETURNING id`));
  s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${n1}, 'beat', 'jar')`);
  await grant('u-viewer', { task_id: taskA }, 'view');
  await grant('u-impl', { node_id: n1 }, 'operate');
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

test('every module of the dev EWS menu is served by Yard, start included', async () => {
  const html = await (await fetch(s.ews.url + '/login')).text();
  assert.ok(html.length > 0);
  for (const m of ['start', 'tasks', 'nodes', 'logs', 'metrics', 'commands', 'packages',
    'notifications', 'permissions', 'users', 'alerts']) {
    const r = await fetch(`${s.yard.url}/ui/${m}`);
    assert.strictEqual(r.status, 200, m);
    assert.doesNotMatch(await r.text(), /not available in this version/, m);
  }
});

test('a viewer lands on Tasks, not "Admins only", and sees only usable modules', async () => {
  await asUser('firstrun-viewer', 'u-viewer', '/', async (page, f) => {
    await page.waitForURL(/module=tasks/);
    await ready(f, 'tasks');
    assert.strictEqual(await f.locator('text=仅限管理员').count(), 0);
    assert.strictEqual(await f.locator('tr[data-task-id]').count(), 1);
    assert.deepStrictEqual(await menu(page),
      ['tasks', 'nodes', 'metrics', 'commands', 'packages', 'notifications', 'alerts']);
    // Each menu entry opens a page, none "Admins only".
    for (const m of await menu(page)) {
      await page.click(`#ews-menu a[data-module="${m}"]`);
      await page.waitForURL(new RegExp('module=' + m));
      await f.locator(`body[data-yard-module="${m}"]`).waitFor();
      await f.locator('body:not([data-yard-page="loading"])').waitFor();
      assert.notStrictEqual(await f.locator('body').getAttribute('data-yard-page'), 'forbidden', m);
    }
  });
});

test('an implementer lands on Tasks and may read logs', async () => {
  await asUser('firstrun-impl', 'u-impl', '/', async (page, f) => {
    await page.waitForURL(/module=tasks/);
    await ready(f, 'tasks');
    assert.strictEqual(await f.locator('tr[data-task-id]').count(), 2);
    assert.deepStrictEqual(await menu(page),
      ['tasks', 'nodes', 'logs', 'metrics', 'commands', 'packages', 'notifications', 'alerts']);
    // The landing left no history entry: Back goes to the login page,
    // not to the start page (which would send them forward again).
    await page.goBack();
    await page.waitForLoadState();
    assert.match(page.url(), /\/login/);
  });
});

test('a user with no grant stays on the start page, told whom to ask', async () => {
  await asUser('firstrun-nobody', 'fr-nobody', '/', async (page, f) => {
    await f.locator('#start-none').waitFor();
    const text = await f.locator('#start-none-text').textContent();
    assert.match(text, /请联系 Yard 管理员/);
    assert.match(text, /fr-nobody/);
    assert.deepStrictEqual(await menu(page), ['notifications']);
    // Their empty inbox says what it is for.
    await f.locator('#start-inbox').click();
    await page.waitForURL(/module=notifications/);
    await ready(f, 'notifications');
    assert.match(await f.locator('#notifications-table').textContent(), /还没有通知。有新的发布包上传/);
  });
});

test('empty states say what to do next', async () => {
  await asUser('firstrun-empty', 'u-viewer', '/?module=commands', async (page, f) => {
    await ready(f, 'commands');
    await f.locator('td.empty', { hasText: '在“任务”页面启动' }).waitFor();
    await page.click('#ews-menu a[data-module="packages"]');
    await ready(f, 'packages');
    await f.locator('tr.empty-row', { hasText: '在 EWS 中上传发布包' }).waitFor();
    await page.click('#ews-menu a[data-module="alerts"]');
    await ready(f, 'alerts');
    await f.locator('td.empty', { hasText: '一切正常' }).waitFor();
  });
});

test('admin: own row has no Disable or Make admin; never-signed-in users are marked', async () => {
  let r = await s.api('POST', '/api/v1/grants', { token: admin,
    body: { user_sub: 'fr-waiting', task_id: taskA, level: 'view' } });
  assert.strictEqual(r.status, 201, r.text);
  await asUser('firstrun-admin-users', 'u-admin', '/', async (page, f) => {
    // Admins land on Tasks too when there are nodes.
    await page.waitForURL(/module=tasks/);
    await ready(f, 'tasks');
    const all = await menu(page);
    assert.ok(all.includes('users') && all.includes('permissions'), all.join());
    await page.click('#ews-menu a[data-module="users"]');
    await ready(f, 'users');
    const own = f.locator('tr[data-user-sub="u-admin"]');
    assert.strictEqual(await own.getAttribute('data-self'), 'true');
    assert.strictEqual(await own.locator('[data-action="toggle-admin"]').count(), 0);
    assert.strictEqual(await own.locator('[data-action="toggle-disabled"]').count(), 0);
    assert.match(await own.locator('[data-self-note]').textContent(), /不能更改自己/);
    const other = f.locator('tr[data-user-sub="u-viewer"]');
    assert.strictEqual(await other.locator('[data-action="toggle-disabled"]').count(), 1);
    assert.strictEqual(await other.locator('[data-action="toggle-admin"]').count(), 1);
    assert.strictEqual(await other.getAttribute('data-never'), 'false');
    const waiting = f.locator('tr[data-user-sub="fr-waiting"]');
    assert.strictEqual(await waiting.getAttribute('data-never'), 'true');
    assert.strictEqual((await waiting.locator('[data-badge="never"]').textContent()).trim(), '从未登录');
    // The filter shows only those.
    await f.locator('#user-seen').selectOption('1');
    await f.locator('tr[data-user-sub="u-viewer"]').waitFor({ state: 'detached' });
    const subs = await f.locator('tr[data-user-sub]').evaluateAll((trs) => trs.map((x) => x.dataset.userSub));
    assert.ok(subs.includes('fr-waiting'), subs.join());
    assert.ok(subs.every((x) => x !== 'u-admin' && x !== 'u-viewer'), subs.join());
  });
});

test('zh-CN: granting to an account name before its first sign-in', async () => {
  await asUser('firstrun-pregrant', 'u-admin', '/?module=permissions', async (page, f) => {
    await ready(f, 'permissions');
    assert.match(await f.locator('#grant-sub-hint').textContent(), /还没登录过 Yard 也可以/);
    await f.locator('#grant-target-type').selectOption('task');
    // Kinds are named in the page language: no "clock · console".
    await f.locator('#grant-target option', { hasText: 'clock' }).waitFor({ state: 'attached' });
    const opts = await f.locator('#grant-target option').allTextContents();
    assert.ok(opts.includes('clock · 控制台程序'), opts.join('|'));
    assert.ok(!opts.some((o) => /console/.test(o)), opts.join('|'));

    // A bad name is refused before anything is sent.
    await f.locator('#grant-sub').fill('fr\tlater');
    assert.match(await f.locator('#grant-sub-error').textContent(), /账号名/);
    await f.locator('#grant-sub').fill('fr-later');
    await f.locator('#user-note', { hasText: '“fr-later”还没有登录过 Yard' }).waitFor();
    assert.strictEqual(await f.locator('#grant-sub-error').isHidden(), true);
    await f.locator('#grant-target').selectOption(String(taskA));
    await f.locator('#grant-level').selectOption('operate');
    await f.locator('#grant-create button[type=submit]').click();
    await f.locator('#banner', { hasText: '已为 EWS 账号“fr-later”创建用户（从未登录）' }).waitFor();
    // Chosen now, with the new grant listed.
    await f.locator(`#grants-body tr[data-target-id="${taskA}"][data-level="operate"]`).waitFor();
    const id = s.sql(`SELECT id FROM users WHERE sub = 'fr-later'`);
    await f.locator(`#grant-user option[value="${id}"]`).waitFor({ state: 'attached' });
    assert.strictEqual(await f.locator('#grant-user').inputValue(), id);
    assert.strictEqual(s.sql(`SELECT last_seen IS NULL FROM users WHERE sub = 'fr-later'`), 't');
    assert.strictEqual(s.sql(`SELECT level FROM grants WHERE user_id = ${id} AND task_id = ${taskA}`), 'operate');
    await f.locator('#user-note', { hasText: '还没有登录过 Yard，首次登录后这些授权即生效' }).waitFor();

    // Typing an existing user's name chooses them.
    await f.locator('#grant-sub').fill('u-viewer');
    await f.locator('#user-note', { hasText: '“u-viewer”已是用户' }).waitFor();
    assert.strictEqual(await f.locator('#grant-user').inputValue(), s.sql(`SELECT id FROM users WHERE sub = 'u-viewer'`));
  });
  // Their first sign-in lands them on Tasks with that task.
  const users = s.sql('SELECT count(*) FROM users');
  await asUser('firstrun-pregranted-signin', 'fr-later', '/', async (page, f) => {
    await page.waitForURL(/module=tasks/);
    await ready(f, 'tasks');
    assert.strictEqual(await f.locator(`tr[data-task-id="${taskA}"]`).count(), 1);
  });
  assert.strictEqual(s.sql('SELECT count(*) FROM users'), users);
  assert.strictEqual(s.sql(`SELECT last_seen IS NULL FROM users WHERE sub = 'fr-later'`), 'f');
});

test('English: "1 task" and "2 tasks"', async () => {
  await asUser('firstrun-en-one', 'u-viewer', '/?module=tasks&lang=en', async (page, f) => {
    await ready(f, 'tasks');
    assert.strictEqual(await f.locator('#tasks-count').textContent(), '1 task');
  });
  await asUser('firstrun-en-two', 'u-impl', '/?module=tasks&lang=en', async (page, f) => {
    await ready(f, 'tasks');
    assert.strictEqual(await f.locator('#tasks-count').textContent(), '2 tasks');
    await page.click('#ews-menu a[data-module="commands"]');
    await ready(f, 'commands');
    assert.strictEqual(await f.locator('text=Ledger').count(), 0);
  });
});
