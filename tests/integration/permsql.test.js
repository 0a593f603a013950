// The permission rule, asked directly of PostgreSQL: yard_level() and
// yard_node_visible() (migration 006_levels.sql) are the only definition
// of who may do what; every list and action statement calls them.  The
// cases are the ones the server's handlers rely on (levels.test.js checks
// the same answers through the API).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack } = require('../lib/stack.js');

let s;
const ids = {};

function user(sub) {
  return Number(s.sql(`INSERT INTO users (sub) VALUES ('${sub}') RETURNING id`));
}
function grant(uid, what, id, level) {
  s.sql(`INSERT INTO grants (user_id, ${what}_id, level) VALUES (${uid}, ${id}, '${level}')`);
}
// The level of user uid on node n (task t NULL) or on task t of node n.
function level(uid, n, t, admin = false) {
  return Number(s.sql(`SELECT yard_level(${uid}, ${admin}, ${n === null ? 'NULL' : n},
    ${t === null ? 'NULL' : t})`));
}
function visible(uid, n, admin = false) {
  return s.sql(`SELECT yard_node_visible(${uid}, ${admin}, ${n})`) === 't';
}

test.before(async () => {
  s = await startStack();
  for (const n of ['n1', 'n2']) {
    ids[n] = Number(s.sql(`INSERT INTO nodes (name) VALUES ('perm-${n}') RETURNING id`));
  }
  const task = (n, name) => Number(s.sql(`INSERT INTO tasks (node_id, name, kind)
    VALUES (${ids[n]}, '${name}', 'console') RETURNING id`));
  ids.t10 = task('n1', 't10');
  ids.t11 = task('n1', 't11');
  ids.t20 = task('n2', 't20');
  ids.t21 = task('n2', 't21');
});

test.after(async () => { if (s) await s.stop(); });

test('an admin manages everything and sees every node', () => {
  const u = user('perm-admin');
  assert.strictEqual(level(u, ids.n1, null, true), 3);
  assert.strictEqual(level(u, ids.n2, ids.t21, true), 3);
  assert.ok(visible(u, ids.n2, true));
});

test('no grant: no level, no node', () => {
  const u = user('perm-none');
  assert.strictEqual(level(u, ids.n1, null), 0);
  assert.strictEqual(level(u, ids.n1, ids.t10), 0);
  assert.ok(!visible(u, ids.n1));
});

test('a node grant covers the node and all its tasks, nothing else', () => {
  const u = user('perm-node-op');
  grant(u, 'node', ids.n1, 'operate');
  assert.strictEqual(level(u, ids.n1, null), 2);
  assert.strictEqual(level(u, ids.n1, ids.t10), 2);
  assert.strictEqual(level(u, ids.n1, ids.t11), 2);
  assert.strictEqual(level(u, ids.n2, ids.t20), 0);
  assert.strictEqual(level(u, ids.n2, null), 0);
  assert.ok(visible(u, ids.n1));
  assert.ok(!visible(u, ids.n2));
});

test('a task grant is that task only; it shows the node with no level on it', () => {
  const u = user('perm-task-view');
  grant(u, 'task', ids.t10, 'view');
  assert.strictEqual(level(u, ids.n1, ids.t10), 1);
  assert.strictEqual(level(u, ids.n1, ids.t11), 0);
  assert.strictEqual(level(u, ids.n1, null), 0);
  // A task id that equals a node id is still a task id.
  assert.strictEqual(level(u, ids.t10, null), 0);
  assert.ok(visible(u, ids.n1));
  assert.ok(!visible(u, ids.n2));
});

test('manage on a task manages that task, not its node or its siblings', () => {
  const u = user('perm-manage');
  grant(u, 'node', ids.n1, 'manage');
  grant(u, 'task', ids.t20, 'manage');
  assert.strictEqual(level(u, ids.n1, null), 3);
  assert.strictEqual(level(u, ids.n1, ids.t11), 3);
  assert.strictEqual(level(u, ids.n2, ids.t20), 3);
  assert.strictEqual(level(u, ids.n2, null), 0);
  assert.strictEqual(level(u, ids.n2, ids.t21), 0);
  assert.ok(visible(u, ids.n2));
});

test('the best of several grants wins', () => {
  const u = user('perm-best');
  grant(u, 'node', ids.n1, 'view');
  grant(u, 'task', ids.t10, 'operate');
  grant(u, 'task', ids.t11, 'view');
  grant(u, 'node', ids.n2, 'operate');
  assert.strictEqual(level(u, ids.n1, ids.t10), 2);
  assert.strictEqual(level(u, ids.n1, ids.t11), 1);
  assert.strictEqual(level(u, ids.n1, null), 1);
  assert.strictEqual(level(u, ids.n2, null), 2);
  assert.strictEqual(level(u, ids.n2, ids.t20), 2);
});

test('absent or unknown ids match nothing', () => {
  const u = user('perm-zero');
  grant(u, 'task', ids.t10, 'operate');
  grant(u, 'node', ids.n1, 'operate');
  assert.strictEqual(level(u, null, null), 0);
  assert.strictEqual(level(u, 0, null), 0);
  assert.strictEqual(level(u, -1, null), 0);
  // Unknown node of the task: only the task grant counts.
  assert.strictEqual(level(u, null, ids.t10), 2);
  assert.strictEqual(level(u, null, ids.t21), 0);
  assert.ok(!visible(u, 0));
});

test('a level name check: only view, operate and manage are grants', () => {
  const u = user('perm-bad');
  assert.throws(() => grant(u, 'node', ids.n1, 'root'));
  assert.strictEqual(level(u, ids.n1, null), 0);
});
