// make bench, tasks part: against a running server and an enrolled agent,
//   node taskbench.js URL NODE_ID DEPLOY_ROOT N   (admin JWT in $YARD_BENCH_TOKEN)
// 1. creates N console tasks (exec sleep 600) and starts them all; prints
//    "running N" once every one is running with a pid (the caller then reads
//    the agent's RSS), waits for a line on stdin, then
// 2. measures start-to-running of one trivial task through the whole path
//    (API call -> ledger -> Redis wake -> agent -> fork/exec -> result
//    recorded), 20 times, polling the command every 2 ms, and prints p50/max;
// 3. measures the log follow delay: a task prints its clock every 100 ms,
//    a follow through the API receives the lines (arrival minus the line's
//    time, same machine), 50 lines, prints p50/max;
// 4. stops every task.  Exits non-zero on any failure.
'use strict';
const [url, nodeId, root, nStr] = process.argv.slice(2);
const N = Number(nStr);
const token = process.env.YARD_BENCH_TOKEN;

async function api(method, path, body) {
  const r = await fetch(url + '/api/v1' + path, {
    method, headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const j = await r.json().catch(() => null);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function finish(id, step = 2, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const d = await api('GET', '/commands/' + id);
    if (['succeeded', 'failed', 'timed_out'].includes(d.state)) {
      if (d.state !== 'succeeded') throw new Error(`command ${id}: ${d.state}: ${d.output}`);
      return d;
    }
    if (Date.now() > end) throw new Error(`command ${id} did not finish`);
    await sleep(step);
  }
}

(async () => {
  const ids = [];
  for (let i = 0; i < N; i++) {
    const t = await api('POST', '/tasks', { node_id: Number(nodeId), name: `bench-${i}`, spec: {
      kind: 'console', deploy_dir: `${root}/bench-${i}`, console: { command: 'sleep', args: ['600'] } } });
    ids.push(t.id);
  }
  for (const id of ids) await finish((await api('POST', '/commands', { type: 'start', task_id: id })).id, 20);
  const end = Date.now() + 30000;
  for (;;) {
    const l = await api('GET', `/tasks?node_id=${nodeId}&limit=200`);
    if (l.items.filter((t) => t.state === 'running' && t.pid).length >= N) break;
    if (Date.now() > end) throw new Error('not all tasks running');
    await sleep(200);
  }
  console.log(`running ${N}`);
  await new Promise((r) => process.stdin.once('data', r));

  const one = (await api('POST', '/tasks', { node_id: Number(nodeId), name: 'bench-latency', spec: {
    kind: 'console', deploy_dir: `${root}/bench-latency`, console: { command: 'sleep', args: ['600'] }, stop_grace: 1 } })).id;
  const lat = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const c = await api('POST', '/commands', { type: 'start', task_id: one });
    await finish(c.id);
    lat.push(performance.now() - t0);
    await finish((await api('POST', '/commands', { type: 'stop', task_id: one })).id, 10);
  }
  lat.sort((a, b) => a - b);
  console.log(`start-to-running: p50 ${lat[10].toFixed(1)} ms, max ${lat[19].toFixed(1)} ms (20 starts, polled every 2 ms)`);

  // Log follow: a task prints its clock every 100 ms; a follow receives
  // the lines; the delay is the arrival time minus the line's own time.
  const lt = (await api('POST', '/tasks', { node_id: Number(nodeId), name: 'bench-log', spec: {
    kind: 'console', deploy_dir: `${root}/bench-log`, stop_grace: 1,
    console: { command: 'sh', args: ['-c', 'while :; do date +%s%N; sleep 0.1; done'] } } })).id;
  await finish((await api('POST', '/commands', { type: 'start', task_id: lt })).id, 10);
  let r = await api('GET', `/tasks/${lt}/logs?follow=1&lines=1`);
  const rid = r.request;
  let seq = r.seq === null ? -1 : r.seq;
  const fol = [];
  while (fol.length < 50) {
    r = await api('GET', `/tasks/${lt}/logs?request=${rid}&after=${seq}`);
    const now = Date.now();
    if (r.ended) throw new Error('the follow ended');
    seq = r.seq === null ? seq : r.seq;
    for (const l of r.text.split('\n')) {
      if (/^\d{19}$/.test(l)) fol.push(now - Number(BigInt(l) / 1000000n));
    }
  }
  fol.sort((a, b) => a - b);
  console.log(`log follow: p50 ${fol[Math.floor(fol.length / 2)]} ms, max ${fol[fol.length - 1]} ms (${fol.length} lines, one every 100 ms)`);
  await finish((await api('POST', '/commands', { type: 'stop', task_id: lt })).id, 10);
  for (const id of ids) await finish((await api('POST', '/commands', { type: 'stop', task_id: id })).id, 20);
})().catch((e) => { console.error('taskbench: ' + e.message); process.exit(1); });
