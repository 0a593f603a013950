// Every JSON answer of the API carries the same security headers
// (docs/api.md): the command replies (POST /api/v1/commands for a node
// and for a task) once bypassed the shared reply and sent only
// content-type and cache-control.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack } = require('../lib/stack.js');

let s, admin, node, task;

const SECURITY = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

function assertSecure(r, what) {
  for (const [name, value] of Object.entries(SECURITY))
    assert.strictEqual(r.headers.get(name), value, `${what}: ${name}`);
}

test.before(async () => {
  s = await startStack();
  admin = s.adminToken('hd-admin');
  node = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('hd-n1', 'hd1.local') RETURNING id`));
  const r = await s.api('POST', '/api/v1/tasks', {
    token: admin,
    body: { node_id: node, name: 'hd', spec: { kind: 'console', deploy_dir: '/srv/yard/hd', console: { command: '/bin/true' } } },
  });
  assert.strictEqual(r.status, 201, r.text);
  task = r.json.id;
});
test.after(async () => { await s.stop(); });

test('a node command\'s 201 carries the security headers and the command', async () => {
  const r = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'ping', node_id: node } });
  assert.strictEqual(r.status, 201, r.text);
  assertSecure(r, 'ping');
  assert.strictEqual(r.json.type, 'ping');
  assert.strictEqual(r.json.node_id, node);
  const g = await s.api('GET', `/api/v1/commands/${r.json.id}`, { token: admin });
  assert.strictEqual(g.status, 200, g.text);
  assertSecure(g, 'command detail');
  assert.strictEqual(g.json.id, r.json.id);
});

test('a task command\'s 201 carries the security headers and the command', async () => {
  const r = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'start', task_id: task } });
  assert.strictEqual(r.status, 201, r.text);
  assertSecure(r, 'start');
  assert.strictEqual(r.json.type, 'start');
  assert.strictEqual(r.json.task_id, task);
  // A second one while the first is pending: the 409 is shared too.
  const busy = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'stop', task_id: task } });
  assert.strictEqual(busy.status, 409, busy.text);
  assertSecure(busy, 'command_in_progress');
});

test('a command id that is not a UUID is a 404 with the same headers', async () => {
  for (const id of ['nope', '00000000-0000-4000-8000-00000000000g', '00000000-0000-4000-8000-0000000000000']) {
    const r = await s.api('GET', `/api/v1/commands/${id}`, { token: admin });
    assert.strictEqual(r.status, 404, id);
    assertSecure(r, id);
  }
  const up = await s.api('GET', '/api/v1/commands/ABCDEF00-0000-4000-8000-000000000000', { token: admin });
  assert.strictEqual(up.status, 404, 'an unknown upper-case UUID is looked up, not refused');
  assert.strictEqual(up.json.error, 'not_found');
});

test('/ui/<module>/<id> serves the module\'s page; other shapes are the missing page', async () => {
  for (const [p, module] of [['/ui/tasks/' + task, 'tasks'], ['/ui/nodes/' + node, 'nodes'], ['/ui/packages/7', 'packages']]) {
    const r = await fetch(s.yard.url + p);
    assert.strictEqual(r.status, 200, p);
    const html = await r.text();
    const m = /<meta name="yard-config" content="([^"]*)"/.exec(html);
    assert.ok(m, p);
    assert.strictEqual(JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')).module, module, p);
  }
  for (const p of ['/ui/nope/1', '/ui/static/1', '/ui/tasks/x1', '/ui/tasks/1/2']) {
    const r = await fetch(s.yard.url + p);
    assert.strictEqual(r.status, 404, p);
  }
});
