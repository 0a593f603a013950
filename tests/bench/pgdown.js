// make bench B9: /healthz latency while PostgreSQL is stopped, then while
// it is frozen, with 20 clients listing nodes and tasks meanwhile.
// Usage: node pgdown.js URL TOKEN PGDIR PGPORT DB
// Prints "stopped: ..." and "frozen: ..." lines (p50/p99/max in ms) and
// "api ..." lines; exits 1 when the API did not come back.
'use strict';
const { load, probe, pgProcs, recovered, stats, fmt } = require('../lib/pgoutage.js');

const [url, token, pgdir, pgport, db] = process.argv.slice(2);

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function count(seen) {
  const by = {};
  for (const a of seen) by[a.status] = (by[a.status] || 0) + 1;
  return JSON.stringify(by);
}

async function main() {
  const pg = pgProcs(pgdir, Number(pgport), db);
  const lanes = load(url, token, 20);
  let ok = true;
  try {
    await sleep(1000);
    lanes.take();
    await pg.stop();
    let h = await probe(url, 5000);
    let seen = lanes.take();
    console.log(`stopped: ${fmt(h.stats)}; failed ${h.failed.length}`);
    console.log(`api while stopped: ${count(seen)}, ${fmt(stats(seen.map((a) => a.ms)))}`);
    await pg.start();
    ok = ok && await recovered(url, token, 15000);
    lanes.take();
    const ended = await pg.freeze();
    try {
      h = await probe(url, 8000);
    } finally {
      seen = lanes.take();
      pg.thaw();
    }
    console.log(`frozen: ${fmt(h.stats)}; failed ${h.failed.length}; ${ended} backends ended`);
    console.log(`api while frozen: ${count(seen)}, ${fmt(stats(seen.map((a) => a.ms)))}`);
    ok = ok && await recovered(url, token, 15000);
    console.log(`recovered: ${ok ? 'yes' : 'no'}`);
  } finally {
    pg.thaw();
    await lanes.stop();
  }
  process.exit(ok ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
