// A task's events (GET /api/v1/tasks/ID/events) from a real yard-agent:
// a start, a SIGKILL from outside and the policy's restart, a stop
// through the API with its command and user, a crash loop that the task
// says honestly, an adoption after the agent restarts, a node going
// offline; the endpoint's permissions and paging.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, admin, agent, k;
test.before(async () => {
  s = await startStack({ privatePg: true,
    env: { YARD_HEARTBEAT_INTERVAL: '1', YARD_NODE_OFFLINE_AFTER: '4' } });
  admin = s.adminToken('events-admin');
  agent = await s.agent('events');
  k = taskKit(s, admin, agent);
});
test.after(async () => {
  if (k) k.killAll();
  await s.stop();
});

const events = async (id, q = '', token = admin) => s.api('GET', `/api/v1/tasks/${id}/events${q}`, { token });
// The task's events, oldest first.
const history = async (id) => {
  const r = await events(id, '?limit=200');
  assert.strictEqual(r.status, 200, r.text);
  return r.json.items.slice().reverse();
};
const kinds = (h) => h.map((e) => e.kind);

async function userWith(sub, grant) {
  await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  if (grant) {
    const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, grant) });
    assert.strictEqual(r.status, 201, r.text);
  }
  return { token: s.token(sub), uid };
}

test('start, SIGKILL from outside, the restart: started, killed, restarted, started', async () => {
  const id = await k.console('victim', 'exec sleep 300',
    { restart: { policy: 'always', backoff_initial: 1, backoff_max: 1, crash_loop: 5 } });
  const d = await k.run('start', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  const pid = Number(/pid (\d+)/.exec(d.output)[1]);
  await waitFor(async () => kinds(await history(id)).includes('started'), 10000, 'started');
  let h = await history(id);
  assert.deepStrictEqual(kinds(h), ['started']);
  assert.strictEqual(h[0].code, 'command');
  assert.strictEqual(h[0].command_id, d.id);
  assert.strictEqual(h[0].state, 'running');
  assert.strictEqual(h[0].params.pid, pid);

  process.kill(pid, 'SIGKILL');
  await waitFor(async () => { const t = await k.task(id); return t.restarts === 1 && t.state === 'running' && t.pid !== pid; },
    15000, 'restarted');
  await waitFor(async () => kinds(await history(id)).length >= 4, 5000, 'its events');
  h = await history(id);
  assert.deepStrictEqual(kinds(h), ['started', 'killed', 'restarted', 'started'], JSON.stringify(h));
  const [, killed, restarted, again] = h;
  assert.strictEqual(killed.params.signal, 'SIGKILL');
  assert.strictEqual(killed.code, 'outside');
  assert.strictEqual(killed.params.by, 'outside');
  assert.strictEqual(killed.command_id, null);
  assert.strictEqual(restarted.code, 'signal');
  assert.strictEqual(restarted.params.restarts, 1);
  assert.strictEqual(restarted.params.count, 1);
  assert.strictEqual(again.code, 'policy');
  assert.ok(Date.parse(killed.at) <= Date.parse(restarted.at));
  assert.ok(Date.parse(restarted.at) <= Date.parse(again.at));
  // The task says the same.
  const t = await k.task(id);
  assert.strictEqual(t.last_exit.signal, 'SIGKILL');
  assert.strictEqual(t.last_exit.by, 'outside');
  assert.strictEqual(t.last_restart.reason, 'signal');
  assert.strictEqual(t.last_restart.crash_loop, false);
  assert.ok(t.uptime_s >= 0 && t.uptime_s < 60, String(t.uptime_s));
  assert.strictEqual(t.adopted_at, null);

  // A stop through the API: stopping and stopped, with the command and
  // the user who issued it.
  const st = await k.run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  await waitFor(async () => kinds(await history(id)).includes('stopped'), 10000, 'stopped');
  h = await history(id);
  const stopped = h.find((e) => e.kind === 'stopped');
  assert.strictEqual(stopped.command_id, st.id);
  assert.strictEqual(stopped.code, 'stop');
  assert.strictEqual(stopped.state, 'stopped');
  const uid = Number(s.sql("SELECT id FROM users WHERE sub = 'events-admin'"));
  assert.strictEqual(stopped.by.id, uid);
  assert.strictEqual((await k.task(id)).uptime_s, null);
});

test('a crasher: crash_loop, and the task says so', async () => {
  const id = await k.console('crasher', 'sleep 0.2; exit 3',
    { restart: { policy: 'on-failure', backoff_initial: 1, backoff_max: 1, crash_loop: 2 } });
  assert.strictEqual((await k.run('start', id)).state, 'succeeded');
  await waitFor(async () => (await k.task(id)).state === 'crash_loop', 20000, 'crash loop');
  await waitFor(async () => kinds(await history(id)).includes('crash_loop'), 5000, 'its event');
  const h = await history(id);
  const last = h[h.length - 1];
  assert.strictEqual(last.kind, 'crash_loop', JSON.stringify(h));
  assert.strictEqual(last.state, 'crash_loop');
  assert.strictEqual(last.params.restarts, 2);
  // Each end was its own (status 3), each restart the policy's; two
  // restarts within one heartbeat flush come as one event counting two.
  const ends = h.filter((e) => e.kind === 'exited');
  assert.ok(ends.length >= 1, JSON.stringify(h));
  for (const e of ends) { assert.strictEqual(e.params.status, 3); assert.strictEqual(e.code, 'self'); }
  const restarts = h.filter((e) => e.kind === 'restarted');
  assert.strictEqual(restarts.reduce((n, e) => n + e.params.count, 0), 2, JSON.stringify(h));
  for (const e of restarts) assert.strictEqual(e.code, 'exited');
  assert.strictEqual(restarts[restarts.length - 1].params.restarts, 2);
  const t = await k.task(id);
  assert.strictEqual(t.state, 'crash_loop');
  assert.strictEqual(t.last_restart.crash_loop, true);
  assert.strictEqual(t.last_exit.status, 3);
  assert.strictEqual(t.uptime_s, null);
});

test('an agent restart: adopted, with no new start', async () => {
  const id = await k.console('survivor', 'exec sleep 300');
  assert.strictEqual((await k.run('start', id)).state, 'succeeded');
  await waitFor(async () => (await k.task(id)).state === 'running', 10000, 'running');
  const before = (await k.task(id)).started_at;
  await agent.stop('SIGTERM');
  await sleep(300);
  agent.start();
  await waitFor(async () => kinds(await history(id)).includes('adopted'), 15000, 'adopted');
  const h = await history(id);
  assert.deepStrictEqual(kinds(h), ['started', 'adopted'], JSON.stringify(h));
  const t = await k.task(id);
  assert.ok(t.adopted_at !== null);
  assert.strictEqual(t.started_at, before, 'its start survives the agent restart');
  assert.ok(t.uptime_s >= 0);
  assert.strictEqual((await k.run('stop', id)).state, 'succeeded');
});

test('permissions: a viewer of another task gets 404; a viewer of this one reads', async () => {
  const a = await k.console('seen', 'exec sleep 300');
  const b = await k.console('unseen', 'exec sleep 300');
  const viewer = await userWith('events-viewer', { task_id: a, level: 'view' });
  let r = await events(b, '', viewer.token);
  assert.strictEqual(r.status, 404, r.text);
  r = await events(a, '', viewer.token);
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(r.json, { items: [], next: null });
  r = await events(999999999, '', admin);
  assert.strictEqual(r.status, 404);
  r = await s.api('GET', `/api/v1/tasks/${a}/events`);
  assert.strictEqual(r.status, 401);
  for (const q of ['?limit=0', '?limit=x', '?before=0', '?before=-3', '?limit=100000']) {
    r = await events(a, q);
    assert.strictEqual(r.status, 400, q + ' ' + r.text);
  }
  r = await s.api('POST', `/api/v1/tasks/${a}/events`, { token: admin, body: {} });
  assert.strictEqual(r.status, 405);
});

test('paging: limit and before walk the events newest first, next says where', async () => {
  const id = await k.console('pager', 'exec sleep 300');
  // Events as any state change writes them (the trigger), five of them.
  for (const st of ['starting', 'running', 'unhealthy', 'running', 'stopped'])
    s.sql(`UPDATE tasks SET state = '${st}' WHERE id = ${id}`);
  const all = (await events(id, '?limit=50')).json;
  assert.strictEqual(all.items.length, 5);
  assert.strictEqual(all.next, null);
  assert.deepStrictEqual(all.items.map((e) => e.kind), ['stopped', 'healthy', 'unhealthy', 'state', 'state']);
  assert.ok(all.items[0].id > all.items[1].id);
  const p1 = (await events(id, '?limit=2')).json;
  assert.deepStrictEqual(p1.items.map((e) => e.id), all.items.slice(0, 2).map((e) => e.id));
  assert.strictEqual(p1.next, all.items[1].id);
  const p2 = (await events(id, `?limit=2&before=${p1.next}`)).json;
  assert.deepStrictEqual(p2.items.map((e) => e.id), all.items.slice(2, 4).map((e) => e.id));
  const p3 = (await events(id, `?limit=2&before=${p2.next}`)).json;
  assert.deepStrictEqual(p3.items.map((e) => e.id), [all.items[4].id]);
  assert.strictEqual(p3.next, null);
  // The newest 1000 per task are kept.
  s.sql(`DO $$ BEGIN FOR i IN 1..1004 LOOP UPDATE tasks SET state = CASE WHEN i % 2 = 0 THEN 'running' ELSE 'unhealthy' END WHERE id = ${id}; END LOOP; END $$`);
  assert.strictEqual(Number(s.sql(`SELECT count(*) FROM task_events WHERE task_id = ${id}`)), 1000);
});

test('the node goes offline: its running tasks are lost', async () => {
  const id = await k.console('orphan', 'exec sleep 300');
  assert.strictEqual((await k.run('start', id)).state, 'succeeded');
  await waitFor(async () => (await k.task(id)).state === 'running', 10000, 'running');
  await agent.stop('SIGKILL');
  await waitFor(async () => kinds(await history(id)).includes('lost'), 20000, 'lost');
  const e = (await history(id)).find((x) => x.kind === 'lost');
  assert.strictEqual(e.code, 'offline');
  assert.strictEqual(e.state, 'running');
  // Back, for the stack to stop it (a killed one is never waited for).
  agent.start();
});
