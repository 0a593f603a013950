// Resumable uploads (tus 1.0) against the real server: chunks, resume
// after a chunk cut mid-way, offsets, checksums, who may upload, expiry,
// deduplication and the check's verdict (docs/api.md, "Uploads").
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const { zip } = require('../lib/zip.js');

let s, admin, svc, ids;
const EXPIRE = 4;
test.before(async () => {
  s = await startStack({ env: { YARD_UPLOAD_EXPIRE: String(EXPIRE), YARD_UPLOAD_CHUNK_MAX: String(8 << 20) } });
  admin = s.adminToken('up-admin');
  svc = s.token('ews-backend', { scope: 'packages:upload' });
  s.sql(`INSERT INTO nodes (name, hostname) VALUES ('up-node', 'up.local')`);
  s.sql(`INSERT INTO tasks (node_id, name, kind) SELECT id, 'up-web', 'tomcat' FROM nodes WHERE name = 'up-node'`);
  ids = {
    node: Number(s.sql(`SELECT id FROM nodes WHERE name = 'up-node'`)),
    task: Number(s.sql(`SELECT id FROM tasks WHERE name = 'up-web'`)),
  };
});
test.after(async () => { await s.stop(); });

const b64 = (v) => Buffer.from(String(v)).toString('base64');
const meta = (m) => Object.entries(m).map(([k, v]) => `${k} ${b64(v)}`).join(',');
const sha = (buf, alg = 'sha256') => crypto.createHash(alg).update(buf).digest('base64');
const hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

async function userWith(sub, grant) {
  await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  if (grant) {
    const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, grant) });
    assert.strictEqual(r.status, 201, r.text);
  }
  return s.token(sub);
}

async function create(token, length, m = {}) {
  return fetch(s.yard.url + '/api/v1/uploads', {
    method: 'POST',
    headers: {
      authorization: 'Bearer ' + token, 'tus-resumable': '1.0.0', 'upload-length': String(length),
      'upload-metadata': meta(Object.assign({ name: 'app', version: '1.0', filename: 'app.zip', task_id: ids.task }, m)),
    },
  });
}

function patch(token, loc, offset, body, extra = {}) {
  return fetch(loc, {
    method: 'PATCH',
    headers: Object.assign({
      authorization: 'Bearer ' + token, 'tus-resumable': '1.0.0',
      'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset),
    }, extra),
    body,
  });
}

const head = (token, loc) => fetch(loc, { method: 'HEAD', headers: { authorization: 'Bearer ' + token, 'tus-resumable': '1.0.0' } });
const fileOf = (loc) => path.join(s.env.YARD_PACKAGE_DIR, 'uploads', loc.split('/').pop());

async function verdict(token, loc) {
  let j;
  await waitFor(async () => {
    const r = await fetch(loc, { headers: { authorization: 'Bearer ' + token } });
    j = await r.json();
    return j.state !== 'checking';
  }, 20000, 'the check');
  return j;
}

// Upload buf in chunks of n bytes, each with its checksum.
async function upload(token, buf, n, m = {}) {
  const c = await create(token, buf.length, m);
  assert.strictEqual(c.status, 201, await c.text());
  const loc = c.headers.get('location');
  for (let off = 0; off < buf.length; off += n) {
    const part = buf.subarray(off, Math.min(off + n, buf.length));
    const r = await patch(token, loc, off, part, { 'upload-checksum': 'sha256 ' + sha(part) });
    assert.strictEqual(r.status, 204, await r.text());
    assert.strictEqual(r.headers.get('upload-offset'), String(off + part.length));
  }
  return loc;
}

const pkg = (tag) => zip([{ name: 'WEB-INF/web.xml', data: '<web-app/>' + tag }, { name: 'index.jsp', data: 'hello ' + tag, deflate: true }]);

test('OPTIONS tells the protocol without a token', async () => {
  const r = await fetch(s.yard.url + '/api/v1/uploads', { method: 'OPTIONS' });
  assert.strictEqual(r.status, 204);
  assert.strictEqual(r.headers.get('tus-version'), '1.0.0');
  assert.match(r.headers.get('tus-extension'), /creation/);
  assert.match(r.headers.get('tus-extension'), /termination/);
  assert.match(r.headers.get('tus-extension'), /expiration/);
  assert.match(r.headers.get('tus-checksum-algorithm'), /sha256/);
  assert.strictEqual(r.headers.get('tus-max-size'), String(1 << 30));
});

test('three chunks, then the package is checked, stored and listed', async () => {
  const buf = pkg('three');
  const n = Math.ceil(buf.length / 3);
  const loc = await upload(svc, buf, n, { notes: '第一版' });
  const v = await verdict(svc, loc);
  assert.strictEqual(v.state, 'accepted', JSON.stringify(v));
  assert.ok(v.package_id > 0);
  const h = await head(svc, loc);
  assert.strictEqual(h.headers.get('yard-package-id'), String(v.package_id));
  assert.strictEqual(h.headers.get('cache-control'), 'no-store');
  const sum = hex(buf);
  const stored = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', sum.slice(0, 2), sum);
  assert.deepStrictEqual(fs.readFileSync(stored), buf);
  assert.ok(!fs.existsSync(fileOf(loc)), 'the upload file was moved');
  assert.strictEqual(s.sql(`SELECT sha256 || ' ' || entries || ' ' || notes FROM packages WHERE id = ${v.package_id}`), `${sum} 2 第一版`);
  const p = await s.api('GET', `/api/v1/packages/${v.package_id}`, { token: admin });
  assert.strictEqual(p.status, 200, p.text);
  assert.strictEqual(p.json.sha256, sum);
  assert.deepStrictEqual(p.json.manifest.map((e) => e.path).sort(), ['WEB-INF/web.xml', 'index.jsp']);
});

test('a chunk cut mid-way: HEAD tells the offset, the upload resumes', async () => {
  const buf = crypto.randomBytes(3 << 20);
  const data = zip([{ name: 'big.bin', data: buf }]);
  const c = await create(svc, data.length);
  const loc = c.headers.get('location');
  const first = data.subarray(0, 1 << 20);
  assert.strictEqual((await patch(svc, loc, 0, first)).status, 204);
  // The second chunk: headers and half the body, then the socket dies.
  const u = new URL(loc);
  await new Promise((resolve) => {
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(`PATCH ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${svc}\r\n` +
        `Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: ${1 << 20}\r\n` +
        `Content-Length: ${2 << 20}\r\n\r\n`);
      sock.write(data.subarray(1 << 20, (1 << 20) + (1 << 19)), () => setTimeout(() => { sock.destroy(); resolve(); }, 100));
    });
    sock.on('error', () => resolve());
  });
  const h = await head(svc, loc);
  assert.strictEqual(h.status, 200);
  assert.strictEqual(h.headers.get('upload-offset'), String(1 << 20));
  assert.strictEqual(h.headers.get('upload-length'), String(data.length));
  assert.ok(h.headers.get('upload-expires'));
  const rest = data.subarray(1 << 20);
  const r = await patch(svc, loc, 1 << 20, rest, { 'upload-checksum': 'sha256 ' + sha(rest) });
  assert.strictEqual(r.status, 204, await r.text());
  const v = await verdict(svc, loc);
  assert.strictEqual(v.state, 'accepted', JSON.stringify(v));
  assert.strictEqual(s.sql(`SELECT sha256 FROM packages WHERE id = ${v.package_id}`), hex(data));
});

test('bad Upload-Metadata: every refused key at once, nothing held', async () => {
  const before = Number(s.sql('SELECT count(*) FROM uploads'));
  const r = await fetch(s.yard.url + '/api/v1/uploads', {
    method: 'POST',
    headers: {
      authorization: 'Bearer ' + svc, 'tus-resumable': '1.0.0', 'upload-length': '100',
      'upload-metadata': `version ${b64('v'.repeat(101))},task_id ${b64('abc')},notes !!`,
    },
  });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.headers.get('tus-resumable'), '1.0.0');
  const j = await r.json();
  assert.strictEqual(j.error, 'bad_metadata');
  assert.deepStrictEqual(j.fields, [
    { field: 'version', code: 'too_long', max: 100 },
    { field: 'task_id', code: 'type', expected: 'id' },
    { field: 'notes', code: 'format', expected: 'base64' },
    { field: 'name', code: 'required' },
  ]);
  // The first refusal stays in field and message.
  assert.strictEqual(j.field, 'version');
  assert.match(j.message, /version/);
  const both = await create(svc, 100, { node_id: ids.node });
  assert.strictEqual(both.status, 400);
  assert.deepStrictEqual((await both.json()).fields, [{ field: 'task_id', code: 'not_allowed' }]);
  assert.strictEqual(Number(s.sql('SELECT count(*) FROM uploads')), before);
});

test('a wrong offset is 409; a wrong checksum is 460 and appends nothing', async () => {
  const data = pkg('offsets');
  const loc = (await create(svc, data.length)).headers.get('location');
  const part = data.subarray(0, 10);
  assert.strictEqual((await patch(svc, loc, 0, part)).status, 204);
  const bad = await patch(svc, loc, 5, data.subarray(5, 20));
  assert.strictEqual(bad.status, 409);
  assert.strictEqual(bad.headers.get('upload-offset'), '10');
  const rest = data.subarray(10);
  const wrong = await patch(svc, loc, 10, rest, { 'upload-checksum': 'sha256 ' + sha(Buffer.from('other')) });
  assert.strictEqual(wrong.status, 460);
  assert.strictEqual((await head(svc, loc)).headers.get('upload-offset'), '10');
  assert.strictEqual(fs.statSync(fileOf(loc)).size, 10);
  const unknown = await patch(svc, loc, 10, rest, { 'upload-checksum': 'md5 ' + sha(rest) });
  assert.strictEqual(unknown.status, 400);
  // sha1 is accepted too (tus requires it).
  const ok = await patch(svc, loc, 10, rest, { 'upload-checksum': 'sha1 ' + sha(rest, 'sha1') });
  assert.strictEqual(ok.status, 204);
  assert.strictEqual((await verdict(svc, loc)).state, 'accepted');
  // Bigger than the chunk limit: 413 before anything is held.
  const loc2 = (await create(svc, 9 << 20)).headers.get('location');
  const big = await patch(svc, loc2, 0, Buffer.alloc((8 << 20) + 1));
  assert.strictEqual(big.status, 413);
  // Bad protocol requests.
  const r = await fetch(s.yard.url + '/api/v1/uploads', { method: 'POST', headers: { authorization: 'Bearer ' + svc, 'upload-length': '10' } });
  assert.strictEqual(r.status, 412);
  assert.strictEqual((await create(svc, (1 << 30) + 1)).status, 413);
  const ct = await patch(svc, loc2, 0, Buffer.alloc(1), { 'content-type': 'application/octet-stream' });
  assert.strictEqual(ct.status, 415);
});

test('who may upload: the scope, manage; a viewer 403, a stranger 404', async () => {
  const data = pkg('who');
  // A token without the scope and without grants: the task is not visible.
  const stranger = await userWith('up-stranger');
  assert.strictEqual((await create(stranger, data.length)).status, 404);
  // A token with another scope is no service token.
  const other = s.token('ews-other', { scope: 'packages:read' });
  assert.strictEqual((await create(other, data.length)).status, 404);
  const viewer = await userWith('up-viewer', { task_id: ids.task, level: 'view' });
  assert.strictEqual((await create(viewer, data.length)).status, 403);
  const operator = await userWith('up-operator', { node_id: ids.node, level: 'operate' });
  assert.strictEqual((await create(operator, data.length)).status, 403);
  const manager = await userWith('up-manager', { node_id: ids.node, level: 'manage' });
  const loc = await upload(manager, data, 1000);
  assert.strictEqual((await verdict(manager, loc)).state, 'accepted');
  // Without a target only admins (and service tokens) upload.
  assert.strictEqual((await create(manager, data.length, { task_id: '' })).status, 400);
  const none = await fetch(s.yard.url + '/api/v1/uploads', {
    method: 'POST', headers: { authorization: 'Bearer ' + manager, 'tus-resumable': '1.0.0', 'upload-length': '100', 'upload-metadata': meta({ name: 'x' }) },
  });
  assert.strictEqual(none.status, 403);
  // Someone else's upload is not found, even for a service token.
  const loc2 = (await create(svc, data.length)).headers.get('location');
  assert.strictEqual((await head(manager, loc2)).status, 404);
  assert.strictEqual((await patch(s.token('ews-backend-2', { scope: 'packages:upload' }), loc2, 0, data)).status, 404);
  // No token: 401.
  assert.strictEqual((await fetch(loc2, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } })).status, 401);
  // A manager who lost the grant may not go on.
  const loc3 = (await create(manager, data.length)).headers.get('location');
  s.sql(`DELETE FROM grants WHERE user_id = (SELECT id FROM users WHERE sub = 'up-manager')`);
  await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: 1, node_id: ids.node, level: 'view' } });
  await sleep(200);
  assert.strictEqual((await patch(manager, loc3, 0, data)).status, 403);
});

test('termination removes the upload and its file', async () => {
  const data = pkg('term');
  const loc = (await create(svc, data.length)).headers.get('location');
  assert.strictEqual((await patch(svc, loc, 0, data.subarray(0, 5))).status, 204);
  assert.ok(fs.existsSync(fileOf(loc)));
  const d = await fetch(loc, { method: 'DELETE', headers: { authorization: 'Bearer ' + svc, 'tus-resumable': '1.0.0' } });
  assert.strictEqual(d.status, 204);
  assert.ok(!fs.existsSync(fileOf(loc)));
  assert.strictEqual((await head(svc, loc)).status, 404);
});

test('identical uploads are one package', async () => {
  const data = pkg('dedupe');
  const a = await verdict(svc, await upload(svc, data, 100));
  const b = await verdict(svc, await upload(svc, data, 1 << 20, { name: 'again' }));
  assert.strictEqual(a.state, 'accepted');
  assert.strictEqual(b.state, 'accepted');
  assert.strictEqual(a.package_id, b.package_id);
  assert.strictEqual(s.sql(`SELECT count(*) FROM packages WHERE sha256 = '${hex(data)}'`), '1');
  const dir = path.join(s.env.YARD_PACKAGE_DIR, 'uploads');
  assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.length === 36 &&
    s.sql(`SELECT count(*) FROM uploads WHERE id = '${f}' AND state = 'accepted'`) === '1'), []);
});

test('hostile packages are rejected with the rule and the entry, leaving nothing', async () => {
  const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4, 0x2f, 0xcb, 0xb5, 0xc3, 0xf7, 0x2e, 0x74, 0x78, 0x74]);
  const cases = [
    [zip([{ name: '../evil.jsp', data: 'x' }]), 'path_traversal', '../evil.jsp'],
    [zip([{ name: '/etc/cron.d/x', data: 'x' }]), 'path_absolute', '/etc/cron.d/x'],
    [zip([{ name: 'C:/x.txt', data: 'x' }]), 'path_drive', 'C:/x.txt'],
    [zip([{ name: 'link', data: '/etc/passwd', mode: 0o120777 }]), 'link_entry', 'link'],
    [zip([{ name: 'a.txt', data: '1' }, { name: 'A.TXT', data: '2' }]), 'case_duplicate', 'A.TXT'],
    [zip([{ name: 'bomb.bin', data: Buffer.alloc(4 << 20), deflate: true }]), 'ratio_exceeded', 'bomb.bin'],
    [Buffer.from('not a zip at all, just text'), 'not_an_archive', null],
  ];
  const before = s.sql('SELECT count(*) FROM packages');
  for (const [data, reason, entry] of cases) {
    const loc = await upload(svc, data, 1 << 20);
    const v = await verdict(svc, loc);
    assert.strictEqual(v.state, 'rejected', `${reason}: ${JSON.stringify(v)}`);
    assert.strictEqual(v.reason, reason);
    if (entry) assert.strictEqual(v.entry, entry);
    assert.ok(v.message);
    assert.ok(!fs.existsSync(fileOf(loc)), 'the rejected file is removed');
    const sum = hex(data);
    assert.ok(!fs.existsSync(path.join(s.env.YARD_PACKAGE_DIR, 'sha256', sum.slice(0, 2), sum)));
  }
  assert.strictEqual(s.sql('SELECT count(*) FROM packages'), before);
  // A GBK name without the UTF-8 flag is read as GBK and accepted.
  const loc = await upload(svc, zip([{ name: gbk, data: 'abc', utf8: false }]), 1 << 20);
  const v = await verdict(svc, loc);
  assert.strictEqual(v.state, 'accepted', JSON.stringify(v));
  const p = await s.api('GET', `/api/v1/packages/${v.package_id}`, { token: admin });
  assert.deepStrictEqual(p.json.manifest.map((e) => e.path), ['中文/说明.txt']);
});

test('a 64 MiB upload in 8 MiB chunks', async () => {
  const big = zip([{ name: 'data.bin', data: crypto.randomBytes(64 << 20) }]);
  const t0 = Date.now();
  const loc = await upload(svc, big, 8 << 20);
  const v = await verdict(svc, loc);
  assert.strictEqual(v.state, 'accepted', JSON.stringify(v));
  assert.strictEqual(s.sql(`SELECT size FROM packages WHERE id = ${v.package_id}`), String(big.length));
  test.diagnostic?.(`64 MiB in ${Date.now() - t0} ms`);
});

test('partial uploads expire: row and file removed', async () => {
  const data = pkg('expire');
  const loc = (await create(svc, data.length)).headers.get('location');
  assert.strictEqual((await patch(svc, loc, 0, data.subarray(0, 7))).status, 204);
  const id = loc.split('/').pop();
  assert.ok(fs.existsSync(fileOf(loc)));
  await waitFor(async () => s.sql(`SELECT count(*) FROM uploads WHERE id = '${id}'`) === '0' && !fs.existsSync(fileOf(loc)),
    (EXPIRE * 4 + 10) * 1000, 'expiry');
  assert.strictEqual((await head(svc, loc)).status, 404);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.yard.deaths(), []);
});
