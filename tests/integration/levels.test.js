// Permission levels view < operate < manage against the real server: every
// level on a node and on a task, for list, detail, create, edit, start,
// stop, uninstall and logs; operate on a task cannot rewrite it (the
// "deploy_dir /etc" attack); manage on a task cannot create on its node; a
// node seen only through a task grant answers 403, not 404; the migration
// keeps existing operate grants; a deploy_dir outside the roots a node
// reports is a 400.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, psql, TOP } = require('../lib/stack.js');

let s, admin, n1, n2, taskA, taskB, taskC;
const users = {};

const POLICY = {
  roots: [{ path: '/srv/yard', user: 'yard-task' }, { path: '/opt/legacy/', user: 'root' }],
  user: 'yard-task', kinds: {}, refuse_env: ['LD_*'], limits: { tasks: 256, log_bytes: 10485760 },
};

const spec = (dir, over = {}) => Object.assign({
  kind: 'console', deploy_dir: dir, console: { command: '/bin/sleep', args: ['300'] },
}, over);

async function userWith(sub, grant) {
  await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  if (grant) {
    const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, grant) });
    assert.strictEqual(r.status, 201, r.text);
  }
  return s.token(sub);
}

// Commands stay queued without an agent: end them so the next may start.
function settle() {
  s.sql(`UPDATE commands SET state = 'cancelled', finished_at = now() WHERE state IN ('queued', 'dispatched', 'running')`);
}

test.before(async () => {
  s = await startStack();
  admin = s.adminToken('lv-admin');
  n1 = Number(s.sql(`INSERT INTO nodes (name, hostname, facts) VALUES ('lv-n1', 'n1.local',
    '${JSON.stringify({ hostname: 'n1.local', policy: POLICY })}') RETURNING id`));
  n2 = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('lv-n2', 'n2.local') RETURNING id`));
  const mk = async (node, name, dir) => {
    const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: node, name, spec: spec(dir) } });
    assert.strictEqual(r.status, 201, r.text);
    return r.json.id;
  };
  taskA = await mk(n1, 'alpha', '/srv/yard/alpha');
  taskB = await mk(n1, 'beta', '/srv/yard/beta');
  taskC = await mk(n2, 'gamma', '/etc/gamma');
  users.stranger = await userWith('lv-stranger');
  for (const lvl of ['view', 'operate', 'manage']) {
    users['node-' + lvl] = await userWith('lv-node-' + lvl, { node_id: n1, level: lvl });
    users['task-' + lvl] = await userWith('lv-task-' + lvl, { task_id: taskA, level: lvl });
  }
  users.admin = admin;
});
test.after(async () => { await s.stop(); });

// What each user may do to task alpha (on lv-n1); null: invisible (404).
const LEVEL = {
  stranger: null, admin: 'manage',
  'node-view': 'view', 'node-operate': 'operate', 'node-manage': 'manage',
  'task-view': 'view', 'task-operate': 'operate', 'task-manage': 'manage',
};
const RANK = { view: 1, operate: 2, manage: 3 };
const may = (who, need) => LEVEL[who] !== null && RANK[LEVEL[who]] >= RANK[need];
// Refused: 404 when the task is invisible, 403 when seen.
const refused = (who) => (LEVEL[who] === null ? 404 : 403);

test('list and detail: visible with the caller\'s level, 404 otherwise', async () => {
  for (const [who, tok] of Object.entries(users)) {
    const l = await s.api('GET', '/api/v1/tasks?limit=200', { token: tok });
    assert.strictEqual(l.status, 200, who);
    const ids = l.json.items.map((t) => t.id).sort((a, b) => a - b);
    const want = who === 'stranger' ? []
      : who === 'admin' ? [taskA, taskB, taskC]
        : who.startsWith('node-') ? [taskA, taskB] : [taskA];
    assert.deepStrictEqual(ids, want, who);
    const d = await s.api('GET', `/api/v1/tasks/${taskA}`, { token: tok });
    if (LEVEL[who] === null) {
      assert.strictEqual(d.status, 404, who);
    } else {
      assert.strictEqual(d.status, 200, who);
      assert.strictEqual(d.json.level, LEVEL[who], who);
      assert.strictEqual(l.json.items.find((t) => t.id === taskA).level, LEVEL[who], who);
    }
    // A task grant never reaches a sibling task.
    const b = await s.api('GET', `/api/v1/tasks/${taskB}`, { token: tok });
    assert.strictEqual(b.status, who === 'stranger' || who.startsWith('task-') ? 404 : 200, who);
  }
});

test('start and stop need operate; uninstall needs manage', async () => {
  for (const [who, tok] of Object.entries(users)) {
    for (const type of ['start', 'stop', 'restart', 'uninstall']) {
      const need = type === 'uninstall' ? 'manage' : 'operate';
      const r = await s.api('POST', '/api/v1/commands', { token: tok, body: { type, task_id: taskA } });
      if (may(who, need)) {
        assert.strictEqual(r.status, 201, `${who} ${type}: ${r.text}`);
        settle();
      } else {
        assert.strictEqual(r.status, refused(who), `${who} ${type}: ${r.text}`);
        if (r.status === 403) assert.match(r.json.message, new RegExp(`not ${need} it`), who);
      }
    }
    // The sibling: task grants do not reach it.
    const r = await s.api('POST', '/api/v1/commands', { token: tok, body: { type: 'start', task_id: taskB } });
    if (who.startsWith('task-') || who === 'stranger') assert.strictEqual(r.status, 404, who);
    settle();
  }
  // Nothing refused was queued.
  assert.strictEqual(s.sql(`SELECT count(*) FROM commands c JOIN users u ON u.id = c.issued_by
    WHERE c.type = 'uninstall' AND u.sub IN ('lv-node-view', 'lv-node-operate', 'lv-task-view', 'lv-task-operate')`), '0');
});

test('logs need operate: viewers 403, strangers 404', async () => {
  for (const [who, tok] of Object.entries(users)) {
    const r = await s.api('GET', `/api/v1/tasks/${taskA}/logs`, { token: tok });
    // The node never came online: past the permission check that is 409.
    if (may(who, 'operate')) assert.strictEqual(r.status, 409, `${who}: ${r.text}`);
    else assert.strictEqual(r.status, refused(who), `${who}: ${r.text}`);
    if (r.status === 403) assert.match(r.json.message, /not operate it/);
  }
  assert.strictEqual(s.sql('SELECT count(*) FROM log_requests'), '0');
});

test('edit needs manage on the task', async () => {
  const before = s.sql(`SELECT name || spec::text FROM tasks WHERE id = ${taskA}`);
  for (const [who, tok] of Object.entries(users)) {
    const r = await s.api('PUT', `/api/v1/tasks/${taskA}`, { token: tok,
      body: { name: 'alpha', spec: spec('/srv/yard/alpha', { stop_grace: 7 }) } });
    if (may(who, 'manage')) {
      assert.strictEqual(r.status, 200, `${who}: ${r.text}`);
    } else {
      assert.strictEqual(r.status, refused(who), `${who}: ${r.text}`);
      if (r.status === 403) {
        assert.match(r.json.message, new RegExp(`you may ${LEVEL[who]} this task but not manage it`));
      }
      assert.strictEqual(s.sql(`SELECT name || spec::text FROM tasks WHERE id = ${taskA}`), before, who);
    }
  }
  assert.strictEqual(s.sql(`SELECT count(*) FROM audit WHERE action = 'task.edit' AND object_id = ${taskA}`), '3');
});

test('the attack: operate on one task cannot point it at /etc', async () => {
  const before = s.sql(`SELECT spec::text FROM tasks WHERE id = ${taskA}`);
  const r = await s.api('PUT', `/api/v1/tasks/${taskA}`, { token: users['task-operate'],
    body: { name: 'alpha', spec: spec('/etc', { console: { command: '/bin/sh', args: ['-c', 'id > /etc/owned'] } }) } });
  assert.strictEqual(r.status, 403, r.text);
  assert.strictEqual(r.json.error, 'forbidden');
  assert.strictEqual(s.sql(`SELECT spec::text FROM tasks WHERE id = ${taskA}`), before);
  assert.strictEqual(s.sql(`SELECT spec->>'deploy_dir' FROM tasks WHERE id = ${taskA}`), '/srv/yard/alpha');
});

test('create needs manage on the node; a task grant of manage does not reach it', async () => {
  const count = () => s.sql('SELECT count(*) FROM tasks');
  const before = count();
  for (const [who, tok] of Object.entries(users)) {
    const r = await s.api('POST', '/api/v1/tasks', { token: tok,
      body: { node_id: n1, name: 'new-' + who, spec: spec('/srv/yard/new-' + who) } });
    if (who === 'admin' || who === 'node-manage') {
      assert.strictEqual(r.status, 201, `${who}: ${r.text}`);
      assert.strictEqual(r.json.level, 'manage');
    } else {
      // Task grants show the node: 403, like node viewers; strangers 404.
      assert.strictEqual(r.status, who === 'stranger' ? 404 : 403, `${who}: ${r.text}`);
      if (r.status === 403) assert.match(r.json.message, /not manage it/);
    }
  }
  assert.strictEqual(Number(count()), Number(before) + 2);
  // Nobody but the admin reaches the other node.
  const r = await s.api('POST', '/api/v1/tasks', { token: users['node-manage'],
    body: { node_id: n2, name: 'elsewhere', spec: spec('/srv/yard/x') } });
  assert.strictEqual(r.status, 404);
});

test('a node seen only through a task grant: listed, then 403 on actions, not 404', async () => {
  for (const who of ['task-view', 'task-operate', 'task-manage']) {
    const tok = users[who];
    let r = await s.api('GET', '/api/v1/nodes', { token: tok });
    assert.deepStrictEqual(r.json.items.map((n) => [n.id, n.level]), [[n1, 'none']], who);
    r = await s.api('GET', `/api/v1/nodes/${n1}`, { token: tok });
    assert.strictEqual(r.status, 200, who);
    r = await s.api('DELETE', `/api/v1/nodes/${n1}`, { token: tok });
    assert.strictEqual(r.status, 403, who);
    r = await s.api('POST', '/api/v1/commands', { token: tok, body: { type: 'ping', node_id: n1 } });
    assert.strictEqual(r.status, 403, who);
    // The other node stays invisible.
    r = await s.api('GET', `/api/v1/nodes/${n2}`, { token: tok });
    assert.strictEqual(r.status, 404, who);
    r = await s.api('DELETE', `/api/v1/nodes/${n2}`, { token: tok });
    assert.strictEqual(r.status, 404, who);
    r = await s.api('POST', '/api/v1/commands', { token: tok, body: { type: 'ping', node_id: n2 } });
    assert.strictEqual(r.status, 404, who);
  }
  // Node grants: the node's level, ping needs operate.
  for (const lvl of ['view', 'operate', 'manage']) {
    const tok = users['node-' + lvl];
    let r = await s.api('GET', '/api/v1/nodes', { token: tok });
    assert.deepStrictEqual(r.json.items.map((n) => [n.id, n.level]), [[n1, lvl]]);
    r = await s.api('POST', '/api/v1/commands', { token: tok, body: { type: 'ping', node_id: n1 } });
    assert.strictEqual(r.status, lvl === 'view' ? 403 : 201, lvl);
    settle();
  }
});

test('commands: a task grant shows its task\'s commands only, not the node\'s', async () => {
  const ping = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'ping', node_id: n1 } });
  assert.strictEqual(ping.status, 201);
  const b = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'start', task_id: taskB } });
  assert.strictEqual(b.status, 201);
  settle();
  const seen = async (tok) => (await s.api('GET', '/api/v1/commands?limit=200', { token: tok })).json.items;
  const tv = await seen(users['task-view']);
  assert.ok(tv.length > 0);
  assert.ok(tv.every((c) => c.task_id === taskA), JSON.stringify(tv.map((c) => [c.type, c.task_id])));
  let r = await s.api('GET', `/api/v1/commands/${ping.json.id}`, { token: users['task-view'] });
  assert.strictEqual(r.status, 404);
  r = await s.api('GET', `/api/v1/commands/${b.json.id}`, { token: users['task-manage'] });
  assert.strictEqual(r.status, 404);
  r = await s.api('GET', `/api/v1/commands/${ping.json.id}`, { token: users['node-view'] });
  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual(await seen(users.stranger), []);
});

test('the task carries its latest command, output cut to 2000 characters', async () => {
  const out = 'start failed: policy: deploy_dir /etc is outside the allowed roots (/srv/yard)\n' + 'x'.repeat(3000);
  s.sql(`INSERT INTO commands (type, node_id, task_id, state, output, deadline, finished_at, exit_status)
    VALUES ('start', ${n1}, ${taskB}, 'failed', '${out}', now(), now(), 1)`);
  const r = await s.api('GET', `/api/v1/tasks/${taskB}`, { token: users['node-view'] });
  const lc = r.json.last_command;
  assert.strictEqual(lc.type, 'start');
  assert.strictEqual(lc.state, 'failed');
  assert.strictEqual(lc.output.length, 2000);
  assert.ok(lc.output.startsWith('start failed: policy: deploy_dir /etc'));
  assert.strictEqual(lc.output_truncated, true);
  assert.ok(lc.finished_at);
  const l = await s.api('GET', '/api/v1/tasks', { token: users['node-view'] });
  assert.strictEqual(l.json.items.find((t) => t.id === taskB).last_command.id, lc.id);
  // A task that never had a command carries null.
  const fresh = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: n2, name: 'fresh', spec: spec('/x/fresh') } });
  assert.strictEqual(fresh.json.last_command, null);
});

test('a deploy_dir outside the roots the node reports is a 400 naming spec.deploy_dir', async () => {
  const count = () => s.sql('SELECT count(*) FROM tasks');
  const before = count();
  for (const dir of ['/etc', '/srv/yardx/app', '/srv/yard', '/srv/yard/', '/srv', '/opt/legacyx/a', '/']) {
    const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: n1, name: 'outside', spec: spec(dir) } });
    assert.strictEqual(r.status, 400, `${dir}: ${r.text}`);
    assert.strictEqual(r.json.field, 'spec.deploy_dir', dir);
    assert.match(r.json.message, /outside the node's allowed roots \(\/srv\/yard, \/opt\/legacy\/\)/, dir);
  }
  assert.strictEqual(count(), before);
  for (const [i, dir] of ['/srv/yard/in', '/srv/yard/a/b/', '//srv/yard//c', '/opt/legacy/d'].entries()) {
    const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: n1, name: 'inside' + i, spec: spec(dir) } });
    assert.strictEqual(r.status, 201, `${dir}: ${r.text}`);
  }
  // An edit too; nothing changes.
  const was = s.sql(`SELECT spec::text FROM tasks WHERE id = ${taskA}`);
  let r = await s.api('PUT', `/api/v1/tasks/${taskA}`, { token: admin, body: { name: 'alpha', spec: spec('/etc') } });
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.field, 'spec.deploy_dir');
  assert.strictEqual(s.sql(`SELECT spec::text FROM tasks WHERE id = ${taskA}`), was);
  // A node that reports no policy (an older agent): the agent alone judges.
  r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: n2, name: 'anywhere', spec: spec('/etc/anywhere') } });
  assert.strictEqual(r.status, 201, r.text);
  // Permission comes first: a viewer learns nothing about the roots.
  r = await s.api('POST', '/api/v1/tasks', { token: users['node-view'], body: { node_id: n1, name: 'v', spec: spec('/etc') } });
  assert.strictEqual(r.status, 403);
});

test('grants: manage is a level; /me reports it', async () => {
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = 'lv-stranger'`));
  let r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, node_id: n2, level: 'manage' } });
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(r.json.level, 'manage');
  r = await s.api('GET', '/api/v1/me', { token: users.stranger });
  assert.deepStrictEqual(r.json.grants.map((g) => [g.node_id, g.level]), [[n2, 'manage']]);
  r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, node_id: n2, level: 'owner' } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'level');
  assert.match(r.json.message, /view, operate or manage/);
  r = await s.api('POST', '/api/v1/tasks', { token: users.stranger, body: { node_id: n2, name: 'mgr', spec: spec('/x/mgr') } });
  assert.strictEqual(r.status, 201, r.text);
});

test('migration 006 keeps existing operate grants: they start tasks and no longer edit them', async () => {
  // A database at migration 005 with grants of both old levels.
  const db = s.db + '_old';
  psql(s.pgPort, 'postgres', `CREATE DATABASE ${db}`);
  const dir = path.join(TOP, 'src', 'store', 'migrations');
  const names = fs.readdirSync(dir).filter((f) => /^00[1-5]_.*\.sql$/.test(f)).sort();
  assert.strictEqual(names.length, 5);
  for (const f of names) psql(s.pgPort, db, fs.readFileSync(path.join(dir, f), 'utf8'));
  psql(s.pgPort, db, `CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO schema_migrations (name) VALUES ${names.map((n) => `('${n}')`).join(',')}`);
  psql(s.pgPort, db, `INSERT INTO users (sub) VALUES ('old-op'), ('old-view');
    INSERT INTO nodes (name) VALUES ('old-node');
    INSERT INTO tasks (node_id, name, kind, spec) SELECT id, 'old-task', 'console',
      '{"kind":"console","deploy_dir":"/srv/yard/old","console":{"command":"/bin/true"}}' FROM nodes;
    INSERT INTO grants (user_id, node_id, level) SELECT u.id, n.id, 'operate' FROM users u, nodes n WHERE u.sub = 'old-op';
    INSERT INTO grants (user_id, task_id, level) SELECT u.id, t.id, 'view' FROM users u, tasks t WHERE u.sub = 'old-view'`);
  // manage did not exist before 006.
  assert.throws(() => psql(s.pgPort, db, `UPDATE grants SET level = 'manage'`), /grants_level_check/);
  const other = await s.startAnother({ YARD_PG_DSN: `postgresql://postgres@127.0.0.1:${s.pgPort}/${db}?connect_timeout=2` });
  try {
    assert.strictEqual(psql(s.pgPort, db, `SELECT string_agg(u.sub || ':' || g.level, ',' ORDER BY u.sub)
      FROM grants g JOIN users u ON u.id = g.user_id`), 'old-op:operate,old-view:view');
    assert.strictEqual(psql(s.pgPort, db, `SELECT count(*) FROM schema_migrations WHERE name LIKE '006_%'`), '1');
    const call = async (method, p, sub, body) => {
      const r = await fetch(other.url + p, { method, headers: { authorization: 'Bearer ' + s.token(sub),
        'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      return { status: r.status, json: await r.json() };
    };
    const tid = Number(psql(s.pgPort, db, `SELECT id FROM tasks WHERE name = 'old-task'`));
    let r = await call('POST', '/api/v1/commands', 'old-op', { type: 'start', task_id: tid });
    assert.strictEqual(r.status, 201, JSON.stringify(r.json));
    r = await call('PUT', `/api/v1/tasks/${tid}`, 'old-op', { name: 'old-task', spec: spec('/etc') });
    assert.strictEqual(r.status, 403);
    r = await call('GET', `/api/v1/tasks/${tid}`, 'old-view');
    assert.strictEqual(r.json.level, 'view');
    // And manage is now a level the store accepts.
    psql(s.pgPort, db, `UPDATE grants SET level = 'manage' WHERE level = 'view'`);
  } finally {
    await other.stop();
    psql(s.pgPort, 'postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
