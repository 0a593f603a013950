// Real yard-agent processes (separate state directories) against the real
// server: enrol, come online, answer ping, ride out a server restart and a
// PostgreSQL outage, go offline when killed, and stop at revocation.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, netfake, waitFor, sleep } = require('../lib/stack.js');

let s, admin, a1, a2;
test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1', YARD_NODE_OFFLINE_AFTER: '4' } });
  admin = s.adminToken('agent-admin');
  a1 = await s.agent('one');
  a2 = await s.agent('two');
});
test.after(async () => { await s.stop(); });

const node = async (id) => (await s.api('GET', `/api/v1/nodes/${id}`, { token: admin })).json;

async function ping(id, ms = 15000) {
  const t0 = Date.now();
  const c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'ping', node_id: id } });
  assert.strictEqual(c.status, 201, c.text);
  let d;
  await waitFor(async () => {
    d = (await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin })).json;
    return ['succeeded', 'failed', 'timed_out'].includes(d.state);
  }, ms, 'ping result');
  return { d, ms: Date.now() - t0 };
}

test('the state directory is private and holds no readable secret for others', () => {
  const st = fs.statSync(a1.state);
  assert.strictEqual(st.mode & 0o777, 0o700);
  assert.strictEqual(fs.statSync(path.join(a1.state, 'node.json')).mode & 0o777, 0o600);
});

test('two agents come online with their facts', async () => {
  for (const a of [a1, a2]) {
    // Online from enrolment; metrics come with the first heartbeat flush.
    await waitFor(async () => (await node(a.nodeId)).metrics.mem_total > 0, 10000, `${a.name} metrics`);
    const n = await node(a.nodeId);
    assert.ok(n.facts.hostname.length > 0);
    assert.ok(n.facts.cpus >= 1);
    assert.strictEqual(n.agent_version, '0.1.0');
    assert.ok(n.metrics.mem_total > 0);
  }
});

test('ping round-trips through the agent in milliseconds', async () => {
  const { d, ms } = await ping(a1.nodeId);
  assert.strictEqual(d.state, 'succeeded');
  assert.strictEqual(d.output, 'pong');
  assert.ok(ms < 3000, `${ms} ms including the test's polling`);
  assert.deepStrictEqual(d.events.map((e) => e.state), ['queued', 'dispatched', 'succeeded']);
  assert.ok(d.agent_finished_ms >= d.agent_received_ms);
});

// Regression: the result handler re-ran the node check on re-entry and
// cached a bogus hash from its own statement, so the second ping failed.
test('several pings in a row all succeed', async () => {
  for (let i = 0; i < 4; i++) {
    const { d } = await ping(a1.nodeId);
    assert.strictEqual(d.state, 'succeeded', `ping ${i}`);
  }
  assert.doesNotMatch(a1.logText(), /unauthorized/i);
});

test('a server restart mid-poll: the agent reconnects and commands flow again', async () => {
  await s.yard.restart();
  const { d } = await ping(a2.nodeId);
  assert.strictEqual(d.state, 'succeeded');
  assert.match(a2.logText(), /./);
});

test('PostgreSQL down: agents keep running; buffered samples arrive after recovery', async () => {
  const before = Number(s.sql(`SELECT count(*) FROM node_metrics WHERE node_id = ${a1.nodeId}`));
  s.pg.stop();
  await sleep(4000);
  assert.strictEqual(a1.proc.exitCode, null, 'agent still running');
  s.pg.start();
  await waitFor(async () => (await node(a1.nodeId)).status === 'online', 15000, 'online after recovery');
  // The agent's poll may be in full-jitter back-off (up to 60 s) after
  // the 503s it got during the outage.
  const n = await ping(a1.nodeId, 65000);
  assert.strictEqual(n.d.state, 'succeeded');
  const after = Number(s.sql(`SELECT count(*) FROM node_metrics WHERE node_id = ${a1.nodeId}`));
  assert.ok(after > before, `${before} -> ${after} samples`);
});

test('a killed agent goes offline; restarted, it comes back without re-enrolling', async () => {
  await a2.stop('SIGKILL');
  await waitFor(async () => (await node(a2.nodeId)).status === 'offline', 15000, 'offline');
  a2.start();
  await waitFor(async () => (await node(a2.nodeId)).status === 'online', 10000, 'online again');
});

test('a revoked node is refused and says so in its log', async () => {
  const r = await s.api('DELETE', `/api/v1/nodes/${a1.nodeId}`, { token: admin });
  assert.strictEqual(r.status, 204);
  await waitFor(() => /unauthorized/i.test(a1.logText()), 15000, 'agent logs the refusal');
  assert.strictEqual((await node(a1.nodeId)).status, 'revoked');
  assert.strictEqual(a1.proc.exitCode, null, 'the agent keeps running (an admin may re-enrol)');
});

// A server that is shedding load says when to come back; the agent waits
// at least that long (its own back-off alone would retry within 2 s).
test('503 with Retry-After: the agent waits at least that long', async () => {
  const fake = await netfake('shed');
  let a;
  const beats = () => fake.events.filter(([k]) => k === 'beat').map(([, v]) => Number(v));
  try {
    a = await s.agent('shed', `http://127.0.0.1:${fake.port}`, 'T'.repeat(43));
    await waitFor(() => beats().length >= 3, 15000, 'three heartbeats');
  } finally {
    if (a) await a.stop();
    fake.kill();
  }
  const b = beats();
  for (let i = 1; i < b.length; i++) {
    const gap = b[i] - b[i - 1];
    assert.ok(gap >= 2900 && gap <= 4500, `heartbeat ${i} came ${gap} ms after the one before`);
  }
});

// At-least-once delivery: the same command may come twice (a lost
// acknowledgement); the agent journals ids and acts once.
test('a replayed command is not applied twice', async () => {
  const proxy = await netfake('replay', s.yard.port);
  const a = await s.agent('replay', `http://127.0.0.1:${proxy.port}`);
  try {
    await waitFor(async () => (await node(a.nodeId)).status === 'online', 10000, 'online');
    const { d } = await ping(a.nodeId);
    assert.strictEqual(d.state, 'succeeded');
    await waitFor(() => proxy.events.some(([k, v]) => k === 'replayed' && v === d.id), 10000, 'the replay');
    await waitFor(() => /is journaled: not acting again/.test(a.logText()), 10000, 'the agent noticing');
    // Acted on once: one journal entry, one "command ...: ping" log line,
    // one result recorded.
    const journal = fs.readFileSync(path.join(a.state, 'journal'), 'utf8');
    assert.strictEqual(journal.split('\n').filter((l) => l.startsWith(`R ${d.id} `)).length, 1, journal);
    assert.strictEqual(a.logText().split('\n').filter((l) => l.includes(`command ${d.id} (seq ${d.seq}): ping`)).length, 1);
    const again = (await s.api('GET', `/api/v1/commands/${d.id}`, { token: admin })).json;
    assert.deepStrictEqual(again.events.map((e) => e.state), ['queued', 'dispatched', 'succeeded']);
    assert.strictEqual(again.agent_received_ms, d.agent_received_ms);
  } finally {
    await a.stop();
    proxy.kill();
  }
});

// Two instances behind a balancer (how Yard scales past one machine):
// either can stop, and a command issued meanwhile still arrives.
test('two instances: either can be stopped without losing a command', async () => {
  const other = await s.startAnother();
  const lb = await netfake('balance', s.yard.port, other.port);
  const a = await s.agent('lb', `http://127.0.0.1:${lb.port}`);
  try {
    await waitFor(async () => (await node(a.nodeId)).status === 'online', 10000, 'online');
    for (const [down, up] of [[other, s.yard], [s.yard, other]]) {
      await down.stop();
      // Issued the moment the instance is gone, through the survivor,
      // while the agent's poll is broken or parked on the dead one.
      const c = await fetch(up.url + '/api/v1/commands', {
        method: 'POST', headers: { authorization: 'Bearer ' + admin, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'ping', node_id: a.nodeId }),
      });
      assert.strictEqual(c.status, 201);
      const id = (await c.json()).id;
      let d;
      await waitFor(async () => {
        d = await (await fetch(up.url + '/api/v1/commands/' + id, { headers: { authorization: 'Bearer ' + admin } })).json();
        return d.state === 'succeeded';
      }, 30000, `the command with ${down === other ? 'the second' : 'the first'} instance stopped`);
      await down.restart();
    }
  } finally {
    await a.stop();
    lb.kill();
    await other.stop();
  }
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
