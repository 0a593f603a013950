// B10: one tus upload of a file in chunks over loopback, as EWS's backend
// would send it.  Prints the upload's time, the Kore workers' RSS growth
// (sampled every 100 ms from /proc, children of the Kore parent) and the
// check's time (last PATCH answered -> state accepted).
// usage: node upload.js URL TOKEN FILE KORE_PARENT_PID [CHUNK_BYTES]
'use strict';
const fs = require('node:fs');

const [url, token, file, parent, chunkArg] = process.argv.slice(2);
const chunk = Number(chunkArg || 8 << 20);

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

async function main() {
  const size = fs.statSync(file).size;
  const pids = workers();
  const base = Object.fromEntries(pids.map((p) => [p, rssKb(p)]));
  let growth = 0;
  const sampler = setInterval(() => {
    for (const p of pids) growth = Math.max(growth, rssKb(p) - base[p]);
  }, 100);
  const h = { authorization: 'Bearer ' + token, 'tus-resumable': '1.0.0' };
  const t0 = process.hrtime.bigint();
  const c = await fetch(url + '/api/v1/uploads', {
    method: 'POST',
    headers: Object.assign({ 'upload-length': String(size),
      'upload-metadata': 'name ' + Buffer.from('bench').toString('base64') }, h),
  });
  if (c.status !== 201) throw new Error('create: ' + c.status + ' ' + await c.text());
  const loc = c.headers.get('location');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(chunk);
  for (let off = 0; off < size;) {
    const n = fs.readSync(fd, buf, 0, chunk, off);
    const r = await fetch(loc, {
      method: 'PATCH',
      headers: Object.assign({ 'content-type': 'application/offset+octet-stream', 'upload-offset': String(off) }, h),
      body: buf.subarray(0, n),
    });
    if (r.status !== 204) throw new Error('patch: ' + r.status + ' ' + await r.text());
    off += n;
  }
  fs.closeSync(fd);
  const t1 = process.hrtime.bigint();
  let state;
  for (;;) {
    const r = await fetch(loc, { method: 'HEAD', headers: h });
    state = r.headers.get('yard-upload-state');
    if (state !== 'checking') break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const t2 = process.hrtime.bigint();
  clearInterval(sampler);
  for (const p of pids) growth = Math.max(growth, rssKb(p) - base[p]);
  const up = Number(t1 - t0) / 1e9;
  const check = Number(t2 - t1) / 1e9;
  console.log(`upload: ${size} bytes in ${up.toFixed(2)} s (${(size / up / 1048576).toFixed(1)} MiB/s)`);
  console.log(`check: ${check.toFixed(2)} s, ${(check / (size / 2 ** 30)).toFixed(2)} s per GiB, state ${state}`);
  console.log(`rss growth: ${(growth / 1024).toFixed(1)} MB (max over ${pids.length} workers)`);
  if (state !== 'accepted') process.exit(1);
}
main().catch((e) => { console.error(e.message); process.exit(1); });
