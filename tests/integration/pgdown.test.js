// No synchronous PostgreSQL connect on a worker's event loop: with 20
// clients listing nodes and tasks, PostgreSQL is stopped, and separately
// frozen (postmaster stopped with SIGSTOP, the database's backends ended:
// the kernel still accepts new connections, which are never answered).
// /healthz, which needs no store, is probed every 20 ms meanwhile.  A
// blocking connect would hold a worker for connect_timeout (2 s in the
// test stack), so /healthz must never take a second; the API must answer
// 503 (not hang, not 500) while PostgreSQL is away, no worker may die,
// and everything works again once it is back.  Then Redis is frozen.
// p50/p99 are printed here and measured by make bench (B9), not asserted.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { startStack, sleep } = require('../lib/stack.js');
const { load, probe, pgProcs, recovered, stats, fmt } = require('../lib/pgoutage.js');

let s, pg, admin, lanes;
test.before(async () => {
  s = await startStack({ privatePg: true });
  pg = pgProcs(path.join(s.dir, 'pg'), s.pgPort, s.db);
  admin = s.adminToken('pgdown-admin');
});
test.after(async () => {
  if (lanes) await lanes.stop();
  pg.thaw();
  await s.stop();
});

function answers(seen) {
  const by = {};
  for (const a of seen) by[a.status] = (by[a.status] || 0) + 1;
  return by;
}

test('under load, before any outage: the API answers 200', async () => {
  assert.ok(await recovered(s.yard.url, admin, 10000), 'API up');
  lanes = load(s.yard.url, admin, 20);
  await sleep(1000);
  const seen = lanes.take();
  assert.ok(seen.length > 20, `${seen.length} answers`);
  assert.deepStrictEqual(answers(seen), { 200: seen.length });
});

test('PostgreSQL stopped under load: /healthz keeps answering, the API 503 at once', async () => {
  await pg.stop();
  lanes.take();
  const t0 = Date.now();
  const h = await probe(s.yard.url, 4000);
  const seen = lanes.take();
  console.log(`# /healthz while PostgreSQL is stopped: ${fmt(h.stats)}`);
  const late = seen.filter((a) => a.at >= t0 + 500);
  console.log(`# API while stopped: ${JSON.stringify(answers(seen))}, ${fmt(stats(late.map((a) => a.ms)))}`);
  assert.deepStrictEqual(h.failed, [], 'every /healthz answered 200');
  assert.ok(h.stats.max < 1000, `/healthz max ${h.stats.max.toFixed(1)} ms`);
  assert.ok(late.length > 0, 'the API was asked');
  assert.deepStrictEqual(answers(late), { 503: late.length }, 'the API answers 503');
  assert.ok(stats(late.map((a) => a.ms)).max < 1000, 'the API answers 503 at once');
  await pg.start();
  assert.ok(await recovered(s.yard.url, admin, 15000), 'API back after PostgreSQL started');
  await sleep(500);
  lanes.take();
  await sleep(1000);
  const after = lanes.take();
  assert.ok(after.length > 0 && after.every((a) => a.status === 200), JSON.stringify(answers(after)));
});

test('PostgreSQL frozen under load: no worker waits for a connect', async () => {
  let seen = lanes.take();
  assert.ok(seen.every((a) => a.status === 200), JSON.stringify(answers(seen)));
  const ended = await pg.freeze();
  assert.ok(ended > 0, 'the server had connections to end');
  let h;
  const t0 = Date.now();
  try {
    h = await probe(s.yard.url, 6000);
  } finally {
    seen = lanes.take();
    pg.thaw();
  }
  console.log(`# /healthz while PostgreSQL is frozen: ${fmt(h.stats)}`);
  // A connect that never completes is given up after connect_timeout
  // (2 s); from then on PostgreSQL is known away and 503 comes at once.
  const late = seen.filter((a) => a.at >= t0 + 3000);
  console.log(`# API while frozen: ${JSON.stringify(answers(seen))}; after 3 s: ${fmt(stats(late.map((a) => a.ms)))}`);
  assert.deepStrictEqual(h.failed, [], 'every /healthz answered 200');
  assert.ok(h.stats.max < 1000, `/healthz max ${h.stats.max.toFixed(1)} ms`);
  assert.ok(seen.every((a) => a.status === 200 || a.status === 503), JSON.stringify(answers(seen)));
  assert.ok(late.length > 0 && late.every((a) => a.status === 503), JSON.stringify(answers(late)));
  assert.ok(stats(late.map((a) => a.ms)).max < 1000, 'the API answers 503 at once');
  assert.ok(await recovered(s.yard.url, admin, 15000), 'API back after PostgreSQL thawed');
  await sleep(500);
  lanes.take();
  await sleep(1000);
  seen = lanes.take();
  assert.ok(seen.length > 0 && seen.every((a) => a.status === 200), JSON.stringify(answers(seen)));
});

// Redis connects are hiredis's non-blocking ones: a Redis that accepts
// connections and never answers (frozen past the 5 s PING limit, so the
// workers reconnect to it) must not hold /healthz or the API either.
test('Redis frozen under load: /healthz and the API keep answering', async () => {
  lanes.take();
  process.kill(s.redis.proc.pid, 'SIGSTOP');
  let h, seen;
  try {
    h = await probe(s.yard.url, 7000);
  } finally {
    seen = lanes.take();
    process.kill(s.redis.proc.pid, 'SIGCONT');
  }
  console.log(`# /healthz while Redis is frozen: ${fmt(h.stats)}; API ${JSON.stringify(answers(seen))}`);
  assert.deepStrictEqual(h.failed, [], 'every /healthz answered 200');
  assert.ok(h.stats.max < 1000, `/healthz max ${h.stats.max.toFixed(1)} ms`);
  assert.ok(seen.length > 0 && seen.every((a) => a.status === 200), JSON.stringify(answers(seen)));
  assert.ok(stats(seen.map((a) => a.ms)).max < 1000, 'the API did not wait for Redis');
});

test('no worker died', async () => {
  await lanes.stop();
  lanes = null;
  assert.deepStrictEqual(s.deaths(), []);
});
