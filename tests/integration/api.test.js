// The admin API and the permission core against real PostgreSQL and Redis:
// users, grants, audit, visibility of nodes and tasks, validation (SPEC 4, 11).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack } = require('../lib/stack.js');

let s, admin, ids;
test.before(async () => {
  s = await startStack();
  admin = s.adminToken('root-admin');
  // Nodes and tasks arrive with enrolment later; rows suffice here.
  s.sql(`INSERT INTO nodes (name, hostname) VALUES ('node-a', 'a.local'), ('node-b', 'b.local')`);
  s.sql(`INSERT INTO tasks (node_id, name, kind) SELECT id, 'web-' || name, 'tomcat' FROM nodes`);
  s.sql(`INSERT INTO tasks (node_id, name, kind) SELECT id, 'job-' || name, 'console' FROM nodes`);
  ids = {
    nodeA: Number(s.sql(`SELECT id FROM nodes WHERE name = 'node-a'`)),
    nodeB: Number(s.sql(`SELECT id FROM nodes WHERE name = 'node-b'`)),
    webA: Number(s.sql(`SELECT id FROM tasks WHERE name = 'web-node-a'`)),
    jobA: Number(s.sql(`SELECT id FROM tasks WHERE name = 'job-node-a'`)),
    webB: Number(s.sql(`SELECT id FROM tasks WHERE name = 'web-node-b'`)),
  };
});
test.after(async () => { await s.stop(); });

async function userId(sub) {
  await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  return Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
}

test('non-admins get 403 on admin resources', async () => {
  const t = s.token('plain');
  for (const p of ['/api/v1/users', '/api/v1/grants', '/api/v1/audit']) {
    const r = await s.api('GET', p, { token: t });
    assert.strictEqual(r.status, 403, p);
    assert.strictEqual(r.json.error, 'forbidden');
  }
  const r = await s.api('POST', '/api/v1/grants', { token: t, body: { user_id: 1, node_id: 1, level: 'view' } });
  assert.strictEqual(r.status, 403);
});

test('users: create, conflict, validation, list, search, paging', async () => {
  let r = await s.api('POST', '/api/v1/users', { token: admin, body: { sub: 'carol', name: 'Carol', email: 'c@x.test' } });
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(r.json.sub, 'carol');
  assert.strictEqual(r.json.admin, false);
  r = await s.api('POST', '/api/v1/users', { token: admin, body: { sub: 'carol' } });
  assert.strictEqual(r.status, 409);
  assert.strictEqual(r.json.error, 'exists');

  const before = s.sql('SELECT count(*) FROM users') + '/' + s.sql('SELECT count(*) FROM audit');
  for (const [body, field] of [[{}, 'sub'], [{ sub: '' }, 'sub'], [{ sub: 5 }, 'sub'],
    [{ sub: 'x'.repeat(256) }, 'sub'], [{ sub: 'a\u0001b' }, 'sub'], [{ sub: 'ok', admin: 'yes' }, 'admin'],
    [{ sub: 'ok', name: ['n'] }, 'name']]) {
    r = await s.api('POST', '/api/v1/users', { token: admin, body });
    assert.strictEqual(r.status, 400, JSON.stringify(body));
    assert.strictEqual(r.json.field, field, JSON.stringify(body));
  }
  for (const raw of ['{', '[1]', '{"sub":"a","sub":"b"}', 'null']) {
    r = await s.api('POST', '/api/v1/users', { token: admin, body: raw });
    assert.strictEqual(r.status, 400, raw);
    assert.strictEqual(r.json.error, 'bad_json', raw);
  }
  r = await s.api('POST', '/api/v1/users', { token: admin, body: '{"sub":"x"}', headers: { 'content-type': 'text/plain' } });
  assert.strictEqual(r.status, 415);
  const after = s.sql('SELECT count(*) FROM users') + '/' + s.sql('SELECT count(*) FROM audit');
  assert.strictEqual(after, before, 'rejected requests change nothing');

  for (let i = 0; i < 5; i++) {
    await s.api('POST', '/api/v1/users', { token: admin, body: { sub: `page-${i}` } });
  }
  r = await s.api('GET', '/api/v1/users?q=PAGE-&limit=2', { token: admin });
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.json.items.length, 2);
  assert.ok(r.json.next);
  const seen = r.json.items.map((u) => u.sub);
  while (r.json.next) {
    r = await s.api('GET', `/api/v1/users?q=page-&limit=2&cursor=${r.json.next}`, { token: admin });
    seen.push(...r.json.items.map((u) => u.sub));
  }
  assert.deepStrictEqual(seen, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  for (const q of ['limit=0', 'limit=201', 'limit=x', 'cursor=-1', 'cursor=1e3']) {
    r = await s.api('GET', '/api/v1/users?' + q, { token: admin });
    assert.strictEqual(r.status, 400, q);
    assert.strictEqual(r.json.field, q.split('=')[0], q);
  }
});

test('users: mark admin, disable, self-protection, 404', async () => {
  const id = await userId('dave');
  let r = await s.api('PATCH', `/api/v1/users/${id}`, { token: admin, body: { admin: true } });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.admin, true);
  r = await s.api('GET', '/api/v1/me', { token: s.token('dave') });
  assert.strictEqual(r.json.admin, true, 'marked admin takes effect at once');
  r = await s.api('GET', '/api/v1/users', { token: s.token('dave') });
  assert.strictEqual(r.status, 200);

  r = await s.api('PATCH', `/api/v1/users/${id}`, { token: admin, body: { disabled: true } });
  assert.strictEqual(r.status, 200);
  r = await s.api('GET', '/api/v1/me', { token: s.token('dave') });
  assert.strictEqual(r.status, 403);
  assert.strictEqual(r.json.error, 'user_disabled');

  const self = Number(s.sql(`SELECT id FROM users WHERE sub = 'root-admin'`));
  r = await s.api('PATCH', `/api/v1/users/${self}`, { token: admin, body: { disabled: true } });
  assert.strictEqual(r.status, 409);
  r = await s.api('PATCH', `/api/v1/users/999999`, { token: admin, body: { admin: true } });
  assert.strictEqual(r.status, 404);
  r = await s.api('PATCH', `/api/v1/users/${id}`, { token: admin, body: {} });
  assert.strictEqual(r.status, 400);
  r = await s.api('DELETE', `/api/v1/users/${id}`, { token: admin });
  assert.strictEqual(r.status, 405);
});

test('grants: node grants cover tasks, task grants do not leak, 404 not 403', async () => {
  const uid = await userId('erin');
  const t = s.token('erin');
  let r = await s.api('GET', '/api/v1/nodes', { token: t });
  assert.deepStrictEqual(r.json.items, [], 'no grants: sees nothing');
  r = await s.api('GET', '/api/v1/tasks', { token: t });
  assert.deepStrictEqual(r.json.items, []);

  r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, node_id: ids.nodeA, level: 'view' } });
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(r.json.node_name, 'node-a');
  const gid = r.json.id;
  r = await s.api('GET', '/api/v1/me', { token: t });
  assert.deepStrictEqual(r.json.grants, [{ id: gid, node_id: ids.nodeA, task_id: null, level: 'view' }]);
  r = await s.api('GET', '/api/v1/tasks', { token: t });
  assert.deepStrictEqual(r.json.items.map((x) => x.id).sort(), [ids.webA, ids.jobA].sort());
  r = await s.api('GET', '/api/v1/nodes', { token: t });
  assert.deepStrictEqual(r.json.items.map((x) => x.name), ['node-a']);

  // Same target again: level changes, 200, still one grant.
  r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, node_id: ids.nodeA, level: 'operate' } });
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.json.level, 'operate');
  assert.strictEqual(s.sql(`SELECT count(*) FROM grants WHERE user_id = ${uid}`), '1');

  // A task grant on node-b shows that task and its node only.
  r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, task_id: ids.webB, level: 'view' } });
  assert.strictEqual(r.status, 201);
  r = await s.api('GET', '/api/v1/tasks?node_id=' + ids.nodeB, { token: t });
  assert.deepStrictEqual(r.json.items.map((x) => x.id), [ids.webB]);

  r = await s.api('GET', `/api/v1/grants?user_id=${uid}`, { token: admin });
  assert.strictEqual(r.json.items.length, 2);

  r = await s.api('DELETE', `/api/v1/grants/${gid}`, { token: admin });
  assert.strictEqual(r.status, 204);
  r = await s.api('DELETE', `/api/v1/grants/${gid}`, { token: admin });
  assert.strictEqual(r.status, 404);
  r = await s.api('GET', '/api/v1/tasks', { token: t });
  assert.deepStrictEqual(r.json.items.map((x) => x.id), [ids.webB], 'revocation takes effect at once');
});

test('grants: validation and missing targets change nothing', async () => {
  const uid = await userId('frank');
  const n = s.sql('SELECT count(*) FROM grants');
  for (const [body, field] of [
    [{ node_id: ids.nodeA, level: 'view' }, 'user_id'],
    [{ user_id: uid, level: 'view' }, 'node_id'],
    [{ user_id: uid, node_id: ids.nodeA, task_id: ids.webA, level: 'view' }, 'task_id'],
    [{ user_id: uid, node_id: ids.nodeA, level: 'admin' }, 'level'],
    [{ user_id: uid, node_id: -1, level: 'view' }, 'node_id'],
    [{ user_id: 'x', node_id: 1, level: 'view' }, 'user_id'],
    [{ user_id: uid, node_id: 1.5, level: 'view' }, 'node_id'],
  ]) {
    const r = await s.api('POST', '/api/v1/grants', { token: admin, body });
    assert.strictEqual(r.status, 400, JSON.stringify(body));
    assert.strictEqual(r.json.field, field, JSON.stringify(body));
  }
  let r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, node_id: 999999, level: 'view' } });
  assert.strictEqual(r.status, 404);
  assert.strictEqual(r.json.field, 'node_id');
  r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: 999999, node_id: ids.nodeA, level: 'view' } });
  assert.strictEqual(r.status, 404);
  assert.strictEqual(r.json.field, 'user_id');
  assert.strictEqual(s.sql('SELECT count(*) FROM grants'), n);
});

test('audit: every change is recorded with who and from where, filterable', async () => {
  const r = await s.api('GET', '/api/v1/audit?action=grant.create&limit=200', { token: admin });
  assert.strictEqual(r.status, 200);
  assert.ok(r.json.items.length >= 2);
  for (const e of r.json.items) {
    assert.strictEqual(e.action, 'grant.create');
    assert.strictEqual(e.actor_sub, 'root-admin');
    assert.strictEqual(e.remote_addr, '127.0.0.1');
  }
  const ids2 = r.json.items.map((e) => e.id);
  assert.deepStrictEqual(ids2, [...ids2].sort((a, b) => b - a), 'newest first');
  const actions = (await s.api('GET', '/api/v1/audit?limit=200', { token: admin })).json.items.map((e) => e.action);
  for (const a of ['user.provision', 'user.create', 'user.update', 'grant.create', 'grant.update', 'grant.delete']) {
    assert.ok(actions.includes(a), a);
  }
  let x = await s.api('GET', '/api/v1/audit?from=2020-01-01&to=2999-01-01T00:00:00Z', { token: admin });
  assert.strictEqual(x.status, 200);
  x = await s.api('GET', '/api/v1/audit?from=yesterday', { token: admin });
  assert.strictEqual(x.status, 400);
  assert.strictEqual(x.json.field, 'from');
});

test('unknown API paths answer JSON 404', async () => {
  const r = await s.api('GET', '/api/v1/nope', { token: admin });
  assert.strictEqual(r.status, 404);
  assert.strictEqual(r.json.error, 'not_found');
});

test('a grant made on one instance applies at once on another (Redis invalidation)', async () => {
  const other = await s.startAnother();
  const uid = await userId('gina');
  const t = s.token('gina');
  const get = async () => (await fetch(other.url + '/api/v1/tasks', { headers: { authorization: 'Bearer ' + t } })).json();
  assert.deepStrictEqual((await get()).items, []);
  const r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, task_id: ids.jobA, level: 'view' } });
  assert.strictEqual(r.status, 201);
  // The other instance must see it well before its 5 s cache TTL.
  const t0 = Date.now();
  let me;
  do {
    me = await (await fetch(other.url + '/api/v1/me', { headers: { authorization: 'Bearer ' + t } })).json();
  } while (me.grants.length === 0 && Date.now() - t0 < 1000);
  assert.strictEqual(me.grants.length, 1, 'grant visible within 1 s');
});

test('YARD_AUTO_PROVISION=0 admits only users an admin created', async () => {
  const strict = await s.startAnother({ YARD_AUTO_PROVISION: '0' });
  const call = (tok) => fetch(strict.url + '/api/v1/me', { headers: { authorization: 'Bearer ' + tok } });
  let r = await call(s.token('stranger'));
  assert.strictEqual(r.status, 403);
  assert.strictEqual((await r.json()).error, 'not_provisioned');
  assert.strictEqual(s.sql(`SELECT count(*) FROM users WHERE sub = 'stranger'`), '0');
  r = await call(s.token('carol'));
  assert.strictEqual(r.status, 200);
});

test('a new name or e-mail in the token reaches the users row at once, cache or not', async () => {
  // The first sign-ins carry one name; the next, moments later and well
  // inside the principal cache's lifetime, brings one from the IdP.
  const call = (tok) => s.api('GET', '/api/v1/me', { token: tok });
  assert.strictEqual((await call(s.token('renamed'))).status, 200);
  assert.strictEqual((await call(s.token('renamed'))).status, 200);
  assert.strictEqual(s.sql(`SELECT name FROM users WHERE sub = 'renamed'`), 'Test User');
  for (let i = 0; i < 4; i++) { // every worker, whichever answers
    const r = await call(s.token('renamed', { name: 'Rena Med', email: 'rena@example.test' }));
    assert.strictEqual(r.status, 200, r.text);
  }
  assert.strictEqual(s.sql(`SELECT name || ' ' || email FROM users WHERE sub = 'renamed'`),
    'Rena Med rena@example.test');
});

test('users and grants: read one by id, change name and email, audited', async () => {
  const id = await userId('hugo');
  let r = await s.api('GET', `/api/v1/users/${id}`, { token: admin });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.sub, 'hugo');
  r = await s.api('GET', '/api/v1/users/999999', { token: admin });
  assert.strictEqual(r.status, 404);
  r = await s.api('GET', `/api/v1/users/${id}`, { token: s.token('plain') });
  assert.strictEqual(r.status, 403);
  r = await s.api('PATCH', `/api/v1/users/${id}`, { token: admin, body: { name: 'Hugo H', email: 'h@x.test' } });
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual([r.json.name, r.json.email, r.json.admin, r.json.disabled], ['Hugo H', 'h@x.test', false, false]);
  const a = JSON.parse(s.sql(`SELECT row_to_json(a) FROM audit a WHERE action = 'user.update'
    AND object_id = ${id} ORDER BY id DESC LIMIT 1`));
  assert.deepStrictEqual(a.detail, { name: 'Hugo H', email: 'h@x.test' });
  r = await s.api('PATCH', `/api/v1/users/${id}`, { token: admin, body: { email: 7 } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'email');
  const self = Number(s.sql(`SELECT id FROM users WHERE sub = 'root-admin'`));
  r = await s.api('PATCH', `/api/v1/users/${self}`, { token: admin, body: { admin: false } });
  assert.strictEqual(r.status, 409);
  assert.deepStrictEqual([r.json.error, r.json.field], ['self', 'admin']);

  r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: id, task_id: ids.jobA, level: 'manage' } });
  assert.strictEqual(r.status, 201, r.text);
  assert.deepStrictEqual([r.json.task_name, r.json.task_node_id, r.json.level], ['job-node-a', ids.nodeA, 'manage']);
  const gid = r.json.id;
  r = await s.api('GET', `/api/v1/grants/${gid}`, { token: admin });
  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual([r.json.id, r.json.user_sub, r.json.task_id], [gid, 'hugo', ids.jobA]);
  r = await s.api('GET', `/api/v1/grants?task_id=${ids.jobA}&user_id=${id}`, { token: admin });
  assert.deepStrictEqual(r.json.items.map((g) => g.id), [gid]);
  r = await s.api('GET', '/api/v1/grants/999999', { token: admin });
  assert.strictEqual(r.status, 404);
  r = await s.api('PATCH', `/api/v1/grants/${gid}`, { token: admin, body: {} });
  assert.strictEqual(r.status, 405);
  r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: id, task_id: 999999, level: 'view' } });
  assert.strictEqual(r.status, 404);
  assert.strictEqual(r.json.field, 'task_id');
});

test('enrolments: a one-time token, only its SHA-256 stored, listed, audited', async () => {
  let r = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(r.status, 201, r.text);
  assert.match(r.json.token, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(r.json.command.endsWith(`--token ${r.json.token}`), r.json.command);
  assert.ok(Date.parse(r.json.expires_at) - Date.parse(r.json.created_at) === 24 * 3600 * 1000, r.text);
  const hash = require('node:crypto').createHash('sha256').update(r.json.token).digest('hex');
  assert.strictEqual(s.sql(`SELECT encode(token_hash, 'hex') FROM enrollments WHERE id = ${r.json.id}`), hash);
  assert.strictEqual(s.sql(`SELECT actor_sub FROM audit WHERE action = 'enrollment.create'
    AND object_id = ${r.json.id}`), 'root-admin');
  const id = r.json.id;
  const again = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.notStrictEqual(again.json.token, r.json.token, 'a new token each time');
  r = await s.api('GET', '/api/v1/enrollments?limit=200', { token: admin });
  assert.strictEqual(r.status, 200);
  const e = r.json.items.find((x) => x.id === id);
  assert.deepStrictEqual([e.usable, e.created_by_sub, e.token], [true, 'root-admin', undefined]);
  r = await s.api('GET', '/api/v1/enrollments?limit=0', { token: admin });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'limit');
  r = await s.api('DELETE', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(r.status, 405);
  r = await s.api('GET', '/api/v1/enrollments', { token: s.token('plain') });
  assert.strictEqual(r.status, 403);
});

test('audit: filters by actor and object, bad filters name their field', async () => {
  const self = Number(s.sql(`SELECT id FROM users WHERE sub = 'root-admin'`));
  const uid = await userId('ivan');
  let r = await s.api('GET', `/api/v1/audit?object_type=user&object_id=${uid}`, { token: admin });
  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual(r.json.items.map((e) => e.action), ['user.provision']);
  r = await s.api('GET', `/api/v1/audit?actor_id=${self}&limit=1`, { token: admin });
  assert.strictEqual(r.json.items.length, 1);
  assert.strictEqual(r.json.items[0].actor_id, self);
  assert.ok(r.json.next);
  const next = await s.api('GET', `/api/v1/audit?actor_id=${self}&limit=1&cursor=${r.json.next}`, { token: admin });
  assert.ok(next.json.items[0].id < r.json.items[0].id, 'the next page is older');
  for (const q of ['actor_id=0', 'object_id=x', 'to=2020-13', 'action=' + 'a'.repeat(61)]) {
    r = await s.api('GET', '/api/v1/audit?' + q, { token: admin });
    assert.strictEqual(r.status, 400, q);
    assert.strictEqual(r.json.field, q.split('=')[0], q);
  }
  r = await s.api('POST', '/api/v1/audit', { token: admin, body: {} });
  assert.strictEqual(r.status, 405);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
