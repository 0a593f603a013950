// /metrics for operators: instance-wide counters whichever worker answers,
// refused sign-ins with their reason (header, JSON, log, metric), gauges
// that match PostgreSQL, the dispatch histogram, parked long-polls, and
// the text checked by promtool (scripts/install-deps.sh puts it in .deps/).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const { startStack } = require('../lib/stack.js');
const jwt = require('../lib/jwt.js');

const PROMTOOL = path.join(__dirname, '..', '..', '.deps', 'promtool');

let s;
test.before(async () => { s = await startStack({ env: {
    YARD_WORKERS: '2', YARD_WORKER_MAX_CONNECTIONS: '64', YARD_HTTP_REQUEST_LIMIT: '64',
  } }); });
test.after(async () => { await s.stop(); });

// A GET on a connection of its own, so that either worker may take it.
function get(p, headers = {}) {
  return getOn(null, p, headers);
}

// The scrape as { 'name{labels}': number }.
function parse(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(m, 'bad sample line: ' + line);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

async function scrape() {
  const r = await get('/metrics');
  assert.strictEqual(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return { text: r.text, m: parse(r.text) };
}

function sumOf(m, prefix) {
  return Object.entries(m).filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
}

// A GET on the keep-alive connection of agent (null: a connection of its own).
function getOn(agent, p, headers = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(s.yard.url + p);
    const req = http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search,
      headers, agent: agent || false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: body }));
    });
    req.on('error', reject);
  });
}

// One keep-alive connection held by each worker.  Kore's accept lock may
// leave a worker idle for a while, so open connections until each worker
// holds one (/metrics names the worker that answers), keeping the others
// open meanwhile so that the busy worker fills up.
async function perWorker() {
  const found = new Map();
  const extra = [];
  for (let i = 0; i < 200 && found.size < 2; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const m = /^yard_scrape_worker (\d+)$/m.exec((await getOn(agent, '/metrics')).text);
    assert.ok(m, 'the worker of a connection');
    if (found.has(m[1])) extra.push(agent); else found.set(m[1], agent);
  }
  extra.forEach((a) => a.destroy());
  assert.strictEqual(found.size, 2, 'connections to both workers');
  return [...found.values()];
}

function workersOf(log) {
  return new Set([...log.matchAll(/\[wrk (\d+)\]: signin: refused/g)].map((x) => x[1]));
}

// The log's lines that were added after `from` characters.
function logSince(from) {
  return s.yard.logText().slice(from);
}

function refusals() {
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const good = s.token('refused-u');
  const [h, p] = good.split('.');
  return [
    { reason: 'expired', error: 'token_expired',
      token: s.token('refused-u', { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200, nbf: Math.floor(Date.now() / 1000) - 7200 }) },
    { reason: 'bad_audience', error: 'invalid_token', token: s.token('refused-u', { aud: 'someone-else' }) },
    { reason: 'bad_signature', error: 'invalid_token',
      token: h + '.' + p + '.' + jwt.b64u(crypto.randomBytes(256)) },
    { reason: 'unknown_kid', error: 'invalid_token',
      token: jwt.sign({ alg: 'RS256', typ: 'JWT', kid: 'no-such-key' }, jwt.claims({ sub: 'refused-u' }), other.privateKey) },
    { reason: 'too_large', error: 'invalid_token',
      token: s.token('refused-u', { pad: 'x'.repeat(9000) }) },
    { reason: 'missing_token', error: 'missing_token', token: null },
  ];
}

async function checkRefusal(c) {
  const before = (await scrape()).m;
  const from = s.yard.logText().length;
  const r = await get('/api/v1/me', c.token ? { authorization: 'Bearer ' + c.token } : {});
  assert.strictEqual(r.status, 401, c.reason);
  assert.strictEqual(r.headers['www-authenticate'],
    `Bearer error="invalid_token", error_description="${c.reason}"`);
  const j = JSON.parse(r.text);
  assert.strictEqual(j.error, c.error, c.reason);
  assert.strictEqual(j.reason, c.reason);
  assert.ok(j.message.startsWith(c.reason + ': ') && j.message.length > c.reason.length + 5, j.message);
  assert.ok(j.login_url.startsWith('http://127.0.0.1:1/login?'), j.login_url);
  // The log line, without the token or any part of it.
  let log = '';
  for (let i = 0; i < 50 && !log.includes('signin: refused'); i++) {
    await new Promise((res) => setTimeout(res, 100));
    log = logSince(from);
  }
  const line = log.split('\n').find((l) => l.includes('signin: refused'));
  assert.ok(line, 'no log line for ' + c.reason);
  assert.match(line, new RegExp(`signin: refused from 127\\.0\\.0\\.1: ${c.reason}( |$)`));
  if (c.token) {
    assert.ok(!log.includes(c.token), 'the token is in the log');
    for (const part of c.token.split('.')) {
      if (part.length > 16) assert.ok(!log.includes(part), 'a part of the token is in the log: ' + c.reason);
    }
  }
  const after = (await scrape()).m;
  const k = `yard_signin_total{result="${c.reason}"}`;
  assert.strictEqual(after[k] - before[k], 1, k);
  return line;
}

test('each refusal says its reason: header, JSON, one log line without the token, the metric', async () => {
  for (const c of refusals()) await checkRefusal(c);
});

test('a token of type JOSE is refused as bad_typ', async () => {
  await checkRefusal({ reason: 'bad_typ', error: 'invalid_token',
    token: jwt.sign({ alg: 'RS256', typ: 'JOSE' }, jwt.claims({ sub: 'refused-u' }), s.keys.rsa.privateKey) });
});

test('the log line names what the token showed, unverified when the signature did not verify', async () => {
  let line = await checkRefusal({ reason: 'bad_audience', error: 'invalid_token',
    token: s.token('seen-sub', { aud: 'someone-else' }) });
  assert.match(line, / iss="test-ews"/);
  assert.match(line, / sub="seen-sub"/);
  assert.match(line, / alg="RS256"/);
  assert.doesNotMatch(line, /unverified/);
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  line = await checkRefusal({ reason: 'unknown_kid', error: 'invalid_token',
    token: jwt.sign({ alg: 'RS256', typ: 'JWT', kid: 'kid-42' }, jwt.claims({ sub: 'forged' }), other.privateKey) });
  assert.match(line, / kid="kid-42"/);
  assert.match(line, / sub="forged"/);
  assert.match(line, /unverified/);
});

test('the counters are the instance\'s: they rise with requests whichever worker answers', async () => {
  const before = (await scrape()).m;
  const from = s.yard.logText().length;
  const N = 24;
  const t = s.token('counted');
  const agents = await perWorker();
  for (let i = 0; i < N; i++) {
    // Half on one worker, half on the other.
    const a = agents[i < N / 2 ? 0 : 1];
    assert.strictEqual((await getOn(a, '/healthz')).status, 200);
    const r = await getOn(a, '/api/v1/me', { authorization: 'Bearer ' + t });
    assert.strictEqual(r.status, 200, r.text);
    if (i === 0 || i === N - 1) assert.strictEqual((await getOn(a, '/api/v1/me')).status, 401);
  }
  agents.forEach((a) => a.destroy());
  assert.deepStrictEqual([...workersOf(logSince(from))].sort(), ['1', '2'], 'both workers served requests');
  let prev = null;
  for (let i = 0; i < 8; i++) {
    const { m } = await scrape();
    assert.ok(m['yard_http_requests_total{class="health",code="200"}'] -
      (before['yard_http_requests_total{class="health",code="200"}'] || 0) >= N);
    assert.strictEqual(m['yard_http_requests_total{class="api",code="200"}'] -
      (before['yard_http_requests_total{class="api",code="200"}'] || 0), N, 'every request counted once');
    assert.strictEqual(m['yard_http_requests_total{class="api",code="401"}'] -
      (before['yard_http_requests_total{class="api",code="401"}'] || 0), 2);
    assert.strictEqual(m['yard_signin_total{result="ok"}'] - before['yard_signin_total{result="ok"}'], N);
    assert.strictEqual(m['yard_signin_total{result="missing_token"}'] -
      before['yard_signin_total{result="missing_token"}'], 2);
    if (prev !== null) {
      for (const [k, v] of Object.entries(prev)) {
        if (/_total|_bucket|_count|_sum/.test(k)) assert.ok(m[k] >= v, `${k} went down: ${v} -> ${m[k]}`);
      }
      // Only the scrapes themselves (health) happen meanwhile.
      for (const k of Object.keys(m).filter((x) => x.startsWith('yard_signin_total'))) {
        assert.strictEqual(m[k], prev[k], k + ' differs between scrapes');
      }
    }
    prev = m;
  }
});

async function handNode(name) {
  const e = await s.api('POST', '/api/v1/enrollments', { token: s.adminToken('metrics-admin') });
  assert.strictEqual(e.status, 201, e.text);
  const r = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: {
      hostname: name, os: 'Debian', kernel: '6.1', arch: 'x86_64', cpus: 2, mem_total: 8e9,
      boot_id: 'b0a7c0de-0000-4000-8000-0000000000' + String(Math.floor(Math.random() * 90) + 10),
      uptime: 100, agent_version: '0.1.0',
    } }),
  });
  assert.strictEqual(r.status, 201);
  const j = await r.json();
  return { id: j.node_id, auth: `YardNode ${j.node_id}:${j.secret}` };
}

test('node, task and command gauges are what PostgreSQL holds', async () => {
  const n = (name, extra) => Number(s.sql(`INSERT INTO nodes (name, hostname${extra ? ', ' + extra[0] : ''})
    VALUES ('${name}', '${name}'${extra ? ', ' + extra[1] : ''}) RETURNING id`));
  const online = n('g-online', ['last_seen', 'now()']);
  n('g-new');
  n('g-lost', ['last_seen', "now() - interval '2 days'"]);
  n('g-offline', ['last_seen', "now() - interval '60 seconds'"]);
  n('g-revoked', ['revoked_at', 'now()']);
  for (const [name, state] of [['a', 'running'], ['b', 'running'], ['c', 'stopped'], ['d', 'failed']]) {
    s.sql(`INSERT INTO tasks (node_id, name, kind, spec, state) VALUES (${online}, 'g-${name}', 'console', '{}', '${state}')`);
  }
  for (const [type, state, age] of [['restart', 'queued', '1 minute'], ['restart', 'succeeded', '1 hour'],
    ['start', 'failed', '2 hours'], ['restart', 'succeeded', '3 days']]) {
    s.sql(`INSERT INTO commands (type, node_id, state, issued_at, deadline)
      VALUES ('${type}', ${online}, '${state}', now() - interval '${age}', now() + interval '1 hour')`);
  }
  const { m } = await scrape();
  const want = {};
  for (const row of s.sql(`SELECT yard_node_status(revoked_at, last_seen, 15, 600), count(*) FROM nodes GROUP BY 1`).split('\n')) {
    const [k, v] = row.split('|');
    want[`yard_nodes{presence="${k}"}`] = Number(v);
  }
  for (const row of s.sql('SELECT state, count(*) FROM tasks GROUP BY 1').split('\n')) {
    const [k, v] = row.split('|');
    want[`yard_tasks{state="${k}"}`] = Number(v);
  }
  for (const row of s.sql(`SELECT type, state, count(*) FROM commands
      WHERE issued_at > now() - interval '24 hours' GROUP BY 1, 2`).split('\n')) {
    const [t, k, v] = row.split('|');
    want[`yard_commands_recent{type="${t}",state="${k}"}`] = Number(v);
  }
  const got = Object.fromEntries(Object.entries(m).filter(([k]) =>
    /^yard_(nodes|tasks|commands_recent)\{/.test(k)));
  assert.deepStrictEqual(got, want);
  for (const p of ['online', 'enrolled', 'lost', 'offline', 'revoked']) assert.strictEqual(got[`yard_nodes{presence="${p}"}`] >= 1, true, p);
  assert.strictEqual(got['yard_tasks{state="running"}'], 2);
  assert.strictEqual(got['yard_commands_recent{type="restart",state="succeeded"}'], 1, 'the 3-day-old one is not counted');
});

test('dispatch latency is observed once per command; parked long-polls are counted', async () => {
  const node = await handNode('metrics-hand');
  const before = (await scrape()).m;
  for (let i = 0; i < 2; i++) {
    s.sql(`INSERT INTO commands (type, node_id, issued_at, deadline)
      VALUES ('restart', ${node.id}, now() - interval '3 seconds', now() + interval '1 hour')`);
  }
  let r = await get('/agent/v1/commands?after=0&wait=0', { authorization: node.auth });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(JSON.parse(r.text).commands.length, 2);
  // Handed out again (not acknowledged): not observed twice.
  r = await get('/agent/v1/commands?after=0&wait=0', { authorization: node.auth });
  assert.strictEqual(r.status, 200);
  const after = (await scrape()).m;
  const d = (k) => after[k] - (before[k] || 0);
  assert.strictEqual(d('yard_command_dispatch_seconds_count'), 2);
  assert.strictEqual(d('yard_command_dispatch_seconds_bucket{le="2.5"}'), 0);
  assert.strictEqual(d('yard_command_dispatch_seconds_bucket{le="5"}'), 2);
  assert.strictEqual(d('yard_command_dispatch_seconds_bucket{le="+Inf"}'), 2);
  assert.ok(d('yard_command_dispatch_seconds_sum') >= 6 && d('yard_command_dispatch_seconds_sum') < 10);

  // A long-poll with nothing to hand out parks; the gauge shows it
  // (whichever worker holds it) and drops when it returns.
  const last = Number(s.sql(`SELECT max(seq) FROM commands WHERE node_id = ${node.id}`));
  const poll = get(`/agent/v1/commands?after=${last}&wait=3`, { authorization: node.auth });
  let parked = 0;
  for (let i = 0; i < 20 && parked < 1; i++) {
    await new Promise((res) => setTimeout(res, 100));
    parked = (await scrape()).m['yard_parked_requests{kind="agent"}'];
  }
  assert.strictEqual(parked, 1);
  r = await poll;
  assert.strictEqual(r.status, 204);
  assert.strictEqual((await scrape()).m['yard_parked_requests{kind="agent"}'], 0);
  assert.ok(sumOf(after, 'yard_http_requests_total{class="agent"') >= 2);
});

test('PostgreSQL and Redis are up, and promtool finds nothing wrong', async () => {
  for (let i = 0; i < 6; i++) {
    const { text, m } = await scrape();
    assert.strictEqual(m.yard_postgres_up, 1);
    assert.strictEqual(m.yard_redis_up, 1);
    assert.strictEqual(m.yard_jwks_configured, 0);
    assert.ok(m['yard_token_cache_misses_total'] >= 1);
    if (i === 0) {
      assert.ok(fs.existsSync(PROMTOOL), 'run scripts/install-deps.sh: ' + PROMTOOL + ' is missing');
      let out;
      try {
        out = execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        assert.fail('promtool: ' + e.stdout + e.stderr);
      }
      assert.strictEqual(out.trim(), '', 'promtool: ' + out);
    }
  }
  // Redis is counted per worker: its /readyz agrees.
  const r = await get('/readyz');
  assert.strictEqual(r.status, 200);
});

test('the token cache counts hits', async () => {
  const t = s.token('cache-user');
  const before = (await scrape()).m;
  for (let i = 0; i < 6; i++) assert.strictEqual((await get('/api/v1/me', { authorization: 'Bearer ' + t })).status, 200);
  const after = (await scrape()).m;
  const hits = after.yard_token_cache_hits_total - before.yard_token_cache_hits_total;
  const misses = after.yard_token_cache_misses_total - before.yard_token_cache_misses_total;
  assert.strictEqual(hits + misses, 6);
  assert.ok(misses <= 2 && hits >= 4, `hits ${hits} misses ${misses}`);
  assert.strictEqual(after['yard_signin_total{result="ok"}'] - before['yard_signin_total{result="ok"}'], 6);
});

test('refusals are logged at most 10 per 10 s per worker, then how many were not', async () => {
  const from = s.yard.logText().length;
  const bad = s.token('flood', { aud: 'nope' });
  const before = (await scrape()).m['yard_signin_total{result="bad_audience"}'];
  const agents = await perWorker();
  for (let i = 0; i < 60; i++) {
    const r = await getOn(agents[i < 30 ? 0 : 1], '/api/v1/me', { authorization: 'Bearer ' + bad });
    assert.strictEqual(r.status, 401);
  }
  agents.forEach((a) => a.destroy());
  assert.strictEqual((await scrape()).m['yard_signin_total{result="bad_audience"}'] - before, 60);
  // Each worker tells of what it left out at its next 10 s tick.
  let lines, told, untold;
  for (let i = 0; i < 130; i++) {
    const log = logSince(from);
    lines = log.split('\n').filter((l) => /signin: refused/.test(l));
    told = [...log.matchAll(/\[wrk (\d+)\]: signin: (\d+) more refusals not logged/g)];
    untold = told.reduce((a, x) => a + Number(x[2]), 0);
    if (lines.length + untold >= 60) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const linesOf = {};
  for (const l of lines) {
    const w = /\[wrk (\d+)\]/.exec(l)[1];
    linesOf[w] = (linesOf[w] || 0) + 1;
  }
  // Half the flood went to each worker; the limit is per worker.
  const tellers = new Set(told.map((x) => x[1]));
  const workers = new Set([...Object.keys(linesOf), ...tellers]);
  assert.deepStrictEqual([...workers].sort(), ['1', '2'], 'both workers refused');
  for (const [w, n] of Object.entries(linesOf)) assert.ok(n <= 20, `worker ${w} logged ${n} lines`);
  assert.ok(untold > 0, 'no line about the refusals not logged');
  assert.ok(lines.length + untold >= 60, `${lines.length} logged + ${untold} told < 60`);
});

test('PostgreSQL down: yard_postgres_up 0 and the rest still answers; 1 again once it is back', async () => {
  const { pgProcs } = require('../lib/pgoutage.js');
  const t = await startStack({ privatePg: true });
  const pg = pgProcs(path.join(t.dir, 'pg'), t.pgPort, t.db);
  try {
    const scrapeT = async () => {
      const r = await fetch(t.yard.url + '/metrics');
      assert.strictEqual(r.status, 200);
      const text = await r.text();
      return { text, m: parse(text) };
    };
    assert.strictEqual((await scrapeT()).m.yard_postgres_up, 1);
    await pg.stop();
    const { text, m } = await scrapeT();
    assert.strictEqual(m.yard_postgres_up, 0);
    assert.ok(!Object.keys(m).some((k) => /^yard_(nodes|tasks|commands_recent)\{/.test(k)), 'no database gauges');
    assert.ok('yard_signin_total{result="ok"}' in m);
    const out = execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: 'pipe' });
    assert.strictEqual(out.trim(), '');
    await pg.start();
    let up = 0;
    for (let i = 0; i < 100 && up !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      up = (await scrapeT()).m.yard_postgres_up;
    }
    assert.strictEqual(up, 1);
  } finally {
    await t.stop();
  }
});
