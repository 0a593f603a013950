// A package uploaded through the development EWS (tools/dev-ews): its tus
// proxy /tus/uploads takes the browser's session cookie and passes each
// request on to Yard with the EWS's service token.  A PATCH cut mid-body
// resumes at the offset HEAD reports, nothing lost or written twice; a cut
// upload terminated with DELETE leaves no row and no file (docs/dev-ews.md,
// docs/packages.md "Uploads").
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { startE2E, waitFor } = require('../lib/stack.js');
const { zip } = require('../lib/zip.js');

const CHUNK = 8 << 20;
const WAIT = 30000;	// any one request or socket, at most
let s, ews, cookie, tus;

test.before(async () => {
  s = await startE2E({ env: { YARD_UPLOAD_CHUNK_MAX: String(CHUNK) } });
  ews = s.ews.url;
  tus = ews + '/tus/uploads';
  const r = await fetch(ews + '/login', {
    method: 'POST', redirect: 'manual', headers: { origin: ews },
    body: new URLSearchParams({ user: 'u-admin' }), signal: AbortSignal.timeout(WAIT),
  });
  assert.strictEqual(r.status, 302);
  cookie = r.headers.getSetCookie()[0].split(';')[0];
});
test.after(async () => { if (s) await s.stop(); });

const b64 = (v) => Buffer.from(String(v)).toString('base64');
const hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
// What a page of the EWS sends: its session cookie and its own origin.
const hdrs = (extra = {}) => Object.assign({ cookie, origin: ews, 'tus-resumable': '1.0.0' }, extra);
const req = (loc, method, headers, body) => fetch(loc, { method, headers, body, signal: AbortSignal.timeout(WAIT) });
const fileOf = (loc) => path.join(s.env.YARD_PACKAGE_DIR, 'uploads', loc.split('/').pop());

async function create(length, name) {
  const r = await req(tus, 'POST', hdrs({ 'upload-length': String(length), 'upload-metadata': `name ${b64(name)}` }));
  assert.strictEqual(r.status, 201, await r.text());
  const loc = r.headers.get('location');
  assert.match(loc, /^\/tus\/uploads\/[0-9a-f-]{36}$/, 'Location points back at the EWS');
  return ews + loc;
}

async function patch(loc, off, body) {
  const r = await req(loc, 'PATCH', hdrs({ 'content-type': 'application/offset+octet-stream', 'upload-offset': String(off) }), body);
  assert.strictEqual(r.status, 204, await r.text());
  assert.strictEqual(r.headers.get('upload-offset'), String(off + body.length));
}

// A PATCH of body at off whose socket is destroyed once the headers and
// sent bytes of the body are written (a browser tab closed, a link lost).
function cutPatch(loc, off, body, sent) {
  const u = new URL(loc);
  const head = [`PATCH ${u.pathname} HTTP/1.1`, `Host: ${u.host}`, `Cookie: ${cookie}`, `Origin: ${ews}`,
    'Tus-Resumable: 1.0.0', 'Content-Type: application/offset+octet-stream', `Upload-Offset: ${off}`,
    `Content-Length: ${body.length}`].join('\r\n') + '\r\n\r\n';
  return new Promise((resolve, reject) => {
    let answer = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('cut PATCH: timed out')); }, WAIT);
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(head);
      sock.write(body.subarray(0, sent), () => setTimeout(() => {
        clearTimeout(timer);
        sock.destroy();
        resolve(answer);
      }, 100));
    });
    sock.on('data', (d) => { answer += d; });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

async function offsetOf(loc) {
  const r = await req(loc, 'HEAD', hdrs());
  assert.strictEqual(r.status, 200);
  const v = r.headers.get('upload-offset');
  assert.match(v, /^\d+$/, 'Upload-Offset is a whole number of bytes');
  return Number(v);
}

// A user token as the portal's frames get it, for Yard's own API.
async function userToken() {
  const r = await req(ews + '/api/token', 'GET', { cookie });
  assert.strictEqual(r.status, 200);
  return (await r.json()).token;
}

test('40 MiB through the EWS in 8 MiB chunks, one PATCH cut mid-body and resumed', { timeout: 180000 }, async (t) => {
  const data = zip([{ name: 'data.bin', data: crypto.randomBytes(40 << 20) }]);
  const loc = await create(data.length, 'ews-resume');
  const cutAt = 2 * CHUNK;
  const sent = 3 << 20;
  let off = 0;
  let cut = false;
  while (off < data.length) {
    const part = data.subarray(off, Math.min(off + CHUNK, data.length));
    if (off === cutAt && !cut) {
      cut = true;
      assert.strictEqual(await cutPatch(loc, off, part, sent), '', 'no answer before the cut');
      const at = await offsetOf(loc);
      assert.ok(at >= cutAt && at <= cutAt + sent, `offset ${at} within ${cutAt}..${cutAt + sent}`);
      t.diagnostic(`cut after ${sent} bytes at ${cutAt}; HEAD says ${at}`);
      off = at;	// resume from there, whatever it is
      continue;
    }
    await patch(loc, off, part);
    off += part.length;
  }
  assert.ok(cut, 'a PATCH was cut');
  let state, pkg;
  await waitFor(async () => {
    const r = await req(loc, 'HEAD', hdrs());
    state = r.headers.get('yard-upload-state');
    pkg = r.headers.get('yard-package-id');
    return state !== 'checking';
  }, WAIT, 'the check');
  assert.strictEqual(state, 'accepted');
  const j = await (await req(loc, 'GET', hdrs())).json();
  assert.strictEqual(j.state, 'accepted');
  assert.strictEqual(j.offset, data.length);
  assert.strictEqual(String(j.package_id), pkg);

  // Not a byte lost or doubled: the stored package is the file.
  const sum = hex(data);
  const tok = await userToken();
  const p = await req(`${s.yard.url}/api/v1/packages/${pkg}`, 'GET', { authorization: 'Bearer ' + tok });
  assert.strictEqual(p.status, 200);
  const pj = await p.json();
  assert.strictEqual(pj.sha256, sum);
  assert.strictEqual(pj.size, data.length);
  assert.deepStrictEqual(pj.manifest.map((e) => e.path), ['data.bin']);
  assert.strictEqual(pj.uploader_sub, 'svc-ews', 'uploaded with the EWS\'s service token');
  const list = await req(`${s.yard.url}/api/v1/packages?q=${sum}`, 'GET', { authorization: 'Bearer ' + tok });
  assert.strictEqual(list.status, 200);
  const items = (await list.json()).items;
  assert.deepStrictEqual(items.map((i) => [String(i.id), i.sha256, i.name]), [[pkg, sum, 'ews-resume']]);
});

test('an upload cut and then terminated through the EWS leaves no row and no file', { timeout: 120000 }, async () => {
  const data = crypto.randomBytes(20 << 20);
  const loc = await create(data.length, 'ews-term');
  const id = loc.split('/').pop();
  await patch(loc, 0, data.subarray(0, CHUNK));
  assert.strictEqual(await cutPatch(loc, CHUNK, data.subarray(CHUNK, 2 * CHUNK), 2 << 20), '');
  assert.strictEqual(await offsetOf(loc), CHUNK);
  assert.strictEqual(s.sql(`SELECT count(*) FROM uploads WHERE id = '${id}'`), '1');
  assert.ok(fs.existsSync(fileOf(loc)));
  const d = await req(loc, 'DELETE', hdrs());
  assert.strictEqual(d.status, 204, await d.text());
  assert.strictEqual(s.sql(`SELECT count(*) FROM uploads WHERE id = '${id}'`), '0');
  assert.ok(!fs.existsSync(fileOf(loc)), 'the upload file is gone');
  assert.strictEqual((await req(loc, 'HEAD', hdrs())).status, 404);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.yard.deaths(), []);
});
