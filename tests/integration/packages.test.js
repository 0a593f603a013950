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
  // Newest first, paged downwards.
  const n1 = await s.api('GET', '/api/v1/packages?order=newest&limit=1', { token: admin });
  assert.strictEqual(n1.json.items[0].name, 'billing');
  const n2 = await s.api('GET', `/api/v1/packages?order=newest&limit=1&cursor=${n1.json.next}`, { token: admin });
  assert.deepStrictEqual(n2.json.items.map((p) => p.name), ['portal']);
  assert.strictEqual(n2.json.next, null);
  assert.strictEqual((await s.api('GET', '/api/v1/packages?order=up', { token: admin })).status, 400);
});

test('agents fetch a package only while a command of their node names it', async () => {
  // No command: refused.
  assert.strictEqual((await fetchPkg(node, sum)).status, 404);
  const cmd = s.sql(`INSERT INTO commands (type, node_id, payload, deadline) VALUES ('deploy', ${node.id},
    '{"package":{"sha256":"${sum}"}}', now() + interval '1 hour') RETURNING id`).split('\n')[0];
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

// Inserts a package of the task with the given manifest; returns its id.
// extra: more entries as an SQL jsonb expression (a long manifest does not
// fit in psql's argv).
function pkgRow(name, task, manifest, extra = "'[]'::jsonb", extraCount = 0) {
  const sha = crypto.createHash('sha256').update(name + JSON.stringify(manifest)).digest('hex');
  const m = JSON.stringify(manifest).replace(/'/g, "''");
  return Number(s.sql(`INSERT INTO packages (sha256, name, task_id, size, entries, manifest)
    VALUES ('${sha}', '${name}', ${task}, 1, ${manifest.length + extraCount}, ${extra} || '${m}'::jsonb)
    RETURNING id`).split('\n')[0]);
}

const f = (p, size, sha) => ({ path: p, size, sha256: sha.repeat(64).slice(0, 64) });

test('the manifest by directory, paged; the detail leaves a large one out', async () => {
  const id = pkgRow('big', ids.task,
    [f('WEB-INF/web.xml', 7, 'b'), f('WEB-INF/classes/A.class', 5, 'c'), f('index.html', 3, 'd')],
    `(SELECT jsonb_agg(jsonb_build_object('path', 'lib/x' || lpad(i::text, 4, '0') || '.jar',
      'size', 10, 'sha256', repeat('a', 64)) ORDER BY i) FROM generate_series(0, 1499) i)`, 1500);
  const viewer = await userWith('pk-viewer2', { task_id: ids.task, level: 'view' });
  const top = await s.api('GET', `/api/v1/packages/${id}/manifest`, { token: viewer });
  assert.strictEqual(top.status, 200, top.text);
  assert.deepStrictEqual(top.json.items, [
    { name: 'WEB-INF', dir: true, files: 2, size: 12 },
    { name: 'lib', dir: true, files: 1500, size: 15000 },
    { name: 'index.html', dir: false, size: 3, sha256: 'd'.repeat(64) },
  ]);
  assert.strictEqual(top.json.next, null);
  assert.strictEqual(top.json.dirs, 2);
  assert.strictEqual(top.json.files, 1);
  const web = await s.api('GET', `/api/v1/packages/${id}/manifest?path=WEB-INF`, { token: viewer });
  assert.deepStrictEqual(web.json.items.map((e) => [e.name, e.dir]), [['classes', true], ['web.xml', false]]);
  // Paging a directory of 1,500 files.
  let names = [], cursor = '', pages = 0;
  do {
    const r = await s.api('GET', `/api/v1/packages/${id}/manifest?path=lib/&limit=400&cursor=${encodeURIComponent(cursor)}`, { token: viewer });
    assert.strictEqual(r.status, 200, r.text);
    names = names.concat(r.json.items.map((e) => e.name));
    cursor = r.json.next;
    pages++;
  } while (cursor);
  assert.strictEqual(pages, 4);
  assert.strictEqual(names.length, 1500);
  assert.strictEqual(new Set(names).size, 1500);
  assert.strictEqual(names[0], 'x0000.jar');
  // A name with a quote and CJK, and a cursor past it.
  const odd = pkgRow('odd', ids.task, [f('文档/"a".txt', 1, 'e'), f('文档/b.txt', 1, 'e')]);
  const o = await s.api('GET', `/api/v1/packages/${odd}/manifest?path=${encodeURIComponent('文档')}&limit=1`, { token: viewer });
  assert.deepStrictEqual(o.json.items.map((e) => e.name), ['"a".txt']);
  const o2 = await s.api('GET', `/api/v1/packages/${odd}/manifest?path=${encodeURIComponent('文档')}&limit=1&cursor=${encodeURIComponent(o.json.next)}`, { token: viewer });
  assert.deepStrictEqual(o2.json.items.map((e) => e.name), ['b.txt']);
  assert.strictEqual(o2.json.next, null);
  // The detail: more than 1,000 entries leave the manifest out.
  const d = await s.api('GET', `/api/v1/packages/${id}`, { token: viewer });
  assert.strictEqual(d.json.manifest, null);
  assert.strictEqual(d.json.manifest_omitted, true);
  assert.strictEqual(d.json.task_name, 'pk-web');
  assert.strictEqual(d.json.node_name, 'pk-node');
  assert.strictEqual(d.json.level, 'view');
  // Not visible: 404; bad input: 400.
  const stranger = await userWith('pk-stranger2');
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${id}/manifest`, { token: stranger })).status, 404);
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${id}/manifest?limit=5000`, { token: viewer })).status, 400);
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${id}/nope`, { token: viewer })).status, 404);
});

test('the diff against the previous package of the task, or another', async () => {
  const t2 = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${node.id}, 'pk-diff', 'console') RETURNING id`).split('\n')[0]);
  const v1 = pkgRow('d1', t2, [f('a.txt', 1, '1'), f('b.txt', 2, '2'), f('c/d.txt', 3, '3'), f('gone.txt', 4, '4')]);
  pkgRow('other-task', ids.task, [f('zzz', 1, '9')]);
  const v2 = pkgRow('d2', t2, [f('a.txt', 1, '1'), f('b.txt', 2, '5'), f('c/d.txt', 30, '3'), f('new.txt', 6, '6'), f('c/e.txt', 7, '7')]);
  const impl = await userWith('pk-impl', { task_id: t2, level: 'manage' });
  const d = await s.api('GET', `/api/v1/packages/${v2}/diff`, { token: impl });
  assert.strictEqual(d.status, 200, d.text);
  assert.strictEqual(d.json.against.id, v1);
  assert.strictEqual(d.json.basis, 'previous');
  assert.deepStrictEqual(d.json.counts, { added: 2, changed: 2, removed: 1, unchanged: 1 });
  assert.deepStrictEqual(d.json.items, [
    { path: 'b.txt', change: 'changed', size: 2, old_size: 2, sha256: '5'.repeat(64), old_sha256: '2'.repeat(64) },
    { path: 'c/d.txt', change: 'changed', size: 30, old_size: 3, sha256: '3'.repeat(64), old_sha256: '3'.repeat(64) },
    { path: 'c/e.txt', change: 'added', size: 7, sha256: '7'.repeat(64) },
    { path: 'gone.txt', change: 'removed', old_size: 4, old_sha256: '4'.repeat(64) },
    { path: 'new.txt', change: 'added', size: 6, sha256: '6'.repeat(64) },
  ]);
  assert.strictEqual(d.json.next, null);
  // Paged.
  const p1 = await s.api('GET', `/api/v1/packages/${v2}/diff?limit=2`, { token: impl });
  assert.deepStrictEqual(p1.json.items.map((i) => i.path), ['b.txt', 'c/d.txt']);
  const p2 = await s.api('GET', `/api/v1/packages/${v2}/diff?limit=2&cursor=${encodeURIComponent(p1.json.next)}`, { token: impl });
  assert.deepStrictEqual(p2.json.items.map((i) => i.path), ['c/e.txt', 'gone.txt']);
  // The first package has no previous one.
  const first = await s.api('GET', `/api/v1/packages/${v1}/diff`, { token: impl });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.json.against, null);
  assert.deepStrictEqual(first.json.items, []);
  assert.strictEqual(first.json.counts, null);
  // Explicitly against another (visible) package: the reverse.
  const rev = await s.api('GET', `/api/v1/packages/${v1}/diff?against=${v2}`, { token: impl });
  assert.strictEqual(rev.json.basis, 'explicit');
  assert.deepStrictEqual(rev.json.counts, { added: 1, changed: 2, removed: 2, unchanged: 1 });
  // Against a package the caller may not see (another task): 404.
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${v2}/diff?against=${pkgId}`, { token: impl })).status, 404);
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${v2}/diff?against=${pkgId}`, { token: admin })).status, 200);
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${v2}/diff`, { token: await userWith('pk-stranger3') })).status, 404);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.yard.deaths(), []);
});
