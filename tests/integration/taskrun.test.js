// Tasks run by a real yard-agent against the real server: start, the
// state and pid coming back with heartbeats, one instance per task, a
// graceful stop, SIGKILL after the grace period, a daemon that left its
// group, adoption after the agent restarts, the restart policy and its
// crash loop, health checks, uninstall, and permissions on task commands.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, admin, agent;
let k, createTask, command, run, task, markedPids;
test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('run-admin');
  agent = await s.agent('runner');
  k = taskKit(s, admin, agent);
  ({ command, run, task, markedPids } = k);
  createTask = k.console;
});
test.after(async () => {
  if (k) k.killAll(); // whatever a failed test left running
  await s.stop();
});

test('start: the program runs in its own group; state and pid come back', async () => {
  const id = await createTask('sleeper', 'echo started; exec sleep 300');
  const d = await run('start', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  const pid = Number(/pid (\d+)/.exec(d.output)[1]);
  assert.ok(pid > 1);
  await waitFor(async () => { const t = await task(id); return t.state === 'running' && t.pid === pid; },
    10000, 'running with its pid');
  assert.deepStrictEqual(markedPids(id), [pid]);
  const t = await task(id);
  assert.ok(t.metrics.rss > 0, JSON.stringify(t.metrics));
  // Its output went to the agent's log for the task.
  const log = fs.readFileSync(path.join(agent.state, 'logs', `${id}.log`), 'utf8');
  assert.match(log, /started/);
  // One instance: another start leaves the same process.
  const again = await run('start', id);
  assert.strictEqual(again.state, 'succeeded');
  assert.match(again.output, /already running/);
  assert.deepStrictEqual(markedPids(id), [pid]);
});

test('a second command while one is in progress is refused (409)', async () => {
  const id = await createTask('slowstop', "trap '' TERM; while :; do sleep 0.1; done", { stop_grace: 2 });
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  const stop = await command('stop', id);
  assert.strictEqual(stop.status, 201);
  const second = await command('start', id);
  assert.strictEqual(second.status, 409, second.text);
  assert.strictEqual(second.json.error, 'command_in_progress');
  let d;
  await waitFor(async () => {
    d = (await s.api('GET', `/api/v1/commands/${stop.json.id}`, { token: admin })).json;
    return d.state === 'succeeded';
  }, 15000, 'the stop');
  // It ignored SIGTERM: killed after its 2 s grace period.
  assert.match(d.output, /SIGKILL after the grace period/);
  assert.deepStrictEqual(markedPids(id), []);
  await waitFor(async () => (await task(id)).state === 'stopped', 10000, 'stopped');
});

test('stop is graceful, and takes a daemon that left the group with it', async () => {
  const id = await createTask('daemon', "setsid sh -c 'sleep 300' & exec sleep 300");
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  await waitFor(() => markedPids(id).length === 3, 5000, 'three processes');
  const d = await run('stop', id);
  assert.strictEqual(d.state, 'succeeded');
  assert.match(d.output, /stopped by SIGTERM; processes that had left its group were killed/);
  await waitFor(() => markedPids(id).length === 0, 3000, 'nothing left');
});

test('an agent restart leaves tasks running and adopts them again', async () => {
  const id = await createTask('survivor', 'exec sleep 300');
  const d = await run('start', id);
  const pid = Number(/pid (\d+)/.exec(d.output)[1]);
  await agent.stop('SIGTERM');
  await sleep(300);
  assert.deepStrictEqual(markedPids(id), [pid], 'the task outlived the agent');
  agent.start();
  await waitFor(() => /task \d+: adopted pid/.test(agent.logText()), 10000, 'adoption');
  const st = await run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /stopped by SIGTERM/);
  await waitFor(() => markedPids(id).length === 0, 3000, 'stopped after adoption');
});

test('restart policy: a crashing task is restarted with back-off, then declared a crash loop', async () => {
  const id = await createTask('crasher', 'sleep 0.2; exit 3',
    { restart: { policy: 'on-failure', backoff_initial: 1, backoff_max: 2, crash_loop: 2 } });
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  await waitFor(async () => (await task(id)).state === 'crash_loop', 20000, 'crash loop');
  const t = await task(id);
  assert.strictEqual(t.restarts, 2);
  assert.strictEqual(t.metrics.exit_status, 3);
});

test('health checks: a start waits for the first pass; unhealthy when it never comes', async () => {
  const port = 20000 + Math.floor(Math.random() * 10000);
  const good = await createTask('web-ok', `exec python3 -m http.server ${port} --bind 127.0.0.1`,
    { health: { path: '/', port, interval: 1, timeout: 1 } });
  const bad = await createTask('web-bad', 'echo "listening nowhere"; exec sleep 300',
    { health: { path: '/health', port: port + 1, interval: 1, timeout: 1, start_timeout: 3 } });
  let d = await run('start', good);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.match(d.output, /^started, pid \d+; healthy after \d+ ms$/);
  // The command answered once healthy, so the task is running already.
  await waitFor(async () => { const t = await task(good); return t.state === 'running' && t.health === 'ok'; },
    5000, 'the web task healthy');
  // Never healthy: starting during start_timeout, then the start fails
  // with its log's last lines and the task is unhealthy (still running).
  const c = await command('start', bad);
  await waitFor(async () => (await task(bad)).state === 'starting', 5000, 'starting');
  d = await run('start', bad).catch(() => null); // 409 while the first runs
  await waitFor(async () => {
    d = (await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin })).json;
    return d.state === 'failed';
  }, 15000, 'the start failing');
  assert.match(d.output, /started, pid \d+, but not healthy within 3 s \(.*\); the last lines of its log:\nlistening nowhere/);
  await waitFor(async () => { const t = await task(bad); return t.state === 'unhealthy' && t.health === 'failing'; },
    15000, 'the other unhealthy');
  for (const id of [good, bad]) assert.strictEqual((await run('stop', id)).state, 'succeeded');
});

test('a web task that dies while starting: the start fails and shows its last lines', async () => {
  const port = 20000 + Math.floor(Math.random() * 10000);
  const id = await createTask('web-dies', 'echo "loading config"; echo "FATAL: port in use" >&2; sleep 1; exit 3',
    { health: { path: '/', port, interval: 1, timeout: 1 }, restart: { policy: 'never' } });
  const d = await run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /ended \(exit status 3\) before its health check passed; the last lines of its log:\nloading config\nFATAL: port in use/);
  // The task shows them too while it is down.
  await waitFor(async () => { const t = await task(id); return t.state === 'failed' && /FATAL: port in use/.test(t.last_lines || ''); },
    10000, 'last lines on the task');
});

test('uninstall stops the task, removes what the agent created, and forgets it', async () => {
  const deploy = path.join(s.dir, 'deploy', 'goner');
  const id = await createTask('goner', 'echo bye > left-behind.txt; exec sleep 300');
  const d = await run('start', id);
  const pid = Number(/pid (\d+)/.exec(d.output)[1]);
  await waitFor(() => fs.existsSync(path.join(deploy, 'left-behind.txt')), 5000, 'its file');
  const u = await run('uninstall', id);
  assert.strictEqual(u.state, 'succeeded', u.output);
  assert.match(u.output, /stopped by SIGTERM.*uninstalled: logs removed, deploy directory removed/);
  assert.deepStrictEqual(markedPids(id), []);
  assert.throws(() => process.kill(pid, 0));
  assert.strictEqual(fs.existsSync(deploy), false);
  assert.strictEqual(fs.existsSync(path.join(agent.state, 'logs', `${id}.log`)), false);
  assert.strictEqual((await s.api('GET', `/api/v1/tasks/${id}`, { token: admin })).status, 404);
  // The ledger keeps its history.
  assert.strictEqual(s.sql(`SELECT count(*) FROM commands WHERE id = '${u.id}' AND state = 'succeeded'`), '1');
  const tasksJson = JSON.parse(fs.readFileSync(path.join(agent.state, 'tasks.json'), 'utf8'));
  assert.ok(!tasksJson.some((t) => t.id === id));
});

test('uninstall keeps a deploy directory the agent did not create', async () => {
  const deploy = path.join(s.dir, 'deploy', 'theirs');
  fs.mkdirSync(deploy, { recursive: true });
  fs.writeFileSync(path.join(deploy, 'precious.txt'), 'keep me');
  const id = await createTask('theirs', 'exec sleep 300');
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  const u = await run('uninstall', id);
  assert.strictEqual(u.state, 'succeeded', u.output);
  assert.match(u.output, /was not created by the agent: kept/);
  assert.strictEqual(fs.readFileSync(path.join(deploy, 'precious.txt'), 'utf8'), 'keep me');
});

test('viewers cannot act on tasks; strangers do not see them', async () => {
  const id = await createTask('guarded', 'exec sleep 300');
  await s.api('GET', '/api/v1/me', { token: s.token('run-viewer') });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = 'run-viewer'`));
  let r = await command('start', id, s.token('run-viewer'));
  assert.strictEqual(r.status, 404);
  await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, task_id: id, level: 'view' } });
  r = await command('start', id, s.token('run-viewer'));
  assert.strictEqual(r.status, 403);
  r = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'start', node_id: agent.nodeId } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'task_id');
  assert.deepStrictEqual(markedPids(id), []);
});

test('task metrics: the whole process tree, open files, history for the Metrics page', async () => {
  // Two processes: the whole tree is measured, not only the main one.
  const id = await createTask('metered', 'sleep 300 & exec sleep 301');
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  await waitFor(async () => { const t = await task(id); return t.metrics && t.metrics.fds >= 0 && t.metrics.rss > 0; },
    10000, 'metrics with open files');
  const m = (await task(id)).metrics;
  assert.strictEqual(m.procs, 2, JSON.stringify(m));
  assert.strictEqual(m.threads, 2, JSON.stringify(m));
  await waitFor(() => Number(s.sql(`SELECT count(*) FROM task_metrics WHERE task_id = ${id}`)) >= 2, 10000, 'history');
  let r = await s.api('GET', `/api/v1/metrics?task=${id}`, { token: admin });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.task_id, id);
  assert.ok(r.json.points.length >= 1);
  const p = r.json.points[r.json.points.length - 1];
  assert.ok(p[2] > 0 && p[3] >= 1 && p[4] >= 0, JSON.stringify(p)); // rss, threads, fds
  r = await s.api('GET', `/api/v1/metrics?task=${id}&node=${agent.nodeId}`, { token: admin });
  assert.strictEqual(r.status, 400);
  r = await s.api('GET', '/api/v1/metrics', { token: admin });
  assert.strictEqual(r.status, 400);
  r = await s.api('GET', `/api/v1/metrics?task=${id}`, { token: s.token('metrics-stranger') });
  assert.strictEqual(r.status, 404);
  assert.strictEqual((await run('stop', id)).state, 'succeeded');
});

test('metric history older than YARD_METRICS_RETENTION_DAYS is deleted', async () => {
  const tid = s.sql(`SELECT id FROM tasks WHERE name = 'metered'`);
  s.sql(`INSERT INTO node_metrics (node_id, at, cpu, mem_used, mem_total, load1)
    VALUES (${agent.nodeId}, now() - interval '3 days', 1, 1, 1, 0)`);
  s.sql(`INSERT INTO task_metrics (task_id, at, cpu, rss) VALUES (${tid}, now() - interval '3 days', 1, 1)`);
  const recent = Number(s.sql(`SELECT count(*) FROM task_metrics WHERE task_id = ${tid}`)) - 1;
  assert.ok(recent >= 1);
  // An instance prunes when it starts, then every 10 minutes.
  const other = await s.startAnother({ YARD_METRICS_RETENTION_DAYS: '2' });
  await waitFor(() => s.sql(`SELECT (SELECT count(*) FROM node_metrics WHERE at < now() - interval '2 days')
    + (SELECT count(*) FROM task_metrics WHERE at < now() - interval '2 days')`) === '0', 10000, 'old samples deleted');
  assert.strictEqual(Number(s.sql(`SELECT count(*) FROM task_metrics WHERE task_id = ${tid}`)), recent);
  await other.stop();
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
