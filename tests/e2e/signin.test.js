// Browser: sign-in recovery keeps the user's work (issue 13).  Inside the
// development EWS, a refused refresh shows Yard's overlay (and no second
// banner from the portal); the typed input stays; refresh coming back
// resumes the page in place (a pending list refresh completes, nothing
// reloads); the overlay's link takes the top window to the EWS login and
// back to the portal with the module open, where the form shows the draft.
// At the top level, a token from #access_token= carries over same-origin
// links in this tab without a login round trip and never shows in a URL.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, waitFor, TOP } = require('../lib/stack.js');
const { taskMenu, openTaskDrawer } = require('../lib/tasks.js');

let s, b, nodeId;
const shots = path.join(TOP, 'tests', 'e2e', 'screenshots');

test.before(async () => {
  s = await startE2E({ ttl: 600 });
  b = await browser();
  s.sql(`INSERT INTO nodes (name, hostname) VALUES ('node-signin', 'signin.local')`);
  nodeId = s.sql(`SELECT id FROM nodes WHERE name = 'node-signin'`);
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

async function withPage(t, fn) {
  await ews({ refuse_refresh: false, ttl: 600, on_expired: 'navigate' });
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await fn(page);
  } catch (e) {
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'signin-' + t.name.replace(/\W+/g, '_') + '.png'), fullPage: true })
      .catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

// The dev EWS's switches (a non-browser client may set them).
async function ews(settings) {
  const r = await fetch(s.ews.url + '/api/settings', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(settings),
  });
  assert.strictEqual(r.status, 200, await r.text());
}

async function mint(sub, roles = [], ttl = 600) {
  const r = await fetch(s.ews.url + '/api/mint', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, name: sub, roles, ttl }),
  });
  assert.strictEqual(r.status, 200);
  return (await r.json()).token;
}

async function createTask(name) {
  const tok = await mint('u-admin', ['yard-admin']);
  const r = await s.api('POST', '/api/v1/tasks', { token: tok, body: {
    node_id: Number(nodeId), name,
    spec: { kind: 'console', deploy_dir: path.join(s.dir, 'deploy', name), console: { command: '/bin/true' } },
  } });
  assert.strictEqual(r.status, 201, r.text);
  return r.json.id;
}

async function fillTaskForm(f, name) {
  await f.locator(`#task-node option[value="${nodeId}"]`).waitFor({ state: 'attached', timeout: 15000 });
  await f.locator('#task-node').selectOption(String(nodeId));
  await f.locator('#task-name').fill(name);
  await f.locator('#task-deploy').fill(path.join(s.dir, 'deploy', name));
  await f.locator('#task-command').fill('/bin/true');
  await f.locator('#task-args').fill('draft\nkept');
}

test('framed: overlay keeps the draft, resumes in place, and its link signs in and comes back', async (t) => {
  await withPage(t, async (page) => {
    const apiCalls = [];
    page.on('request', (r) => { if (/\/api\/v1\/tasks\?/.test(r.url())) apiCalls.push(Date.now()); });

    await page.goto(`${s.ews.url}/?module=tasks`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    await page.waitForSelector('#yard-frame');
    // Short tokens, and the portal stays on expiry: the page's overlay acts.
    await ews({ ttl: 6, on_expired: 'stay', refuse_refresh: false });
    await page.reload();
    let f = page.frameLocator('#yard-frame');
    await openTaskDrawer(f);
    await fillTaskForm(f, 'draft-web');
    await ews({ refuse_refresh: true });

    // Expiry (6 s) plus the bridge's 5 s wait.
    await f.locator('#yard-expired').waitFor({ state: 'visible', timeout: 25000 });
    const frame = page.frames().find((x) => x.url().startsWith(s.yard.url + '/ui/tasks'));
    await frame.evaluate(() => { window.stillThisPage = true; });
    // One link only: the portal's own banner stays hidden.
    assert.strictEqual(await page.locator('#ews-expired').isVisible(), false);
    assert.strictEqual(await f.locator('#task-name').inputValue(), 'draft-web');
    // The overlay has focus and keeps it: Tab does not leave it, typing
    // does not reach the form under it.
    const inOverlay = () => frame.evaluate(() => document.getElementById('yard-expired').contains(document.activeElement));
    assert.strictEqual(await inOverlay(), true, 'focus on the overlay');
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      assert.strictEqual(await inOverlay(), true, `focus still on the overlay after Tab ${i + 1}`);
    }
    await page.keyboard.type('xyz');
    assert.strictEqual(await f.locator('#task-name').inputValue(), 'draft-web');
    // The draft is stored in this tab (framed pages store no token).
    const stored = await frame.evaluate(() => {
      const out = {};
      for (let i = 0; i < sessionStorage.length; i++) out[sessionStorage.key(i)] = sessionStorage.getItem(sessionStorage.key(i));
      return out;
    });
    assert.ok(!('yard.token' in stored), 'framed pages keep no token');
    const draftKey = Object.keys(stored).find((k) => k.includes('"task"'));
    assert.ok(draftKey, 'a draft of the task form: ' + Object.keys(stored).join(', '));
    assert.strictEqual(JSON.parse(stored[draftKey]).fields.name, 'draft-web');

    // Coming back to the tab asks the host at once (the backoff's first
    // ask is 5 s after the overlay).
    const asks = () => page.locator('#ews-log li[data-event="token-request"]').count();
    const before = await asks();
    await frame.evaluate(() => window.dispatchEvent(new Event('focus')));
    await waitFor(async () => (await asks()) > before, 1500, 'a token request on focus');

    // While the overlay shows, a task appears; refresh comes back on: the
    // overlay goes by itself and the waiting list refresh shows the task.
    await createTask('made-while-expired');
    const asked = apiCalls.length;
    await ews({ refuse_refresh: false, ttl: 600 });
    await f.locator('#yard-expired').waitFor({ state: 'hidden', timeout: 30000 });
    await f.locator('tr[data-task-name="made-while-expired"]').waitFor({ timeout: 10000 });
    assert.ok(apiCalls.length > asked, 'the list was asked again');
    assert.strictEqual(await frame.evaluate(() => window.stillThisPage), true, 'no reload');
    assert.strictEqual(await f.locator('#task-name').inputValue(), 'draft-web');
    assert.strictEqual(await f.locator('#task-args').inputValue(), 'draft\nkept');

    // Again, and this time the user follows the overlay's link.
    await ews({ ttl: 4 });
    await page.reload();
    f = page.frameLocator('#yard-frame');
    // The draft comes back on load, in the drawer it was typed in, the
    // node too once the list arrives.
    await f.locator('[data-yard-draft-note="task"]').waitFor({ timeout: 15000 });
    await f.locator('#task-drawer[open]').waitFor({ timeout: 5000 });
    await waitFor(async () => await f.locator('#task-node').inputValue() === String(nodeId), 10000, 'node restored');
    assert.strictEqual(await f.locator('#task-name').inputValue(), 'draft-web');
    await f.locator('#task-name').fill('draft-web-2');
    await ews({ refuse_refresh: true });
    await f.locator('#yard-expired').waitFor({ state: 'visible', timeout: 25000 });
    const link = f.locator('#yard-relogin');
    assert.strictEqual(await link.getAttribute('target'), '_top');
    const href = new URL(await link.getAttribute('href'));
    assert.strictEqual(href.origin + href.pathname, s.ews.url + '/login');
    assert.strictEqual(href.searchParams.get('redirect_uri'), s.ews.url + '/?module=tasks',
      'back to the portal with the module open, never the bare Yard page');
    await Promise.all([page.waitForURL((u) => u.href.startsWith(s.ews.url + '/login?'), { timeout: 10000 }), link.click()]);
    assert.strictEqual(new URL(page.url()).searchParams.get('redirect_uri'), s.ews.url + '/?module=tasks');

    await ews({ refuse_refresh: false, ttl: 600 });
    await Promise.all([page.waitForURL(s.ews.url + '/?module=tasks', { timeout: 10000 }), page.click('#login-u-admin')]);
    f = page.frameLocator('#yard-frame');
    await f.locator('[data-yard-draft-note="task"]').waitFor({ timeout: 15000 });
    assert.strictEqual(await f.locator('#task-name').inputValue(), 'draft-web-2');
    assert.strictEqual(await f.locator('#task-args').inputValue(), 'draft\nkept');
    await waitFor(async () => await f.locator('#task-node').inputValue() === String(nodeId), 10000, 'node restored');

    // A successful submit forgets the draft.
    await f.locator('#task-create button[type=submit]').click();
    await f.locator('tr[data-task-name="draft-web-2"]').waitFor({ timeout: 10000 });
    const frame2 = page.frames().find((x) => x.url().startsWith(s.yard.url + '/ui/tasks'));
    await waitFor(async () => (await frame2.evaluate(() => sessionStorage.length)) === 0, 5000, 'draft cleared');
    assert.strictEqual(await f.locator('[data-yard-draft-note]').count(), 0);
  });
});

test('a cancelled edit forgets its draft; an edit draft stays with its task', async (t) => {
  const id = await createTask('edit-me');
  await withPage(t, async (page) => {
    await page.goto(`${s.ews.url}/?module=tasks`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    let f = page.frameLocator('#yard-frame');
    await taskMenu(f.locator(`tr[data-task-id="${id}"]`), 'edit');
    await f.locator('#task-create[data-mode=edit]').waitFor();
    await f.locator('#task-args').fill('edited');
    await page.waitForTimeout(700);
    await page.reload();
    f = page.frameLocator('#yard-frame');
    // The create form does not take the edit's draft (nor opens for it) ...
    await f.locator(`tr[data-task-id="${id}"]`).waitFor({ timeout: 15000 });
    await page.waitForTimeout(500);
    assert.strictEqual(await f.locator('[data-yard-draft-note]').count(), 0);
    assert.strictEqual(await f.locator('#task-drawer[open]').count(), 0);
    // ... editing that task again does.
    await taskMenu(f.locator(`tr[data-task-id="${id}"]`), 'edit');
    await f.locator('[data-yard-draft-note="task"]').waitFor({ timeout: 5000 });
    assert.strictEqual(await f.locator('#task-args').inputValue(), 'edited');
    await f.locator('#task-cancel-edit').click();
    const frame = page.frames().find((x) => x.url().startsWith(s.yard.url + '/ui/tasks'));
    assert.strictEqual(await frame.evaluate(() => sessionStorage.length), 0);
  });
});

test('top level: the token carries over same-origin links in this tab, never in a URL', async (t) => {
  const id = await createTask('top-level-task');
  const tok = await mint('u-admin', ['yard-admin']);
  await withPage(t, async (page) => {
    const urls = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${s.yard.url}/ui/tasks#access_token=${tok}`);
    await page.locator(`tr[data-task-id="${id}"]`).waitFor({ timeout: 15000 });
    assert.strictEqual(page.url(), `${s.yard.url}/ui/tasks`);

    // Yard.navigate (a task's Logs button) ...
    await Promise.all([page.waitForURL(`${s.yard.url}/ui/logs?task=${id}`),
      taskMenu(page.locator(`tr[data-task-id="${id}"]`), 'logs')]);
    await page.waitForFunction(() => document.body.dataset.yardAuth === 'ok', null, { timeout: 15000 });
    // ... and a plain link.
    await page.evaluate(() => {
      const a = document.createElement('a');
      a.id = 'plain';
      a.href = '/ui/users';
      a.textContent = 'users';
      document.querySelector('main').prepend(a);
    });
    await Promise.all([page.waitForURL(`${s.yard.url}/ui/users`), page.click('#plain')]);
    await page.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    assert.ok(!urls.some((u) => u.startsWith(s.ews.url)), 'no login round trip: ' + urls.filter((u) => u.startsWith(s.ews.url)));
    assert.ok(!urls.some((u) => u.includes(tok) || /access_token/.test(u.split('#')[0])), 'no token in a URL');
    assert.ok(!urls.slice(1).some((u) => u.includes('access_token')), 'only the first address carried the fragment');

    // A stored token the server refuses is dropped: back to the login.
    await page.evaluate((bad) => sessionStorage.setItem('yard.token', bad), await mint('u-admin', [], 600)
      .then((x) => x.slice(0, -4) + 'AAAA'));
    await page.goto(`${s.yard.url}/ui/users`);
    await page.waitForURL((u) => u.href.startsWith(s.ews.url + '/login'), { timeout: 10000 });
    assert.strictEqual(new URL(page.url()).searchParams.get('redirect_uri'), `${s.yard.url}/ui/users`);
  });
  // In another tab (another context) nothing is shared.
  await withPage(t, async (page) => {
    await page.goto(`${s.yard.url}/ui/users`);
    await page.waitForURL((u) => u.href.startsWith(s.ews.url + '/login'), { timeout: 10000 });
  });
});

test('drafts never keep passwords, secrets or tokens; discard puts the form back', async (t) => {
  const tok = await mint('u-admin', ['yard-admin']);
  await withPage(t, async (page) => {
    await page.goto(`${s.yard.url}/ui/users#access_token=${tok}`);
    await page.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    // Fields a page might add: none of them may reach the storage.
    await page.evaluate(() => {
      const form = document.getElementById('user-create');
      for (const [type, name] of [['password', 'pw'], ['text', 'api_token'], ['text', 'clientSecret'], ['hidden', 'h']]) {
        const i = document.createElement('input');
        i.type = type;
        i.name = name;
        i.id = 'extra-' + name;
        form.appendChild(i);
      }
    });
    await page.locator('#user-create-sub').fill('draft-sub');
    await page.locator('#extra-pw').fill('hunter2');
    await page.locator('#extra-api_token').fill('tok-123');
    await page.locator('#extra-clientSecret').fill('s3cret');
    await page.evaluate(() => { document.getElementById('extra-h').value = 'hidden-1'; });
    await page.locator('#user-create-name').fill('Draft Name');
    const draft = async () => page.evaluate(() => {
      for (let i = 0; i < sessionStorage.length; i++) {
        const k = sessionStorage.key(i);
        if (k.includes('"user"')) return sessionStorage.getItem(k);
      }
      return null;
    });
    await waitFor(async () => /Draft Name/.test(await draft() || ''), 5000, 'draft saved');
    const text = await draft();
    for (const secret of ['hunter2', 'tok-123', 's3cret', 'hidden-1']) assert.ok(!text.includes(secret), text);
    assert.strictEqual(JSON.parse(text).fields.sub, 'draft-sub');

    await page.reload();
    await page.locator('[data-yard-draft-note="user"]').waitFor({ timeout: 15000 });
    assert.strictEqual(await page.locator('#user-create-sub').inputValue(), 'draft-sub');
    await page.locator('[data-action="draft-discard"]').click();
    assert.strictEqual(await page.locator('#user-create-sub').inputValue(), '');
    assert.strictEqual(await draft(), null);
    assert.strictEqual(await page.locator('[data-yard-draft-note]').count(), 0);
  });
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
