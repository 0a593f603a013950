// stderr marks in task logs, through the whole path: the task's stdout
// and stderr pipes -> its log relay (yard-agent-relay) -> <id>.log and
// its stderr index -> the agent's chunks ("stderr" byte ranges) -> the
// server -> the API answer's "stderr".  Interleaved lines and a 2+ MB
// burst (last lines, search, follow), the agent killed and restarted
// while the task writes (nothing lost, no SIGPIPE, marks still right),
// and rotation by the relay (every part keeps its marks).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, admin, agent, kit;
test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('streams-admin');
  agent = await s.agent('streams');
  kit = taskKit(s, admin, agent);
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    10000, 'node online');
});
test.after(async () => {
  if (kit) kit.killAll();
  if (s) await s.stop();
});

const logs = (id, qs = '') => s.api('GET', `/api/v1/tasks/${id}/logs${qs}`, { token: admin });

// The lines of an answer's text with whether each is marked: a line is
// stderr when any of its bytes (its newline included) is in a range.
function markedLines(text, ranges) {
  const buf = Buffer.from(text, 'utf8');
  assert.ok(Array.isArray(ranges), 'the answer has stderr ranges');
  let prev = 0;
  for (const [a, b] of ranges) {
    assert.ok(Number.isInteger(a) && Number.isInteger(b) && a >= prev && b > a && b <= buf.length,
      `range [${a},${b}] in order and inside ${buf.length} bytes`);
    prev = b;
  }
  const out = [];
  let at = 0;
  while (at < buf.length) {
    let nl = buf.indexOf(10, at);
    const end = nl === -1 ? buf.length : nl + 1;
    const err = ranges.some(([a, b]) => a < end && b > at);
    out.push({ line: buf.subarray(at, nl === -1 ? buf.length : nl).toString('utf8'), err });
    at = end;
  }
  return out;
}

// Every line marked exactly when the task wrote it to stderr (its name
// says: "err ..." / "burst-err ...").
function checkMarks(lines, what) {
  assert.ok(lines.length > 0, `${what}: some lines`);
  const wrong = lines.filter((l) => l.err !== /^(burst-)?err /.test(l.line));
  assert.deepStrictEqual(wrong.slice(0, 5), [], `${what}: ${wrong.length} of ${lines.length} lines marked wrong`);
}

// The stderr index of a log part, as [start, end] records.
function indexOf(file) {
  const b = fs.readFileSync(file + '.stderr');
  assert.strictEqual(b.subarray(0, 8).toString('latin1'), 'YARDERR1', `${file}.stderr header`);
  const out = [];
  for (let o = 16; o + 16 <= b.length; o += 16)
    out.push([Number(b.readBigUInt64LE(o)), Number(b.readBigUInt64LE(o + 8))]);
  return out;
}

// Check a whole part on disk against its index.
function checkPart(file) {
  const text = fs.readFileSync(file, 'utf8');
  checkMarks(markedLines(text, indexOf(file)), path.basename(file));
  return text;
}

const PAD = 'x'.repeat(80);
// n lines on each stream, alternately, one write each (dash's printf).
const burst = (n) => `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); ` +
  `printf 'burst-out %06d ${PAD}\\n' $i; printf 'burst-err %06d ${PAD}\\n' $i >&2; done`;

test('interleaved stdout and stderr, and a 2 MB burst: exactly the stderr lines are marked', async () => {
  const go = path.join(s.dir, 'streams-go');
  const id = await kit.console('mixed',
    'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; done; ' +
    // Paced as programs write (not 100,000 lines a second): in order.
    'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "out p$i"; echo "err p$i" >&2; sleep 0.02; done; ' +
    `while [ ! -e ${go} ]; do sleep 0.1; done; ${burst(11000)}; echo "out end"; echo "err end" >&2; exec sleep 300`);
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  const file = kit.logPath(id);
  await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('err p40\n'), 15000, 'the first lines');

  // Last lines.
  let r = await logs(id, '?lines=680');
  assert.strictEqual(r.status, 200, r.text);
  let lines = markedLines(r.json.text, r.json.stderr);
  assert.strictEqual(lines.length, 680);
  checkMarks(lines, 'tail');
  assert.strictEqual(lines.filter((l) => l.err).length, 340);
  // Each stream in its own order, always.
  const order = lines.map((l) => l.line);
  for (const re of [/^out (\d+)$/, /^err (\d+)$/]) {
    const nums = order.filter((l) => re.test(l)).map((l) => Number(re.exec(l)[1]));
    assert.deepStrictEqual(nums, Array.from({ length: 300 }, (_, k) => k + 1));
  }
  // Between the streams, as the task wrote them when it writes at a
  // human pace: "err pN" right after "out pN" (the relay is woken by
  // each write; only what both pipes hold at once has no known order).
  const misplaced = order.filter((l, k) => /^err p(\d+)$/.test(l) && order[k - 1] !== 'out p' + l.slice(5));
  // (A machine busy enough to leave the relay unscheduled for 20 ms can
  // still let two lines meet in the pipes: a few are allowed.)
  assert.ok(misplaced.length <= 8, `${misplaced.length} of 40 paced stderr lines out of place: ${misplaced.slice(0, 5)}`);

  // A search: its matches keep their marks.
  r = await logs(id, '?q=' + encodeURIComponent(' 29') + '&lines=100');
  assert.strictEqual(r.status, 200, r.text);
  lines = markedLines(r.json.text, r.json.stderr);
  assert.strictEqual(lines.length, 22); // out/err 29, 290..299
  checkMarks(lines, 'search');

  // Follow, then the burst: every byte arrives, every line marked right.
  const first = await logs(id, '?follow=1&lines=10');
  assert.strictEqual(first.status, 200, first.text);
  checkMarks(markedLines(first.json.text, first.json.stderr), 'follow start');
  fs.writeFileSync(go, '');
  let seq = first.json.seq, got = [], bytes = 0;
  const end = Date.now() + 60000;
  // (Which of the two pipes' last lines lands last is not known.)
  while (Date.now() < end && !(got.some((l) => l.line === 'out end') && got.some((l) => l.line === 'err end'))) {
    r = await logs(id, `?request=${first.json.request}&after=${seq}`);
    assert.strictEqual(r.status, 200, r.text.slice(0, 300));
    if (r.json.seq !== null) seq = r.json.seq;
    if (r.json.text) {
      assert.ok(r.json.text.endsWith('\n'), 'a follow answer ends on a line');
      got = got.concat(markedLines(r.json.text, r.json.stderr));
      bytes += Buffer.byteLength(r.json.text);
    }
  }
  assert.ok(bytes > 2 * 1024 * 1024, `followed ${bytes} bytes`);
  assert.strictEqual(got.filter((l) => l.line.startsWith('burst-err ')).length, 11000);
  assert.strictEqual(got.filter((l) => l.line.startsWith('burst-out ')).length, 11000);
  checkMarks(got, 'follow');

  // The whole file against its index; a search of the burst.
  checkPart(file);
  r = await logs(id, '?q=burst-err%200100&lines=5000');
  lines = markedLines(r.json.text, r.json.stderr);
  assert.strictEqual(r.json.matches, 100);
  assert.ok(lines.every((l) => l.err), 'every burst-err match is marked');
  r = await logs(id, '?q=burst-out%200100&lines=5000');
  lines = markedLines(r.json.text, r.json.stderr);
  assert.ok(lines.length === 100 && lines.every((l) => !l.err), 'no burst-out match is marked');
  // The download stays the file's plain text.
  const d = await fetch(`${s.yard.url}/api/v1/tasks/${id}/logs?download=1`,
    { headers: { authorization: 'Bearer ' + admin } });
  assert.strictEqual(await d.text(), fs.readFileSync(file, 'utf8'));
});

test('the agent killed while the task writes: nothing lost, no SIGPIPE, marks still right', async () => {
  const stop = path.join(s.dir, 'streams-stop');
  const id = await kit.console('writer',
    `i=0; while [ ! -e ${stop} ]; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; ` +
    'case $i in *00) sleep 0.05;; esac; done; echo "out finished $i"; exec sleep 300');
  assert.strictEqual((await kit.run('start', id)).state, 'succeeded');
  const file = kit.logPath(id);
  await waitFor(() => fs.existsSync(file) && fs.statSync(file).size > 20000, 10000, 'writing');
  const pid = kit.markedPids(id)[0];
  assert.ok(pid, 'the task runs');

  await agent.stop('SIGKILL');
  const size0 = fs.statSync(file).size;
  await sleep(1500);
  // No agent: the task went on writing (its relay is not the agent's).
  assert.ok(fs.statSync(file).size > size0 + 10000, 'the task wrote on while no agent ran');
  assert.ok(fs.existsSync(`/proc/${pid}`), 'the task is alive');
  agent.start();
  await waitFor(() => /task \d+: adopted pid/.test(agent.logText()), 15000, 'adoption');
  await sleep(500);
  fs.writeFileSync(stop, '');
  await waitFor(() => /out finished \d+/.test(fs.readFileSync(file, 'utf8')), 10000, 'finished');
  assert.ok(fs.existsSync(`/proc/${pid}`), 'the task was not killed by SIGPIPE');
  assert.strictEqual((await kit.task(id)).state, 'running');

  // Every line, on both streams, exactly once, in order per stream.
  const text = checkPart(file);
  const n = Number(/out finished (\d+)/.exec(text)[1]);
  const outs = text.split('\n').filter((l) => /^out \d+$/.test(l));
  const errs = text.split('\n').filter((l) => /^err \d+$/.test(l));
  assert.strictEqual(outs.length, n);
  assert.strictEqual(errs.length, n);
  assert.ok(outs.every((l, k) => l === `out ${k + 1}`) && errs.every((l, k) => l === `err ${k + 1}`),
    'each stream complete and in order');
  // And the API, from the restarted agent.
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    10000, 'node online again');
  const r = await logs(id, '?lines=3000');
  assert.strictEqual(r.status, 200, r.text);
  const lines = markedLines(r.json.text, r.json.stderr);
  checkMarks(lines.filter((l) => !l.line.startsWith('out finished')), 'tail after restart');
  assert.ok(lines.filter((l) => l.err).length > 1000);
  assert.strictEqual((await kit.run('stop', id)).state, 'succeeded');
});

test('the relay rotates the log past limits.log_bytes; every part keeps its marks', async () => {
  const small = await s.agent('streams-small', undefined, null, { policy: { limits: { log_bytes: 65536 } } });
  const k2 = taskKit(s, admin, small);
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${small.nodeId}`, { token: admin })).json.status === 'online',
    10000, 'node online');
  try {
    const id = await k2.console('rotating', `${burst(2500)}; echo "out end"; echo "err end" >&2; exec sleep 300`);
    assert.strictEqual((await k2.run('start', id)).state, 'succeeded');
    const file = k2.logPath(id);
    await waitFor(() => fs.existsSync(file) && /out end[^]*err end|err end[^]*out end/.test(fs.readFileSync(file, 'utf8')),
      15000, 'written');
    // ~500 KB at 64 KiB a part: 5 old parts kept, each with its index.
    let all = '';
    for (let i = 5; i >= 1; i--) {
      assert.ok(fs.existsSync(`${file}.${i}`) && fs.existsSync(`${file}.${i}.stderr`), `part ${i} and its index`);
      assert.ok(fs.statSync(`${file}.${i}`).size <= 65536 + 4096, `part ${i} is bounded`);
      all += checkPart(`${file}.${i}`);
    }
    all += checkPart(file);
    // Nothing lost between the kept parts: numbers run on.
    const nums = all.split('\n').filter((l) => l.startsWith('burst-err ')).map((l) => Number(l.split(' ')[1]));
    assert.ok(nums.every((v, k) => k === 0 || v === nums[k - 1] + 1), 'the kept parts follow each other');
    assert.strictEqual(nums[nums.length - 1], 2500);
    // The last lines reach into part 1; a search runs over every part.
    let r = await s.api('GET', `/api/v1/tasks/${id}/logs?lines=1000`, { token: admin });
    checkMarks(markedLines(r.json.text, r.json.stderr), 'tail across parts');
    r = await s.api('GET', `/api/v1/tasks/${id}/logs?q=burst&lines=5000`, { token: admin });
    const lines = markedLines(r.json.text, r.json.stderr);
    assert.ok(lines.length > 500, `${lines.length} matches`);
    checkMarks(lines, 'search across parts');
  } finally {
    k2.killAll();
  }
});

test('a start that fails at once shows the stderr it wrote last', async () => {
  // The relay writes what the task wrote just before it ended: the agent
  // waits for it before it reads the last lines.
  for (let i = 0; i < 3; i++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const id = await kit.console(`failing${i}`, 'echo "out before"; echo "fatal: no config file" >&2; exit 3',
      { health: { path: '/', port, interval: 1, timeout: 1 }, restart: { policy: 'never' } });
    const d = await kit.run('start', id);
    assert.strictEqual(d.state, 'failed', d.output);
    assert.match(d.output, /the last lines of its log:\nout before\nfatal: no config file/, d.output);
    const r = await logs(id, '?lines=10');
    const lines = markedLines(r.json.text, r.json.stderr);
    assert.deepStrictEqual(lines.map((l) => [l.line, l.err]), [['out before', false], ['fatal: no config file', true]]);
  }
});
