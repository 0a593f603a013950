// Stored packages against the real server: the list and a package for
// whoever may view the target, and the agents' download with Range, only
// while a command of the node that is not finished names the package
// (docs/api.md, "Packages").
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startStack } = require('../lib/stack.js');
const { zip } = require('../lib/zip.js');

let s, admin, ids, node, other, sum, body, pkgId;
test.before(async () => {
  s = await startStack();
  admin = s.adminToken('pk-admin');
  node = await enroll('pk-node');
  other = await enroll('pk-other');
  s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${node.id}, 'pk-web', 'tomcat'), (${other.id}, 'pk-job', 'console')`);
  ids = {
    task: Number(s.sql(`SELECT id FROM tasks WHERE name = 'pk-web'`)),
    otherTask: Number(s.sql(`SELECT id FROM tasks WHERE name = 'pk-job'`)),
  };
  // A package as the upload path stores it: file by hash, one row.
  body = zip([{ name: 'index.html', data: crypto.randomBytes(200000) }]);
  sum = crypto.createHash('sha256').update(body).digest('hex');
  const dir = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', sum.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, sum), body);
  pkgId = Number(s.sql(`INSERT INTO packages (sha256, name, version, task_id, size, entries, manifest)
    VALUES ('${sum}', 'portal', '2.1', ${ids.task}, ${body.length}, 1,
    '[{"path":"index.html","size":200000,"sha256":"00"}]') RETURNING id`).split('\n')[0]);
  s.sql(`INSERT INTO packages (sha256, name, task_id, size, entries, manifest)
    VALUES ('${'b'.repeat(64)}', 'billing', ${ids.otherTask}, 10, 0, '[]')`);
});
test.after(async () => { await s.stop(); });

async function enroll(host) {
  const e = await s.api('POST', '/api/v1/enrollments', { token: s.adminToken('pk-enroller') });
  const r = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: {
      hostname: host, os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0', arch: 'x86_64',
      cpus: 2, mem_total: 8e9, boot_id: 'b0a7c0de-0000-4000-8000-000000000001', uptime: 100,
      agent_version: '0.1.0', disks: [{ path: '/', total: 1e11, free: 5e10 }],
    } }),
  });
  const text = await r.text();
  assert.strictEqual(r.status, 201, text);
  const j = JSON.parse(text);
  return { id: j.node_id, auth: `YardNode ${j.node_id}:${j.secret}` };
}

async function userWith(sub, grant) {
  await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  if (grant) {
    const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, grant) });
    assert.strictEqual(r.status, 201, r.text);
  }
  return s.token(sub);
}

const fetchPkg = (n, sha, headers = {}) => fetch(`${s.yard.url}/agent/v1/packages/${sha}`, { headers: Object.assign({ authorization: n.auth }, headers) });

test('the list and a package follow the target: view sees, others do not', async () => {
  const all = await s.api('GET', '/api/v1/packages', { token: admin });
  assert.strictEqual(all.status, 200, all.text);
  assert.deepStrictEqual(all.json.items.map((p) => p.name).sort(), ['billing', 'portal']);
  const viewer = await userWith('pk-viewer', { task_id: ids.task, level: 'view' });
  const mine = await s.api('GET', '/api/v1/packages', { token: viewer });
  assert.deepStrictEqual(mine.json.items.map((p) => p.name), ['portal']);
  assert.strictEqual(mine.json.items[0].sha256, sum);
  assert.deepStrictEqual(mine.json.items[0].target, { task_id: ids.task });
  const one = await s.api('GET', `/api/v1/packages/${pkgId}`, { token: viewer });
  assert.strictEqual(one.status, 200);
  assert.strictEqual(one.json.manifest[0].path, 'index.html');
  const billing = Number(s.sql(`SELECT id FROM packages WHERE name = 'billing'`));
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${billing}`, { token: viewer })).status, 404);
  const stranger = await userWith('pk-stranger');
  assert.deepStrictEqual((await s.api('GET', '/api/v1/packages', { token: stranger })).json.items, []);
  // Search by name, paging.
  assert.deepStrictEqual((await s.api('GET', '/api/v1/packages?q=BILL', { token: admin })).json.items.map((p) => p.name), ['billing']);
  const p1 = await s.api('GET', '/api/v1/packages?limit=1', { token: admin });
  assert.strictEqual(p1.json.items.length, 1);
  assert.ok(p1.json.next);
  const p2 = await s.api('GET', `/api/v1/packages?limit=1&cursor=${p1.json.next}`, { token: admin });
  assert.notStrictEqual(p2.json.items[0].id, p1.json.items[0].id);
  assert.strictEqual((await s.api('GET', '/api/v1/packages?limit=0', { token: admin })).status, 400);
});

test('agents fetch a package only while a command of their node names it', async () => {
  // No command: refused.
  assert.strictEqual((await fetchPkg(node, sum)).status, 404);
  const cmd = s.sql(`INSERT INTO commands (type, node_id, payload, deadline) VALUES ('deploy', ${node.id},
    '{"package_sha256":"${sum}"}', now() + interval '1 hour') RETURNING id`).split('\n')[0];
  const r = await fetchPkg(node, sum);
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.headers.get('accept-ranges'), 'bytes');
  assert.deepStrictEqual(Buffer.from(await r.arrayBuffer()), body);
  // A range, an open range, a suffix, and one past the end.
  const a = await fetchPkg(node, sum, { range: 'bytes=100-199' });
  assert.strictEqual(a.status, 206);
  assert.strictEqual(a.headers.get('content-range'), `bytes 100-199/${body.length}`);
  assert.deepStrictEqual(Buffer.from(await a.arrayBuffer()), body.subarray(100, 200));
  const b = await fetchPkg(node, sum, { range: `bytes=${body.length - 10}-` });
  assert.strictEqual(b.status, 206);
  assert.deepStrictEqual(Buffer.from(await b.arrayBuffer()), body.subarray(body.length - 10));
  const c = await fetchPkg(node, sum, { range: 'bytes=-5' });
  assert.deepStrictEqual(Buffer.from(await c.arrayBuffer()), body.subarray(body.length - 5));
  const d = await fetchPkg(node, sum, { range: `bytes=${body.length}-` });
  assert.strictEqual(d.status, 416);
  assert.strictEqual(d.headers.get('content-range'), `bytes */${body.length}`);
  // The whole file again after ranges: not cut by them.
  assert.deepStrictEqual(Buffer.from(await (await fetchPkg(node, sum)).arrayBuffer()), body);
  // Another node, no credential, an unknown hash: refused.
  assert.strictEqual((await fetchPkg(other, sum)).status, 404);
  assert.strictEqual((await fetch(`${s.yard.url}/agent/v1/packages/${sum}`)).status, 401);
  assert.strictEqual((await fetchPkg(node, 'c'.repeat(64))).status, 404);
  // The command finished: refused again.
  s.sql(`UPDATE commands SET state = 'succeeded', finished_at = now() WHERE id = '${cmd}'`);
  assert.strictEqual((await fetchPkg(node, sum)).status, 404);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.yard.deaths(), []);
});
