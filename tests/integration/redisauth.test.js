// Redis with a password (requirepass) read from YARD_REDIS_PASSWORD_FILE:
// the right one works on every connection (readiness, the subscriber that
// carries permission changes between instances); a wrong one is an outage
// (logged, never the password, no busy loop) that heals once Redis takes
// it; an unusable file, or a password in the URL as well, stops start-up.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, redisServer, waitFor, sleep, TOP } = require('../lib/stack.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-redisauth-'));
fs.chmodSync(dir, 0o755);
const PASSWORD = 'rp-' + crypto.randomBytes(12).toString('hex');
const WRONG = 'wp-' + crypto.randomBytes(12).toString('hex');
const file = (name, text) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text, { mode: 0o600 });
  return f;
};
const good = file('good', PASSWORD + '\n');
const wrong = file('wrong', WRONG + '\n');
const empty = file('empty', '');
const newline = file('newline', '\n');

const redises = [];
test.after(() => {
  for (const r of redises) r.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// A Redis of our own that wants PASSWORD (set after start, so that no
// command line shows it).
async function lockedRedis(name) {
  const r = await redisServer(path.join(dir, name));
  redises.push(r);
  execFileSync('redis-cli', ['-p', String(r.port), 'CONFIG', 'SET', 'requirepass', PASSWORD]);
  return r;
}

function redisCli(port, ...args) {
  return execFileSync('redis-cli', ['-p', String(port), ...args], {
    encoding: 'utf8', env: Object.assign({}, process.env, { REDISCLI_AUTH: PASSWORD }),
  }).trim();
}

async function readyz(url) {
  const r = await fetch(url + '/readyz');
  return { status: r.status, json: await r.json() };
}

test('the right password file: ready, and a grant on one instance reaches another at once', async () => {
  const redis = await lockedRedis('redis-good');
  const s = await startStack({
    env: { YARD_REDIS_URL: `redis://127.0.0.1:${redis.port}/0`, YARD_REDIS_PASSWORD_FILE: good },
  });
  try {
    await waitFor(async () => (await readyz(s.yard.url)).status === 200, 8000, 'readyz 200');
    assert.strictEqual((await readyz(s.yard.url)).json.redis, 'ok');
    const other = await s.startAnother();
    await waitFor(async () => (await readyz(other.url)).status === 200, 8000, 'other readyz 200');
    // Both instances' workers are subscribed (2 workers each).
    await waitFor(async () => / 4$/.test(redisCli(redis.port, 'PUBSUB', 'NUMSUB', 'yard:authz').replace(/\n/g, ' ')),
      5000, 'four subscribers');

    s.sql(`INSERT INTO nodes (name, hostname) VALUES ('node-a', 'a.local')`);
    s.sql(`INSERT INTO tasks (node_id, name, kind) SELECT id, 'job-a', 'console' FROM nodes`);
    const taskId = Number(s.sql(`SELECT id FROM tasks WHERE name = 'job-a'`));
    const t = s.token('gina');
    const me = async () => (await fetch(other.url + '/api/v1/me', { headers: { authorization: 'Bearer ' + t } })).json();
    // Cached on the other instance, with no grant yet (every worker).
    for (let i = 0; i < 4; i++) assert.deepStrictEqual((await me()).grants, []);
    const uid = Number(s.sql(`SELECT id FROM users WHERE sub = 'gina'`));
    const r = await s.api('POST', '/api/v1/grants', {
      token: s.adminToken('root-admin'), body: { user_id: uid, task_id: taskId, level: 'view' },
    });
    assert.strictEqual(r.status, 201, r.text);
    // Well before the 5 s cache TTL: only the Redis message can do it.
    const t0 = Date.now();
    let got;
    do { got = await me(); } while (got.grants.length === 0 && Date.now() - t0 < 1000);
    assert.strictEqual(got.grants.length, 1, 'grant visible within 1 s');
    // The password in the URL still works (the same AUTH path).
    const inUrl = await s.startAnother({
      YARD_REDIS_PASSWORD_FILE: '', YARD_REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${redis.port}/0`,
    });
    await waitFor(async () => (await readyz(inUrl.url)).status === 200, 8000, 'URL password readyz 200');
    for (const log of [s.yard.logText(), other.logText(), inUrl.logText()]) {
      assert.ok(!log.includes(PASSWORD), 'the password is never logged');
      assert.doesNotMatch(log, /authentication failed|PING refused/);
    }
  } finally {
    await s.stop();
  }
});

test('a wrong password: Redis is down for Yard, logged without the password, no busy loop, heals', async () => {
  const redis = await lockedRedis('redis-wrong');
  const s = await startStack({
    env: { YARD_REDIS_URL: `redis://127.0.0.1:${redis.port}/0`, YARD_REDIS_PASSWORD_FILE: wrong },
  });
  try {
    await waitFor(() => /authentication failed/.test(s.yard.logText()), 5000, 'the log line');
    const line = s.yard.logText().split('\n').find((l) => /authentication failed/.test(l));
    assert.match(line, /redis: (command|subscriber): authentication failed \(password from YARD_REDIS_PASSWORD_FILE\): WRONGPASS/);
    // As when Redis is down: readyz 503 at once, the API answers.
    const r = await readyz(s.yard.url);
    assert.strictEqual(r.status, 503);
    assert.deepStrictEqual([r.json.status, r.json.redis], ['unavailable', 'down']);
    const me = await s.api('GET', '/api/v1/me', { token: s.token('alice') });
    assert.strictEqual(me.status, 200, me.text);
    // One attempt per connection a second, not a loop: 2 workers x 2
    // connections x 3 s is 12.
    const conns = () => Number(/total_connections_received:(\d+)/.exec(redisCli(redis.port, 'INFO', 'stats'))[1]);
    const c0 = conns();
    await sleep(3000);
    const n = conns() - c0 - 1; // less our own INFO
    assert.ok(n >= 4 && n <= 20, `${n} connections in 3 s`);
    // Not once per attempt either: a line per connection and worker.
    const lines = s.yard.logText().split('\n').filter((l) => /authentication failed/.test(l));
    assert.ok(lines.length <= 4, lines.join('\n'));
    const log = s.yard.logText();
    assert.ok(!log.includes(WRONG) && !log.includes(PASSWORD), 'no password in the log');
    // Redis is given the file's password: Yard recovers by itself.
    redisCli(redis.port, 'CONFIG', 'SET', 'requirepass', WRONG);
    await waitFor(async () => (await readyz(s.yard.url)).status === 200, 8000, 'ready after the fix');
    assert.deepStrictEqual(s.deaths(), []);
  } finally {
    await s.stop();
  }
});

test('no password file for a Redis that wants one: down, and the log says why', async () => {
  const redis = await lockedRedis('redis-none');
  const s = await startStack({ env: { YARD_REDIS_URL: `redis://127.0.0.1:${redis.port}/0` } });
  try {
    await waitFor(() => /PING refused: NOAUTH/.test(s.yard.logText()), 5000, 'the log line');
    assert.strictEqual((await readyz(s.yard.url)).status, 503);
  } finally {
    await s.stop();
  }
});

function start(env) {
  const r = spawnSync(path.join(TOP, 'scripts', 'yard-server'), [], {
    env: Object.assign({}, process.env, {
      YARD_LISTEN: '127.0.0.1:1', YARD_RUN_DIR: path.join(dir, 'run'),
      YARD_PG_DSN: 'postgresql://nobody@127.0.0.1:1/none?connect_timeout=1',
      YARD_PG_START_WAIT: '1', YARD_EWS_PUBLIC_KEY_FILE: '',
      YARD_EWS_JWKS_URL: '', YARD_REDIS_URL: 'redis://127.0.0.1:1/0',
    }, env),
    encoding: 'utf8', timeout: 20000,
  });
  return { code: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

for (const [what, env, re] of [
  ['a missing file', { YARD_REDIS_PASSWORD_FILE: path.join(dir, 'none') },
    /YARD_REDIS_PASSWORD_FILE: cannot read .*none: No such file/],
  ['a directory', { YARD_REDIS_PASSWORD_FILE: dir }, /YARD_REDIS_PASSWORD_FILE: cannot read .*: not a regular file/],
  ['an empty file', { YARD_REDIS_PASSWORD_FILE: empty }, /YARD_REDIS_PASSWORD_FILE: .*empty is empty/],
  ['a file of one newline', { YARD_REDIS_PASSWORD_FILE: newline }, /YARD_REDIS_PASSWORD_FILE: .*newline is empty/],
  ['a password in the URL and the file', {
    YARD_REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:1/0`, YARD_REDIS_PASSWORD_FILE: good,
  }, /YARD_REDIS_URL holds a password and YARD_REDIS_PASSWORD_FILE is set/],
  ['a URL the workers could not use', { YARD_REDIS_URL: 'redis://127.0.0.1:99999/0' },
    /YARD_REDIS_URL: expected redis:\/\//],
]) {
  test(`start-up refuses ${what}, naming the setting`, () => {
    const r = start(env);
    assert.notStrictEqual(r.code, 0, r.out);
    assert.match(r.out, re);
    // Before anything else: PostgreSQL (unreachable here) is never tried.
    assert.doesNotMatch(r.out, /YARD_PG_DSN/);
    assert.ok(!r.out.includes(PASSWORD), 'the password is never printed');
  });
}
