// A result's reason in machine form, through a real agent and the real
// server (docs/agent-protocol.md, "Reason codes"): a start whose program
// is missing, a stop and a restart whose start then fails, a payload the
// agent refuses, a start the node policy refuses and a health check that
// never passes each come back with reason_code and its values next to
// the agent's English words, which stay as they were.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { startStack, waitFor } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, admin, agent, kit;
test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('reasons-admin');
  agent = await s.agent('reasoner');
  kit = taskKit(s, admin, agent);
});
test.after(async () => {
  if (kit) kit.killAll();
  await s.stop();
});

// The members of params that begin with pfx ("reason_").
const form = (p, pfx) => Object.fromEntries(Object.entries(p || {}).filter(([k]) => k.startsWith(pfx)));

test('a start whose program is missing: exec_failed with the path and ENOENT', async () => {
  const prog = path.join(s.dir, 'deploy', 'noprog', 'bin', 'run.sh');
  const id = await kit.create('noprog', {
    kind: 'console', deploy_dir: path.join(s.dir, 'deploy', 'noprog'),
    console: { command: prog }, stop_grace: 2,
  });
  const d = await kit.run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.strictEqual(d.code, 'start_failed');
  // The words, for logs and older pages, as before.
  assert.strictEqual(d.output, `start failed: cannot run ${prog}: No such file or directory`);
  assert.strictEqual(d.params.reason, `cannot run ${prog}: No such file or directory`);
  assert.deepStrictEqual(form(d.params, 'reason_'),
    { reason_code: 'exec_failed', reason_path: prog, reason_errno: 'ENOENT' });
  // The event list keeps the same.
  const ev = (await s.api('GET', `/api/v1/commands/${d.id}`, { token: admin })).json;
  assert.strictEqual(ev.params.reason_code, 'exec_failed');
});

test('a stop says how in codes; a restart whose start fails adds its reason', async () => {
  const id = await kit.console('stopper', 'exec sleep 300', { stop_grace: 2 });
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  let d = await kit.run('stop', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual(d.code, 'stopped_signal');
  assert.strictEqual(d.params.signal, 'SIGTERM');
  assert.ok(Number.isInteger(d.params.stop_ms), JSON.stringify(d.params));
  assert.deepStrictEqual(form(d.params, 'reason'), {});
  // Started again, then its program goes: the restart stops it, and
  // the start after the stop fails.
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  const gone = path.join(s.dir, 'deploy', 'stopper', 'gone.sh');
  s.sql(`UPDATE tasks SET spec = jsonb_set(spec, '{console,command}', '"${gone}"') WHERE id = ${id}`);
  d = await kit.run('restart', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.strictEqual(d.code, 'start_failed');
  assert.match(d.output, /^stopped by SIGTERM in \d+ ms; start failed: cannot run .*gone\.sh: No such file or directory$/);
  assert.strictEqual(d.params.stop, 'signal');
  assert.deepStrictEqual(form(d.params, 'reason_'),
    { reason_code: 'exec_failed', reason_path: gone, reason_errno: 'ENOENT' });
  await waitFor(async () => (await kit.task(id)).state === 'stopped', 10000, 'stopped');
});

test('a payload the agent refuses: bad_payload names the member', async () => {
  const id = await kit.console('badspec', 'exec sleep 300');
  // A server that is wrong (its database edited behind its back): the
  // agent checks the spec again.
  s.sql(`UPDATE tasks SET spec = jsonb_set(spec, '{stop_grace}', '-5') WHERE id = ${id}`);
  const d = await kit.run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.strictEqual(d.code, 'bad_payload');
  assert.match(d.output, /^bad payload: task\.spec\.stop_grace/);
  assert.deepStrictEqual(form(d.params, 'reason_'),
    { reason_code: 'payload_invalid', reason_field: 'task.spec.stop_grace' });
});

test('a start the node policy refuses names the rule', async () => {
  const id = await kit.console('preload', 'id', { env: { LD_PRELOAD: '/tmp/evil.so' } });
  const d = await kit.run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.strictEqual(d.code, 'start_failed');
  assert.strictEqual(d.output, 'start failed: policy: environment variable LD_PRELOAD is refused (refuse_env LD_*)');
  assert.deepStrictEqual(form(d.params, 'reason_'), {
    reason_code: 'policy_env_refused', reason_rule: 'refuse_env',
    reason_name: 'LD_PRELOAD', reason_pattern: 'LD_*',
  });
});

test('a start whose health check never passes: the check\'s reason in codes', async () => {
  const port = 20000 + Math.floor(Math.random() * 10000);
  const id = await kit.console('nohealth', 'exec sleep 300',
    { health: { path: '/health', port, interval: 1, timeout: 1, start_timeout: 3 } });
  const d = await kit.run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.strictEqual(d.code, 'start_unhealthy');
  // Nothing listens there: libcurl's words ("Failed to connect to
  // 127.0.0.1 port N after 2 ms: Couldn't connect to server") become
  // health_connect, curl's own English left out.
  assert.match(d.params.reason, /^Failed to connect to 127\.0\.0\.1 port \d+/);
  assert.strictEqual(d.params.reason_code, 'health_connect', JSON.stringify(d.params));
  assert.strictEqual(d.params.reason_port, port);
  assert.strictEqual(d.params.reason_host, '127.0.0.1');
  assert.ok(!('reason_detail' in d.params));
  assert.strictEqual((await kit.run('stop', id)).state, 'succeeded');
});
