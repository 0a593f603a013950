// Store outages: /readyz and the API answer fast with 503 + Retry-After
// when PostgreSQL is down, keep working without Redis, and recover by
// themselves (SPEC 2, 11, 13).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack, redisServer, sleep, waitFor } = require('../lib/stack.js');

let s;
test.before(async () => { s = await startStack({ privatePg: true }); });
test.after(async () => { await s.stop(); });

async function timed(fn) {
  const t0 = Date.now();
  const r = await fn();
  return [r, Date.now() - t0];
}

test('healthz and readyz when everything is up', async () => {
  let r = await fetch(s.yard.url + '/healthz');
  assert.strictEqual(r.status, 200);
  await waitFor(async () => (await fetch(s.yard.url + '/readyz')).status === 200, 5000, 'ready');
  r = await (await fetch(s.yard.url + '/readyz')).json();
  // Keys from a PEM file only: no JWKS to follow.
  assert.deepStrictEqual(r, { status: 'ready', postgres: 'ok', redis: 'ok', jwks: { state: 'off' } });
  // Probes read: any other method is a 405, as everywhere else.
  for (const p of ['/healthz', '/readyz', '/metrics']) {
    for (const method of ['POST', 'DELETE']) {
      const x = await fetch(s.yard.url + p, { method });
      assert.strictEqual(x.status, 405, `${method} ${p}`);
      await x.arrayBuffer();
    }
    const get = await fetch(s.yard.url + p);
    await get.arrayBuffer();
    assert.strictEqual((await fetch(s.yard.url + p, { method: 'HEAD' })).status, get.status, `HEAD ${p}`);
  }
});

test('Redis down: readyz 503 at once, the API still answers', async () => {
  s.redis.stop();
  await waitFor(async () => (await fetch(s.yard.url + '/readyz')).status === 503, 8000, 'readyz 503');
  const [r, ms] = await timed(() => fetch(s.yard.url + '/readyz'));
  assert.strictEqual(r.status, 503);
  assert.strictEqual(r.headers.get('retry-after'), '2');
  assert.ok(ms < 500, `answered in ${ms} ms`);
  const me = await s.api('GET', '/api/v1/me', { token: s.token('alice') });
  assert.strictEqual(me.status, 200);
  // Back on the same port: the workers reconnect by themselves.
  const port = s.redis.port;
  const { spawn } = require('node:child_process');
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no'], { stdio: 'ignore' });
  s.redis.stop = () => { try { p.kill('SIGKILL'); } catch { /* gone */ } };
  await waitFor(async () => (await fetch(s.yard.url + '/readyz')).status === 200, 10000, 'redis back');
});

test('PostgreSQL down: fast 503 with Retry-After, no worker dies, recovery', async () => {
  // Warm caches would hide the outage from /me: use a fresh user.
  s.pg.stop();
  let [r, ms] = await timed(() => s.api('GET', '/api/v1/me', { token: s.token('newcomer') }));
  assert.strictEqual(r.status, 503, r.text);
  assert.strictEqual(r.json.error, 'store_unavailable');
  assert.strictEqual(r.headers.get('retry-after'), '2');
  assert.ok(ms < 1000, `answered in ${ms} ms`);
  [r, ms] = await timed(() => fetch(s.yard.url + '/readyz'));
  assert.strictEqual(r.status, 503);
  assert.ok(ms < 1000, `readyz answered in ${ms} ms`);
  for (let i = 0; i < 20; i++) {
    r = await s.api('GET', '/api/v1/users', { token: s.adminToken('adm' + i) });
    assert.strictEqual(r.status, 503);
  }
  s.pg.start();
  await waitFor(async () => (await s.api('GET', '/api/v1/me', { token: s.token('newcomer') })).status === 200,
    10000, 'api back after PostgreSQL restart');
  r = await fetch(s.yard.url + '/readyz');
  assert.strictEqual(r.status, 200);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
