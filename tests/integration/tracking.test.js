// Which processes are a task's, with real agents: a cgroup v2 per task
// where the host has one, else the task's session plus its mark
// (YARD_TASK_MARK=<install id>-<task id>, only in processes of the task's
// user).  A stop kills the task's daemon that left its group, and never a
// stranger carrying the task's mark (the old node<id>-<task> look-alike,
// or the exact mark copied from the task), nor the task of another agent
// of another Yard server with the same node id and task id; the same
// after the agent was killed and restarted.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startStack, waitFor, TOP } = require('../lib/stack.js');
const { taskKit, installId, cgroupOf } = require('../lib/tasks.js');

// A daemon: the task forks a process that makes a session of its own.
const DAEMON = "setsid sh -c 'sleep 300' & exec sleep 300";

let s, s2, admin, agent, other, twin, k, kOther, kTwin, moved;
const strangers = [];

// The writable cgroup2 mount, read here independently of the agent (root
// only): where this host gives the agent a cgroup v2 it can use.
const cgroupMount = process.getuid() !== 0 ? null
  : fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => {
    if (!/ - cgroup2 /.test(l)) return null;
    const m = l.split(' ')[4].replace(/\\040/g, ' ');
    try { fs.accessSync(m, fs.constants.W_OK); return m; } catch { return null; }
  }).find((m) => m) || null;
const cgroupHost = cgroupMount !== null;

test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('track-admin');
  agent = await s.agent('tracker');
  k = taskKit(s, admin, agent);
  // The fallback: an agent told not to use cgroups.
  other = await s.agent('fallback', s.yard.url, null, { env: { YARD_AGENT_NO_CGROUP: '1' } });
  kOther = taskKit(s, admin, other);
});
test.after(async () => {
  for (const p of strangers) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
  for (const kit of [k, kOther, kTwin]) if (kit) kit.killAll();
  if (s2) await s2.stop();
  await s.stop();
  if (moved) fs.rmdirSync(moved);
});

// A process the test starts: not a task's, whatever mark it carries.
function stranger(mark, opts = {}) {
  const p = spawn('/bin/sleep', ['300'], Object.assign({
    env: Object.assign({}, process.env, { YARD_TASK_MARK: mark }), stdio: 'ignore',
  }, opts));
  strangers.push(p);
  return p.pid;
}

// Running (not gone, not a zombie).
function alive(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

// The real uid of a process.
function uidOf(pid) {
  return Number(/\nUid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

// The task mark in a process's environment (copied from /proc, as a
// stranger could).
function markOf(pid) {
  const e = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')
    .find((x) => x.startsWith('YARD_TASK_MARK='));
  return e ? e.slice('YARD_TASK_MARK='.length) : null;
}

// The directory of the agent's task cgroups, from its start-up line.
function cgroupBase(a) {
  const m = /tracking: cgroup v2 at (\S+)\n/.exec(a.logText());
  return m ? m[1] : null;
}

// Start a daemon task; its pid and its processes once all three run.
async function startDaemon(kit, id) {
  const d = await kit.run('start', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  const pid = Number(/pid (\d+)/.exec(d.output)[1]);
  await waitFor(() => kit.markedPids(id).length === 3, 5000, 'three processes');
  return { pid, own: kit.markedPids(id) };
}

test('the agent says how it tracks tasks', async (t) => {
  await waitFor(() => /tracking: /.test(other.logText()) && /tracking: /.test(agent.logText()), 5000, 'tracking lines');
  assert.match(other.logText(), /tracking: session and mark \(\$YARD_AGENT_NO_CGROUP is set\)\n/);
  if (!cgroupHost) return t.skip('no cgroup2 here, or not root');
  const base = cgroupBase(agent);
  assert.ok(base, agent.logText());
  assert.ok(base.endsWith(`/yard-${installId(agent)}`), base);
  assert.ok(fs.statSync(base).isDirectory());
  assert.match(installId(agent), /^[0-9a-f]{16}$/);
  assert.strictEqual((fs.statSync(path.join(agent.state, 'install-id')).mode & 0o777), 0o600);
  assert.notStrictEqual(installId(agent), installId(other));
});

test('cgroup: a stop kills the escaped daemon, never a stranger with the task\'s mark', async (t) => {
  if (!cgroupHost) return t.skip('no cgroup2 here, or not root');
  const id = await k.console('daemon', DAEMON);
  const { pid, own } = await startDaemon(k, id);
  // Every process of the task is in its cgroup, the daemon too.
  const cg = `/yard-${installId(agent)}/task-${id}`;
  for (const p of own) assert.ok((cgroupOf(p) || '').endsWith(cg), `${p}: ${cgroupOf(p)}`);
  const dir = path.join(cgroupBase(agent), `task-${id}`);
  assert.deepStrictEqual(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n')
    .map(Number).sort(), [...own].sort());
  // Its tree is its cgroup: the daemon left the session, yet counts.
  await waitFor(async () => ((await k.task(id)).metrics || {}).procs === 3, 10000, 'procs 3');
  // Strangers: the exact mark, copied from the task, and the old-format
  // look-alike, both run as root by the test.
  const mark = markOf(pid);
  assert.strictEqual(mark, k.mark(id));
  const exact = stranger(mark);
  const lookalike = stranger(`node${agent.nodeId}-${id}`);
  await waitFor(() => alive(exact) && alive(lookalike), 3000, 'strangers');
  assert.ok(!(cgroupOf(exact) || '').endsWith(cg));

  const st = await k.run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /^stopped by SIGTERM; processes that had left its group were killed in \d+ ms$/);
  await waitFor(() => own.every((p) => !alive(p)), 3000, 'the task\'s processes gone');
  assert.ok(alive(exact), 'the stranger with the exact mark survived');
  assert.ok(alive(lookalike), 'the stranger with the old-format mark survived');
  // The empty cgroup was removed.
  assert.ok(!fs.existsSync(dir), dir);
});

test('cgroup: after the agent is SIGKILLed and restarts elsewhere, a stop still kills the escaped daemon', async (t) => {
  if (!cgroupHost) return t.skip('no cgroup2 here, or not root');
  const id = await k.console('survivor', DAEMON);
  const { pid, own } = await startDaemon(k, id);
  const exact = stranger(markOf(pid));
  const tasksJson = JSON.parse(fs.readFileSync(path.join(agent.state, 'tasks.json'), 'utf8'));
  const rec = tasksJson.find((x) => x.id === id);
  assert.strictEqual(rec.cgroup, path.join(cgroupBase(agent), `task-${id}`));
  assert.strictEqual(rec.mark, k.mark(id));
  assert.strictEqual(rec.uid, uidOf(pid));
  await agent.stop('SIGKILL');
  assert.ok(own.every(alive), 'the task outlived the agent');
  // It comes back in another cgroup (a unit of another name, say): its
  // new tasks would go there, and it still finds the one it left.
  moved = path.join(cgroupMount, `yard-test-moved-${process.pid}`);
  fs.mkdirSync(moved);
  const out = fs.openSync(agent.log, 'a');
  agent.proc = spawn('/bin/sh', ['-c',
    'echo 0 > "$1/cgroup.procs" && exec "$2" run -d --state-dir "$3" --policy "$4"',
    'sh', moved, path.join(TOP, 'obj', 'yard-agent'), agent.state, agent.policy],
  { stdio: ['ignore', out, out] });
  await waitFor(() => agent.logText().includes(`tracking: cgroup v2 at ${moved}/yard-${installId(agent)}\n`),
    10000, 'the agent in its new cgroup');
  await waitFor(() => agent.logText().includes(`task ${id}: adopted pid ${pid} in cgroup ${rec.cgroup}\n`),
    10000, 'adoption');
  assert.ok(cgroupOf(agent.proc.pid).endsWith(`/yard-test-moved-${process.pid}`), cgroupOf(agent.proc.pid));
  const st = await k.run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /processes that had left its group were killed/);
  await waitFor(() => own.every((p) => !alive(p)), 3000, 'the task\'s processes gone');
  assert.ok(alive(exact), 'the stranger survived');
  // Its old cgroup went, and with it the old installation cgroup.
  assert.ok(!fs.existsSync(rec.cgroup), rec.cgroup);
  assert.ok(!fs.existsSync(path.dirname(rec.cgroup)), path.dirname(rec.cgroup));
});

test('two agents of two servers, same node id and task id: a stop touches only its own', async () => {
  // Another Yard server (its own database) whose agent gets the same node
  // id and the same task id as ours: the old marks would be equal.
  s2 = await startStack({ pgPort: s.pgPort, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  s2.nodeIdsSpread = true;
  s2.sql(`SELECT setval('nodes_id_seq', ${agent.nodeId}, false)`);
  twin = await s2.agent('twin', s2.yard.url, null, { env: { YARD_AGENT_NO_CGROUP: '1' } });
  assert.strictEqual(twin.nodeId, agent.nodeId);
  kTwin = taskKit(s2, s2.adminToken('twin-admin'), twin);
  const id = await k.console('mine', DAEMON);
  s2.sql(`SELECT setval('tasks_id_seq', ${id}, false)`);
  const id2 = await kTwin.console('theirs', DAEMON);
  assert.strictEqual(id2, id);

  const mine = await startDaemon(k, id);
  const theirs = await startDaemon(kTwin, id);
  // Ours by cgroup (where there is one) and theirs by session and mark:
  // each stop leaves the other agent's task whole.
  let st = await kTwin.run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  await waitFor(() => theirs.own.every((p) => !alive(p)), 3000, 'theirs gone');
  assert.ok(mine.own.every(alive), 'ours survived their stop');
  const again = await startDaemon(kTwin, id);
  st = await k.run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  await waitFor(() => mine.own.every((p) => !alive(p)), 3000, 'ours gone');
  assert.ok(again.own.every(alive), 'theirs survived our stop');
  assert.strictEqual((await kTwin.run('stop', id)).state, 'succeeded');
});

test('session and mark: the daemon is killed, strangers with a look-alike or another user\'s mark survive', async () => {
  const id = await kOther.console('fallback', DAEMON);
  const { pid, own } = await startDaemon(kOther, id);
  // Not in a task cgroup: in the agent's own.
  assert.strictEqual(cgroupOf(pid), cgroupOf(other.proc.pid));
  const lookalike = stranger(`node${other.nodeId}-${id}`);
  const nobody = stranger(markOf(pid), { uid: 65534, gid: 65534 });
  await waitFor(() => alive(lookalike) && alive(nobody), 3000, 'strangers');
  const st = await kOther.run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /processes that had left its group were killed/);
  await waitFor(() => own.every((p) => !alive(p)), 3000, 'the task\'s processes gone');
  assert.ok(alive(lookalike), 'the old-format look-alike survived');
  assert.ok(alive(nobody), 'another user\'s process with the exact mark survived');
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
