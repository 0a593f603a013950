// Helpers for tests that run tasks through a real agent: create a task,
// issue a command and wait for its outcome, read a task, find the
// processes carrying the agent's task marks (YARD_TASK_MARK=<install
// id>-<task id>, the install id from the agent's state directory) or
// living in a task's cgroup.
'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { waitFor, TASK_USER } = require('./stack.js');

// Give a directory a test made itself to the account tasks run as (the
// agent chowns only the deploy directories it creates).
function ownByTaskUser(dir) {
  if (process.getuid() === 0) execFileSync('chown', ['-R', `${TASK_USER}:`, dir]);
  return dir;
}

// [pid, environ entries] of every process we can read.
function environs() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.push([Number(d), fs.readFileSync(`/proc/${d}/environ`, 'latin1').split('\0')]);
    } catch { /* gone */ }
  }
  return out;
}

// The agent's installation id (<state>/install-id, made at enrolment).
function installId(agent) {
  return fs.readFileSync(path.join(agent.state, 'install-id'), 'utf8').trim();
}

// The cgroup v2 path of pid (its "0::" line), or null.
function cgroupOf(pid) {
  try {
    const l = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((x) => x.startsWith('0::'));
    return l ? l.slice(3) : null;
  } catch { return null; }
}

// taskKit(stack, token, agent): the helpers bound to one stack and agent.
function taskKit(s, token, agent) {
  const kit = {
    async create(name, spec) {
      const r = await s.api('POST', '/api/v1/tasks', { token, body: { node_id: agent.nodeId, name, spec } });
      assert.strictEqual(r.status, 201, r.text);
      return r.json.id;
    },
    // A console task running `sh -c script` in its own deploy directory.
    console(name, script, over = {}) {
      return kit.create(name, Object.assign({
        kind: 'console', deploy_dir: path.join(s.dir, 'deploy', name),
        console: { command: '/bin/sh', args: ['-c', script] }, stop_grace: 5,
      }, over));
    },
    command(type, taskId, tok = token) {
      return s.api('POST', '/api/v1/commands', { token: tok, body: { type, task_id: taskId } });
    },
    // Issue a command and wait for its final state; the command's detail.
    async run(type, taskId, ms = 30000) {
      const c = await kit.command(type, taskId);
      assert.strictEqual(c.status, 201, c.text);
      let d;
      await waitFor(async () => {
        d = (await s.api('GET', `/api/v1/commands/${c.json.id}`, { token })).json;
        return ['succeeded', 'failed', 'timed_out'].includes(d.state);
      }, ms, `${type} result`);
      return d;
    },
    async task(id) {
      return (await s.api('GET', `/api/v1/tasks/${id}`, { token })).json;
    },
    // The task mark this agent gives task taskId.
    mark(taskId) { return `${installId(agent)}-${taskId}`; },
    // Processes carrying a task mark of this agent (of one task).
    markedPids(taskId) {
      const want = `YARD_TASK_MARK=${installId(agent)}-` + (taskId === undefined ? '' : `${taskId}`);
      return environs().filter(([, env]) =>
        env.some((e) => (taskId === undefined ? e.startsWith(want) : e === want))).map(([pid]) => pid);
    },
    killAll() {
      for (const pid of kit.markedPids()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    },
    logPath(id) { return path.join(agent.state, 'logs', `${id}.log`); },
  };
  return kit;
}

// The Tasks page (f: its frame locator): a row's "more" menu item, and
// the create drawer opened from "New task".
async function taskMenu(row, action) {
  await row.locator('[data-action="more"]').click({ timeout: 15000 });
  await row.locator(`[role=menu] [data-action="${action}"]`).click({ timeout: 5000 });
}

async function openTaskDrawer(f) {
  await f.locator('#task-new').click({ timeout: 15000 });
  await f.locator('#task-drawer[open]').waitFor({ timeout: 5000 });
}

module.exports = { taskKit, environs, installId, cgroupOf, ownByTaskUser, taskMenu, openTaskDrawer };
