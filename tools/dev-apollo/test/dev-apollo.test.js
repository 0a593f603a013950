// Tests of the development Apollo (test tool): node --test tools/dev-apollo/test/
//
// Each test starts the server in-process on a free loopback port and talks
// to it over HTTP as Apollo's clients and OpenAPI callers do.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');

const { start, parseListen, optsFromArgs } = require('../server.js');

const OA = '/openapi/v1/envs/DEV/apps/app1/clusters/default/namespaces';

async function req(base, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: r.status, text, json, headers: r.headers };
}

async function setItem(base, ns, key, value) {
  const r = await req(base, 'PUT', `${OA}/${ns}/items/${encodeURIComponent(key)}?createIfNotExists=true`,
    { key, value, dataChangeLastModifiedBy: 'tester' });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function release(base, ns) {
  const r = await req(base, 'POST', `${OA}/${ns}/releases`, { releaseTitle: 't', releasedBy: 'tester' });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

function notif(list) {
  return encodeURIComponent(JSON.stringify(list));
}

test('listen is loopback only and arguments are checked', () => {
  assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.throws(() => parseListen('0.0.0.0:8070'), /loopback/);
  assert.throws(() => optsFromArgs(['--bogus']), /unknown argument/);
  assert.deepEqual(optsFromArgs(['--hold-ms', '500'], {}), { holdMs: '500' });
});

test('configs: 404 before a release, 200 after, 304 for the current releaseKey', async (t) => {
  const s = await start({ listen: '127.0.0.1:0', holdMs: 200 });
  t.after(() => s.close());
  const home = await req(s.url, 'GET', '/');
  assert.match(home.text, /TEST TOOL/);
  assert.equal(home.headers.get('x-dev-apollo'), 'test tool');

  assert.equal((await req(s.url, 'GET', '/configs/app1/default/application')).status, 404);
  await setItem(s.url, 'application', 'db.url', 'jdbc:x?a=1&b=<2>');
  // A draft is not visible until released.
  assert.equal((await req(s.url, 'GET', '/configs/app1/default/application')).status, 404);
  const rel = await release(s.url, 'application');
  assert.ok(rel.releaseKey);
  const r = await req(s.url, 'GET', '/configs/app1/default/application?ip=127.0.0.1');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { appId: 'app1', cluster: 'default', namespaceName: 'application',
    configurations: { 'db.url': 'jdbc:x?a=1&b=<2>' }, releaseKey: rel.releaseKey });
  const same = await req(s.url, 'GET', `/configs/app1/default/application?releaseKey=${encodeURIComponent(rel.releaseKey)}`);
  assert.equal(same.status, 304);
  assert.equal(same.text, '');
  const old = await req(s.url, 'GET', '/configs/app1/default/application?releaseKey=stale');
  assert.equal(old.status, 200);
  const files = await req(s.url, 'GET', '/configfiles/json/app1/default/application');
  assert.deepEqual(files.json, { 'db.url': 'jdbc:x?a=1&b=<2>' });
  assert.equal((await req(s.url, 'GET', '/configs/app1/default/nope')).status, 404);
  const st = await req(s.url, 'GET', '/dev/state');
  assert.equal(st.json.counts.configs304, 1);
});

test('notifications/v2: at once when older, 304 after the hold, woken by a release', async (t) => {
  const s = await start({ listen: '127.0.0.1:0', holdMs: 300 });
  t.after(() => s.close());
  await setItem(s.url, 'application', 'k', 'v1');
  const rel = await release(s.url, 'application');

  const q = (id) => `/notifications/v2?appId=app1&cluster=default&notifications=${notif([{ namespaceName: 'application', notificationId: id }])}`;
  const first = await req(s.url, 'GET', q(-1));
  assert.equal(first.status, 200);
  assert.deepEqual(first.json, [{ namespaceName: 'application', notificationId: rel.notificationId,
    messages: { details: { 'app1+default+application': rel.notificationId } } }]);

  const t0 = Date.now();
  const held = await req(s.url, 'GET', q(rel.notificationId));
  assert.equal(held.status, 304);
  assert.ok(Date.now() - t0 >= 250, 'held for the hold time');

  // A release while a poll is held answers it at once.
  await req(s.url, 'POST', '/dev/hold', { hold_ms: 10000 });
  const t1 = Date.now();
  const pending = req(s.url, 'GET', q(rel.notificationId));
  await new Promise((r) => setTimeout(r, 100));
  await setItem(s.url, 'application', 'k', 'v2');
  const rel2 = await release(s.url, 'application');
  const woke = await pending;
  assert.equal(woke.status, 200);
  assert.equal(woke.json[0].notificationId, rel2.notificationId);
  assert.ok(Date.now() - t1 < 5000);
  assert.notEqual(rel2.releaseKey, rel.releaseKey);
  const r = await req(s.url, 'GET', '/configs/app1/default/application');
  assert.equal(r.json.configurations.k, 'v2');

  const bad = await req(s.url, 'GET', '/notifications/v2?appId=app1&cluster=default&notifications=x');
  assert.equal(bad.status, 400);
});

test('OpenAPI: createIfNotExists, delete, checks', async (t) => {
  const s = await start({ listen: '127.0.0.1:0', holdMs: 100 });
  t.after(() => s.close());
  const no = await req(s.url, 'PUT', `${OA}/application/items/a`, { key: 'a', value: '1', dataChangeLastModifiedBy: 'x' });
  assert.equal(no.status, 404);
  const noby = await req(s.url, 'PUT', `${OA}/application/items/a?createIfNotExists=true`, { key: 'a', value: '1' });
  assert.equal(noby.status, 400);
  await setItem(s.url, 'application', 'a', '1');
  await setItem(s.url, 'application', 'b', '2');
  assert.equal((await req(s.url, 'DELETE', `${OA}/application/items/a?operator=x`)).status, 200);
  await release(s.url, 'application');
  const r = await req(s.url, 'GET', '/configs/app1/default/application');
  assert.deepEqual(r.json.configurations, { b: '2' });
  const norel = await req(s.url, 'POST', `${OA}/application/releases`, {});
  assert.equal(norel.status, 400);
});

test('controls: error answers 500, silent never answers, slow answers late', async (t) => {
  const s = await start({ listen: '127.0.0.1:0', holdMs: 5000 });
  t.after(() => s.close());
  await setItem(s.url, 'application', 'a', '1');
  const rel = await release(s.url, 'application');
  const q = `/notifications/v2?appId=app1&cluster=default&notifications=${notif([{ namespaceName: 'application', notificationId: rel.notificationId }])}`;
  const held = req(s.url, 'GET', q);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await req(s.url, 'POST', '/dev/mode', { mode: 'error' })).status, 200);
  assert.equal((await held).status, 500, 'a held poll ends with the outage');
  assert.equal((await req(s.url, 'GET', '/configs/app1/default/application')).status, 500);

  await req(s.url, 'POST', '/dev/mode', { mode: 'silent' });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 300);
  await assert.rejects(fetch(`${s.url}/configs/app1/default/application`, { signal: ac.signal }));
  clearTimeout(timer);

  await req(s.url, 'POST', '/dev/mode', { mode: 'slow', slow_ms: 300 });
  const t0 = Date.now();
  assert.equal((await req(s.url, 'GET', '/configs/app1/default/application')).status, 200);
  assert.ok(Date.now() - t0 >= 250);

  await req(s.url, 'POST', '/dev/mode', { mode: 'normal' });
  assert.equal((await req(s.url, 'GET', '/configs/app1/default/application')).status, 200);
  assert.equal((await req(s.url, 'POST', '/dev/mode', { mode: 'weird' })).status, 400);
});

test('--demo releases yard-demo/default/application (make run)', async (t) => {
  assert.deepEqual(optsFromArgs(['--demo'], {}), { demo: true });
  const s = await start({ listen: '127.0.0.1:0', holdMs: 100, demo: true });
  t.after(() => s.close());
  const r = await req(s.url, 'GET', '/configs/yard-demo/default/application');
  assert.equal(r.status, 200);
  assert.equal(r.json.configurations['zh.title'], '配置中心示例');
  assert.match(r.json.releaseKey, /^demo-/);
});
