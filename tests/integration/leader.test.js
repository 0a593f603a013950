// One leader per duty (docs/architecture.md, "Duties and their leader"):
// with two instances the presence sweep runs on one of them only, and the
// other takes over when that one dies.  Each run is recorded in duty_runs
// (who ran it, how many runs), which is what this file reads.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack, waitFor, sleep } = require('../lib/stack.js');

let s, other;
test.before(async () => {
  s = await startStack();
  other = await s.startAnother();
});
test.after(async () => { await s.stop(); });

const run = (duty) => {
  const row = s.sql(`SELECT holder || ' ' || runs FROM duty_runs WHERE duty = '${duty}'`);
  if (!row) return null;
  const [holder, runs] = row.split(' ');
  return { holder, runs: Number(runs), port: Number(holder.split('/')[0].split(':')[1]) };
};

// Watch the sweep for ms: every holder seen and how many runs it made.
async function watch(ms) {
  const holders = new Set();
  const first = run('presence-sweep');
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    holders.add(run('presence-sweep').holder);
    await sleep(100);
  }
  const last = run('presence-sweep');
  holders.add(last.holder);
  return { holders, runs: last.runs - first.runs, secs: (Date.now() - t0) / 1000, last };
}

test('two instances: one sweeps, once a second', async () => {
  await waitFor(() => run('presence-sweep') !== null, 10000, 'a first sweep');
  const w = await watch(4000);
  // Both sweeping would alternate holders and run twice a second.
  assert.deepStrictEqual([...w.holders].length, 1, `holders: ${[...w.holders]}`);
  assert.ok(w.runs >= w.secs - 2, `${w.runs} runs in ${w.secs} s: the leader sweeps`);
  assert.ok(w.runs <= w.secs + 1, `${w.runs} runs in ${w.secs} s: only one instance sweeps`);
  const ports = [s.yard.port, other.port];
  assert.ok(ports.includes(w.last.port), `the holder ${w.last.holder} is one of ours`);
  // The lock is the session's, on the leader's own connection.
  assert.strictEqual(s.sql(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
    AND objid = hashtext('presence-sweep')::oid AND granted`), '1');
});

test('the leader dies: the other instance takes over', async () => {
  const before = run('presence-sweep');
  const [dying, staying] = before.port === s.yard.port ? [s.yard, other] : [other, s.yard];
  await dying.stop();
  await waitFor(() => run('presence-sweep').port === staying.port, 8000, 'a new leader');
  const w = await watch(3000);
  assert.deepStrictEqual([...w.holders].length, 1);
  assert.strictEqual(w.last.port, staying.port);
  assert.ok(w.runs >= w.secs - 2, `${w.runs} runs in ${w.secs} s`);
});

test('metric pruning ran, under its own advisory lock', () => {
  const p = run('metric-prune');
  assert.ok(p !== null && p.runs >= 1, 'pruned at start');
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
