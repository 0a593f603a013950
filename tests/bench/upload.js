// B10: one tus upload of a file in chunks over loopback, as EWS's backend
// would send it.  Prints the upload's time, the Kore workers' RSS growth
// (sampled every 100 ms from /proc, children of the Kore parent) and the
// check's time (last PATCH answered -> state accepted).
// usage: node upload.js [--ews EWS_URL [--user SUB] [--ews-pid PID]] [--cut MIB]
//            URL TOKEN FILE KORE_PARENT_PID [CHUNK_BYTES]
//   --ews EWS_URL  go through the development EWS (tools/dev-ews) instead:
//                  sign in to it as SUB (default u-admin) with POST /login,
//                  then send every tus request to its /tus/uploads with the
//                  session cookie and its own Origin.  The service token
//                  stays inside the EWS; TOKEN is not used (give "-").
//   --ews-pid PID  the EWS's process: its RSS growth is printed too.
//   --cut MIB      interrupt the upload once: the PATCH of the chunk that
//                  holds the file's middle byte sends its headers and MIB
//                  MiB of its body, then the socket is destroyed.  Then, as
//                  tus-js-client does, HEAD tells the offset and the upload
//                  goes on from there.  The upload's time includes all this.
// At the end the package's sha256 (GET URL/api/v1/packages/<id>, with the
// signed-in user's token from the EWS's /api/token, else with TOKEN) must
// be the file's.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');

const opt = { user: 'u-admin' };
const args = process.argv.slice(2);
while (args.length > 0 && args[0].startsWith('--')) {
  const k = args.shift();
  const v = args.shift();
  if (v === undefined) usage(`${k}: needs a value`);
  if (k === '--ews') opt.ews = v.replace(/\/+$/, '');
  else if (k === '--user') opt.user = v;
  else if (k === '--ews-pid') opt.ewsPid = v;
  else if (k === '--cut') opt.cut = Number(v);
  else usage(`unknown option ${k}`);
}
const [url, token, file, parent, chunkArg] = args;
const chunk = Number(chunkArg || 8 << 20);
if (!url || !token || !file || !parent) usage('missing arguments');
if (!Number.isInteger(chunk) || chunk < 1) usage(`CHUNK_BYTES: expected a whole number > 0, got ${chunkArg}`);
if (opt.cut !== undefined && !(opt.cut > 0 && opt.cut * 1048576 < chunk)) {
  usage(`--cut: expected MiB more than 0 and less than a chunk (${chunk} bytes)`);
}

function usage(msg) {
  console.error(`upload.js: ${msg}\nusage: node upload.js [--ews EWS_URL [--user SUB] [--ews-pid PID]] [--cut MIB] ` +
    'URL TOKEN FILE KORE_PARENT_PID [CHUNK_BYTES]');
  process.exit(2);
}

function workers() {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1] === parent;
    } catch { return false; }
  });
}
function rssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  } catch { return 0; }
}

// POST /login on the EWS as a form, as its login page does: the session
// cookie ("dev_ews_sid=...").
async function signIn() {
  const r = await fetch(opt.ews + '/login', {
    method: 'POST', redirect: 'manual', headers: { origin: opt.ews },
    body: new URLSearchParams({ user: opt.user }),
  });
  const sc = r.headers.getSetCookie();
  if (r.status !== 302 || sc.length !== 1) throw new Error(`EWS login: ${r.status} ${await r.text()}`);
  return sc[0].split(';')[0];
}

// A PATCH of body at off that is cut after sent bytes of the body: the
// socket is destroyed once they are written.  An answer before the cut
// means the request was refused, not interrupted.
function cutPatch(loc, h, off, body, sent) {
  const u = new URL(loc);
  const lines = [`PATCH ${u.pathname} HTTP/1.1`, `Host: ${u.host}`];
  for (const [k, v] of Object.entries(Object.assign({}, h, {
    'content-type': 'application/offset+octet-stream', 'upload-offset': String(off),
    'content-length': String(body.length),
  }))) lines.push(`${k}: ${v}`);
  return new Promise((resolve, reject) => {
    let answer = '';
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(lines.join('\r\n') + '\r\n\r\n');
      sock.write(body.subarray(0, sent), () => setTimeout(() => {
        sock.destroy();
        if (answer) reject(new Error(`the cut PATCH was answered before the cut: ${answer.split('\r\n')[0]}`));
        else resolve();
      }, 100));
    });
    sock.on('data', (d) => { answer += d; });
    sock.on('error', reject);
  });
}

async function sha256File() {
  const hash = crypto.createHash('sha256');
  for await (const b of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(b);
  return hash.digest('hex');
}

async function main() {
  const size = fs.statSync(file).size;
  const pids = workers();
  const base = Object.fromEntries(pids.map((p) => [p, rssKb(p)]));
  const ewsBase = opt.ewsPid ? rssKb(opt.ewsPid) : 0;
  let growth = 0;
  let ewsGrowth = 0;
  const sample = () => {
    for (const p of pids) growth = Math.max(growth, rssKb(p) - base[p]);
    if (opt.ewsPid) ewsGrowth = Math.max(ewsGrowth, rssKb(opt.ewsPid) - ewsBase);
  };
  const sampler = setInterval(sample, 100);
  let h;
  let create;
  if (opt.ews) {
    const cookie = await signIn();
    h = { cookie, origin: opt.ews, 'tus-resumable': '1.0.0' };
    create = opt.ews + '/tus/uploads';
    console.log(`route: through the development EWS at ${opt.ews}/tus/uploads, signed in as ${opt.user}`);
  } else {
    h = { authorization: 'Bearer ' + token, 'tus-resumable': '1.0.0' };
    create = url + '/api/v1/uploads';
    console.log(`route: straight to ${url}/api/v1/uploads with a service token`);
  }
  const t0 = process.hrtime.bigint();
  const c = await fetch(create, {
    method: 'POST',
    headers: Object.assign({ 'upload-length': String(size),
      'upload-metadata': 'name ' + Buffer.from('bench').toString('base64') }, h),
  });
  if (c.status !== 201) throw new Error('create: ' + c.status + ' ' + await c.text());
  const loc = new URL(c.headers.get('location'), create).href;
  // The chunk that holds the middle byte is cut (once).
  let cutAt = opt.cut ? Math.floor(size / 2 / chunk) * chunk : -1;
  let resent = 0;
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(chunk);
  for (let off = 0; off < size;) {
    const n = fs.readSync(fd, buf, 0, Math.min(chunk, size - off), off);
    if (off === cutAt) {
      const sent = Math.min(Math.round(opt.cut * 1048576), n - 1);
      await cutPatch(loc, h, off, buf.subarray(0, n), sent);
      console.log(`interrupted: the PATCH at offset ${off} (${n} bytes) cut after ${sent} bytes of its body`);
      const r = await fetch(loc, { method: 'HEAD', headers: h });
      const got = r.headers.get('upload-offset');
      if (r.status !== 200 || !/^\d+$/.test(got || '')) throw new Error(`HEAD after the cut: ${r.status} Upload-Offset ${got}`);
      const at = Number(got);
      if (at < off || at > off + sent) throw new Error(`HEAD after the cut: offset ${at} outside ${off}..${off + sent}`);
      resent = off + sent - at;
      console.log(`resumed: HEAD says offset ${at}; going on from there (${resent} bytes sent again)`);
      off = at;
      cutAt = -1;
      continue;
    }
    const r = await fetch(loc, {
      method: 'PATCH',
      headers: Object.assign({ 'content-type': 'application/offset+octet-stream', 'upload-offset': String(off) }, h),
      body: buf.subarray(0, n),
    });
    if (r.status !== 204) throw new Error('patch: ' + r.status + ' ' + await r.text());
    off += n;
    if (r.headers.get('upload-offset') !== String(off)) {
      throw new Error(`patch: Upload-Offset ${r.headers.get('upload-offset')}, expected ${off}`);
    }
  }
  fs.closeSync(fd);
  const t1 = process.hrtime.bigint();
  let state;
  let pkg;
  for (;;) {
    const r = await fetch(loc, { method: 'HEAD', headers: h });
    state = r.headers.get('yard-upload-state');
    pkg = r.headers.get('yard-package-id');
    if (state !== 'checking') break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const t2 = process.hrtime.bigint();
  clearInterval(sampler);
  sample();
  const up = Number(t1 - t0) / 1e9;
  const check = Number(t2 - t1) / 1e9;
  console.log(`upload: ${size} bytes in ${up.toFixed(2)} s (${(size / up / 1048576).toFixed(1)} MiB/s)`);
  console.log(`check: ${check.toFixed(2)} s, ${(check / (size / 2 ** 30)).toFixed(2)} s per GiB, state ${state}`);
  console.log(`rss growth: ${(growth / 1024).toFixed(1)} MB (max over ${pids.length} workers)`);
  if (opt.ewsPid) console.log(`ews rss growth: ${(ewsGrowth / 1024).toFixed(1)} MB`);
  if (state !== 'accepted') process.exit(1);

  // Whose token reads the package: the signed-in user's (as the portal's
  // frames get it), else TOKEN.
  let reader = token;
  if (opt.ews) {
    const r = await fetch(opt.ews + '/api/token', { headers: { cookie: h.cookie } });
    if (r.status !== 200) throw new Error(`EWS /api/token: ${r.status}`);
    reader = (await r.json()).token;
  }
  const want = await sha256File();
  const p = await fetch(`${url}/api/v1/packages/${pkg}`, { headers: { authorization: 'Bearer ' + reader } });
  if (p.status !== 200) {
    console.log(`sha256: not compared (GET /api/v1/packages/${pkg} answered ${p.status}); the file's is ${want}`);
    if (opt.ews || opt.cut) process.exit(1);
    return;
  }
  const got = (await p.json()).sha256;
  if (got === want) console.log(`sha256: package ${pkg} has the file's, ${want}`);
  else console.log(`sha256: package ${pkg} has ${got}, the file ${want}`);
  if (got !== want) process.exit(1);
}
main().catch((e) => { console.error(e.message); process.exit(1); });
