// Small protocol points: a task that ends by itself with status 0 is
// "exited", not "failed", and on-failure does not restart it; agent POSTs
// without a content-type get the JSON error body; a result without
// received_at is recorded.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, admin, agent, kit;
test.before(async () => {
  s = await startStack({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('proto-admin');
  agent = await s.agent('proto');
  kit = taskKit(s, admin, agent);
});
test.after(async () => {
  if (kit) kit.killAll();
  if (s) await s.stop();
});

// Start a console task and wait until it reports state `want`.
async function endsAs(name, script, want, over = {}) {
  const id = await kit.console(name, script, over);
  const d = await kit.run('start', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  let t;
  try {
    await waitFor(async () => { t = await kit.task(id); return t.state === want; }, 15000, `${name} ${want}`);
  } catch (e) {
    e.message += ` (it is ${t && t.state})`;
    throw e;
  }
  return id;
}

test('a task that exits 0 by itself is exited, and on-failure leaves it so', async () => {
  // The default restart policy is on-failure, backing off 1 s.
  const id = await endsAs('done0', 'echo all done; sleep 0.5; exit 0', 'exited');
  await sleep(3000); // a restart would have come by now
  const t = await kit.task(id);
  assert.strictEqual(t.state, 'exited');
  assert.strictEqual(t.spec.restart.policy, 'on-failure');
  assert.strictEqual(t.restarts, 0);
  assert.strictEqual(t.metrics.exit_status, 0);
  assert.match(t.last_lines, /all done/);
});

test('a non-zero status or a signal is failed; on-failure restarts it', async () => {
  let id = await endsAs('exit3', 'echo broken; sleep 0.5; exit 3', 'failed', { restart: { policy: 'never' } });
  let t = await kit.task(id);
  assert.strictEqual(t.metrics.exit_status, 3);
  assert.match(t.last_lines, /broken/);
  id = await endsAs('killed', 'sleep 0.5; kill -KILL $$', 'failed', { restart: { policy: 'never' } });
  t = await kit.task(id);
  assert.strictEqual(t.metrics.exit_status, 128 + 9);
  // on-failure: restarted after its back-off.
  id = await kit.console('retry3', 'sleep 0.5; exit 3');
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  await waitFor(async () => (await kit.task(id)).restarts >= 1, 15000, 'a restart');
  assert.strictEqual((await kit.run('stop', id)).state, 'succeeded');
});

// An enrolled node driven by hand (no agent process): its auth header.
async function handNode() {
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  const r = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: {
      hostname: 'by-hand', os: 'Debian', kernel: '6.1', arch: 'x86_64', cpus: 2, mem_total: 8e9,
      boot_id: 'b0a7c0de-0000-4000-8000-000000000003', uptime: 100, agent_version: '0.1.0',
    } }),
  });
  assert.strictEqual(r.status, 201);
  const j = await r.json();
  return { id: j.node_id, auth: `YardNode ${j.node_id}:${j.secret}` };
}

test('agent POSTs without a content-type: JSON answers, errors included', async () => {
  const node = await handNode();
  // A Uint8Array body: fetch adds no content-type.
  const post = (p, body, auth = node.auth) => fetch(s.yard.url + p, {
    method: 'POST', headers: auth ? { authorization: auth } : {}, body: new Uint8Array(Buffer.from(body)),
  });
  for (const [p, body, auth, status] of [
    ['/agent/v1/heartbeat', '{"v":1}', node.auth, 400],
    ['/agent/v1/heartbeat', 'not json', node.auth, 400],
    ['/agent/v1/heartbeat', '{"v":1}', null, 401],
    ['/agent/v1/enroll', '{"v":1,"token":"x"}', null, 400],
    ['/agent/v1/logs/00000000-0000-4000-8000-000000000000', '{"v":1}', node.auth, 400],
    ['/agent/v1/commands/00000000-0000-4000-8000-000000000000/result', '{"v":1}', node.auth, 400],
  ]) {
    const r = await post(p, body, auth);
    assert.strictEqual(r.status, status, p);
    assert.match(r.headers.get('content-type'), /^application\/json/, p);
    const j = await r.json();
    assert.match(j.error, /^[a-z_]+$/, p);
  }
  // And a good one is taken.
  const hb = { v: 1, seq: 1, time: 1, facts: {
    hostname: 'by-hand', os: 'Debian', kernel: '6.1', arch: 'x86_64', cpus: 2, mem_total: 8e9,
    boot_id: 'b0a7c0de-0000-4000-8000-000000000003', uptime: 100, agent_version: '0.1.0',
  }, metrics: { cpu: 1, mem_used: 1, mem_total: 2, load1: 0, load5: 0, load15: 0 } };
  const r = await post('/agent/v1/heartbeat', JSON.stringify(hb));
  assert.strictEqual(r.status, 200, await r.text());
});

test('a result without received_at is recorded', async () => {
  const node = await handNode();
  const c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'ping', node_id: node.id } });
  assert.strictEqual(c.status, 201, c.text);
  const poll = await fetch(`${s.yard.url}/agent/v1/commands?after=0&wait=5`, { headers: { authorization: node.auth } });
  assert.strictEqual(poll.status, 200);
  assert.strictEqual((await poll.json()).commands[0].id, c.json.id);
  const r = await fetch(`${s.yard.url}/agent/v1/commands/${c.json.id}/result`, {
    method: 'POST', headers: { authorization: node.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, state: 'succeeded', exit_status: 0, output: 'pong', finished_at: Date.now() }),
  });
  assert.strictEqual(r.status, 200, await r.text());
  const d = (await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin })).json;
  assert.strictEqual(d.state, 'succeeded');
  assert.strictEqual(d.output, 'pong');
});
