// Nodes and the command channel against the real server, speaking the
// agent protocol (docs/agent-protocol.md) from the test: enrolment,
// credentials, heartbeats, presence, the long-poll, results, revocation,
// Redis down, and two server instances (SPEC 7, 12).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const { startStack, waitFor, sleep } = require('../lib/stack.js');

let s, admin;
test.before(async () => {
  s = await startStack({ env: { YARD_NODE_OFFLINE_AFTER: '3', YARD_NODE_LOST_AFTER: '600', YARD_ALERT_EVAL: '1' } });
  admin = s.adminToken('node-admin');
});
test.after(async () => { await s.stop(); });

const facts = (host) => ({
  hostname: host, os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0', arch: 'x86_64',
  cpus: 2, mem_total: 8e9, boot_id: 'b0a7c0de-0000-4000-8000-000000000001', uptime: 100,
  agent_version: '0.1.0', disks: [{ path: '/', total: 1e11, free: 5e10 }],
});
const metrics = { cpu: 12.5, mem_used: 2e9, mem_total: 8e9, load1: 0.5, load5: 0.4, load15: 0.3 };

async function enroll(host, url = s.yard.url) {
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  assert.match(e.json.command, new RegExp(`^yard-agent enroll --server ${s.yard.url} --token [A-Za-z0-9_-]{43}$`));
  const r = await fetch(url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: facts(host) }),
  });
  assert.strictEqual(r.status, 201);
  const j = await r.json();
  assert.match(j.secret, /^[A-Za-z0-9_-]{43}$/);
  return { id: j.node_id, secret: j.secret, token: e.json.token, auth: `YardNode ${j.node_id}:${j.secret}` };
}

function agentCall(node, method, path, body, url = s.yard.url) {
  return fetch(url + path, {
    method, headers: Object.assign(node.auth ? { authorization: node.auth } : {},
      body ? { 'content-type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
}

let seq = 0;
const beat = (node) => agentCall(node, 'POST', '/agent/v1/heartbeat',
  { v: 1, seq: ++seq, time: Math.floor(Date.now() / 1000), facts: facts('h'), metrics, tasks: [] });

test('enrolment: one-time token, only a hash stored, re-use refused', async () => {
  const n = await enroll('app-01');
  const stored = s.sql(`SELECT encode(secret_hash, 'hex') FROM nodes WHERE id = ${n.id}`);
  assert.strictEqual(stored.length, 64);
  assert.ok(!stored.includes(n.secret));
  assert.strictEqual(s.sql(`SELECT count(*) FROM enrollments WHERE token_hash = sha256('${n.token}'::bytea) AND used_at IS NOT NULL`), '1');
  assert.strictEqual(s.sql(`SELECT count(*) FROM nodes WHERE secret_hash = sha256('${n.secret}'::bytea)`), '1');
  const again = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: n.token, facts: facts('app-01') }),
  });
  assert.strictEqual(again.status, 401);
  assert.strictEqual((await again.json()).error, 'bad_enrollment_token');
  // An expired token is refused too.
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  s.sql(`UPDATE enrollments SET expires_at = now() - interval '1 s' WHERE id = ${e.json.id}`);
  const old = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: facts('late') }),
  });
  assert.strictEqual(old.status, 401);
  // Only admins create enrolment tokens.
  const r = await s.api('POST', '/api/v1/enrollments', { token: s.token('nobody') });
  assert.strictEqual(r.status, 403);
});

test('bad agent messages get 400 naming the field and change nothing', async () => {
  const n = await enroll('app-02');
  const before = s.sql(`SELECT count(*) FROM nodes`);
  for (const [body, field] of [
    [{ v: 1, token: 'x'.repeat(43), facts: Object.assign(facts('h'), { cpus: -1 }) }, 'facts.cpus'],
    [{ v: 2, token: 'x'.repeat(43), facts: facts('h') }, 'v'],
    [{ v: 1, facts: facts('h') }, 'token'],
  ]) {
    const r = await fetch(s.yard.url + '/agent/v1/enroll', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    assert.strictEqual(r.status, 400, JSON.stringify(body));
    assert.strictEqual((await r.json()).field, field);
  }
  let r = await agentCall(n, 'POST', '/agent/v1/heartbeat', { v: 1, seq: 1, time: 1, facts: facts('h'), metrics: Object.assign({}, metrics, { cpu: 'hot' }), tasks: [] });
  assert.strictEqual(r.status, 400);
  assert.strictEqual((await r.json()).field, 'metrics.cpu');
  r = await fetch(s.yard.url + '/agent/v1/heartbeat', { method: 'POST', headers: { authorization: n.auth, 'content-type': 'application/json' }, body: '{"v":1,"v":1}' });
  assert.strictEqual(r.status, 400);
  r = await fetch(s.yard.url + '/agent/v1/heartbeat', { method: 'POST', headers: { authorization: n.auth, 'content-type': 'application/json' }, body: 'x'.repeat(300 * 1024) });
  assert.strictEqual(r.status, 413);
  assert.strictEqual(s.sql(`SELECT count(*) FROM nodes`), before);
});

test('forged, malformed and revoked credentials get 401', async () => {
  const n = await enroll('app-03');
  assert.strictEqual((await beat(n)).status, 200);
  for (const auth of [`YardNode ${n.id}:${'A'.repeat(43)}`, `YardNode ${n.id + 1000}:${n.secret}`,
    `Bearer ${n.secret}`, `YardNode ${n.id}:${n.secret}x`, `YardNode -1:${n.secret}`, null]) {
    const r = await agentCall({ auth }, 'POST', '/agent/v1/heartbeat', { v: 1, seq: 1, time: 1, facts: facts('h'), metrics, tasks: [] });
    assert.strictEqual(r.status, 401, String(auth));
  }
  const d = await s.api('DELETE', `/api/v1/nodes/${n.id}`, { token: admin });
  assert.strictEqual(d.status, 204);
  assert.strictEqual((await beat(n)).status, 401, 'revoked at once, even with a warm cache');
  const node = await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin });
  assert.strictEqual(node.json.status, 'revoked');
  assert.ok(node.json.events.some((e) => e.status === 'revoked'));
});

test('an enrolled node is `enrolled` until its first heartbeat, then online, then offline; no presence alert before it connects', async () => {
  const rule = Number(s.sql(`INSERT INTO alert_rules (name, kind, threshold, recovery, for_seconds, node_ids)
    VALUES ('enrolled-offline', 'node_offline', 1, 1, 0, '{}') RETURNING id`));
  const n = await enroll('app-enr');
  const get = async () => (await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin })).json;
  let d = await get();
  assert.strictEqual(d.status, 'enrolled');
  assert.strictEqual(d.last_seen, null, 'enrolment is not a heartbeat');
  assert.ok(d.enrolled_at);
  assert.deepStrictEqual(d.events.map((e) => e.status), ['enrolled']);
  const listed = await s.api('GET', '/api/v1/nodes?status=enrolled', { token: admin });
  assert.ok(listed.json.items.some((x) => x.id === n.id && x.status === 'enrolled'), listed.text);
  // Past the offline delay (3 s) and several alert evaluations (1 s): still
  // enrolled, and no node_offline event for a node that never connected.
  await sleep(5000);
  d = await get();
  assert.strictEqual(d.status, 'enrolled');
  assert.deepStrictEqual(d.events.map((e) => e.status), ['enrolled']);
  assert.strictEqual(s.sql(`SELECT count(*) FROM alert_events WHERE node_id = ${n.id}`), '0');
  assert.strictEqual((await beat(n)).status, 200);
  await waitFor(async () => (d = await get()).status === 'online' && d.last_seen !== null, 5000, 'online');
  await waitFor(async () => (await get()).events.some((e) => e.status === 'online'), 5000, 'first-connection event');
  await waitFor(async () => (await get()).status === 'offline', 10000, 'offline after 3 s without heartbeats');
  await waitFor(() => s.sql(`SELECT count(*) FROM alert_events WHERE rule_id = ${rule} AND node_id = ${n.id}`) === '1',
    10000, 'node_offline once it had connected');
  s.sql(`DELETE FROM alert_rules WHERE id = ${rule}`);
});

test('heartbeats make a node online; silence makes it offline, by the server clock', async () => {
  const n = await enroll('app-04');
  assert.strictEqual((await beat(n)).status, 200);
  await waitFor(async () => {
    const r = await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin });
    return r.json.status === 'online' && r.json.metrics.cpu === 12.5 && r.json.facts.hostname === 'h';
  }, 5000, 'online with metrics');
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin })).json.status === 'offline',
    10000, 'offline after 3 s without heartbeats');
  // The sweeper records the transition within a second or so.
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin }))
    .json.events.some((e) => e.status === 'offline'), 5000, 'offline event');
  assert.strictEqual((await beat(n)).status, 200);
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin })).json.status === 'online', 5000, 'back online');
  const m = await s.api('GET', `/api/v1/metrics?node=${n.id}`, { token: admin });
  assert.strictEqual(m.status, 200, m.text);
  assert.ok(m.json.points.length >= 1);
  assert.strictEqual(m.json.points[0][1], 12.5);
});

async function issuePing(node, token = admin) {
  return s.api('POST', '/api/v1/commands', { token, body: { type: 'ping', node_id: node.id } });
}

async function finish(node, cmd, url) {
  const r = await agentCall(node, 'POST', `/agent/v1/commands/${cmd.id}/result`,
    { v: 1, state: 'succeeded', exit_status: 0, output: 'pong', received_at: Date.now(), finished_at: Date.now() }, url);
  return r.status;
}

test('a node\'s policy in its facts is stored as sent; an older agent sends none; a bad one is refused', async () => {
  const n = await enroll('app-pol');
  const policy = {
    roots: [{ path: '/srv/yard', user: 'yard-task' }, { path: '/opt/legacy', user: 'root' }],
    user: 'yard-task', kinds: { tomcat: { user: 'tomcat' } }, refuse_env: ['LD_*'],
    limits: { tasks: 256, log_bytes: 10485760 },
  };
  const hb = (f) => agentCall(n, 'POST', '/agent/v1/heartbeat',
    { v: 1, seq: ++seq, time: Math.floor(Date.now() / 1000), facts: f, metrics, tasks: [] });
  assert.strictEqual((await hb(Object.assign(facts('pol'), { policy }))).status, 200);
  await waitFor(async () => {
    const r = await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin });
    return r.json.facts && r.json.facts.hostname === 'pol';
  }, 5000, 'the facts stored');
  let r = await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin });
  assert.deepStrictEqual(r.json.facts.policy, policy);
  let bad = await hb(Object.assign(facts('pol2'), { policy: Object.assign({}, policy, { roots: '/srv/yard' }) }));
  assert.strictEqual(bad.status, 400);
  assert.strictEqual((await bad.json()).field, 'facts.policy.roots');
  bad = await hb(Object.assign(facts('pol2'), { policy: Object.assign({}, policy, { limits: { tasks: 1 } }) }));
  assert.strictEqual(bad.status, 400);
  assert.strictEqual((await bad.json()).field, 'facts.policy.limits.log_bytes');
  // An agent from before the policy: its facts simply have none.
  assert.strictEqual((await hb(facts('old'))).status, 200);
  await waitFor(async () => {
    r = await s.api('GET', `/api/v1/nodes/${n.id}`, { token: admin });
    return r.json.facts && r.json.facts.hostname === 'old';
  }, 5000, 'the older facts stored');
  assert.strictEqual(r.json.facts.policy, undefined);
});

test('ping reaches a parked long-poll at once and round-trips; results are recorded once', async () => {
  const n = await enroll('app-05');
  const t0 = Date.now();
  const poll = agentCall(n, 'GET', '/agent/v1/commands?after=0&wait=20');
  await sleep(300); // parked
  const c = await issuePing(n);
  assert.strictEqual(c.status, 201, c.text);
  const r = await poll;
  const waited = Date.now() - t0;
  assert.strictEqual(r.status, 200);
  const got = await r.json();
  assert.strictEqual(got.commands.length, 1);
  assert.strictEqual(got.commands[0].id, c.json.id);
  assert.strictEqual(got.commands[0].type, 'ping');
  assert.ok(waited < 2000, `delivered after ${waited} ms`);
  // At least once: asking again before the result repeats it.
  const again = await (await agentCall(n, 'GET', '/agent/v1/commands?after=0&wait=0')).json();
  assert.strictEqual(again.commands[0].id, c.json.id);
  assert.strictEqual(await finish(n, c.json), 200);
  assert.strictEqual(await finish(n, c.json), 200, 'a replayed result is accepted');
  const d = await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin });
  assert.strictEqual(d.json.state, 'succeeded');
  assert.strictEqual(d.json.output, 'pong');
  assert.deepStrictEqual(d.json.events.map((e) => e.state), ['queued', 'dispatched', 'succeeded']);
  const empty = await agentCall(n, 'GET', `/agent/v1/commands?after=${c.json.seq}&wait=0`);
  assert.strictEqual(empty.status, 204);
  const list = await s.api('GET', `/api/v1/commands?node_id=${n.id}`, { token: admin });
  assert.strictEqual(list.json.items[0].id, c.json.id);
  // Someone else's command id is not found for this node.
  const other = await enroll('app-05b');
  const r2 = await finish(other, c.json);
  assert.strictEqual(r2, 404);
});

test('a long-poll with nothing to do answers 204 after its wait', async () => {
  const n = await enroll('app-06');
  const t0 = Date.now();
  const r = await agentCall(n, 'GET', '/agent/v1/commands?after=0&wait=2');
  assert.strictEqual(r.status, 204);
  const ms = Date.now() - t0;
  assert.ok(ms >= 1800 && ms < 4500, `${ms} ms`);
});

test('permissions: viewers get 403 on ping, strangers 404, lists show only what is granted', async () => {
  const n = await enroll('app-07');
  await s.api('GET', '/api/v1/me', { token: s.token('viewer-1') });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = 'viewer-1'`));
  let r = await issuePing(n, s.token('viewer-1'));
  assert.strictEqual(r.status, 404);
  r = await s.api('GET', '/api/v1/nodes', { token: s.token('viewer-1') });
  assert.deepStrictEqual(r.json.items, []);
  await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, node_id: n.id, level: 'view' } });
  r = await issuePing(n, s.token('viewer-1'));
  assert.strictEqual(r.status, 403);
  r = await s.api('GET', '/api/v1/nodes', { token: s.token('viewer-1') });
  assert.deepStrictEqual(r.json.items.map((x) => x.id), [n.id]);
  r = await s.api('DELETE', `/api/v1/nodes/${n.id}`, { token: s.token('viewer-1') });
  assert.strictEqual(r.status, 403);
  await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, node_id: n.id, level: 'operate' } });
  r = await issuePing(n, s.token('viewer-1'));
  assert.strictEqual(r.status, 201);
  r = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'reboot', node_id: n.id } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'type');
  // The message lists the types of the one shared table.
  assert.strictEqual(r.json.message, 'type must be one of: ping, start, stop, restart, uninstall, deploy, update, rollback, move, apply-config');
  r = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'ping', task_id: 1 } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'task_id');
});

test('two instances: a command issued on one reaches an agent parked on the other', async () => {
  const other = await s.startAnother();
  const n = await enroll('app-08');
  const poll = agentCall(n, 'GET', '/agent/v1/commands?after=0&wait=20', undefined, other.url);
  await sleep(300);
  const t0 = Date.now();
  const c = await issuePing(n);
  const r = await poll;
  const ms = Date.now() - t0;
  assert.strictEqual(r.status, 200);
  assert.strictEqual((await r.json()).commands[0].id, c.json.id);
  assert.ok(ms < 1000, `crossed instances in ${ms} ms`);
  assert.strictEqual(await finish(n, c.json, other.url), 200);
});

test('with Redis down, commands still arrive by polling', async () => {
  const n = await enroll('app-09');
  s.redis.stop();
  await waitFor(async () => (await fetch(s.yard.url + '/readyz')).status === 503, 8000, 'redis seen down');
  const poll = agentCall(n, 'GET', '/agent/v1/commands?after=0&wait=20');
  await sleep(300);
  const t0 = Date.now();
  const c = await issuePing(n);
  assert.strictEqual(c.status, 201);
  const r = await poll;
  assert.strictEqual(r.status, 200);
  assert.ok(Date.now() - t0 < 3000, 'within the 1 s re-check');
  assert.strictEqual((await r.json()).commands[0].id, c.json.id);
  // Restart Redis on the same port for the tests after us.
  const p = spawn('redis-server', ['--port', String(s.redis.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  s.redis.stop = () => { try { p.kill('SIGKILL'); } catch { /* gone */ } };
});

// Regression: a flush whose PostgreSQL connection died mid-query used to
// drop its batch; the samples must be sent again.
test('a heartbeat flush cut off mid-query is sent again: no sample lost', async () => {
  const n = await enroll('app-flush');
  // Hold node_metrics so that the next flush waits inside PostgreSQL.
  const args = ['-h', '127.0.0.1', '-p', String(s.pgPort), '-U', 'postgres', '-d', s.db, '-qAt'];
  const holder = process.getuid() === 0
    ? spawn('runuser', ['-u', 'postgres', '--', 'psql', ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn('psql', args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  holder.stdout.on('data', (d) => { out += d; });
  holder.stdin.write("BEGIN; LOCK TABLE node_metrics IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n");
  try {
    await waitFor(() => out.includes('locked'), 5000, 'the lock');
    const r = await beat(n);
    assert.strictEqual(r.status, 200);
    // By its first words: pg_stat_activity keeps only the first 1 KiB.
    const waiting = `FROM pg_stat_activity WHERE datname = current_database()
      AND wait_event_type = 'Lock' AND query LIKE 'WITH v AS (SELECT * FROM jsonb_to_recordset%'`;
    await waitFor(() => s.sql(`SELECT count(*) ${waiting}`) !== '0', 8000, 'the flush to block');
    s.sql(`SELECT pg_terminate_backend(pid) ${waiting}`);
  } finally {
    holder.stdin.end('COMMIT;\n');
  }
  await waitFor(() => s.sql(`SELECT count(*) FROM node_metrics WHERE node_id = ${n.id}`) === '1',
    10000, 'the sample, sent again');
});

// Regressions: (1) when the heartbeat flush or the presence sweep waited
// in Kore's queue for a PostgreSQL connection, our callback cleaned up
// while Kore still held the waiter, and the worker died ("was not busy");
// (2) a request woken from that queue that then found the node cache warm
// did not use the connection, and Kore (one wake-up per release) left the
// rest of the queue waiting.  Flood one worker so that requests queue.
test('a flood that exhausts PostgreSQL connections kills no worker', async () => {
  const one = await s.startAnother({ YARD_WORKERS: '1' });
  const nodes = [];
  for (let i = 0; i < 40; i++) nodes.push(await enroll('flood-' + i, one.url));
  const end = Date.now() + 6000;
  let ok = 0, other = 0;
  const lane = async (n) => {
    while (Date.now() < end) {
      const [p, h] = await Promise.all([
        agentCall(n, 'GET', '/agent/v1/commands?after=0&wait=1', undefined, one.url),
        agentCall(n, 'POST', '/agent/v1/heartbeat',
          { v: 1, seq: ++seq, time: Math.floor(Date.now() / 1000), facts: facts('f'), metrics, tasks: [] }, one.url),
      ]);
      for (const r of [p, h]) {
        await r.arrayBuffer();
        if (r.status < 500) ok++; else other++;
      }
    }
  };
  const lanes = [];
  for (const n of nodes) for (let k = 0; k < 5; k++) lanes.push(lane(n));
  await Promise.all(lanes);
  await one.stop();
  assert.deepStrictEqual(one.deaths().concat(one.logText().split('\n').filter((l) => /was not busy/.test(l))), []);
  // Before the fixes the worker died, or stalled for a minute (400).
  assert.ok(ok > 800, `${ok} answers below 500, ${other} above in 6 s`);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});

// Regression: a request whose credential lookup was in flight when another
// request warmed the cache used to hand that lookup's row to its next
// statement (a poll answered 200 "f").
test('concurrent cold-cache requests each get their own answers', async () => {
  const fresh = await s.startAnother({ YARD_WORKERS: '1' });
  const nodes = [];
  for (let i = 0; i < 12; i++) nodes.push(await enroll('race-' + i, fresh.url));
  const calls = [];
  for (const n of nodes) {
    for (let i = 0; i < 8; i++) {
      calls.push(agentCall(n, 'GET', '/agent/v1/commands?after=0&wait=1', undefined, fresh.url)
        .then(async (r) => ({ kind: 'poll', status: r.status, text: await r.text() })));
      calls.push(agentCall(n, 'POST', '/agent/v1/heartbeat', { v: 1, seq: i + 1, time: Math.floor(Date.now() / 1000),
        facts: facts('race'), metrics, tasks: [] }, fresh.url).then(async (r) => ({ kind: 'hb', status: r.status, text: await r.text() })));
    }
  }
  const user = 'race-admin-' + Date.now();
  for (let i = 0; i < 16; i++) {
    calls.push(fetch(fresh.url + '/api/v1/users?limit=1', { headers: { authorization: 'Bearer ' + s.adminToken(user) } })
      .then(async (r) => ({ kind: 'users', status: r.status, text: await r.text() })));
  }
  for (const r of await Promise.all(calls)) {
    if (r.kind === 'poll') assert.ok(r.status === 204 || (r.status === 200 && JSON.parse(r.text).v === 1), JSON.stringify(r));
    if (r.kind === 'hb') assert.strictEqual(r.status, 200, JSON.stringify(r));
    if (r.kind === 'users') {
      assert.strictEqual(r.status, 200, JSON.stringify(r));
      assert.ok(Array.isArray(JSON.parse(r.text).items), r.text);
    }
  }
});
