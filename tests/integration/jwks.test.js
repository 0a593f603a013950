// Keys from a JWKS URL: one key set per instance, shared by its workers.
// Fetched at start, then on a timer (YARD_EWS_JWKS_REFRESH, or a shorter
// Cache-Control max-age, at least 30 s), and off the event loop when an
// unknown kid arrives (at most once per YARD_JWKS_REFRESH_MIN for the
// whole instance).  A failed fetch keeps the last good set.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const crypto = require('node:crypto');
const { startStack, sleep } = require('../lib/stack.js');
const jwt = require('../lib/jwt.js');

// Keys made as PEM and read back: exporting a JWK straight from a pair a
// generate job still references can deadlock Node 20 for good (the job's
// destructor, run by a garbage collection inside the export, waits for the
// lock the export holds; seen in CI-like runs under load).
function pair(type, opts) {
  const p = crypto.generateKeyPairSync(type, Object.assign({
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }, opts));
  return { publicKey: crypto.createPublicKey(p.publicKey), privateKey: crypto.createPrivateKey(p.privateKey) };
}
const rsa = () => pair('rsa', { modulusLength: 2048 });
const ec = () => pair('ec', { namedCurve: 'P-256' });

function jwk(pair, kid, alg) {
  return Object.assign(pair.publicKey.export({ format: 'jwk' }), { kid, alg, use: 'sig' });
}
const tok = (pair, kid, alg = 'RS256') =>
  jwt.sign({ alg, typ: 'JWT', kid }, jwt.claims({ sub: 'jw-' + kid }), pair.privateKey);

// A JWKS server: keys to publish, the time of every hit, and how to
// answer ('ok', '500'); close() and open() stop and restart it on its port.
async function jwksServer(keys, headers = {}) {
  const j = { keys, hits: [], mode: 'ok', delayMs: 0, headers, port: 0 };
  const sockets = new Set();
  j.srv = http.createServer((req, res) => {
    j.hits.push(Date.now());
    const answer = () => {
      if (j.mode === '500') {
        res.statusCode = 500;
        res.end('{"error":"down"}');
        return;
      }
      res.setHeader('content-type', 'application/json');
      for (const [k, v] of Object.entries(j.headers)) res.setHeader(k, v);
      res.end(JSON.stringify({ keys: j.keys }));
    };
    if (j.delayMs) setTimeout(answer, j.delayMs); else answer();
  });
  j.srv.on('connection', (c) => { sockets.add(c); c.on('close', () => sockets.delete(c)); });
  j.open = () => new Promise((r) => j.srv.listen(j.port, '127.0.0.1', () => {
    j.port = j.srv.address().port;
    r();
  }));
  j.close = () => new Promise((r) => {
    j.srv.close(r);
    for (const c of sockets) c.destroy();
  });
  await j.open();
  j.url = `http://127.0.0.1:${j.port}/.well-known/jwks.json`;
  return j;
}

// One HTTP exchange on a given agent (a pinned keep-alive connection).
function call(agent, url, path, token) {
  return new Promise((resolve, reject) => {
    const u = new URL(url + path);
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, agent,
      headers: token ? { authorization: 'Bearer ' + token } : {},
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

// A connection to each of the stack's two workers.  Kore's accept lock
// gives every new connection to one worker until it holds
// YARD_WORKER_MAX_CONNECTIONS (64 here), so connections are opened and
// kept until one lands on the other worker; /metrics names the worker
// that answers, and a kept-alive connection stays with it.
async function perWorker(s) {
  const found = new Map();
  const extra = [];
  for (let i = 0; i < 200 && found.size < 2; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const m = /^yard_scrape_worker (\d+)$/m.exec((await call(agent, s.yard.url, '/metrics')).text);
    assert.ok(m, 'the worker of a connection');
    if (found.has(m[1])) extra.push(agent); else found.set(m[1], agent);
  }
  extra.forEach((a) => a.destroy());
  assert.strictEqual(found.size, 2, 'connections to both workers');
  return [...found.values()];
}

// status of GET /api/v1/me with token, as each worker answers it.
async function meOnEach(s, token) {
  const agents = await perWorker(s);
  try {
    return await Promise.all(agents.map(async (a) =>
      (await call(a, s.yard.url, '/api/v1/me', token)).status));
  } finally {
    agents.forEach((a) => a.destroy());
  }
}

// /readyz's jwks member (once Redis answered: a fresh stack may not yet).
async function readyJwks(s) {
  let r;
  for (let i = 0; i < 50; i++) {
    r = await s.api('GET', '/readyz');
    if (r.status !== 503) break;
    await sleep(100);
  }
  assert.strictEqual(r.status, 200, r.text);
  return r.json.jwks;
}

const common = { YARD_EWS_PUBLIC_KEY_FILE: '', YARD_WORKERS: '2', YARD_JWKS_REFRESH_MIN: '10',
  YARD_WORKER_MAX_CONNECTIONS: '64' };

// Stack A: the timer far off (600 s): only the unknown-kid path fetches.
const kA1 = rsa(), kA2 = ec();
let A, jA, startedA;
// Stack B: the timer every 2 s (below the 30 s floor of the answer's
// no-store, which a configured period is not held to).
const kB1 = rsa(), kB2 = rsa();
let B, jB;
// Stack C: the timer at 600 s; the answer's max-age=5 is raised to the
// 30 s floor, and followed.
const kC1 = rsa();
let C, jC;
// Stack D: PEM keys too, and a JWKS that fails at start (500).
const kD1 = rsa();
let D, jD;

test.before(async () => {
  [jA, jB, jC, jD] = await Promise.all([
    jwksServer([jwk(kA1, 'k1', 'RS256')]),
    jwksServer([jwk(kB1, 'b1', 'RS256')], { 'cache-control': 'no-store' }),
    jwksServer([jwk(kC1, 'c1', 'RS256')], { 'cache-control': 'public, max-age=5' }),
    jwksServer([jwk(kD1, 'd1', 'RS256')]),
  ]);
  jD.mode = '500';
  [A, B, C, D] = await Promise.all([
    startStack({ env: Object.assign({ YARD_EWS_JWKS_URL: jA.url, YARD_EWS_JWKS_REFRESH: '600' }, common) }),
    startStack({ env: Object.assign({ YARD_EWS_JWKS_URL: jB.url, YARD_EWS_JWKS_REFRESH: '2' }, common) }),
    startStack({ env: Object.assign({ YARD_EWS_JWKS_URL: jC.url, YARD_EWS_JWKS_REFRESH: '600' }, common) }),
    // The stack's own PEM keys (YARD_EWS_PUBLIC_KEY_FILE) let it start.
    startStack({ env: { YARD_EWS_JWKS_URL: jD.url, YARD_EWS_JWKS_REFRESH: '2',
      YARD_WORKERS: '2', YARD_JWKS_REFRESH_MIN: '10', YARD_WORKER_MAX_CONNECTIONS: '64' } }),
  ]);
  startedA = jA.hits[0];
});
test.after(async () => {
  for (const s of [A, B, C, D]) if (s) await s.stop();
  for (const j of [jA, jB, jC, jD]) if (j) await j.close();
});

test('keys from the JWKS fetched at start verify tokens on every worker', async () => {
  assert.strictEqual(jA.hits.length, 1, 'one fetch for the instance, by the parent');
  assert.deepStrictEqual(await meOnEach(A, tok(kA1, 'k1')), [200, 200]);
  const j = await readyJwks(A);
  assert.strictEqual(j.state, 'ok');
  assert.strictEqual(j.keys, 1);
  assert.strictEqual(j.error, '');
  assert.ok(j.age_s >= 0 && j.age_s < 60, JSON.stringify(j));
});

test('an unknown kid within the refresh interval is refused without a fetch', async () => {
  jA.keys.push(jwk(kA2, 'k2', 'ES256'));
  assert.deepStrictEqual(await meOnEach(A, tok(kA2, 'k2', 'ES256')), [401, 401]);
  assert.strictEqual(jA.hits.length, 1);
});

test('after the interval an unknown kid triggers one fetch for the instance, then verifies', async () => {
  await sleep(Math.max(0, startedA + 10500 - Date.now()));
  const r = await A.api('GET', '/api/v1/me', { token: tok(kA2, 'k2', 'ES256') });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(jA.hits.length, 2);
  // The other worker has the new set too, without a fetch of its own.
  assert.deepStrictEqual(await meOnEach(A, tok(kA2, 'k2', 'ES256')), [200, 200]);
  // Another unknown kid right away, on either worker: refused, no fetch
  // (the minimum interval is the instance's, not each worker's).
  const k3 = rsa();
  for (let i = 0; i < 3; i++)
    assert.deepStrictEqual(await meOnEach(A, tok(k3, 'k3')), [401, 401]);
  assert.strictEqual(jA.hits.length, 2);
});

test('a key withdrawn from the JWKS stops verifying on every worker after the next fetch', async () => {
  const t1 = tok(kA1, 'k1');
  assert.deepStrictEqual(await meOnEach(A, t1), [200, 200]); // cached now
  jA.keys = [jwk(kA2, 'k2', 'ES256')];
  await sleep(Math.max(0, jA.hits[1] + 10500 - Date.now()));
  const k4 = rsa();
  const r = await A.api('GET', '/api/v1/me', { token: tok(k4, 'k4') }); // unknown kid: a fetch
  assert.strictEqual(r.status, 401);
  assert.strictEqual(jA.hits.length, 3);
  assert.deepStrictEqual(await meOnEach(A, t1), [401, 401], 'k1 is gone, from the caches too');
});

test('a key published and used at once on both workers verifies after one fetch', async () => {
  await sleep(Math.max(0, jA.hits[2] + 10500 - Date.now()));
  const k5 = rsa();
  jA.keys.push(jwk(k5, 'k5', 'RS256'));
  jA.delayMs = 700; // both requests arrive while the one fetch runs
  const agents = await perWorker(A);
  const t5 = tok(k5, 'k5');
  const st = await Promise.all(agents.map(async (a) => (await call(a, A.yard.url, '/api/v1/me', t5)).status));
  agents.forEach((a) => a.destroy());
  jA.delayMs = 0;
  assert.deepStrictEqual(st, [200, 200]);
  assert.strictEqual(jA.hits.length, 4, 'one fetch for both workers');
});

test('a JWKS that fails at start is fetched again on the timer; PEM keys verify meanwhile', async () => {
  let j = await readyJwks(D);
  assert.strictEqual(j.state, 'failed', JSON.stringify(j));
  assert.strictEqual(j.age_s, null);
  assert.match(j.error, /HTTP status 500/);
  assert.strictEqual((await D.api('GET', '/api/v1/me', { token: D.token('pem-user') })).status, 200);
  assert.strictEqual((await D.api('GET', '/api/v1/me', { token: tok(kD1, 'd1') })).status, 401);
  assert.match(D.yard.logText(), /\[parent\]: auth: jwks: fetch failed: HTTP status 500 \(keeping no JWKS key/);
  jD.mode = 'ok';
  await sleep(3500);
  j = await readyJwks(D);
  assert.strictEqual(j.state, 'ok', JSON.stringify(j));
  assert.strictEqual(j.keys, 1);
  assert.deepStrictEqual(await meOnEach(D, tok(kD1, 'd1')), [200, 200]);
  assert.deepStrictEqual(await meOnEach(D, D.token('pem-user')), [200, 200], 'the PEM key stays');
});

test('the timer fetches once per period for the whole instance, not once per worker', async () => {
  const from = Date.now();
  await sleep(12000);
  const hits = jB.hits.filter((t) => t >= from);
  // Every 2 s (the configured period, though the answer says no-store):
  // at most 7 in 12 s.  Each worker on its own would fetch about twice
  // as often.
  assert.ok(hits.length >= 4 && hits.length <= 7, `${hits.length} fetches in 12 s`);
  for (let i = 1; i < hits.length; i++)
    assert.ok(hits[i] - hits[i - 1] >= 1800, `fetches ${hits[i] - hits[i - 1]} ms apart`);
});

test('a key removed from the JWKS is refused by every worker within the period', async () => {
  const t1 = tok(kB1, 'b1');
  assert.deepStrictEqual(await meOnEach(B, t1), [200, 200]); // cached now
  jB.keys = [jwk(kB2, 'b2', 'RS256')];
  const gone = Date.now();
  // 2 s period + 1 s timer tick + margin for a loaded machine.
  await sleep(4000);
  assert.deepStrictEqual(await meOnEach(B, t1), [401, 401]);
  assert.deepStrictEqual(await meOnEach(B, tok(kB2, 'b2')), [200, 200]);
  assert.ok(Date.now() - gone < 8000);
});

test('an unreachable JWKS keeps the last good set; /readyz says stale, then recovers', async () => {
  const t2 = tok(kB2, 'b2');
  const failed = () => (B.yard.logText().match(/auth: jwks: fetch failed/g) || []).length;
  const recovered = () => (B.yard.logText().match(/auth: jwks: fetch works again/g) || []).length;
  const before = jB.hits.length;
  jB.mode = '500';
  await sleep(3500);
  assert.ok(jB.hits.length > before, 'it tried');
  assert.deepStrictEqual(await meOnEach(B, t2), [200, 200]);
  let j = await readyJwks(B);
  assert.strictEqual(j.state, 'stale', JSON.stringify(j));
  assert.match(j.error, /HTTP status 500/);
  assert.strictEqual(j.keys, 1);
  assert.ok(j.age_s >= 2, JSON.stringify(j));

  await jB.close(); // nothing listens: connection refused
  await sleep(4500);
  assert.deepStrictEqual(await meOnEach(B, tok(kB2, 'b2')), [200, 200]);
  j = await readyJwks(B);
  assert.strictEqual(j.state, 'stale', JSON.stringify(j));
  assert.doesNotMatch(j.error, /500/);
  assert.notStrictEqual(j.error, '');
  // Several failed tries, one log line.
  assert.strictEqual(failed(), 1);
  assert.strictEqual(recovered(), 0);

  jB.mode = 'ok';
  await jB.open();
  await sleep(3500);
  j = await readyJwks(B);
  assert.strictEqual(j.state, 'ok', JSON.stringify(j));
  assert.strictEqual(j.error, '');
  assert.ok(j.age_s <= 3, JSON.stringify(j));
  assert.strictEqual(recovered(), 1);
  assert.strictEqual(failed(), 1);
  assert.deepStrictEqual(await meOnEach(B, t2), [200, 200]);
});

test('a Cache-Control max-age shorter than the setting is followed (at least 30 s)', async () => {
  await sleep(Math.max(0, jC.hits[0] + 34000 - Date.now()));
  // REFRESH is 600 s: only the answer's max-age (5, raised to 30) brings
  // the next fetches; without the floor they would come every 5 s.
  const at = jC.hits.map((t) => t - jC.hits[0]);
  assert.ok(at.length >= 2, `fetches at ${at} ms`);
  for (let i = 1; i < at.length; i++) {
    const gap = at[i] - at[i - 1];
    assert.ok(gap >= 29500 && gap <= 33000, `fetches at ${at} ms`);
  }
  assert.deepStrictEqual(await meOnEach(C, tok(kC1, 'c1')), [200, 200]);
});

test('no worker died (the JWKS task threads ran under the sandbox)', () => {
  assert.deepStrictEqual(A.deaths(), []);
  assert.deepStrictEqual(B.deaths(), []);
  assert.deepStrictEqual(C.deaths(), []);
  assert.deepStrictEqual(D.deaths(), []);
});
