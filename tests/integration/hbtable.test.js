// The per-worker heartbeat table (src/api/heartbeat.c, YARD_NODE_SLOTS
// slots, 512 here): a full
// table answers 503 while every node in it is fresh, and hands over the
// slot of a node that has been silent for YARD_NODE_OFFLINE_AFTER once its
// state is flushed, so a long-running worker does not refuse new nodes
// forever.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack, sleep, waitFor } = require('../lib/stack.js');

const SLOTS = 512;
// Long enough that filling the table on a loaded 2-core machine leaves
// the first nodes fresh.
const OFFLINE = 15;
const secret = 'S'.repeat(43);
let s, ids;
test.before(async () => {
  s = await startStack({ env: { YARD_WORKERS: '1', YARD_NODE_OFFLINE_AFTER: String(OFFLINE), YARD_NODE_SLOTS: String(SLOTS) } });
  s.sql(`INSERT INTO nodes (name, hostname, secret_hash, enrolled_at, status, last_seen)
    SELECT 'hb-' || g, 'hb', sha256('${secret}'::bytea), now(), 'online', now()
    FROM generate_series(1, ${SLOTS + 1}) g`);
  ids = s.sql(`SELECT id FROM nodes WHERE name LIKE 'hb-%' ORDER BY id`).split('\n').map(Number);
});
test.after(async () => { await s.stop(); });

const facts = {
  hostname: 'hb', os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0', arch: 'x86_64',
  cpus: 2, mem_total: 8e9, boot_id: 'b0a7c0de-0000-4000-8000-000000000001', uptime: 100,
  agent_version: '0.1.0', disks: [{ path: '/', total: 1e11, free: 5e10 }],
};
const metrics = { cpu: 1, mem_used: 2e9, mem_total: 8e9, load1: 0.5, load5: 0.4, load15: 0.3 };
let seq = 0;
async function beat(id) {
  const r = await fetch(s.yard.url + '/agent/v1/heartbeat', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `YardNode ${id}:${secret}` },
    body: JSON.stringify({ v: 1, seq: ++seq, time: Math.floor(Date.now() / 1000), facts, metrics, tasks: [] }),
  });
  await r.arrayBuffer();
  return r.status;
}

test('a full heartbeat table refuses a new node while all are fresh, then reuses a silent one', async () => {
  // Fill every slot of the one worker.
  const t0 = Date.now();
  const queue = ids.slice(0, SLOTS);
  const lane = async () => {
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) assert.strictEqual(await beat(id), 200);
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  assert.ok(Date.now() - t0 < (OFFLINE - 5) * 1000, `filled in ${Date.now() - t0} ms: the first nodes are still fresh`);
  const last = ids[SLOTS];
  assert.strictEqual(await beat(last), 503, 'the table is full of fresh nodes');
  // Silent past YARD_NODE_OFFLINE_AFTER and flushed (every 2 s): reusable.
  await sleep(Math.max(0, t0 + OFFLINE * 1000 + 2500 - Date.now()));
  assert.strictEqual(await beat(last), 200, 'a silent node\'s slot is handed over');
  await waitFor(() => s.sql(`SELECT facts->>'hostname' FROM nodes WHERE id = ${last}`) === 'hb',
    6000, 'the new node\'s heartbeat flushed');
  // The node whose slot went is served again when it comes back.
  await sleep(300);
  assert.strictEqual(await beat(ids[0]), 200);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
