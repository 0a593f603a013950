// Browser flows in Debian's chromium: the development EWS frames Yard's
// pages, signs the user in once, refreshes tokens over postMessage, and
// handles expiry; Yard refuses to be framed by a foreign origin.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, waitFor, TOP } = require('../lib/stack.js');

let s, b;
const shots = path.join(TOP, 'tests', 'e2e', 'screenshots');

test.before(async () => {
  s = await startE2E({ ttl: 600 });
  b = await browser();
  // Rows for grants to point at (nodes are enrolled in a later release).
  s.sql(`INSERT INTO nodes (name, hostname) VALUES ('node-e2e', 'e2e.local')`);
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

// Each test gets a fresh context (no cookies) and a screenshot on failure.
async function withPage(t, fn) {
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await fn(page);
  } catch (e) {
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, t.name.replace(/\W+/g, '_') + '.png'), fullPage: true })
      .catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

async function signIn(page, sub, module = 'users') {
  await page.goto(`${s.ews.url}/?module=${module}`);
  await page.waitForURL(/\/login/);
  await page.click(`#login-${sub}`);
  await page.waitForSelector('#yard-frame');
  return page.frameLocator('#yard-frame');
}

async function ewsSettings(page, body) {
  const r = await page.evaluate(async (b2) => {
    const x = await fetch('/api/settings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b2) });
    return x.status;
  }, body);
  assert.ok(r < 400, `dev EWS settings answered ${r}`);
}

test('admin signs in once on EWS and manages users inside the iframe', async (t) => {
  await withPage(t, async (page) => {
    const f = await signIn(page, 'u-admin', 'users');
    await f.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    await f.locator('#user-create-sub').fill('e2e-bob');
    await f.locator('#user-create-name').fill('Bob E2E');
    await f.locator('#user-create button[type=submit]').click();
    await f.locator('tr[data-user-sub="e2e-bob"]').waitFor({ timeout: 10000 });
    assert.strictEqual(s.sql(`SELECT name FROM users WHERE sub = 'e2e-bob'`), 'Bob E2E');
    // The iframe never saw a login page of its own; the token is not in its URL.
    const src = await page.locator('#yard-frame').getAttribute('src');
    assert.ok(!/token/i.test(src), src);
  });
});

// Regression (seen in CI): EWS's deferred script may start listening after
// the framed page has posted yard:ready; the page must ask again.
test('a host that starts listening late still hands over the token', async (t) => {
  await withPage(t, async (page) => {
    await signIn(page, 'u-admin', 'users');
    await page.frameLocator('#yard-frame').locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    let delayed = 0;
    await page.route('**/portal.js', async (route) => {
      delayed++;
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.reload();
    const f = page.frameLocator('#yard-frame');
    await f.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    assert.strictEqual(delayed, 1);
    assert.match(page.url(), /module=users/);
    assert.strictEqual(await f.locator('#yard-expired').isVisible(), false);
  });
});

test('a grant made on the Permissions page sticks across reloads', async (t) => {
  await withPage(t, async (page) => {
    // The implementer exists once they have signed in somewhere.
    const mint = await fetch(s.ews.url + '/api/mint', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'u-impl', name: 'Ivan Implementer' }),
    }).then((r) => r.json());
    assert.strictEqual((await s.api('GET', '/api/v1/me', { token: mint.token })).status, 200);
    const implId = s.sql(`SELECT id FROM users WHERE sub = 'u-impl'`);

    let f = await signIn(page, 'u-admin', 'permissions');
    await f.locator('#grant-user').waitFor({ timeout: 15000 });
    await f.locator(`#grant-user option[value="${implId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await f.locator('#grant-user').selectOption(implId);
    await f.locator('#grant-target-type').selectOption('node');
    const nodeId = s.sql(`SELECT id FROM nodes WHERE name = 'node-e2e'`);
    await f.locator(`#grant-target option[value="${nodeId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await f.locator('#grant-target').selectOption(nodeId);
    await f.locator('#grant-level').selectOption('operate');
    await f.locator('#grant-create button[type=submit]').click();
    await f.locator('#grants-body tr').first().waitFor({ timeout: 10000 });
    assert.strictEqual(s.sql(`SELECT level FROM grants WHERE user_id = ${implId} AND node_id = ${nodeId}`), 'operate');

    await page.reload();
    f = page.frameLocator('#yard-frame');
    await f.locator('#grant-user').waitFor({ timeout: 15000 });
    await f.locator(`#grant-user option[value="${implId}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await f.locator('#grant-user').selectOption(implId);
    await waitFor(async () => (await f.locator('#grants-body tr').count()) === 1, 10000, 'grant row after reload');
    const row = await f.locator('#grants-body tr').first().innerText();
    assert.match(row, /node-e2e/);
  });
});

test('the page refreshes its token over postMessage before it expires', async (t) => {
  await withPage(t, async (page) => {
    const f = await signIn(page, 'u-admin', 'users');
    await f.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    // Short tokens from now on: the page must ask for fresh ones.
    await ewsSettings(page, { ttl: 8 });
    await page.reload();
    const f2 = page.frameLocator('#yard-frame');
    await f2.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    const before = await page.locator('#ews-log li').count();
    await page.waitForTimeout(11000); // past the first token's exp + slack
    const tokensSent = await page.locator('#ews-log li', { hasText: /sent token|token sent/i }).count();
    assert.ok(tokensSent >= 2, `EWS sent ${tokensSent} tokens (log ${before} -> ${await page.locator('#ews-log li').count()})`);
    // An API call after the first token expired still works: search users.
    await f2.locator('#user-search').fill('u-admin');
    await f2.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 10000 });
    assert.strictEqual(await f2.locator('#yard-expired').isVisible().catch(() => false), false);
    await ewsSettings(page, { ttl: 600 });
  });
});

test('refused refresh: overlay with a sign-in link, unsaved input kept, resumes on a new token', async (t) => {
  await withPage(t, async (page) => {
    const f = await signIn(page, 'u-admin', 'users');
    await f.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    await ewsSettings(page, { ttl: 6, on_expired: 'stay' });
    await page.reload();
    const f2 = page.frameLocator('#yard-frame');
    await f2.locator('#user-create-sub').waitFor({ timeout: 15000 });
    await f2.locator('#user-create-sub').fill('typed-but-not-saved');
    await ewsSettings(page, { refuse_refresh: true });
    // Expiry (6 s) plus the bridge's 5 s wait for a fresh token.
    await f2.locator('#yard-expired').waitFor({ state: 'visible', timeout: 25000 });
    const link = f2.locator('#yard-relogin');
    assert.strictEqual(await link.getAttribute('target'), '_top');
    const href = await link.getAttribute('href');
    assert.ok(href.startsWith(s.ews.url + '/login?redirect_uri='), href);
    assert.strictEqual(await f2.locator('#user-create-sub').inputValue(), 'typed-but-not-saved');
    // One sign-in link: the portal leaves it to the page's overlay.
    await page.waitForFunction(() => /Yard shows its sign-in link/.test(document.getElementById('ews-status').textContent));
    assert.strictEqual(await page.locator('#ews-expired').isVisible(), false);
    // EWS delivers a token again: the overlay goes, the input is still there.
    await ewsSettings(page, { refuse_refresh: false, ttl: 600, on_expired: 'navigate' });
    await page.evaluate(async () => {
      const r = await fetch('/api/token');
      const { token } = await r.json();
      const frame = document.getElementById('yard-frame');
      frame.contentWindow.postMessage({ type: 'ews:token', token }, new URL(frame.src).origin);
    });
    await f2.locator('#yard-expired').waitFor({ state: 'hidden', timeout: 10000 });
    assert.strictEqual(await f2.locator('#user-create-sub').inputValue(), 'typed-but-not-saved');
  });
});

test('a top-level visit without a token goes to the EWS login and comes back signed in', async (t) => {
  await withPage(t, async (page) => {
    await page.goto(`${s.yard.url}/ui/users`);
    await page.waitForURL((u) => u.href.startsWith(s.ews.url + '/login'), { timeout: 10000 });
    const back = new URL(page.url()).searchParams.get('redirect_uri');
    assert.strictEqual(back, `${s.yard.url}/ui/users`);
    await page.click('#login-u-admin');
    await page.waitForURL((u) => u.href.startsWith(s.yard.url + '/ui/users'), { timeout: 10000 });
    await page.locator('tr[data-user-sub="u-admin"]').waitFor({ timeout: 15000 });
    assert.ok(!page.url().includes('access_token'), 'the fragment token is removed at once: ' + page.url());
  });
});

test('a page framed by a foreign origin is refused', async (t) => {
  const evil = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><iframe id="f" src="${s.yard.url}/ui/users"></iframe>`);
  });
  await new Promise((r) => evil.listen(0, '127.0.0.2', r));
  try {
    await withPage(t, async (page) => {
      const blocked = [];
      page.on('console', (m) => { if (/frame-ancestors|Refused to frame/i.test(m.text())) blocked.push(m.text()); });
      await page.goto(`http://127.0.0.2:${evil.address().port}/`);
      await page.waitForTimeout(1500);
      const frame = page.frames().find((fr) => fr !== page.mainFrame());
      const loaded = frame ? await frame.evaluate(() => !!document.querySelector('meta[name=yard-config]')).catch(() => false) : false;
      assert.strictEqual(loaded, false, 'Yard content must not render in a foreign frame');
      assert.ok(blocked.length > 0, 'chromium reports the frame-ancestors refusal');
    });
  } finally {
    evil.close();
  }
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
