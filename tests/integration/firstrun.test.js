// First run (issue 13 item 7): /me names the module pages each caller can
// use, in landing order; an admin grants to an EWS account name before
// its first sign-in, which creates a never-signed-in user and the grant in
// one statement (bad names change nothing); the first sign-in takes that
// row; an admin cannot demote or disable themselves.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack } = require('../lib/stack.js');

let s, admin, node, task;
const ALL = ['tasks', 'nodes', 'metrics', 'logs', 'commands', 'packages', 'alerts',
  'notifications', 'permissions', 'users'];
const count = (q) => Number(s.sql(`SELECT count(*) FROM ${q}`));

test.before(async () => {
  s = await startStack();
  admin = s.adminToken('fr-admin');
  await s.api('GET', '/api/v1/me', { token: admin });
  node = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('fr-n1', 'n1.local') RETURNING id`));
  task = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${node}, 'fr-job', 'console') RETURNING id`));
});
test.after(async () => { if (s) await s.stop(); });

async function grant(body) {
  return s.api('POST', '/api/v1/grants', { token: admin, body });
}

test('/me lists the usable modules per level, in landing order', async () => {
  let r = await s.api('GET', '/api/v1/me', { token: admin });
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(r.json.modules, ALL);

  // Nobody granted anything: only the inbox.
  r = await s.api('GET', '/api/v1/me', { token: s.token('fr-nobody') });
  assert.deepStrictEqual(r.json.modules, ['notifications']);

  // A viewer: no logs (they need operate), no admin pages.
  await s.api('GET', '/api/v1/me', { token: s.token('fr-viewer') });
  const vid = Number(s.sql(`SELECT id FROM users WHERE sub = 'fr-viewer'`));
  assert.strictEqual((await grant({ user_id: vid, node_id: node, level: 'view' })).status, 201);
  r = await s.api('GET', '/api/v1/me', { token: s.token('fr-viewer') });
  assert.deepStrictEqual(r.json.modules, ['tasks', 'nodes', 'metrics', 'commands', 'packages',
    'alerts', 'notifications']);

  // An implementer with operate on one task also reads logs.
  await s.api('GET', '/api/v1/me', { token: s.token('fr-impl') });
  const iid = Number(s.sql(`SELECT id FROM users WHERE sub = 'fr-impl'`));
  assert.strictEqual((await grant({ user_id: iid, node_id: node, level: 'view' })).status, 201);
  assert.strictEqual((await grant({ user_id: iid, task_id: task, level: 'operate' })).status, 201);
  r = await s.api('GET', '/api/v1/me', { token: s.token('fr-impl') });
  assert.deepStrictEqual(r.json.modules, ['tasks', 'nodes', 'metrics', 'logs', 'commands',
    'packages', 'alerts', 'notifications']);
});

test('granting to an account name creates a never-signed-in user and the grant', async () => {
  const before = { users: count('users'), grants: count('grants'), audit: count('audit') };
  let r = await grant({ user_sub: 'fr-newbie', task_id: task, level: 'operate' });
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(r.json.user_sub, 'fr-newbie');
  assert.strictEqual(r.json.user_created, true);
  assert.strictEqual(r.json.task_name, 'fr-job');
  assert.strictEqual(r.json.level, 'operate');
  const row = JSON.parse(s.sql(`SELECT row_to_json(u) FROM users u WHERE sub = 'fr-newbie'`));
  assert.strictEqual(row.id, r.json.user_id);
  assert.strictEqual(row.last_seen, null, 'never signed in');
  assert.strictEqual(row.admin, false);
  const adminId = Number(s.sql(`SELECT id FROM users WHERE sub = 'fr-admin'`));
  assert.strictEqual(row.created_by, adminId);
  assert.deepStrictEqual({ users: count('users'), grants: count('grants'), audit: count('audit') },
    { users: before.users + 1, grants: before.grants + 1, audit: before.audit + 2 });
  const a = JSON.parse(s.sql(`SELECT row_to_json(a) FROM audit a WHERE action = 'user.create'
    AND object_id = ${row.id}`));
  assert.strictEqual(a.actor_id, adminId);
  assert.deepStrictEqual(a.detail, { sub: 'fr-newbie', admin: false, via: 'grant' });
  assert.strictEqual(count(`audit WHERE action = 'grant.create' AND object_id = ${r.json.id}`), 1);

  // Again, on another target: the same user, not a new one.
  r = await grant({ user_sub: 'fr-newbie', node_id: node, level: 'view' });
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(r.json.user_created, false);
  assert.strictEqual(r.json.user_id, row.id);
  // And the same target: the level changes (200).
  r = await grant({ user_sub: 'fr-newbie', node_id: node, level: 'manage' });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.level, 'manage');
  assert.strictEqual(count(`users WHERE sub = 'fr-newbie'`), 1);
  assert.strictEqual(count(`audit WHERE action = 'user.create' AND object_id = ${row.id}`), 1);

  // The list of users shows them as never signed in.
  r = await s.api('GET', '/api/v1/users?q=fr-newbie', { token: admin });
  assert.deepStrictEqual(r.json.items.map((u) => [u.sub, u.last_seen]), [['fr-newbie', null]]);
  // never_signed_in=1 lists only those: fr-newbie, not the signed-in admin.
  r = await s.api('GET', '/api/v1/users?never_signed_in=1&limit=200', { token: admin });
  assert.strictEqual(r.status, 200, r.text);
  const never = r.json.items.map((u) => u.sub);
  assert.ok(never.includes('fr-newbie'), never.join());
  assert.ok(!never.includes('fr-admin'), never.join());
  assert.ok(r.json.items.every((u) => u.last_seen === null));
  r = await s.api('GET', '/api/v1/users?never_signed_in=2', { token: admin });
  assert.strictEqual(r.status, 400);
});

test('bad account names and bad targets are refused and change nothing', async () => {
  const snap = () => [count('users'), count('grants'), count('audit')];
  const before = snap();
  const bad = [
    [{ user_sub: '', task_id: task, level: 'view' }, 'bad_sub'],
    [{ user_sub: ' fr-space', task_id: task, level: 'view' }, 'bad_sub'],
    [{ user_sub: 'fr-space ', task_id: task, level: 'view' }, 'bad_sub'],
    [{ user_sub: 'x'.repeat(256), task_id: task, level: 'view' }, 'bad_request'],
    [{ user_sub: 'fr\u0007bell', task_id: task, level: 'view' }, 'bad_request'],
    [{ user_sub: 'fr\nline', task_id: task, level: 'view' }, 'bad_request'],
    [{ user_sub: 42, task_id: task, level: 'view' }, 'bad_request'],
    [{ user_sub: 'fr-x', user_id: 1, task_id: task, level: 'view' }, 'bad_request'],
    [{ user_sub: 'fr-x', task_id: task, level: 'root' }, 'bad_request'],
    [{ user_sub: 'fr-x', level: 'view' }, 'bad_request'],
  ];
  for (const [body, code] of bad) {
    const r = await grant(body);
    assert.strictEqual(r.status, 400, JSON.stringify(body) + ' ' + r.text);
    assert.strictEqual(r.json.error, code, JSON.stringify(body));
    assert.ok(['user_sub', 'user_id', 'level', 'node_id', 'task_id'].includes(r.json.field), r.text);
    assert.ok(r.json.message, 'a sentence that says what is wrong');
  }
  // A target that does not exist: 404, and the user is not created.
  let r = await grant({ user_sub: 'fr-ghost', task_id: 99999999, level: 'view' });
  assert.strictEqual(r.status, 404, r.text);
  assert.strictEqual(r.json.field, 'task_id');
  assert.deepStrictEqual(snap(), before);
  assert.strictEqual(count(`users WHERE sub = 'fr-ghost'`), 0);
  // Not an admin: 403, nothing written.
  r = await s.api('POST', '/api/v1/grants', { token: s.token('fr-viewer'),
    body: { user_sub: 'fr-ghost', task_id: task, level: 'view' } });
  assert.strictEqual(r.status, 403);
  assert.deepStrictEqual(snap(), before);
  // Creating a user by hand follows the same name rules.
  r = await s.api('POST', '/api/v1/users', { token: admin, body: { sub: ' fr-pad' } });
  assert.strictEqual(r.status, 400);
  assert.deepStrictEqual([r.json.error, r.json.field], ['bad_sub', 'sub']);
  assert.deepStrictEqual(snap(), before);
});

test('the first sign-in of a pre-granted account takes its row and its grants', async () => {
  let r = await grant({ user_sub: 'fr-late', task_id: task, level: 'operate' });
  assert.strictEqual(r.status, 201, r.text);
  const id = r.json.user_id;
  const users = count('users');
  r = await s.api('GET', '/api/v1/me', { token: s.token('fr-late', { name: 'Late Comer', email: 'late@x.test' }) });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.id, id);
  assert.deepStrictEqual(r.json.grants.map((g) => [g.task_id, g.level]), [[task, 'operate']]);
  assert.ok(r.json.modules.includes('logs'), JSON.stringify(r.json.modules));
  assert.strictEqual(count('users'), users);
  const row = JSON.parse(s.sql(`SELECT row_to_json(u) FROM users u WHERE id = ${id}`));
  assert.strictEqual(row.name, 'Late Comer');
  assert.strictEqual(row.email, 'late@x.test');
  assert.notStrictEqual(row.last_seen, null);
  // The task is theirs to operate at once.
  r = await s.api('GET', `/api/v1/tasks/${task}`, { token: s.token('fr-late') });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.level, 'operate');
});

test('the first sign-in takes the pre-created row with provisioning off too', async () => {
  const strict = await s.startAnother({ YARD_AUTO_PROVISION: '0' });
  let r = await grant({ user_sub: 'fr-strict', node_id: node, level: 'view' });
  assert.strictEqual(r.status, 201, r.text);
  const res = await fetch(strict.url + '/api/v1/me', {
    headers: { authorization: 'Bearer ' + s.token('fr-strict', { name: 'Strict' }) } });
  assert.strictEqual(res.status, 200);
  const me = await res.json();
  assert.strictEqual(me.id, r.json.user_id);
  assert.deepStrictEqual(me.modules, ['tasks', 'nodes', 'metrics', 'commands', 'packages',
    'alerts', 'notifications']);
});

test('an admin can neither demote nor disable themselves', async () => {
  const self = Number(s.sql(`SELECT id FROM users WHERE sub = 'fr-admin'`));
  s.sql(`UPDATE users SET admin = true WHERE id = ${self}`);
  const audit = count('audit');
  for (const [body, field] of [[{ admin: false }, 'admin'], [{ disabled: true }, 'disabled'],
    [{ admin: false, disabled: true }, 'admin']]) {
    const r = await s.api('PATCH', `/api/v1/users/${self}`, { token: admin, body });
    assert.strictEqual(r.status, 409, r.text);
    assert.deepStrictEqual([r.json.error, r.json.field], ['self', field]);
  }
  assert.strictEqual(s.sql(`SELECT admin::text || disabled::text FROM users WHERE id = ${self}`), 'truefalse');
  assert.strictEqual(count('audit'), audit);
  // Another admin may.
  const other = s.adminToken('fr-admin2');
  const r = await s.api('PATCH', `/api/v1/users/${self}`, { token: other, body: { admin: false } });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.admin, false);
});
