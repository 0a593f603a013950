// Tests of the development EWS (test tool): node --test tools/dev-ews/test/
//
// Each suite starts the server in-process on a free loopback port with a
// temporary key directory, and a tiny fake Yard that records uploads.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { start } = require('../server.js');

const TTL = 20;

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ews-test-'));
}

// A fake Yard: records each request and answers with the next canned
// answer ({status, headers, body}; default 404).
function fakeYard() {
  const seen = [];
  const answers = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      const a = answers.shift() || { status: 404, body: { error: 'not_found' } };
      const b = a.body === null ? '' : JSON.stringify(a.body);
      res.writeHead(a.status, Object.assign(b ? { 'Content-Type': 'application/json' } : {},
        { 'Content-Length': Buffer.byteLength(b) }, a.headers || {}));
      res.end(b);
    });
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${srv.address().port}`,
        seen, answers,
        close: () => new Promise((r) => { srv.close(r); srv.closeAllConnections(); }),
      });
    });
  });
}

function parseJwt(tok) {
  const parts = tok.split('.');
  assert.equal(parts.length, 3, 'three segments');
  for (const p of parts) assert.match(p, /^[A-Za-z0-9_-]+$/, 'base64url segments');
  return {
    header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    input: parts[0] + '.' + parts[1],
    sig: Buffer.from(parts[2], 'base64url'),
  };
}

// Verify tok against the server's JWKS (fetched like a relying party would).
async function verifyWithJwks(base, tok) {
  const jwks = await (await fetch(base + '/.well-known/jwks.json')).json();
  const t = parseJwt(tok);
  assert.equal(t.header.alg, 'RS256');
  assert.equal(t.header.typ, 'JWT');
  const jwk = jwks.keys.find((k) => k.kid === t.header.kid);
  assert.ok(jwk, 'the token kid is in the JWKS');
  const key = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  assert.ok(crypto.verify('sha256', Buffer.from(t.input), key, t.sig), 'signature verifies');
  return t;
}

function cookieOf(res) {
  const sc = res.headers.getSetCookie();
  assert.equal(sc.length, 1, 'one Set-Cookie');
  return sc[0];
}

async function login(base, user, redirectUri) {
  const body = new URLSearchParams({ user });
  if (redirectUri !== undefined) body.set('redirect_uri', redirectUri);
  return fetch(base + '/login', { method: 'POST', body, redirect: 'manual' });
}

async function session(base, user = 'u-admin') {
  const r = await login(base, user);
  assert.equal(r.status, 302);
  return cookieOf(r).split(';')[0];
}

async function setSettings(base, obj) {
  const r = await fetch(base + '/api/settings', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(obj),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

test.describe('dev EWS', () => {
  let dir;
  let yard;
  let ews;
  let base;

  test.before(async () => {
    dir = tmpDir();
    yard = await fakeYard();
    ews = await start({
      listen: '127.0.0.1:0', yardUrl: yard.url, keyDir: path.join(dir, 'keys'), ttl: TTL, log: false,
    });
    base = ews.url;
  });

  test.after(async () => {
    await ews.close();
    await yard.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.beforeEach(async () => {
    await setSettings(base, { refuse_refresh: false, on_expired: 'navigate', ttl: TTL });
  });

  test('listens on loopback at the URL it reports', () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(base, 'http://127.0.0.1:0');
  });

  test('generates a key pair: private PKCS#8 mode 0600, public SPKI', () => {
    const priv = path.join(dir, 'keys', 'private.pem');
    const pub = path.join(dir, 'keys', 'public.pem');
    assert.equal(fs.statSync(priv).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(priv, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(fs.readFileSync(pub, 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    const k = crypto.createPrivateKey(fs.readFileSync(priv));
    assert.equal(k.asymmetricKeyType, 'rsa');
    assert.equal(k.asymmetricKeyDetails.modulusLength, 2048);
    const fromPriv = crypto.createPublicKey(k).export({ type: 'spki', format: 'der' });
    assert.ok(crypto.createPublicKey(fs.readFileSync(pub)).export({ type: 'spki', format: 'der' }).equals(fromPriv));
  });

  test('JWKS: one RS256 signing key whose kid is the SPKI hash prefix', async () => {
    const r = await fetch(base + '/.well-known/jwks.json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const j = await r.json();
    assert.deepEqual(Object.keys(j), ['keys']);
    assert.equal(j.keys.length, 1);
    const k = j.keys[0];
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(k.kty, 'RSA');
    assert.equal(k.use, 'sig');
    assert.equal(k.alg, 'RS256');
    assert.equal(k.e, 'AQAB');
    assert.equal(Buffer.from(k.n, 'base64url').length, 256);
    const der = crypto.createPublicKey(fs.readFileSync(path.join(dir, 'keys', 'public.pem')))
      .export({ type: 'spki', format: 'der' });
    assert.equal(k.kid, crypto.createHash('sha256').update(der).digest('hex').slice(0, 16));
    assert.equal(ews.kid, k.kid);
    const fromJwk = crypto.createPublicKey({ key: k, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    assert.ok(fromJwk.equals(der), 'the JWK is the public.pem key');
  });

  test('a second start reuses the keys in the directory', async () => {
    const again = await start({ listen: '127.0.0.1:0', yardUrl: yard.url, keyDir: path.join(dir, 'keys'), log: false });
    try {
      assert.equal(again.kid, ews.kid);
    } finally {
      await again.close();
    }
  });

  test('/api/token needs a session', async () => {
    const r = await fetch(base + '/api/token');
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const forged = await fetch(base + '/api/token', { headers: { cookie: 'dev_ews_sid=forged' } });
    assert.equal(forged.status, 401);
  });

  test('login sets an HttpOnly SameSite=Lax session cookie and goes to the portal', async () => {
    const r = await login(base, 'u-admin');
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/');
    const c = cookieOf(r);
    assert.match(c, /^dev_ews_sid=[A-Za-z0-9_-]{43}; /);
    assert.match(c, /; HttpOnly/);
    assert.match(c, /; SameSite=Lax/);
    assert.match(c, /; Path=\//);
  });

  test('login -> /api/token: a token that verifies against the JWKS with the right claims and TTL', async () => {
    const cookie = await session(base, 'u-admin');
    const before = Math.floor(Date.now() / 1000);
    const r = await fetch(base + '/api/token', { headers: { cookie } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    const j = await r.json();
    const t = await verifyWithJwks(base, j.token);
    assert.equal(t.header.kid, ews.kid);
    const c = t.claims;
    assert.equal(c.iss, 'dev-ews');
    assert.equal(c.aud, 'yard');
    assert.equal(c.sub, 'u-admin');
    assert.equal(c.name, 'Ada Admin');
    assert.equal(c.email, 'ada@example.test');
    assert.deepEqual(c.roles, ['yard-admin']);
    assert.ok(Number.isInteger(c.iat) && Number.isInteger(c.exp) && Number.isInteger(c.nbf));
    assert.ok(c.iat >= before - 1 && c.iat <= before + 2);
    assert.equal(c.nbf, c.iat);
    assert.equal(c.exp - c.iat, TTL);
    assert.equal(j.exp, c.exp);
    assert.equal(typeof c.jti, 'string');
    assert.ok(c.jti.length >= 16);
    assert.equal(c.scope, undefined);

    const j2 = await (await fetch(base + '/api/token', { headers: { cookie } })).json();
    assert.notEqual(parseJwt(j2.token).claims.jti, c.jti, 'fresh jti per token');
  });

  test('test users: implementer, viewer and a custom sub', async () => {
    let t = await verifyWithJwks(base, (await (await fetch(base + '/api/token',
      { headers: { cookie: await session(base, 'u-impl') } })).json()).token);
    assert.deepEqual([t.claims.sub, t.claims.name, t.claims.email, t.claims.roles],
      ['u-impl', 'Ivan Implementer', 'ivan@example.test', ['implementer']]);
    t = await verifyWithJwks(base, (await (await fetch(base + '/api/token',
      { headers: { cookie: await session(base, 'u-viewer') } })).json()).token);
    assert.deepEqual([t.claims.sub, t.claims.name, t.claims.roles], ['u-viewer', 'Vera Viewer', []]);
    t = await verifyWithJwks(base, (await (await fetch(base + '/api/token',
      { headers: { cookie: await session(base, 'u-nobody-42') } })).json()).token);
    assert.equal(t.claims.sub, 'u-nobody-42');
    assert.deepEqual(t.claims.roles, []);
    assert.equal(t.claims.email, undefined);
    for (const bad of ['', 'a b', 'x'.repeat(129), 'é', '<script>']) {
      const r = await login(base, bad);
      assert.equal(r.status, 400, `sub ${JSON.stringify(bad)}`);
    }
  });

  test('token TTL follows the settings', async () => {
    const cookie = await session(base);
    await setSettings(base, { ttl: 7 });
    const c = parseJwt((await (await fetch(base + '/api/token', { headers: { cookie } })).json()).token).claims;
    assert.equal(c.exp - c.iat, 7);
    const bad = await fetch(base + '/api/settings', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttl: 0 }),
    });
    assert.equal(bad.status, 400);
  });

  test('refusal switch: /api/token answers 403 {"error":"refused"}', async () => {
    const cookie = await session(base);
    let s = await setSettings(base, { refuse_refresh: true });
    assert.equal(s.refuse_refresh, true);
    let r = await fetch(base + '/api/token', { headers: { cookie } });
    assert.equal(r.status, 403);
    assert.deepEqual(await r.json(), { error: 'refused' });
    s = await setSettings(base, { refuse_refresh: false });
    r = await fetch(base + '/api/token', { headers: { cookie } });
    assert.equal(r.status, 200);
  });

  test('settings form: unchecked box turns refusal off, then redirects back', async () => {
    await setSettings(base, { refuse_refresh: true });
    const r = await fetch(base + '/settings', {
      method: 'POST', redirect: 'manual',
      body: new URLSearchParams({ on_expired: 'stay', ttl: '30', back: '/?module=logs' }),
    });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/?module=logs');
    const s = await (await fetch(base + '/api/settings')).json();
    assert.deepEqual(s, { refuse_refresh: false, on_expired: 'stay', ttl: 30 });
    const off = await fetch(base + '/settings', {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ refuse_refresh: '1', back: '//evil.test/' }),
    });
    assert.equal(off.headers.get('location'), '/', 'back must be a local path');
    assert.equal((await (await fetch(base + '/api/settings')).json()).refuse_refresh, true);
    const bad = await fetch(base + '/settings', { method: 'POST', body: new URLSearchParams({ on_expired: 'jump' }) });
    assert.equal(bad.status, 400);
  });

  test('redirect_uri outside the Yard origin is refused with 400', async () => {
    const port = new URL(yard.url).port;
    const bad = [
      'http://evil.test/ui/tasks',
      `http://127.0.0.1:${Number(port) + 1}/ui/tasks`,
      `https://127.0.0.1:${port}/ui/tasks`,
      `http://localhost:${port}/ui/tasks`,
      `http://user@127.0.0.1:${port}/ui/tasks`,
      `http://127.0.0.1:${port}@evil.test/ui/tasks`,
      'javascript:alert(1)',
      'data:text/html,hi',
      '//evil.test/x',
      '/ui/tasks',
      'ui/tasks',
      `${yard.url}.evil.test/`,
      'http:\\\\evil.test\\x',
    ];
    for (const ru of bad) {
      const r = await login(base, 'u-admin', ru);
      assert.equal(r.status, 400, ru);
      assert.match(await r.text(), /redirect_uri not allowed/);
      assert.equal(r.headers.getSetCookie().length, 0, 'no session for a refused login');
      const g = await fetch(base + '/login?redirect_uri=' + encodeURIComponent(ru));
      assert.equal(g.status, 400, 'GET ' + ru);
    }
  });

  test('redirect_uri on the Yard origin gets #access_token=<JWT> (replacing any fragment)', async () => {
    const ru = yard.url + '/ui/tasks?task=42&lang=en#old=1';
    const r = await login(base, 'u-impl', ru);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    cookieOf(r);
    const loc = r.headers.get('location');
    const u = new URL(loc);
    assert.equal(u.origin, yard.url);
    assert.equal(u.pathname, '/ui/tasks');
    assert.equal(u.search, '?task=42&lang=en');
    assert.doesNotMatch(u.search, /token/, 'no token in the query');
    const m = /^#access_token=([A-Za-z0-9_.-]+)$/.exec(u.hash);
    assert.ok(m, 'fragment is exactly access_token=JWT: ' + u.hash);
    const t = await verifyWithJwks(base, m[1]);
    assert.equal(t.claims.sub, 'u-impl');
    assert.equal(t.claims.exp - t.claims.iat, TTL);
  });

  test('redirect_uri back into the portal (own origin) is allowed, without a token', async () => {
    const r = await login(base, 'u-admin', base + '/?module=logs&query=task%3D42#frag');
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), base + '/?module=logs&query=task%3D42');
  });

  test('portal: needs a session, then frames Yard with no token in the URL', async () => {
    let r = await fetch(base + '/?module=logs&query=task%3D42&theme=dark&lang=en', { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/login?redirect_uri=' +
      encodeURIComponent(base + '/?module=logs&query=task%3D42&theme=dark&lang=en'));

    const cookie = await session(base, 'u-admin');
    r = await fetch(base + '/?module=logs&query=task%3D42&theme=dark&lang=en', { headers: { cookie } });
    assert.equal(r.status, 200);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, new RegExp(`frame-src ${yard.url}(;|$)`));
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    const html = await r.text();
    assert.match(html, /Development EWS — test tool, not for production/);
    assert.match(html, /Ada Admin/);
    const src = /<iframe id="yard-frame"[^>]* src="([^"]+)"/.exec(html)[1].replace(/&amp;/g, '&');
    assert.equal(src, `${yard.url}/ui/logs?task=42&theme=dark&lang=en`);
    assert.doesNotMatch(html, /eyJ[A-Za-z0-9_-]+\.eyJ/, 'no JWT in the page');
    assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, 'no inline script');
    assert.match(html, /<script src="\/portal\.js" defer><\/script>/);
    assert.match(html, /id="ews-status"/);
    assert.match(html, /id="ews-expired"[^>]*hidden/);
    for (const m of ['tasks', 'nodes', 'logs', 'metrics', 'commands', 'packages', 'notifications',
      'permissions', 'users', 'alerts']) {
      assert.match(html, new RegExp(`href="/\\?module=${m}"`));
    }
    const meta = /<meta name="ews-config" content="([^"]*)">/.exec(html)[1];
    const cfg = JSON.parse(meta.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    assert.equal(cfg.yardOrigin, yard.url);
    assert.equal(cfg.module, 'logs');

    assert.doesNotMatch(html, /href="\/\?module=start"/, 'the landing page is not a menu entry');
    r = await fetch(base + '/', { headers: { cookie } });
    assert.match(await r.text(), new RegExp(`src="${yard.url}/ui/start"`), 'the portal opens Yard\'s landing page');
    r = await fetch(base + '/?module=evil', { headers: { cookie } });
    assert.equal(r.status, 404);
    r = await fetch(base + '/?module=tasks&query=' + 'x'.repeat(501), { headers: { cookie } });
    assert.equal(r.status, 400);
    r = await fetch(base + '/?module=tasks&query=a%22%3E%3Cscript%3E', { headers: { cookie } });
    assert.doesNotMatch(await r.text(), /"><script>/, 'query is escaped');
  });

  test('every page says it is a test tool', async () => {
    const cookie = await session(base);
    for (const p of ['/login', '/', '/upload', '/nope']) {
      const r = await fetch(base + p, { headers: { cookie } });
      assert.match(await r.text(), /Development EWS — test tool, not for production/, p);
    }
  });

  test('logout ends the session', async () => {
    const cookie = await session(base);
    const r = await fetch(base + '/logout', { method: 'POST', headers: { cookie }, redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.match(cookieOf(r), /Max-Age=0/);
    assert.equal((await fetch(base + '/api/token', { headers: { cookie } })).status, 401);
  });

  test('/api/mint is disabled by default', async () => {
    const r = await fetch(base + '/api/mint', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub":"x"}',
    });
    assert.equal(r.status, 404);
  });

  test('cross-origin posts and foreign Host headers are refused', async () => {
    let r = await fetch(base + '/login', {
      method: 'POST', redirect: 'manual', headers: { origin: 'http://evil.test' },
      body: new URLSearchParams({ user: 'u-admin' }),
    });
    assert.equal(r.status, 403);
    r = await fetch(base + '/api/settings', {
      method: 'POST', headers: { origin: 'http://evil.test', 'content-type': 'application/json' },
      body: '{"refuse_refresh":true}',
    });
    assert.equal(r.status, 403);
    assert.equal((await (await fetch(base + '/api/settings')).json()).refuse_refresh, false);
    r = await fetch(base + '/login', {
      method: 'POST', redirect: 'manual', headers: { origin: base },
      body: new URLSearchParams({ user: 'u-admin' }),
    });
    assert.equal(r.status, 302, 'same origin is fine');
    // Our pages are no-referrer, so browsers post with "Origin: null";
    // Sec-Fetch-Site decides then.
    r = await fetch(base + '/login', {
      method: 'POST', redirect: 'manual', headers: { origin: 'null', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ user: 'u-admin' }),
    });
    assert.equal(r.status, 302, 'Origin: null from our own form');
    for (const site of ['cross-site', 'same-site']) {
      r = await fetch(base + '/login', {
        method: 'POST', redirect: 'manual', headers: { origin: 'null', 'sec-fetch-site': site },
        body: new URLSearchParams({ user: 'u-admin' }),
      });
      assert.equal(r.status, 403, 'Origin: null, Sec-Fetch-Site: ' + site);
    }
    r = await fetch(base + '/login', {
      method: 'POST', redirect: 'manual', headers: { origin: 'null' },
      body: new URLSearchParams({ user: 'u-admin' }),
    });
    assert.equal(r.status, 403, 'Origin: null without fetch metadata');
    // fetch() will not send a forged Host; use node:http.
    const status = await new Promise((resolve, reject) => {
      const u = new URL(base);
      http.get({ host: u.hostname, port: u.port, path: '/.well-known/jwks.json', headers: { host: 'evil.test' } },
        (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
    });
    assert.equal(status, 400);
  });

  test('unknown routes answer 404, static files have their types', async () => {
    assert.equal((await fetch(base + '/nope')).status, 404);
    assert.equal((await fetch(base + '/api/nope')).status, 404);
    assert.equal((await fetch(base + '/../server.js')).status, 404);
    let r = await fetch(base + '/portal.js');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/javascript/);
    r = await fetch(base + '/portal.css');
    assert.match(r.headers.get('content-type'), /^text\/css/);
  });

  test('the upload page and its tus proxy: requests go on to Yard with a service token', async () => {
    assert.equal((await fetch(base + '/tus/uploads', { method: 'POST' })).status, 401);
    const cookie = await session(base, 'u-impl');
    const page = await (await fetch(base + '/upload', { headers: { cookie } })).text();
    assert.match(page, /Test tool\./);
    assert.match(page, /src="\/vendor\/tus\.min\.js"/);
    for (const id of ['up-file', 'up-task', 'up-name', 'up-version', 'up-notes', 'up-pause', 'up-resume']) assert.match(page, new RegExp(`id="${id}"`));
    const js = await fetch(base + '/vendor/tus.min.js');
    assert.equal(js.status, 200);
    assert.match(await js.text(), /tus/);

    const id = '0b7c4f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f';
    yard.answers.push({ status: 201, body: null, headers: {
      Location: `${yard.url}/api/v1/uploads/${id}`, 'Tus-Resumable': '1.0.0', 'Upload-Expires': 'Wed, 02 Dec 2026 00:00:00 GMT',
    } });
    const meta = 'filename ' + Buffer.from('a.zip').toString('base64') + ',task_id ' + Buffer.from('42').toString('base64');
    let r = await fetch(base + '/tus/uploads', { method: 'POST', headers: {
      cookie, 'Tus-Resumable': '1.0.0', 'Upload-Length': '10', 'Upload-Metadata': meta,
    } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/tus/uploads/${id}`);
    assert.equal(r.headers.get('upload-expires'), 'Wed, 02 Dec 2026 00:00:00 GMT');
    let got = yard.seen.at(-1);
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/api/v1/uploads');
    assert.equal(got.headers['upload-length'], '10');
    assert.equal(got.headers['upload-metadata'], meta);
    assert.equal(got.headers['tus-resumable'], '1.0.0');
    assert.equal(got.headers.cookie, undefined, 'the EWS session cookie is not forwarded');
    const auth = /^Bearer (.+)$/.exec(got.headers.authorization);
    assert.ok(auth);
    const t = await verifyWithJwks(base, auth[1]);
    assert.equal(t.claims.sub, 'svc-ews');
    assert.equal(t.claims.scope, 'packages:upload');
    assert.deepEqual(t.claims.roles, []);
    assert.equal(t.claims.iss, 'dev-ews');
    assert.equal(t.claims.aud, 'yard');

    const chunk = crypto.randomBytes(10);
    yard.answers.push({ status: 204, body: null, headers: { 'Upload-Offset': '10', 'Yard-Upload-State': 'checking' } });
    r = await fetch(base + `/tus/uploads/${id}`, { method: 'PATCH', body: chunk, headers: {
      cookie, 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream',
    } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('upload-offset'), '10');
    assert.equal(r.headers.get('yard-upload-state'), 'checking');
    got = yard.seen.at(-1);
    assert.equal(got.method, 'PATCH');
    assert.equal(got.url, `/api/v1/uploads/${id}`);
    assert.ok(got.body.equals(chunk), 'the chunk passed through byte for byte');
    assert.equal(got.headers['upload-offset'], '0');

    yard.answers.push({ status: 200, body: { id, state: 'accepted', package_id: 7 } });
    r = await fetch(base + `/tus/uploads/${id}`, { headers: { cookie } });
    assert.deepEqual(await r.json(), { id, state: 'accepted', package_id: 7 });

    // Another site's page may not drive it; only upload URLs; only tus methods.
    const n = yard.seen.length;
    r = await fetch(base + `/tus/uploads/${id}`, { method: 'PATCH', body: 'x', headers: { cookie, origin: 'http://evil.test' } });
    assert.equal(r.status, 403);
    assert.equal((await fetch(base + '/tus/uploads/../../api/x', { headers: { cookie } })).status, 404);
    assert.equal((await fetch(base + '/tus/uploads/not-a-uuid', { headers: { cookie } })).status, 404);
    assert.equal((await fetch(base + '/tus/uploads', { method: 'PUT', headers: { cookie } })).status, 405);
    assert.equal(yard.seen.length, n, 'none of these reached Yard');
  });

  test('upload when Yard is unreachable says so', async () => {
    const dead = await start({ listen: '127.0.0.1:0', yardUrl: 'http://127.0.0.1:9', keyDir: path.join(dir, 'keys'), log: false });
    try {
      const cookie = await session(dead.url);
      const r = await fetch(dead.url + '/tus/uploads', { method: 'POST', headers: { cookie, 'Tus-Resumable': '1.0.0', 'Upload-Length': '2' } });
      assert.equal(r.status, 502);
      assert.match(await r.text(), /could not reach Yard/);
      const page = await (await fetch(dead.url + '/upload', { headers: { cookie } })).text();
      assert.match(page, /Tasks could not be listed: could not reach Yard/);
    } finally {
      await dead.close();
    }
  });
});

test.describe('dev EWS with EWS_TEST_MINT=1', () => {
  let dir;
  let ews;

  test.before(async () => {
    dir = tmpDir();
    ews = await start({ listen: '127.0.0.1:0', keyDir: dir, testMint: true, log: false, issuer: 'it-ews', audience: 'yard-it' });
  });
  test.after(async () => {
    await ews.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function mint(body) {
    return fetch(ews.url + '/api/mint', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
  }

  test('mints tokens from the real issuer, with overrides', async () => {
    let r = await mint({ sub: 'svc-x', scope: 'packages:upload', ttl: 5, roles: ['a'], name: 'N', email: 'e@x.test' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    let t = await verifyWithJwks(ews.url, (await r.json()).token);
    assert.equal(t.claims.iss, 'it-ews');
    assert.equal(t.claims.aud, 'yard-it');
    assert.equal(t.claims.sub, 'svc-x');
    assert.equal(t.claims.scope, 'packages:upload');
    assert.deepEqual(t.claims.roles, ['a']);
    assert.equal(t.claims.exp - t.claims.iat, 5);

    r = await mint({ sub: 'u', claims: { exp: null, aud: ['x', 'yard-it'], iss: 'evil' }, header: { kid: 'nope' } });
    t = parseJwt((await r.json()).token);
    assert.equal(t.claims.exp, undefined);
    assert.deepEqual(t.claims.aud, ['x', 'yard-it']);
    assert.equal(t.claims.iss, 'evil');
    assert.equal(t.header.kid, 'nope');
    assert.equal(t.header.alg, 'RS256');

    r = await mint({ sub: 'u', header: { kid: null, alg: 'none' } });
    t = parseJwt((await r.json()).token);
    assert.equal(t.header.kid, undefined);
    assert.equal(t.header.alg, 'RS256', 'always signed RS256');

    assert.equal((await mint({ sub: 1 })).status, 400);
    assert.equal((await mint({ roles: 'admin' })).status, 400);
    assert.equal((await mint({ ttl: -1 })).status, 400);
  });
});

test('EWS_KID="" leaves the kid out of tokens and the JWKS; non-loopback listen is refused', async () => {
  const dir = tmpDir();
  try {
    const ews = await start({ listen: '127.0.0.1:0', keyDir: dir, kid: '', testMint: true, log: false });
    try {
      const jwks = await (await fetch(ews.url + '/.well-known/jwks.json')).json();
      assert.equal(jwks.keys[0].kid, undefined);
      const tok = (await (await fetch(ews.url + '/api/mint', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub":"u"}',
      })).json()).token;
      assert.equal(parseJwt(tok).header.kid, undefined);
    } finally {
      await ews.close();
    }
    const { parseListen } = require('../server.js');
    assert.deepEqual(parseListen('8090'), { host: '127.0.0.1', port: 8090 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen('127.0.0.1:8090'), { host: '127.0.0.1', port: 8090 });
    assert.throws(() => parseListen('127.0.0.1:70000'), /bad port/);
    await assert.rejects(start({ listen: '0.0.0.0:0', keyDir: dir, log: false }), /loopback/);
    await assert.rejects(start({ listen: '10.1.2.3:0', keyDir: dir, log: false }), /loopback/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a public.pem that does not match private.pem stops the start', async () => {
  const dir = tmpDir();
  try {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const e = await start({ listen: '127.0.0.1:0', keyDir: dir, log: false });
    await e.close();
    fs.writeFileSync(path.join(dir, 'public.pem'), other.publicKey.export({ type: 'spki', format: 'pem' }));
    await assert.rejects(start({ listen: '127.0.0.1:0', keyDir: dir, log: false }), /does not match/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('node tools/dev-ews/server.js prints its URL and settings, but no secrets', async () => {
  const { spawn } = require('node:child_process');
  const dir = tmpDir();
  const p = spawn(process.execPath, [path.join(__dirname, '..', 'server.js')], {
    env: Object.assign({}, process.env, { EWS_LISTEN: '127.0.0.1:0', EWS_KEY_DIR: dir, EWS_TOKEN_TTL: '20' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no URL printed: ' + out)), 10000);
      p.stdout.on('data', (c) => {
        out += c;
        const m = /^dev-ews listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      p.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    assert.equal((await fetch(url + '/.well-known/jwks.json')).status, 200);
    assert.match(out, /ttl=20s/);
    assert.doesNotMatch(out, /PRIVATE KEY|eyJ/);
  } finally {
    p.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
