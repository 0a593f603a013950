// Tasks API against the real server: specs checked in full (a bad member
// is a 400 naming it and writes nothing), defaults filled in, permissions
// (manage on the node to create, on the task to edit; 403 for what the
// caller may see, 404 for what they may not), audit, and kinds that stay.
// tests/integration/levels.test.js covers every level on every call.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack } = require('../lib/stack.js');

let s, admin, nodeId, otherNode;
test.before(async () => {
  s = await startStack();
  admin = s.adminToken('task-admin');
  nodeId = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('t-node', 't.local') RETURNING id`));
  otherNode = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('t-other', 'o.local') RETURNING id`));
});
test.after(async () => { await s.stop(); });

const consoleSpec = (over = {}) => Object.assign({
  kind: 'console', deploy_dir: '/opt/yard/tasks/echo',
  console: { command: '/usr/bin/python3', args: ['-m', 'http.server', '18080'] },
  env: { GREETING: 'héllo <&> ${x}' },
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

const count = () => Number(s.sql('SELECT count(*) FROM tasks'));

test('an admin creates a console task; defaults are filled in and text survives byte for byte', async () => {
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: nodeId, name: 'echo', spec: consoleSpec() } });
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(r.json.name, 'echo');
  assert.strictEqual(r.json.kind, 'console');
  assert.strictEqual(r.json.state, 'new');
  assert.strictEqual(r.json.node_name, 't-node');
  assert.strictEqual(r.json.spec.stop_grace, 10);
  assert.strictEqual(r.json.spec.restart.policy, 'on-failure');
  assert.strictEqual(r.json.spec.env.GREETING, 'héllo <&> ${x}');
  const g = await s.api('GET', `/api/v1/tasks/${r.json.id}`, { token: admin });
  assert.deepStrictEqual(g.json.spec, r.json.spec);
  assert.strictEqual(s.sql(`SELECT count(*) FROM audit WHERE action = 'task.create' AND object_id = ${r.json.id}`), '1');
  const l = await s.api('GET', `/api/v1/tasks?node_id=${nodeId}`, { token: admin });
  assert.deepStrictEqual(l.json.items.map((t) => t.name), ['echo']);
});

test('bad input is a 400 naming the member, and writes nothing', async () => {
  const before = count();
  const cases = [
    [{ node_id: nodeId, name: 'x', spec: consoleSpec({ deploy_dir: 'relative' }) }, 'spec.deploy_dir'],
    [{ node_id: nodeId, name: 'x', spec: consoleSpec({ console: { command: 'a', args: ['ok', 7] } }) }, 'spec.console.args[1]'],
    [{ node_id: nodeId, name: 'x', spec: consoleSpec({ jar: { jar: 'a.jar' } }) }, 'spec.jar'],
    [{ node_id: nodeId, name: 'x', spec: consoleSpec({ restart: { policy: 'often' } }) }, 'spec.restart.policy'],
    [{ node_id: nodeId, name: 'x', spec: consoleSpec({ health: { path: '/h' } }) }, 'spec.health.port'],
    [{ node_id: nodeId, name: 'x', spec: { kind: 'tomcat', deploy_dir: '/t', tomcat: { home: '/usr/share/tomcat10', port: 99999 } } }, 'spec.tomcat.port'],
    [{ node_id: nodeId, name: '../etc', spec: consoleSpec() }, 'name'],
    [{ node_id: nodeId, name: 'x' }, 'spec'],
    [{ name: 'x', spec: consoleSpec() }, 'node_id'],
  ];
  for (const [body, field] of cases) {
    const r = await s.api('POST', '/api/v1/tasks', { token: admin, body });
    assert.strictEqual(r.status, 400, `${field}: ${r.text}`);
    assert.strictEqual(r.json.field, field, r.text);
    assert.ok(r.json.message.length > 0);
  }
  assert.strictEqual(count(), before);
});

test('names are unique per node; a revoked or unknown node is refused', async () => {
  let r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: nodeId, name: 'echo', spec: consoleSpec() } });
  assert.strictEqual(r.status, 409);
  r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: otherNode, name: 'echo', spec: consoleSpec() } });
  assert.strictEqual(r.status, 201, r.text);
  r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: 999999, name: 'z', spec: consoleSpec() } });
  assert.strictEqual(r.status, 404);
  const rev = Number(s.sql(`INSERT INTO nodes (name, hostname, revoked_at) VALUES ('t-rev', 'r', now()) RETURNING id`));
  r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: rev, name: 'z', spec: consoleSpec() } });
  assert.strictEqual(r.status, 409);
  assert.strictEqual(r.json.error, 'node_revoked');
});

test('permissions: strangers 404, viewers and operators 403, managers create and edit', async () => {
  const before = count();
  const stranger = await userWith('t-stranger');
  let r = await s.api('POST', '/api/v1/tasks', { token: stranger, body: { node_id: nodeId, name: 'mine', spec: consoleSpec() } });
  assert.strictEqual(r.status, 404);
  const viewer = await userWith('t-viewer', { node_id: nodeId, level: 'view' });
  r = await s.api('POST', '/api/v1/tasks', { token: viewer, body: { node_id: nodeId, name: 'mine', spec: consoleSpec() } });
  assert.strictEqual(r.status, 403);
  assert.strictEqual(count(), before);
  const echoId = Number(s.sql(`SELECT id FROM tasks WHERE node_id = ${nodeId} AND name = 'echo'`));
  r = await s.api('PUT', `/api/v1/tasks/${echoId}`, { token: viewer, body: { name: 'echo', spec: consoleSpec({ stop_grace: 30 }) } });
  assert.strictEqual(r.status, 403);
  r = await s.api('GET', `/api/v1/tasks/${echoId}`, { token: stranger });
  assert.strictEqual(r.status, 404);
  r = await s.api('PUT', `/api/v1/tasks/${echoId}`, { token: stranger, body: { name: 'echo', spec: consoleSpec() } });
  assert.strictEqual(r.status, 404);

  // Operate starts and stops; it does not decide what runs.
  const op = await userWith('t-operator', { node_id: nodeId, level: 'operate' });
  r = await s.api('POST', '/api/v1/tasks', { token: op, body: { node_id: nodeId, name: 'mine', spec: consoleSpec() } });
  assert.strictEqual(r.status, 403, r.text);
  assert.match(r.json.message, /not manage/);
  r = await s.api('PUT', `/api/v1/tasks/${echoId}`, { token: op, body: { name: 'echo2', spec: consoleSpec({ stop_grace: 30 }) } });
  assert.strictEqual(r.status, 403, r.text);
  assert.match(r.json.message, /you may operate this task but not manage it/);
  assert.strictEqual(count(), before);

  const mg = await userWith('t-manager', { node_id: nodeId, level: 'manage' });
  r = await s.api('POST', '/api/v1/tasks', { token: mg, body: { node_id: nodeId, name: 'mine', spec: consoleSpec() } });
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(r.json.level, 'manage');
  r = await s.api('PUT', `/api/v1/tasks/${echoId}`, { token: mg, body: { name: 'echo2', spec: consoleSpec({ stop_grace: 30 }) } });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.name, 'echo2');
  assert.strictEqual(r.json.spec.stop_grace, 30);
  assert.strictEqual(s.sql(`SELECT count(*) FROM audit WHERE action = 'task.edit' AND object_id = ${echoId}`), '1');
  // A task grant alone: manage on that task, nothing else on the node.
  const mineId = Number(s.sql(`SELECT id FROM tasks WHERE name = 'mine'`));
  const tg = await userWith('t-taskop', { task_id: mineId, level: 'manage' });
  r = await s.api('PUT', `/api/v1/tasks/${mineId}`, { token: tg, body: { name: 'mine', spec: consoleSpec({ stop_grace: 5 }) } });
  assert.strictEqual(r.status, 200, r.text);
  r = await s.api('PUT', `/api/v1/tasks/${echoId}`, { token: tg, body: { name: 'echo2', spec: consoleSpec() } });
  assert.strictEqual(r.status, 404);
  r = await s.api('GET', '/api/v1/tasks', { token: tg });
  assert.deepStrictEqual(r.json.items.map((t) => t.id), [mineId]);
});

test('a task keeps its kind; a bad edit changes nothing', async () => {
  const id = Number(s.sql(`SELECT id FROM tasks WHERE name = 'echo2'`));
  const before = s.sql(`SELECT spec::text || name FROM tasks WHERE id = ${id}`);
  let r = await s.api('PUT', `/api/v1/tasks/${id}`, { token: admin, body: { name: 'echo2', spec: { kind: 'jar', deploy_dir: '/j', jar: { jar: 'a.jar' } } } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'spec.kind');
  r = await s.api('PUT', `/api/v1/tasks/${id}`, { token: admin, body: { name: 'echo2', spec: consoleSpec({ stop_grace: 99999 }) } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'spec.stop_grace');
  r = await s.api('PUT', `/api/v1/tasks/${id}`, { token: admin, body: { name: 'mine', spec: consoleSpec() } });
  assert.strictEqual(r.status, 409);
  assert.strictEqual(s.sql(`SELECT spec::text || name FROM tasks WHERE id = ${id}`), before);
});

// Regression: a task path without a usable id left the request unanswered.
test('a task path without a positive id answers 404 at once', async () => {
  for (const p of ['/api/v1/tasks/0', '/api/v1/tasks/-3', '/api/v1/tasks/x']) {
    for (const m of ['GET', 'PUT']) {
      const r = await s.api(m, p, { token: admin, body: m === 'PUT' ? { name: 'x', spec: consoleSpec() } : undefined });
      assert.strictEqual(r.status, 404, `${m} ${p}`);
    }
  }
});

// A spec is judged as the node's OS would (facts.os_family; linux when the
// facts say none): Windows paths on a Windows node, POSIX ones elsewhere.
test('deploy paths follow the node\'s OS family, and so do its roots', async () => {
  const node = (name, facts) => Number(s.sql(`INSERT INTO nodes (name, hostname, facts) VALUES ('${name}', '${name}.local',
    '${JSON.stringify(facts)}') RETURNING id`));
  const win = node('t-win', { hostname: 't-win.local', os_family: 'windows' });
  const lin = node('t-lin', { hostname: 't-lin.local', os_family: 'linux' });
  const winSpec = (dir) => ({ kind: 'console', deploy_dir: dir, console: { command: 'C:\\Python\\python.exe', args: ['app.py'] } });
  const before = count();
  for (const [n, dir] of [[win, '/srv/x'], [win, 'C:relative'], [win, 'C:\\apps\\..\\x'], [lin, 'C:\\apps\\x'], [nodeId, 'C:\\apps\\x']]) {
    const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: n, name: 'w', spec: winSpec(dir) } });
    assert.strictEqual(r.status, 400, `${dir}: ${r.text}`);
    assert.strictEqual(r.json.field, 'spec.deploy_dir', r.text);
    assert.match(r.json.message, n === win ? /Windows path/ : /absolute path/, r.text);
  }
  assert.strictEqual(count(), before);
  let r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: win, name: 'w', spec: winSpec('C:\\apps\\x') } });
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(r.json.spec.deploy_dir, 'C:\\apps\\x');
  const id = r.json.id;
  r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: win, name: 'unc', spec: winSpec('\\\\files\\share\\app') } });
  assert.strictEqual(r.status, 201, r.text);
  // An edit is judged so too; a refused one changes nothing.
  const was = s.sql(`SELECT spec::text FROM tasks WHERE id = ${id}`);
  r = await s.api('PUT', `/api/v1/tasks/${id}`, { token: admin, body: { name: 'w', spec: winSpec('/srv/x') } });
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.field, 'spec.deploy_dir');
  assert.strictEqual(s.sql(`SELECT spec::text FROM tasks WHERE id = ${id}`), was);
  r = await s.api('PUT', `/api/v1/tasks/${id}`, { token: admin, body: { name: 'w', spec: winSpec('D:/apps/y') } });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.spec.deploy_dir, 'D:/apps/y');

  // A Windows node's roots compare as Windows does: either separator,
  // case ignored, strictly below a root.
  const winp = node('t-winp', { hostname: 't-winp.local', os_family: 'windows',
    policy: { roots: [{ path: 'C:\\Yard', user: 'yard-task' }, { path: '\\\\files\\share', user: 'yard-task' }] } });
  for (const [i, dir] of ['C:\\Yard\\app', 'c:/yard/App/', 'C:\\YARD\\.\\b', '\\\\FILES\\share\\c', '//files/share/d'].entries()) {
    r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: winp, name: 'in' + i, spec: winSpec(dir) } });
    assert.strictEqual(r.status, 201, `${dir}: ${r.text}`);
  }
  for (const dir of ['C:\\Yard', 'c:\\yard\\', 'C:\\YardX\\app', 'D:\\Yard\\app', 'C:\\', '\\\\files\\sharex\\a', '\\\\other\\share\\a']) {
    r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: winp, name: 'out', spec: winSpec(dir) } });
    assert.strictEqual(r.status, 400, `${dir}: ${r.text}`);
    assert.strictEqual(r.json.field, 'spec.deploy_dir', dir);
    assert.match(r.json.message, /outside the node's allowed roots \(C:\\Yard, \\\\files\\share\)/, dir);
  }
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
