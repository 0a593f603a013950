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
