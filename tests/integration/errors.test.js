// The API's 400 answers list every refused field at once, each with a
// stable code and its parameters (docs/api.md, "Errors"), and keep
// "field" and "message" (the first refusal) for older callers: task
// create and edit, users, grants, alert rules, mutes, the task
// configuration and its preview, and query strings everywhere (uploads'
// metadata: uploads.test.js).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack } = require('../lib/stack.js');

let s, admin, nodeId;
test.before(async () => {
  s = await startStack();
  admin = s.adminToken('errors-admin');
  nodeId = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('e-node', 'e.local') RETURNING id`));
});
test.after(async () => { await s.stop(); });

const byField = (r) => Object.fromEntries(r.json.fields.map((f) => [f.field, f]));
const count = (t) => Number(s.sql(`SELECT count(*) FROM ${t}`));

test('POST /tasks: every bad member at once, with codes and parameters', async () => {
  const before = count('tasks');
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: {
    node_id: nodeId, name: '-bad',
    spec: { kind: 'console', deploy_dir: 'relative', console: {}, stop_grace: 99999,
      restart: { policy: 'sometimes' }, log_files: ['ok', 7] },
  } });
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.error, 'bad_request');
  const f = byField(r);
  assert.deepStrictEqual(Object.keys(f).sort(), ['name', 'spec.console.command', 'spec.deploy_dir',
    'spec.log_files[1]', 'spec.restart.policy', 'spec.stop_grace']);
  assert.deepStrictEqual(f.name, { field: 'name', code: 'pattern', max: 64, pattern: 'task_name' });
  assert.strictEqual(f['spec.deploy_dir'].code, 'not_absolute');
  assert.strictEqual(f['spec.console.command'].code, 'required');
  assert.deepStrictEqual(f['spec.stop_grace'], { field: 'spec.stop_grace', code: 'range', min: 0, max: 3600 });
  assert.deepStrictEqual(f['spec.restart.policy'].allowed, ['never', 'on-failure', 'always']);
  assert.deepStrictEqual(f['spec.log_files[1]'], { field: 'spec.log_files[1]', code: 'type', expected: 'string' });
  // The first refusal stays in field and message.
  assert.strictEqual(r.json.field, 'name');
  assert.match(r.json.message, /name must be 1 to 64/);
  assert.strictEqual(count('tasks'), before);
});

test('POST /tasks without a node: the spec is still checked, as Linux', async () => {
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: {
    name: 'ok', spec: { kind: 'console', deploy_dir: 'rel', console: { command: 'x' } } } });
  assert.strictEqual(r.status, 400, r.text);
  const f = byField(r);
  assert.strictEqual(f.node_id.code, 'required');
  assert.strictEqual(f['spec.deploy_dir'].code, 'not_absolute');
  const n = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: nodeId, name: 'x'.repeat(65) } });
  assert.strictEqual(n.status, 400, n.text);
  assert.deepStrictEqual(n.json.fields, [{ field: 'name', code: 'too_long', max: 64 }, { field: 'spec', code: 'required' }]);
});

test('PUT /tasks/ID: name and spec refusals together; the kind cannot change', async () => {
  const c = await s.api('POST', '/api/v1/tasks', { token: admin, body: {
    node_id: nodeId, name: 'editable', spec: { kind: 'console', deploy_dir: '/opt/e', console: { command: 'x' } } } });
  assert.strictEqual(c.status, 201, c.text);
  const r = await s.api('PUT', `/api/v1/tasks/${c.json.id}`, { token: admin, body: {
    name: '', spec: { kind: 'console', deploy_dir: '/opt/e', console: { command: 'x' }, health: { path: 'no-slash', port: 0 } } } });
  assert.strictEqual(r.status, 400, r.text);
  const f = byField(r);
  assert.strictEqual(f.name.code, 'required');
  assert.deepStrictEqual(f['spec.health.path'], { field: 'spec.health.path', code: 'format', expected: 'url_path' });
  assert.deepStrictEqual(f['spec.health.port'], { field: 'spec.health.port', code: 'range', min: 1, max: 65535 });
  const k = await s.api('PUT', `/api/v1/tasks/${c.json.id}`, { token: admin, body: {
    name: 'editable', spec: { kind: 'jar', deploy_dir: '/opt/e', jar: { jar: 'a.jar' } } } });
  assert.strictEqual(k.status, 400, k.text);
  assert.deepStrictEqual(k.json.fields, [{ field: 'spec.kind', code: 'immutable' }]);
});

test('POST /users and PATCH /users/ID: every bad member at once', async () => {
  const before = count('users');
  const r = await s.api('POST', '/api/v1/users', { token: admin, body: { sub: '', name: 'n'.repeat(300), admin: 'yes' } });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(r.json.fields, [
    { field: 'sub', code: 'required' },
    { field: 'name', code: 'too_long', max: 255 },
    { field: 'admin', code: 'type', expected: 'boolean' },
  ]);
  assert.strictEqual(r.json.field, 'sub');
  assert.strictEqual(count('users'), before);
  const uid = Number(s.sql(`SELECT id FROM users LIMIT 1`));
  const p = await s.api('PATCH', `/api/v1/users/${uid}`, { token: admin, body: { disabled: 1, email: 'a\nb' } });
  assert.strictEqual(p.status, 400, p.text);
  assert.deepStrictEqual(p.json.fields, [
    { field: 'disabled', code: 'type', expected: 'boolean' },
    { field: 'email', code: 'format', expected: 'one_line' },
  ]);
});

test('POST /grants: every bad member at once', async () => {
  const r = await s.api('POST', '/api/v1/grants', { token: admin, body: { node_id: -1, level: 'owner' } });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(r.json.fields, [
    { field: 'user_id', code: 'required' },
    { field: 'node_id', code: 'type', expected: 'id' },
    { field: 'level', code: 'enum', allowed: ['view', 'operate', 'manage'] },
  ]);
  const both = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: 1, node_id: 1, task_id: 1, level: 'view' } });
  assert.strictEqual(both.status, 400, both.text);
  assert.deepStrictEqual(both.json.fields, [{ field: 'task_id', code: 'not_allowed' }]);
});

test('POST /alerts/rules: every bad member at once; field and message stay the first', async () => {
  const r = await s.api('POST', '/api/v1/alerts/rules', { token: admin, body: {
    name: '', kind: 'task_cpu', threshold: 99999, recovery: 70, channels: ['pager'] } });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(r.json.fields, [
    { field: 'name', code: 'required', max: 100 },
    { field: 'threshold', code: 'range', min: 0, max: 25600 },
    { field: 'channels', code: 'enum', allowed: ['inbox', 'email', 'callback'] },
  ]);
  assert.strictEqual(r.json.field, 'name');
  const k = await s.api('POST', '/api/v1/alerts/rules', { token: admin, body: { name: 'x', kind: 'nope', threshold: 1, recovery: 1 } });
  assert.strictEqual(k.status, 400, k.text);
  assert.strictEqual(k.json.fields[0].code, 'enum');
  assert.match(k.json.message, /node_memory/);
});

test('query strings: a bad limit is one refusal with its code', async () => {
  const r = await s.api('GET', '/api/v1/tasks?limit=0', { token: admin });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(r.json.fields, [{ field: 'limit', code: 'range', min: 1, max: 200 }]);
  assert.strictEqual(r.json.field, 'limit');
  assert.match(r.json.message, /limit must be an integer from 1 to 200/);
  const n = await s.api('GET', '/api/v1/grants?user_id=abc', { token: admin });
  assert.strictEqual(n.status, 400, n.text);
  assert.deepStrictEqual(n.json.fields, [{ field: 'user_id', code: 'type', expected: 'integer' }]);
  const t = await s.api('GET', '/api/v1/alerts/events?since=yesterday', { token: admin });
  assert.strictEqual(t.status, 400, t.text);
  assert.deepStrictEqual(t.json.fields, [{ field: 'since', code: 'format', expected: 'time' }]);
  const l = await s.api('GET', `/api/v1/packages?q=${'x'.repeat(201)}`, { token: admin });
  assert.strictEqual(l.status, 400, l.text);
  assert.deepStrictEqual(l.json.fields, [{ field: 'q', code: 'too_long', max: 200 }]);
  const o = await s.api('GET', '/api/v1/packages?order=up', { token: admin });
  assert.strictEqual(o.status, 400, o.text);
  assert.deepStrictEqual(o.json.fields, [{ field: 'order', code: 'enum', allowed: ['oldest', 'newest'] }]);
});

test('GET /enrollments: a bad limit and cursor answer together', async () => {
  const before = count('enrollments');
  const r = await s.api('GET', '/api/v1/enrollments?limit=500&cursor=x', { token: admin });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(r.json.fields, [
    { field: 'limit', code: 'range', min: 1, max: 200 },
    { field: 'cursor', code: 'type', expected: 'integer' },
  ]);
  assert.strictEqual(r.json.field, 'limit');
  assert.strictEqual(count('enrollments'), before);
});

test('POST /mutes: every bad member at once, nothing muted', async () => {
  const before = count('alert_mutes');
  const r = await s.api('POST', '/api/v1/mutes', { token: admin, body: {
    node_id: nodeId, task_id: 'x', until: 'tomorrow', reason: '', why: 1 } });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(r.json.fields, [
    { field: 'why', code: 'unknown' },
    { field: 'task_id', code: 'type', expected: 'id' },
    { field: 'until', code: 'format', expected: 'time' },
    { field: 'reason', code: 'required' },
  ]);
  assert.strictEqual(r.json.field, 'why');
  const late = await s.api('POST', '/api/v1/mutes', { token: admin, body: {
    node_id: nodeId, until: new Date(Date.now() + 91 * 86400e3).toISOString(), reason: 'x' } });
  assert.strictEqual(late.status, 400, late.text);
  assert.deepStrictEqual(late.json.fields, [{ field: 'until', code: 'range', expected: 'next_90_days' }]);
  assert.strictEqual(count('alert_mutes'), before);
});

test('PUT /tasks/ID/config: every bad member at once, no version written', async () => {
  const c = await s.api('POST', '/api/v1/tasks', { token: admin, body: {
    node_id: nodeId, name: 'configured', spec: { kind: 'console', deploy_dir: '/opt/c', console: { command: 'x' } } } });
  assert.strictEqual(c.status, 201, c.text);
  const before = count('task_configs');
  const r = await s.api('PUT', `/api/v1/tasks/${c.json.id}/config`, { token: admin, body: {
    values: [{ key: '', value: 'x' }, { key: 'ok', value: 7 }],
    apollo: { app_id: 'a b', cluster: 'default', namespaces: [] },
    mappings: [{ key: 'ok', file: '/etc/x.xml', format: 'yaml', nodepath: 'a' }],
    files: [{ path: 'f', content_base64: 'not base64!' }],
    env: 'yes', comment: 'c'.repeat(501),
  } });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(r.json.fields, [
    { field: 'values[0].key', code: 'required' },
    { field: 'values[1].value', code: 'type', expected: 'string' },
    { field: 'apollo.app_id', code: 'pattern', max: 100, pattern: 'apollo_name' },
    { field: 'apollo.namespaces', code: 'required' },
    { field: 'mappings[0].file', code: 'not_relative' },
    { field: 'mappings[0].format', code: 'enum', allowed: ['xml', 'json', 'properties'] },
    { field: 'files[0].content_base64', code: 'format', expected: 'base64' },
    { field: 'env', code: 'type', expected: 'boolean' },
    { field: 'comment', code: 'too_long', max: 500 },
  ]);
  // The first refusal stays in field and message.
  assert.strictEqual(r.json.field, 'values[0].key');
  assert.match(r.json.message, /values\[0\]\.key must be a string of 1 to/);
  assert.strictEqual(count('task_configs'), before);
});

test('POST /config/preview: every bad member at once', async () => {
  const r = await s.api('POST', '/api/v1/config/preview', { token: admin, body: {
    content_base64: 'not base64', format: 'yaml', nodepath: 7, value: 'x' } });
  assert.strictEqual(r.status, 400, r.text);
  assert.deepStrictEqual(r.json.fields, [
    { field: 'format', code: 'enum', allowed: ['xml', 'json', 'properties'] },
    { field: 'nodepath', code: 'type', expected: 'string' },
    { field: 'content_base64', code: 'format', expected: 'base64' },
  ]);
  assert.strictEqual(r.json.field, 'format');
});
