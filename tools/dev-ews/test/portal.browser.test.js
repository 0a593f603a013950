// Browser test of the dev EWS portal script (portal.js) in headless Chromium:
// the postMessage contract of SPEC 3.2 from the EWS side, against a tiny fake
// Yard page.  Skipped when playwright-core (the repository's dev dependency)
// or /usr/bin/chromium is missing.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { start } = require('../server.js');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let chromium = null;
try {
  ({ chromium } = require('playwright-core'));
} catch { /* skipped below */ }
const skip = chromium === null ? 'playwright-core is not installed (npm ci)'
  : (!fs.existsSync(CHROMIUM) ? `${CHROMIUM} is missing` : false);

// A fake Yard: /ui/<module> pages that post yard:ready to the EWS origin,
// collect ews:token messages in window.tokens, and are frameable by the EWS.
function fakeYard(ewsOrigin) {
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/fake.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(`
        window.EWS = document.querySelector('meta[name=ews]').content;
        window.tokens = [];
        window.msgs = [];
        window.send = (m) => parent.postMessage(m, EWS);
        addEventListener('message', (e) => {
          if (e.origin === EWS && e.source === parent && e.data && e.data.type === 'ews:token') {
            tokens.push(e.data.token);
            msgs.push(e.data);
          }
        });
        if (parent !== window) send({ type: 'yard:ready' });`);
      return;
    }
    if (/^\/ui\/[a-z]+$/.test(u.pathname)) {
      res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': `frame-ancestors 'self' ${ewsOrigin()}` });
      res.end(`<!doctype html><meta name="ews" content="${ewsOrigin()}"><p>fake ${u.pathname}</p><script src="/fake.js"></script>`);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () => new Promise((r) => { srv.close(r); srv.closeAllConnections(); }),
  })));
}

test.describe('dev EWS portal in Chromium', { skip }, () => {
  let dir, yard, ews, browser, page;
  // The Yard frame of the portal whose URL matches re, once it has loaded
  // (after a yard:navigate or Back the portal swaps in a new iframe).
  async function yardFrame(re) {
    for (let i = 0; i < 100; i++) {
      const el = await page.$('#yard-frame');
      const f = el && await el.contentFrame();
      if (f && re.test(f.url())) {
        await f.waitForFunction(() => Array.isArray(window.tokens));
        return f;
      }
      await page.waitForTimeout(50);
    }
    throw new Error('no Yard frame matching ' + re);
  }
  const status = () => page.$eval('#ews-status', (s) => ({ event: s.dataset.event, text: s.textContent }));
  const waitEvent = (ev) => page.waitForFunction((e) => document.getElementById('ews-status').dataset.event === e, ev, { timeout: 5000 });
  const frameHeight = () => page.$eval('#yard-frame', (f) => f.style.height);

  async function settings(obj) {
    const r = await fetch(ews.url + '/api/settings', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(obj),
    });
    assert.equal(r.status, 200);
  }

  test.before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ews-browser-'));
    let origin = null;
    yard = await fakeYard(() => origin);
    ews = await start({ listen: '127.0.0.1:0', yardUrl: yard.url, keyDir: dir, ttl: 20, log: false });
    origin = ews.url;
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage();
  });

  test.after(async () => {
    if (browser) await browser.close();
    if (ews) await ews.close();
    if (yard) await yard.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('sign in from the portal, then the frame gets a token by postMessage', async () => {
    await page.goto(ews.url + '/?module=tasks&theme=dark');
    assert.ok(page.url().startsWith(ews.url + '/login?redirect_uri='), page.url());
    await Promise.all([page.waitForURL(ews.url + '/?module=tasks&theme=dark'), page.click('#login-u-admin')]);
    await waitEvent('sent-token');
    const f = await yardFrame(/\/ui\/tasks/);
    assert.equal(f.url(), yard.url + '/ui/tasks?theme=dark');
    await f.waitForFunction(() => window.tokens.length === 1);
    const tok = await f.evaluate(() => window.tokens[0]);
    const claims = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'u-admin');
    assert.match((await status()).text, /sent token/);

    await f.evaluate(() => window.send({ type: 'yard:token-request' }));
    await f.waitForFunction(() => window.tokens.length === 2);
  });

  test('resize is clamped to 200..20000 and needs a number', async () => {
    const f = await yardFrame(/\/ui\/tasks/);
    for (const [h, want] of [[50, '200px'], [1e9, '20000px'], [733.4, '733px'], ['900', '733px'], [NaN, '733px']]) {
      await f.evaluate((x) => window.send({ type: 'yard:resize', height: x }), h);
      await page.waitForTimeout(100);
      assert.equal(await frameHeight(), want, `height ${h}`);
    }
  });

  test('messages from another window, even of the Yard origin, are dropped', async () => {
    // The portal itself (EWS origin, wrong source).
    await page.evaluate(() => window.postMessage({ type: 'yard:resize', height: 400 }, '*'));
    // A second Yard frame (right origin, wrong source).
    await page.evaluate((src) => {
      const i = document.createElement('iframe');
      i.id = 'intruder';
      i.src = src;
      document.body.appendChild(i);
    }, yard.url + '/ui/nodes');
    const intruder = await (await page.$('#intruder')).contentFrame();
    await intruder.waitForLoadState();
    await intruder.evaluate(() => window.send({ type: 'yard:resize', height: 555 }));
    await page.waitForTimeout(300);
    assert.equal(await frameHeight(), '733px');
    assert.equal(await intruder.evaluate(() => window.tokens.length), 0, 'the intruder got no token');
    assert.ok(Number(await page.$eval('#ews-status', (s) => s.dataset.dropped)) >= 2);
    await page.evaluate(() => document.getElementById('intruder').remove());
  });

  test('navigate: only menu modules, updates the frame, the address bar and Back', async () => {
    const f = await yardFrame(/\/ui\/tasks/);
    await f.evaluate(() => window.send({ type: 'yard:navigate', module: 'evil', query: '' }));
    await waitEvent('navigate-refused');
    await f.evaluate(() => window.send({ type: 'yard:navigate', module: 'logs', query: 'x'.repeat(501) }));
    await page.waitForTimeout(100);
    assert.equal(page.url(), ews.url + '/?module=tasks&theme=dark');

    await f.evaluate(() => window.send({ type: 'yard:navigate', module: 'logs', query: 'task=42' }));
    // Not waitEvent('navigated'): the new frame's token may replace that
    // status before it is looked at.
    await page.waitForURL(ews.url + '/?module=logs&query=task%3D42&theme=dark');
    assert.equal(await page.$eval('#yard-frame', (i) => i.src), yard.url + '/ui/logs?task=42&theme=dark');
    assert.equal(await page.$eval('#ews-menu a.active', (a) => a.dataset.module), 'logs');
    await page.waitForFunction(() => document.getElementById('ews-status').dataset.event === 'sent-token');
    const g = await yardFrame(/\/ui\/logs/);
    await g.waitForFunction(() => window.tokens.length === 1);

    await page.evaluate(() => history.back());
    await page.waitForFunction(() => /\/ui\/tasks/.test(document.getElementById('yard-frame').src));
    assert.equal(page.url(), ews.url + '/?module=tasks&theme=dark');
  });

  test('location: the address follows the frame, a reload opens it again, Back still works', async () => {
    const errors = [];
    const onErr = (e) => errors.push(e.message);
    page.on('pageerror', onErr);
    try {
      const f = await yardFrame(/\/ui\/tasks/);
      const frameEl = await page.$('#yard-frame');
      const len = await page.evaluate(() => history.length);
      await f.evaluate(() => window.send({ type: 'yard:location', module: 'tasks', query: 'task=42&tab=logs' }));
      await page.waitForURL(ews.url + '/?module=tasks&query=task%3D42%26tab%3Dlogs&theme=dark');
      // Not reloaded, no new history entry: the frame's own entries are Back's.
      assert.ok(await frameEl.evaluate((i) => i.isConnected), 'the same iframe');
      assert.equal(f.url(), yard.url + '/ui/tasks?theme=dark');
      assert.equal(await page.evaluate(() => history.length), len);
      assert.equal(await page.$eval('#ews-look', (x) => x.elements.query.value), 'task=42&tab=logs');

      // Refused: nothing changes, nothing throws.
      const here = page.url();
      const bad = [
        { module: 'evil', query: 'task=1' },
        { module: 'javascript:alert(1)', query: '' },
        { module: 42, query: '' },
        { module: 'logs', query: 'x'.repeat(501) },
        { module: 'logs', query: { task: 1 } },
        { module: 'logs', query: 'access_token=abc' },
        { module: 'logs', query: 'x=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LWFkbWluIn0.c2lnbmF0dXJl' },
      ];
      for (const m of bad) {
        await page.evaluate(() => { document.getElementById('ews-status').dataset.event = ''; });
        await f.evaluate((x) => window.send(Object.assign({ type: 'yard:location' }, x)), m);
        await waitEvent('location-refused');
        assert.equal(page.url(), here, JSON.stringify(m).slice(0, 80));
      }
      assert.ok(await frameEl.evaluate((i) => i.isConnected), 'still the same iframe');

      // A reload opens the frame at that address.
      await page.reload();
      await waitEvent('sent-token');
      assert.equal(await page.$eval('#yard-frame', (i) => i.src), yard.url + '/ui/tasks?task=42&tab=logs&theme=dark');

      // Another module (a history entry), then the frame moves there;
      // Back returns to the task's tab, Forward to where the frame was.
      let g = await yardFrame(/\/ui\/tasks\?task=42/);
      await g.evaluate(() => window.send({ type: 'yard:navigate', module: 'nodes', query: '' }));
      await page.waitForURL(ews.url + '/?module=nodes&theme=dark');
      g = await yardFrame(/\/ui\/nodes/);
      await g.evaluate(() => window.send({ type: 'yard:location', module: 'nodes', query: 'node=7' }));
      await page.waitForURL(ews.url + '/?module=nodes&query=node%3D7&theme=dark');
      await page.evaluate(() => history.back());
      await page.waitForURL(ews.url + '/?module=tasks&query=task%3D42%26tab%3Dlogs&theme=dark');
      await page.waitForFunction(() => /\/ui\/tasks\?task=42&tab=logs/.test(document.getElementById('yard-frame').src));
      await page.evaluate(() => history.forward());
      await page.waitForURL(ews.url + '/?module=nodes&query=node%3D7&theme=dark');
      await page.waitForFunction(() => /\/ui\/nodes\?node=7/.test(document.getElementById('yard-frame').src));
      assert.deepEqual(errors, []);
    } finally {
      page.off('pageerror', onErr);
    }
    // Back where the later tests expect to be.
    await page.goto(ews.url + '/?module=tasks&theme=dark');
    await waitEvent('sent-token');
  });

  test('an address with a bad module, an oversized query or a token opens nothing', async () => {
    const errors = [];
    const onErr = (e) => errors.push(e.message);
    page.on('pageerror', onErr);
    try {
      for (const [q, code, re] of [
        ['module=evil', 404, /Unknown module/],
        ['module=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E', 404, /Unknown module/],
        ['module=tasks&query=' + 'x'.repeat(501), 400, /longer than 500/],
        ['module=tasks&query=' + encodeURIComponent('access_token=abc'), 400, /looks like a token/],
        ['module=logs&query=' + encodeURIComponent('t=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LWFkbWluIn0.c2lnbmF0dXJl'), 400, /looks like a token/],
      ]) {
        const r = await page.goto(ews.url + '/?' + q);
        assert.equal(r.status(), code, q);
        assert.match(await page.textContent('#ews-problem'), re);
        assert.equal(await page.$('#yard-frame'), null, 'no frame for ' + q);
      }
      assert.deepEqual(errors, []);
    } finally {
      page.off('pageerror', onErr);
    }
    await page.goto(ews.url + '/?module=tasks&theme=dark');
    await waitEvent('sent-token');
  });

  test('refusal switch: no token, status says so', async () => {
    const f = await yardFrame(/\/ui\/tasks/);
    await f.waitForFunction(() => window.tokens.length === 1);
    await settings({ refuse_refresh: true });
    try {
      await f.evaluate(() => window.send({ type: 'yard:token-request' }));
      await waitEvent('refused-refresh');
      assert.match((await status()).text, /refused refresh/);
      await page.waitForTimeout(200);
      assert.equal(await f.evaluate(() => window.tokens.length), 1);
    } finally {
      await settings({ refuse_refresh: false });
    }
  });

  test('login-expired: "stay" shows the banner, "navigate" goes to the EWS login and back', async () => {
    await settings({ on_expired: 'stay' });
    let f = await yardFrame(/\/ui\/tasks/);
    await f.evaluate(() => window.send({ type: 'yard:login-expired', loginUrl: 'http://evil.test/' }));
    await page.waitForSelector('#ews-expired:not([hidden])');
    assert.match(await page.textContent('#ews-expired'), /Yard reports the login expired/);
    assert.match((await status()).text, /login expired from Yard/);
    assert.equal(page.url(), ews.url + '/?module=tasks&theme=dark');

    await settings({ on_expired: 'navigate' });
    f = await yardFrame(/\/ui\/tasks/);
    await Promise.all([page.waitForURL(/\/login\?/),
      f.evaluate(() => window.send({ type: 'yard:login-expired', loginUrl: 'http://evil.test/' }))]);
    assert.equal(page.url(), ews.url + '/login?redirect_uri=' + encodeURIComponent(ews.url + '/?module=tasks&theme=dark'));
    await Promise.all([page.waitForURL(ews.url + '/?module=tasks&theme=dark'), page.click('#login-u-viewer')]);
    await waitEvent('sent-token');
    assert.match(await page.textContent('#ews-user-name'), /Vera Viewer/);
  });

  test('ews:token names the portal page to come back to; a frame with its own overlay gets no banner; relogin goes to the login', async () => {
    await settings({ on_expired: 'stay' });
    try {
      let f = await yardFrame(/\/ui\/tasks/);
      await f.waitForFunction(() => window.msgs.length >= 1);
      assert.equal(await f.evaluate(() => window.msgs[window.msgs.length - 1].returnUrl),
        ews.url + '/?module=tasks&theme=dark');
      await f.evaluate(() => window.send({ type: 'yard:login-expired', loginUrl: 'http://evil.test/', overlay: true }));
      await page.waitForFunction(() => /Yard shows its sign-in link/.test(document.getElementById('ews-status').textContent));
      assert.equal(await page.isVisible('#ews-expired'), false);

      f = await yardFrame(/\/ui\/tasks/);
      await Promise.all([page.waitForURL(/\/login\?/),
        f.evaluate(() => window.send({ type: 'yard:relogin', loginUrl: 'http://evil.test/' }))]);
      assert.equal(page.url(), ews.url + '/login?redirect_uri=' + encodeURIComponent(ews.url + '/?module=tasks&theme=dark'));
      await Promise.all([page.waitForURL(ews.url + '/?module=tasks&theme=dark'), page.click('#login-u-viewer')]);
      await waitEvent('sent-token');
    } finally {
      await settings({ on_expired: 'navigate' });
    }
  });

  test('top-level login for Yard lands on Yard with #access_token (CSP form-action allows it)', async () => {
    await page.goto(ews.url + '/login?redirect_uri=' + encodeURIComponent(yard.url + '/ui/tasks?lang=en'));
    await Promise.all([page.waitForURL(/\/ui\/tasks/), page.click('#login-u-impl')]);
    assert.match(page.url(), new RegExp(`^${yard.url}/ui/tasks\\?lang=en#access_token=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
  });

  test('the settings form and the upload form work from the page', async () => {
    await page.goto(ews.url + '/?module=nodes');
    await page.check('#ews-refuse');
    await page.fill('#ews-ttl', '33');
    await Promise.all([page.waitForURL(ews.url + '/?module=nodes'), page.click('#ews-settings button[type=submit]')]);
    const s = await (await fetch(ews.url + '/api/settings')).json();
    assert.deepEqual([s.refuse_refresh, s.ttl], [true, 33]);
    await settings({ refuse_refresh: false, ttl: 20 });

    await page.goto(ews.url + '/upload');
    await page.setInputFiles('#up-file', { name: 'a.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\x05\x06' + '\0'.repeat(18)) });
    await page.fill('#up-name', 'demo');
    await page.fill('#up-version', '1.0');
    assert.equal(await page.evaluate(() => typeof window.tus), 'object');
    await page.click('#up-start');
    // The fake Yard has no tus endpoint: tus-js-client's error is shown.
    await page.waitForSelector('#ews-upload-verdict[data-state=error]');
    assert.match(await page.textContent('#ews-upload-verdict'), /Upload failed/);
  });
});
