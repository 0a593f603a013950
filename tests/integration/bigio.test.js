// Large log traffic through the Kore workers: a download of a 20 MB log and
// a follow of a log growing by megabytes.  Both move answers of several
// megabytes through libpq and glibc's realloc, which grows big blocks with
// mremap: a worker whose seccomp filter lacks a system call they need dies
// ("died from sandbox violation"), so each test also checks that no worker
// died.  And an idle keep-alive connection, which Kore used to answer
// with a 408 nobody asked for.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const { once } = require('node:events');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

const MiB = 1024 * 1024;
const ROTATE_AT = 10 * MiB; // the agent rotates a task log past this
let s, admin, agent, kit;

test.before(async () => {
  s = await startStack({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('bigio-admin');
  agent = await s.agent('bigio');
  kit = taskKit(s, admin, agent);
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    10000, 'node online');
});
test.after(async () => {
  if (kit) kit.killAll();
  if (s) await s.stop(); // also fails the file when a worker died
});

// The worker deaths since mark (a count of s.deaths()).
const noDeaths = (mark) => assert.deepStrictEqual(s.deaths().slice(mark), [], 'no Kore worker died');

// n numbered lines of 100 bytes, from `from` on.
function lines(from, n) {
  const out = [];
  for (let i = from; i < from + n; i++) out.push(('line ' + i).padEnd(99, '.') + '\n');
  return out.join('');
}

test('download of a 20 MB log: its last 16 MiB, byte for byte', async (t) => {
  const dead0 = s.deaths().length;
  const id = await kit.console('big20', 'exec sleep 300', { stop_grace: 2 });
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  const file = kit.logPath(id);
  // The agent checks task logs every 10 s and rotates one past 10 MiB
  // (copy and truncate), which would cut a download short.  Let it rotate
  // a filler first: the next check is then 10 s away.
  fs.appendFileSync(file, lines(0, ROTATE_AT / 100 + 1000));
  await waitFor(() => fs.statSync(file).size < ROTATE_AT, 15000, 'the filler rotated away');
  const before = fs.statSync(file).size;
  fs.appendFileSync(file, lines(1000000, 200000)); // 20,000,000 bytes
  const want = fs.readFileSync(file);
  assert.strictEqual(want.length, before + 20000000);

  const t0 = Date.now();
  const r = await fetch(`${s.yard.url}/api/v1/tasks/${id}/logs?download=1`,
    { headers: { authorization: 'Bearer ' + admin } }).catch((e) => { noDeaths(dead0); throw e; });
  assert.strictEqual(r.status, 200, r.status === 200 ? '' : await r.text());
  assert.strictEqual(r.headers.get('x-yard-truncated'), '1');
  const body = Buffer.from(await r.arrayBuffer());
  const ms = Date.now() - t0;
  // The agent sends it in a few seconds; the server used to miss the
  // chunks that arrived while it read and answered at its 60 s deadline.
  assert.ok(ms < 8000, `the download took ${ms} ms`);
  assert.strictEqual(fs.statSync(file).size, want.length, `the log rotated during the download (${ms} ms)`);
  assert.strictEqual(body.length, 16 * MiB, `${body.length} bytes in ${ms} ms`);
  assert.ok(body.equals(want.subarray(want.length - 16 * MiB)), 'the bytes are the file\'s last 16 MiB');
  t.diagnostic(`download: ${ms} ms`);
  noDeaths(dead0);
});

test('following a log that grows by megabytes delivers every byte', async (t) => {
  // The task waits for a go, then writes 8 MB (under the rotation size)
  // as fast as it can and sleeps.
  const dead0 = s.deaths().length;
  const go = `${s.dir}/bigio-go`;
  const id = await kit.console('gusher',
    `echo ready; while [ ! -e ${go} ]; do sleep 0.1; done; ` +
    "awk 'BEGIN { for (i = 0; i < 80000; i++) printf \"gush %08d %s\\n\", i, sprintf(\"%85s\", \"\") }'; " +
    'exec sleep 300', { stop_grace: 2 });
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  const file = kit.logPath(id);
  await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8') === 'ready\n', 10000, 'ready');

  const first = await s.api('GET', `/api/v1/tasks/${id}/logs?follow=1&lines=10`, { token: admin });
  assert.strictEqual(first.status, 200, first.text);
  assert.strictEqual(first.json.text, 'ready\n');
  let seq = first.json.seq;
  let got = first.json.text;
  fs.writeFileSync(go, '');
  await waitFor(() => fs.statSync(file).size >= 8000006, 20000, 'the task wrote its 8 MB');
  const want = fs.readFileSync(file, 'utf8');
  assert.strictEqual(want.length, 8000006);

  // Polls come ever later, as from a browser tab the browser throttles in
  // the background: each answer is bigger than the last (the agent
  // forwards ~0.5 MB/s), up to megabytes.  Then once a second.
  const gaps = [500, 1000, 2000, 4000, 8000];
  const end = Date.now() + 60000;
  let polls = 0;
  let biggest = 0;
  while (got.length < want.length && Date.now() < end) {
    await sleep(gaps[polls] || 1000);
    const r = await s.api('GET', `/api/v1/tasks/${id}/logs?request=${first.json.request}&after=${seq}`,
      { token: admin }).catch((e) => { noDeaths(dead0); throw e; });
    assert.strictEqual(r.status, 200, r.text.slice(0, 300));
    assert.strictEqual(r.json.ended, false);
    assert.ok(r.json.seq >= seq);
    seq = r.json.seq;
    got += r.json.text;
    biggest = Math.max(biggest, r.json.text.length);
    polls++;
    noDeaths(dead0);
  }
  t.diagnostic(`follow: ${polls} polls, largest answer ${biggest} bytes`);
  assert.ok(polls >= 3, `followed for ${polls} polls`);
  assert.ok(biggest >= 2 * MiB, `the largest answer was ${biggest} bytes`);
  assert.strictEqual(got.length, want.length);
  assert.ok(got === want, 'the followed text is the file, byte for byte');
  noDeaths(dead0);
});

test('an idle keep-alive connection is closed quietly, never with an unasked-for 408', async () => {
  const sock = net.connect(s.yard.port, '127.0.0.1');
  await once(sock, 'connect');
  let data = '';
  sock.setEncoding('latin1');
  sock.on('data', (d) => { data += d; });
  sock.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  await waitFor(() => {
    const m = /\r\ncontent-length: (\d+)\r\n/i.exec(data);
    return m && data.length >= data.indexOf('\r\n\r\n') + 4 + Number(m[1]);
  }, 5000, 'the first answer');
  assert.match(data, /^HTTP\/1\.1 200 /);
  // Clients (undici, nginx upstreams) reuse a connection for as long as
  // the server says it keeps it, so that must be shorter than the header
  // timeout (10 s) after which Kore sends its 408.
  const hint = /\r\nkeep-alive: timeout=(\d+)\r\n/i.exec(data);
  assert.ok(hint && Number(hint[1]) < 10, `keep-alive hint: ${hint && hint[0]}`);
  data = '';
  const closed = once(sock, 'close').then(() => true);
  const gone = await Promise.race([closed, sleep(13000).then(() => false)]);
  assert.strictEqual(data, '', 'nothing is sent on an idle connection');
  assert.strictEqual(gone, true, 'the idle connection was closed');
  sock.destroy();
});
