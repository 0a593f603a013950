// Real yard-agent processes (separate state directories) against the real
// server: enrol, come online, answer ping, ride out a server restart and a
// PostgreSQL outage, go offline when killed, and stop at revocation.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startStack, waitFor, sleep } = require('../lib/stack.js');

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
// A server that is shedding load says when to come back; the agent waits
// at least that long (its own back-off alone would retry within 2 s).
// The fake server is a child process: enrolment runs synchronously here.
const FAKE_SHEDDING = `
const http = require('node:http');
const srv = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url === '/agent/v1/enroll') {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ v: 1, node_id: 77, secret: 'S'.repeat(43),
        heartbeat_interval: 1, poll_timeout: 25 }));
      return;
    }
    if (req.url === '/agent/v1/heartbeat') console.log('beat ' + Date.now());
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '3' });
    res.end('{"error":"unavailable"}');
  });
});
srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));
`;

test('503 with Retry-After: the agent waits at least that long', async () => {
  const fake = spawn(process.execPath, ['-e', FAKE_SHEDDING], { stdio: ['ignore', 'pipe', 'inherit'] });
  const beats = [];
  let port = 0, out = '';
  fake.stdout.on('data', (d) => {
    out += d;
    for (;;) {
      const nl = out.indexOf('\n');
      if (nl < 0) break;
      const [k, v] = out.slice(0, nl).split(' ');
      out = out.slice(nl + 1);
      if (k === 'port') port = Number(v);
      if (k === 'beat') beats.push(Number(v));
    }
  });
  let a;
  try {
    await waitFor(() => port > 0, 5000, 'the fake server');
    a = await s.agent('shed', `http://127.0.0.1:${port}`, 'T'.repeat(43));
    await waitFor(() => beats.length >= 3, 15000, 'three heartbeats');
  } finally {
    if (a) await a.stop();
    fake.kill();
  }
  for (let i = 1; i < beats.length; i++) {
    const gap = beats[i] - beats[i - 1];
    assert.ok(gap >= 2900 && gap <= 4500, `heartbeat ${i} came ${gap} ms after the one before`);
  }
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
