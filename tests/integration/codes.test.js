// Command results carry a code and params (docs/agent-protocol.md,
// "Result codes"): a real yard-agent's stop, start and restart results
// are stored with theirs and returned by the commands API beside the
// output; an agent that sends none (an older one) is still recorded;
// bad codes and params are refused with the member named; and the API
// names the issuer by display name (the token's name claim).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, admin, agent, k;
test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('codes-admin');
  agent = await s.agent('coder');
  k = taskKit(s, admin, agent);
});
test.after(async () => {
  if (k) k.killAll();
  await s.stop();
});

const get = async (id) => (await s.api('GET', `/api/v1/commands/${id}`, { token: admin })).json;

test('start, restart and stop results carry codes and params, stored and returned', async () => {
  const id = await k.console('coded', 'exec sleep 300');
  const st = await k.run('start', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.strictEqual(st.code, 'started');
  const pid = Number(/pid (\d+)/.exec(st.output)[1]);
  assert.deepStrictEqual(st.params, { pid });
  assert.strictEqual(st.issued_by_sub, 'codes-admin');
  assert.strictEqual(st.issued_by_name, 'Test User');

  const again = await k.run('start', id);
  assert.strictEqual(again.code, 'already_running');
  assert.deepStrictEqual(again.params, { pid });

  const rs = await k.run('restart', id);
  assert.strictEqual(rs.state, 'succeeded', rs.output);
  assert.strictEqual(rs.code, 'started');
  assert.strictEqual(rs.params.stop, 'signal');
  assert.strictEqual(rs.params.signal, 'SIGTERM');
  assert.ok(Number.isInteger(rs.params.stop_ms) && rs.params.stop_ms >= 0, JSON.stringify(rs.params));
  assert.ok(rs.params.pid > 1 && rs.params.pid !== pid);
  assert.match(rs.output, new RegExp(`^stopped by SIGTERM in ${rs.params.stop_ms} ms; started, pid ${rs.params.pid}$`));

  const sp = await k.run('stop', id);
  assert.strictEqual(sp.state, 'succeeded', sp.output);
  assert.strictEqual(sp.code, 'stopped_signal');
  assert.deepStrictEqual(Object.keys(sp.params).sort(), ['signal', 'stop_ms']);
  assert.strictEqual(sp.params.signal, 'SIGTERM');
  assert.match(sp.output, new RegExp(`^stopped by SIGTERM in ${sp.params.stop_ms} ms$`));
  // The final event has them too; the list returns them.
  const last = sp.events[sp.events.length - 1];
  assert.strictEqual(last.state, 'succeeded');
  assert.strictEqual(last.code, 'stopped_signal');
  assert.deepStrictEqual(last.params, sp.params);
  const list = (await s.api('GET', `/api/v1/commands?task_id=${id}`, { token: admin })).json;
  const row = list.items.find((c) => c.id === sp.id);
  assert.strictEqual(row.code, 'stopped_signal');
  assert.deepStrictEqual(row.params, sp.params);
  assert.strictEqual(row.issued_by_name, 'Test User');
  assert.ok(row.started_at === null || typeof row.started_at === 'string');
  assert.strictEqual(s.sql(`SELECT code || ' ' || (params->>'signal') FROM commands WHERE id = '${sp.id}'`),
    'stopped_signal SIGTERM');

  const nr = await k.run('stop', id);
  assert.strictEqual(nr.code, 'not_running');
  assert.strictEqual(nr.params, null);
});

async function handNode() {
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  const r = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: {
      hostname: 'old-agent', os: 'Debian', kernel: '6.1', arch: 'x86_64', cpus: 2, mem_total: 8e9,
      boot_id: 'b0a7c0de-0000-4000-8000-000000000013', uptime: 100, agent_version: '0.0.9',
    } }),
  });
  assert.strictEqual(r.status, 201);
  const j = await r.json();
  return { id: j.node_id, auth: `YardNode ${j.node_id}:${j.secret}` };
}

async function pinged(node) {
  const c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'ping', node_id: node.id } });
  assert.strictEqual(c.status, 201, c.text);
  const poll = await fetch(`${s.yard.url}/agent/v1/commands?after=0&wait=5`, { headers: { authorization: node.auth } });
  assert.strictEqual(poll.status, 200);
  return c.json.id;
}

const post = (node, id, body) => fetch(`${s.yard.url}/agent/v1/commands/${id}/result`, {
  method: 'POST', headers: { authorization: node.auth, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

test('an old agent\'s result without code or params is still recorded', async () => {
  const node = await handNode();
  const id = await pinged(node);
  const r = await post(node, id, { v: 1, state: 'succeeded', exit_status: 0, output: 'pong', finished_at: Date.now() });
  assert.strictEqual(r.status, 200, await r.text());
  const d = await get(id);
  assert.strictEqual(d.state, 'succeeded');
  assert.strictEqual(d.output, 'pong');
  assert.strictEqual(d.code, null);
  assert.strictEqual(d.params, null);
});

test('a bad code or params is refused with the member named, and changes nothing', async () => {
  const node = await handNode();
  const id = await pinged(node);
  const base = { v: 1, state: 'succeeded', exit_status: 0, output: 'pong', finished_at: Date.now() };
  for (const [extra, field] of [
    [{ code: 'Pong' }, 'code'],
    [{ code: 'x'.repeat(49) }, 'code'],
    [{ params: { a: 1 } }, 'params'],
    [{ code: 'pong', params: [] }, 'params'],
    [{ code: 'pong', params: { a: true } }, 'params.a'],
    [{ code: 'pong', params: { a: 'x'.repeat(257) } }, 'params.a'],
    [{ code: 'pong', params: Object.fromEntries([...Array(17).keys()].map((i) => ['p' + i, i])) }, 'params'],
  ]) {
    const r = await post(node, id, Object.assign({}, base, extra));
    assert.strictEqual(r.status, 400, JSON.stringify(extra));
    const j = await r.json();
    assert.strictEqual(j.field, field, JSON.stringify(j));
  }
  assert.strictEqual((await get(id)).state, 'dispatched');
  const ok = await post(node, id, Object.assign({}, base, { code: 'pong', params: { n: 1, s: 'é'.repeat(128) } }));
  assert.strictEqual(ok.status, 200, await ok.text());
  const d = await get(id);
  assert.strictEqual(d.code, 'pong');
  assert.deepStrictEqual(d.params, { n: 1, s: 'é'.repeat(128) });
});

test('the API names people: audit actors and mute setters by display name', async () => {
  const a = (await s.api('GET', '/api/v1/audit?action=command.issue&limit=5', { token: admin })).json;
  assert.ok(a.items.length > 0);
  assert.strictEqual(a.items[0].actor_name, 'Test User');
  assert.strictEqual(a.items[0].actor_sub, 'codes-admin');
});
