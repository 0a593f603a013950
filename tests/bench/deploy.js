// B11 (second half): an overlay update through the real server and a real
// yard-agent, and the task's downtime: the last answer of the old release
// to the first answer of the new one, polled every 5 ms from outside.
// Also the whole command (dispatch to succeeded) and its steps.
// usage: node tests/bench/deploy.js FILES MIB
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, waitFor, freePort, sleep } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');
const { zip } = require('../lib/zip.js');

const nfiles = Number(process.argv[2] || 2000);
const mib = Number(process.argv[3] || 40);

const APP = `
const http = require('node:http');
const fs = require('node:fs');
process.on('SIGTERM', () => process.exit(0));
http.createServer((q, r) => r.end(fs.readFileSync('version.txt')))
  .listen(Number(process.argv[2]), '127.0.0.1');
`;

function build(v) {
  const per = Math.max(1, Math.floor((mib << 20) / nfiles));
  const files = [['app.js', APP], ['version.txt', `v${v}\n`]];
  for (let i = 0; i < nfiles; i++) {
    // Half the files change between versions, half do not.
    const seed = i % 2 === 0 ? `same-${i}` : `v${v}-${i}`;
    files.push([`lib/${i % 100}/f${i}.dat`, crypto.createHash('sha256').update(seed).digest().toString('hex').repeat(Math.ceil(per / 64)).slice(0, per)]);
  }
  const body = zip(files.map(([n, d]) => ({ name: n, data: d, deflate: true })));
  return { body, files };
}

async function main() {
  const s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  const admin = s.adminToken('bench-admin');
  let agent;
  try {
    agent = await s.agent('bench');
    const kit = taskKit(s, admin, agent);
    const port = await freePort();
    const id = await kit.create('bench', {
      kind: 'console', deploy_dir: path.join(s.dir, 'deploy', 'bench'),
      console: { command: '/usr/bin/node', args: ['app.js', String(port)] },
      health: { path: '/', port, interval: 1, timeout: 2, window: 1 },
      restart: { policy: 'never' }, stop_grace: 5,
    });
    const store = (v) => {
      const { body, files } = build(v);
      const sum = crypto.createHash('sha256').update(body).digest('hex');
      const dir = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', sum.slice(0, 2));
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, sum), body);
      const manifest = files.map(([p, d]) => ({ path: p, size: Buffer.byteLength(d), sha256: '' }));
      fs.writeFileSync(path.join(s.dir, 'manifest.json'), JSON.stringify(manifest));
      return Number(s.sql(`INSERT INTO packages (sha256, name, version, size, entries, manifest)
        VALUES ('${sum}', 'bench', '${v}', ${body.length}, ${files.length},
        pg_read_file('${path.join(s.dir, 'manifest.json')}')::jsonb) RETURNING id`).split('\n')[0]);
    };
    const run = async (body) => {
      const c = await s.api('POST', '/api/v1/commands', { token: admin, body });
      if (c.status !== 201) throw new Error(c.text);
      let d;
      await waitFor(async () => {
        d = (await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin })).json;
        return ['succeeded', 'failed', 'timed_out'].includes(d.state);
      }, 600000, 'command');
      if (d.state !== 'succeeded') throw new Error(`${body.type}: ${d.state}: ${d.output}`);
      return d;
    };
    await run({ type: 'deploy', task_id: id, package_id: store(1) });
    const p2 = store(2);
    // Poll the service while the update runs.
    let last1 = 0, first2 = 0, stop = false;
    const poll = (async () => {
      while (!stop) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
          const t = await r.text();
          const now = performance.now();
          if (t === 'v1\n') last1 = now;
          else if (t === 'v2\n' && !first2) first2 = now;
        } catch { /* down */ }
        await sleep(5);
      }
    })();
    const t0 = performance.now();
    const d = await run({ type: 'update', task_id: id, package_id: p2 });
    const t1 = performance.now();
    stop = true;
    await poll;
    const events = (d.events || []).map((e) => `${e.state}@${e.at || e.time || ''}`).join(' ');
    console.log(`update: ${nfiles} files, ${mib} MiB: command ${((t1 - t0) / 1000).toFixed(2)} s (${events})`);
    console.log(`downtime: ${first2 && last1 ? (first2 - last1).toFixed(0) : 'unknown'} ms (last v1 answer to first v2 answer)`);
    console.log(`output: ${d.output.split('\n')[0]}`);
  } finally {
    if (agent) await agent.stop();
    await s.stop();
  }
}
main().catch((e) => { console.error(e.stack || e.message); process.exit(1); });
