// Task logs through the whole path: browser API -> log request -> the
// agent's long-poll -> chunks POSTed back -> the parked browser request.
// Last lines, search, follow (under a second), download, configured log
// files, rotation while following, and every refusal.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

let s, admin, agent, kit, createTask, run;
test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('logs-admin');
  agent = await s.agent('logger');
  kit = taskKit(s, admin, agent);
  createTask = (name, script, over = {}) => kit.console(name, script, Object.assign({ stop_grace: 2 }, over));
  run = kit.run;
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    10000, 'node online');
});
test.after(async () => {
  if (kit) kit.killAll();
  await s.stop();
});

const logs = (id, qs = '', token = admin) => s.api('GET', `/api/v1/tasks/${id}/logs${qs}`, { token });
const logPath = (id) => path.join(agent.state, 'logs', `${id}.log`);

let counter;
test('last lines and search of a running task', async () => {
  counter = await createTask('counter',
    'i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo "line $i"; done; echo "ERROR boom"; exec sleep 300');
  assert.strictEqual((await run('start', counter)).state, 'succeeded');
  await waitFor(() => fs.existsSync(logPath(counter)) && /boom/.test(fs.readFileSync(logPath(counter), 'utf8')),
    10000, 'the task wrote its lines');

  let r = await logs(counter, '?lines=5');
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.text, 'line 497\nline 498\nline 499\nline 500\nERROR boom\n');
  assert.strictEqual(r.json.file, 'stdout');
  assert.deepStrictEqual(r.json.files, ['stdout']);
  assert.strictEqual(r.json.ended, true);
  assert.ok(r.json.size > 3000, JSON.stringify(r.json));
  // When the server received that text (epoch ms; the page's line times).
  assert.ok(Number.isInteger(r.json.at) && Math.abs(r.json.at - Date.now()) < 60000, JSON.stringify(r.json));
  assert.match(r.headers.get('cache-control'), /no-store/);

  r = await logs(counter, '?q=error&lines=10');
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.text, 'ERROR boom\n');
  assert.strictEqual(r.json.matches, 1);

  // The last 3 of the 11 lines mentioning "line 4" followed by a digit... simpler: "line 49".
  r = await logs(counter, '?q=' + encodeURIComponent('LINE 49') + '&lines=3');
  assert.strictEqual(r.json.matches, 11); // 49, 490..499
  assert.strictEqual(r.json.text, 'line 497\nline 498\nline 499\n');
});

test('follow: an appended line reaches the browser in under a second', async () => {
  const id = await createTask('ticker', 'echo ready; while read x; do :; done < /dev/null; exec sleep 300');
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  await waitFor(() => fs.existsSync(logPath(id)) && fs.readFileSync(logPath(id), 'utf8').includes('ready'), 10000, 'ready');

  const first = await logs(id, '?follow=1&lines=10');
  assert.strictEqual(first.status, 200, first.text);
  assert.strictEqual(first.json.text, 'ready\n');
  assert.strictEqual(first.json.ended, false);
  assert.match(first.json.request, /^[0-9a-f-]{36}$/);
  let seq = first.json.seq;

  // Something appends to the task's log (as the task itself would).
  const delays = [];
  for (let i = 0; i < 3; i++) {
    const poll = logs(id, `?request=${first.json.request}&after=${seq}`);
    await sleep(300);
    const t0 = Date.now();
    fs.appendFileSync(logPath(id), `appended ${i}\n`);
    const r = await poll;
    assert.strictEqual(r.status, 200, r.text);
    assert.ok(r.json.at >= t0 - 1000, JSON.stringify(r.json));
    assert.strictEqual(r.json.text, `appended ${i}\n`);
    assert.ok(r.json.seq > seq);
    seq = r.json.seq;
    delays.push(Date.now() - t0);
  }
  assert.ok(Math.max(...delays) < 1000, `follow delays ${delays}`);

  // Rotation (copy-truncate) while following: the new part is read from its start.
  fs.truncateSync(logPath(id), 0);
  fs.appendFileSync(logPath(id), 'after rotation\n');
  const r = await logs(id, `?request=${first.json.request}&after=${seq}`);
  assert.strictEqual(r.json.text, 'after rotation\n');

  // Another user cannot read someone else's follow.
  const other = s.adminToken('logs-other-admin');
  assert.strictEqual((await logs(id, `?request=${first.json.request}&after=0`, other)).status, 404);
});

test('following an empty log answers at once, then waits for lines', async () => {
  const id = await createTask('silent', 'exec sleep 300');
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  let t0 = Date.now();
  const first = await logs(id, '?follow=1');
  assert.strictEqual(first.status, 200, first.text);
  assert.strictEqual(first.json.text, '');
  assert.ok(Date.now() - t0 < 2000, `first answer took ${Date.now() - t0} ms`);
  const poll = logs(id, `?request=${first.json.request}&after=${first.json.seq}`);
  await sleep(500);
  t0 = Date.now();
  fs.appendFileSync(logPath(id), 'finally\n');
  const r = await poll;
  assert.strictEqual(r.json.text, 'finally\n');
  assert.ok(Date.now() - t0 < 1000);
});

test('download: the whole file as text/plain', async () => {
  const r = await fetch(`${s.yard.url}/api/v1/tasks/${counter}/logs?download=1`,
    { headers: { authorization: 'Bearer ' + admin } });
  assert.strictEqual(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.match(r.headers.get('content-disposition'), /^attachment; filename="task-\d+\.log"$/);
  const body = await r.text();
  assert.strictEqual(body, fs.readFileSync(logPath(counter), 'utf8'));
  assert.strictEqual(body.split('\n').length, 502);
});

test('download of a file larger than one chunk arrives whole', async () => {
  const id = await createTask('big', 'exec sleep 300');
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  const line = 'x'.repeat(99) + '\n';
  fs.appendFileSync(logPath(id), line.repeat(3000)); // 300 KB: 4 chunks
  const want = fs.readFileSync(logPath(id), 'utf8');
  // Several times: the last chunk and "done" land together, and a read
  // racing with them once saw "done" without the chunk.
  for (let i = 0; i < 15; i++) {
    const r = await fetch(`${s.yard.url}/api/v1/tasks/${id}/logs?download=1`,
      { headers: { authorization: 'Bearer ' + admin } });
    assert.strictEqual(r.status, 200);
    const body = await r.text();
    assert.strictEqual(body.length, want.length, `download ${i}`);
    assert.strictEqual(body, want);
  }
});

test('configured log files are listed and readable; others are not', async () => {
  const dir = path.join(s.dir, 'deploy', 'withfiles');
  const id = await createTask('withfiles', 'mkdir -p logs; echo "app started" > logs/app.log; exec sleep 300',
    { log_files: ['logs/*.log'] });
  assert.strictEqual((await run('start', id)).state, 'succeeded');
  await waitFor(() => fs.existsSync(path.join(dir, 'logs', 'app.log')), 10000, 'app.log');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'not a log\n');
  fs.symlinkSync('/etc/passwd', path.join(dir, 'logs', 'passwd.log'));

  // A link out of the deploy directory is not one of its files.
  let r = await logs(id, '');
  assert.deepStrictEqual(r.json.files.sort(), ['logs/app.log', 'stdout']);
  r = await logs(id, '?file=logs/app.log');
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.text, 'app started\n');
  // A file no glob matches, and a link out of the tree.
  r = await logs(id, '?file=secret.txt');
  assert.strictEqual(r.status, 404, r.text);
  assert.match(r.json.message, /not one of the task's log files/);
  r = await logs(id, '?file=logs/passwd.log');
  assert.strictEqual(r.status, 409, r.text);
  assert.match(r.json.message, /^policy: logs\/passwd\.log resolves outside the task's deploy directory/);
  assert.doesNotMatch(r.text, /root:/);
});

test('bad requests are refused before anything is asked of the agent', async () => {
  const before = s.sql('SELECT count(*) FROM log_requests');
  for (const [qs, field] of [
    ['?file=../../etc/passwd', 'file'], ['?file=/etc/passwd', 'file'], ['?file=a//b', 'file'],
    ['?lines=0', 'lines'], ['?lines=5001', 'lines'], ['?q=' + 'x'.repeat(201), 'q'],
    ['?follow=1&download=1', 'download'], ['?request=nope', 'request'], ['?after=x', 'after'],
  ]) {
    const r = await logs(counter, qs);
    assert.strictEqual(r.status, 400, qs + ' ' + r.text);
    assert.strictEqual(r.json.field, field, qs);
  }
  assert.strictEqual(s.sql('SELECT count(*) FROM log_requests'), before);
  assert.strictEqual((await logs(987654, '')).status, 404);
  assert.strictEqual((await s.api('GET', `/api/v1/tasks/${counter}/logs`)).status, 401);
  assert.strictEqual((await s.api('POST', `/api/v1/tasks/${counter}/logs`, { token: admin })).status, 405);
});

test('only users who may operate the task read its logs; viewers get 403', async () => {
  const reader = s.token('logs-viewer');
  await s.api('GET', '/api/v1/me', { token: reader });
  assert.strictEqual((await logs(counter, '', reader)).status, 404);
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = 'logs-viewer'`));
  const before = s.sql('SELECT count(*) FROM log_requests');
  let g = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, task_id: counter, level: 'view' } });
  assert.strictEqual(g.status, 201, g.text);
  let r = await logs(counter, '?lines=1', reader);
  assert.strictEqual(r.status, 403, r.text);
  assert.match(r.json.message, /not operate it/);
  r = await logs(counter, '?download=1', reader);
  assert.strictEqual(r.status, 403, r.text);
  assert.strictEqual(s.sql('SELECT count(*) FROM log_requests'), before, 'nothing asked of the agent');
  g = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, task_id: counter, level: 'operate' } });
  assert.strictEqual(g.status, 200, g.text);
  r = await logs(counter, '?lines=1', reader);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.text, 'ERROR boom\n');
});

test('bad chunks from an agent are refused and change nothing', async () => {
  const secret = JSON.parse(fs.readFileSync(path.join(agent.state, 'node.json'), 'utf8')).secret;
  const auth = `YardNode ${agent.nodeId}:${secret}`;
  const id = s.sql(`INSERT INTO log_requests (node_id, task_id, user_id, mode, file, lines, wanted_until)
    SELECT ${agent.nodeId}, ${counter}, min(id), 'tail', 'stdout', 10, now() + interval '1 minute' FROM users RETURNING id`);
  const post = (body, who = auth) => fetch(`${s.yard.url}/agent/v1/logs/${id}`, {
    method: 'POST', headers: { authorization: who, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  for (const b of [
    '{', { v: 1 }, { v: 1, seq: -1, data: '', size: 0 }, { v: 1, seq: 0, data: 7, size: 0 },
    { v: 1, seq: 0, data: 'x', size: 0, files: ['../x'] }, { v: 1, seq: 0, data: 'x', size: 0, done: 'yes' },
    { v: 2, seq: 0, data: 'x', size: 0 }, { v: 1, seq: 0, data: 'x'.repeat(140 * 1024), size: 0 },
  ]) {
    const r = await post(b);
    assert.strictEqual(r.status, 400, JSON.stringify(b).slice(0, 80));
  }
  assert.strictEqual((await post({ v: 1, seq: 0, data: 'x', size: 1 }, `YardNode ${agent.nodeId}:${'A'.repeat(43)}`)).status, 401);
  assert.strictEqual(s.sql(`SELECT count(*) FROM log_chunks WHERE request_id = '${id}'`), '0');
  // Another node's request is not found.
  const r = await fetch(`${s.yard.url}/agent/v1/logs/00000000-0000-4000-8000-000000000000`, {
    method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, seq: 0, data: '', size: 0 }),
  });
  assert.strictEqual(r.status, 404);
  const ok = await post({ v: 1, seq: 0, data: 'fine\n', size: 5, done: true });
  assert.strictEqual(ok.status, 200);
  assert.deepStrictEqual(await ok.json(), { v: 1, follow: false });
});

test('an offline node answers 409 at once', async () => {
  await agent.stop();
  await sleep(2500); // its last heartbeat is flushed
  s.sql(`UPDATE nodes SET last_seen = now() - interval '1 hour' WHERE id = ${agent.nodeId}`);
  const t0 = Date.now();
  const r = await logs(counter, '');
  assert.strictEqual(r.status, 409, r.text);
  assert.strictEqual(r.json.error, 'node_offline');
  assert.ok(Date.now() - t0 < 1000);
  agent.start();
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    10000, 'node online again');
  assert.strictEqual((await logs(counter, '?lines=1')).status, 200);
});
