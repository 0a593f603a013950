// PostgreSQL outages under load, measured from outside: the integration
// test (tests/integration/pgdown.test.js) and make bench (B9) share it.
//
// load(): clients listing nodes and tasks in a loop; probe(): /healthz
// every 20 ms; pgProcs(): stop, start, freeze (SIGSTOP the postmaster so
// that new connections are accepted by the kernel and never answered,
// and end the database's backends so that the server must connect again)
// and thaw a cluster whose data directory we know.
'use strict';
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PG_BIN = '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid() === 0;

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function asPgArgs(cmd, args) {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

// Asynchronous: a blocking child would stall our own clocks.
function asPg(cmd, args) {
  const [c, a] = asPgArgs(cmd, args);
  return new Promise((resolve, reject) => {
    execFile(c, a, { encoding: 'utf8' }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

function pct(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

function stats(xs) {
  return { n: xs.length, p50: pct(xs, 0.5), p99: pct(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN };
}

const fmt = (st) => `${st.n} probes, p50 ${st.p50.toFixed(1)} ms, p99 ${st.p99.toFixed(1)} ms,`
  + ` max ${st.max.toFixed(1)} ms`;

// clients loops of GET on paths; take() returns and forgets what was
// answered since the last take(): [{ status, ms, at }].
function load(url, token, clients = 20, paths = ['/api/v1/nodes', '/api/v1/tasks']) {
  let stop = false, seen = [];
  const lane = async (i) => {
    let k = i;
    while (!stop) {
      const at = Date.now(), t0 = process.hrtime.bigint();
      let status = 0;
      try {
        const r = await fetch(url + paths[k++ % paths.length], {
          headers: { authorization: 'Bearer ' + token },
          signal: AbortSignal.timeout(15000),
        });
        await r.arrayBuffer();
        status = r.status;
      } catch { status = -1; }
      seen.push({ status, at, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
      await sleep(10);
    }
  };
  const lanes = Array.from({ length: clients }, (_, i) => lane(i));
  return {
    take() { const s = seen; seen = []; return s; },
    async stop() { stop = true; await Promise.all(lanes); },
  };
}

// /healthz every 20 ms for ms: latencies, and the probes not answered 200.
async function probe(url, ms) {
  const lat = [], failed = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    try {
      const r = await fetch(url + '/healthz', { signal: AbortSignal.timeout(10000) });
      await r.arrayBuffer();
      if (r.status !== 200) failed.push(r.status);
    } catch (e) { failed.push(e.name); }
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await sleep(20);
  }
  return { lat, failed, stats: stats(lat) };
}

// A cluster: dir holds data/ (and the socket directory); port, db: where
// the server under test connects.
function pgProcs(dir, port, db) {
  const data = path.join(dir, 'data');
  let frozen = 0;
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  return {
    stop: () => asPg(PG_BIN + '/pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    start: () => asPg(PG_BIN + '/pg_ctl', ['-D', data, '-l', path.join(dir, 'postgres.log'), '-w',
      '-o', opts, 'start']),
    async freeze() {
      const out = await asPg('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres',
        '-d', 'postgres', '-qAt', '-c',
        `SELECT pid FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`]);
      frozen = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(frozen, 'SIGSTOP');
      const pids = out.split('\n').filter(Boolean).map(Number);
      for (const p of pids) { try { process.kill(p, 'SIGTERM'); } catch { /* gone */ } }
      return pids.length;
    },
    thaw() {
      if (frozen) { try { process.kill(frozen, 'SIGCONT'); } catch { /* gone */ } }
      frozen = 0;
    },
  };
}

// Wait until every path answers 200 (up to ms).
async function recovered(url, token, ms, paths = ['/api/v1/nodes', '/api/v1/tasks']) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    let ok = true;
    for (const p of paths) {
      try {
        const r = await fetch(url + p, { headers: { authorization: 'Bearer ' + token } });
        await r.arrayBuffer();
        if (r.status !== 200) ok = false;
      } catch { ok = false; }
    }
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

module.exports = { load, probe, pgProcs, recovered, stats, fmt, pct };
