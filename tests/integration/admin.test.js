// scripts/yard-admin enroll-token against the test stack's database: the
// token enrols a real agent, only its hash is stored, the audit says who
// made it, bad arguments change nothing.  The server here trusts a foreign
// issuer (no development EWS anywhere), and scripts/run.sh, pointed at
// the same stores with such an issuer, still enrols its local agent.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, freePort, psql, waitFor, sleep, TOP } = require('../lib/stack.js');

const ADMIN = path.join(TOP, 'scripts', 'yard-admin');
const ISSUER = 'https://ews.corp.example';
let s, admin;

test.before(async () => {
  s = await startStack({ env: { YARD_EWS_ISSUER: ISSUER, YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('admin-cli', { iss: ISSUER });
});
test.after(async () => { if (s) await s.stop(); });

// Run yard-admin with env (only what is given, plus PATH and HOME).
function yardAdmin(args, env = {}) {
  const r = spawnSync(ADMIN, args, {
    env: Object.assign({ PATH: process.env.PATH, HOME: process.env.HOME }, env),
    encoding: 'utf8', timeout: 30000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const dsnEnv = () => ({ YARD_PG_DSN: s.env.YARD_PG_DSN });
const count = (table) => Number(s.sql(`SELECT count(*) FROM ${table}`));

test('enroll-token makes a token that enrols a real agent', async () => {
  const r = yardAdmin(['enroll-token'], dsnEnv());
  assert.strictEqual(r.code, 0, r.err);
  // stdout is the token and nothing else; stderr never shows it.
  assert.match(r.out, /^[A-Za-z0-9_-]{43}\n$/);
  const token = r.out.trim();
  assert.ok(!r.err.includes(token), r.err);
  assert.match(r.err, /enrolment token \d+ made, valid until \S+ for one enrolment/);

  // Stored as POST /api/v1/enrollments stores it: the SHA-256 only, 24 h.
  const hash = crypto.createHash('sha256').update(token).digest('hex');
  const row = s.sql(`SELECT id || ' ' || encode(token_hash, 'hex') || ' ' ||
    round(extract(epoch FROM expires_at - created_at)) || ' ' || (created_by IS NULL) || ' ' || (used_at IS NULL)
    FROM enrollments ORDER BY id DESC LIMIT 1`).split(' ');
  assert.deepStrictEqual(row.slice(1), [hash, '86400', 'true', 'true']);
  assert.strictEqual(s.sql(`SELECT count(*) FROM enrollments WHERE token_hash::text LIKE '%${token}%'`), '0');
  const audit = JSON.parse(s.sql(`SELECT row_to_json(a) FROM audit a WHERE action = 'enrollment.create'
    AND object_id = ${row[0]}`));
  assert.strictEqual(audit.object_type, 'enrollment');
  assert.strictEqual(audit.actor_id, null);
  assert.strictEqual(audit.detail.via, 'yard-admin');
  assert.strictEqual(audit.detail.ttl, 86400);
  assert.ok(audit.detail.os_user);

  // The admin API lists it like any other.
  const list = await s.api('GET', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(list.status, 200, list.text);
  assert.ok(list.json.items.some((e) => e.id === Number(row[0]) && e.usable), list.text);

  // A real agent enrols with it and comes online.
  const agent = await s.agent('cli-enrolled', s.yard.url, token);
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    15000, 'the agent online');
  assert.notStrictEqual(s.sql(`SELECT used_at FROM enrollments WHERE id = ${row[0]}`), '');

  // One use only.
  const again = await fetch(`${s.yard.url}/agent/v1/enroll`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token, facts: {
      hostname: 'again', os: 'Debian', kernel: '6.1', arch: 'x86_64', cpus: 2, mem_total: 8e9,
      boot_id: 'b0a7c0de-0000-4000-8000-000000000002', uptime: 100, agent_version: '0.1.0',
    } }),
  });
  assert.strictEqual(again.status, 401, await again.text());
  await agent.stop();
});

test('--ttl sets the lifetime; the settings file names the database', () => {
  const f = path.join(s.dir, 'settings.conf');
  fs.writeFileSync(f, `# the server's settings\news_issuer ${ISSUER}\n  pg_dsn   ${s.env.YARD_PG_DSN}  \n`);
  const r = yardAdmin(['enroll-token', '--ttl', '600'], { YARD_SETTINGS_FILE: f });
  assert.strictEqual(r.code, 0, r.err);
  assert.match(r.out, /^[A-Za-z0-9_-]{43}\n$/);
  const hash = crypto.createHash('sha256').update(r.out.trim()).digest('hex');
  assert.strictEqual(s.sql(`SELECT round(extract(epoch FROM expires_at - created_at)) FROM enrollments
    WHERE token_hash = decode('${hash}', 'hex')`), '600');
  // The environment wins over the file, as for the server.
  fs.writeFileSync(f, 'pg_dsn postgresql://nobody@127.0.0.1:1/none?connect_timeout=1\n');
  const r2 = yardAdmin(['enroll-token', '--ttl=3600'], Object.assign({ YARD_SETTINGS_FILE: f }, dsnEnv()));
  assert.strictEqual(r2.code, 0, r2.err);
});

test('bad arguments and an unreachable database: a clear error, no token, nothing stored', () => {
  const before = [count('enrollments'), count('audit')];
  for (const [args, env, needle] of [
    [['enroll-token', '--ttl', '59'], dsnEnv(), /--ttl must be a whole number of seconds from 60 to 604800, not '59'/],
    [['enroll-token', '--ttl', '604801'], dsnEnv(), /--ttl must be/],
    [['enroll-token', '--ttl', '1e3'], dsnEnv(), /--ttl must be/],
    [['enroll-token', '--ttl'], dsnEnv(), /--ttl needs a number of seconds/],
    [['enroll-token', '--bogus'], dsnEnv(), /unknown argument: --bogus/],
    [['frobnicate'], dsnEnv(), /unknown command: frobnicate/],
    [[], dsnEnv(), /usage: yard-admin enroll-token/],
    [['enroll-token'], { YARD_PG_DSN: '' }, /YARD_PG_DSN is empty/],
    [['enroll-token'], { YARD_SETTINGS_FILE: '/nonexistent.conf' }, /YARD_SETTINGS_FILE: cannot read/],
    [['enroll-token'], { YARD_PG_DSN: 'postgresql://nobody@127.0.0.1:1/none?connect_timeout=1' },
      /could not store the enrolment token/],
  ]) {
    const r = yardAdmin(args, env);
    assert.notStrictEqual(r.code, 0, args.join(' '));
    assert.strictEqual(r.out, '', `no token on stdout for ${args.join(' ')}`);
    assert.match(r.err, needle);
  }
  // A database the server never started on.
  const db = 'yard_empty_' + crypto.randomBytes(4).toString('hex');
  psql(s.pgPort, 'postgres', `CREATE DATABASE ${db}`);
  const r = yardAdmin(['enroll-token'], { YARD_PG_DSN: `postgresql://postgres@127.0.0.1:${s.pgPort}/${db}` });
  assert.notStrictEqual(r.code, 0);
  assert.match(r.err, /the database has no Yard tables: start the server on it once/);
  psql(s.pgPort, 'postgres', `DROP DATABASE ${db}`);
  assert.deepStrictEqual([count('enrollments'), count('audit')], before);
});

// Run scripts/run.sh on the stack's stores with its own ports and state
// directory and the extra env; check(ctx) runs once it is ready, then
// run.sh is stopped (SIGTERM, as Ctrl-C) and must say so.
async function runSh(name, extraEnv, check) {
  const yardPort = await freePort();
  const ewsPort = await freePort();
  const varDir = path.join(s.dir, name);
  const logFile = path.join(s.dir, name + '.log');
  const out = fs.openSync(logFile, 'a');
  // Not traced even in a seccomp audit: a traced Kore stopping may SIGQUIT
  // its process group, which here is run.sh's.
  const env = Object.assign({}, process.env);
  delete env.YARD_SECCOMP_TRACING;
  const p = spawn(path.join(TOP, 'scripts', 'run.sh'), [], {
    env: Object.assign(env, {
      YARD_VAR_DIR: varDir, YARD_LISTEN: `127.0.0.1:${yardPort}`, EWS_LISTEN: `127.0.0.1:${ewsPort}`,
      YARD_PG_DSN: s.env.YARD_PG_DSN, YARD_REDIS_URL: s.env.YARD_REDIS_URL, YARD_HEARTBEAT_INTERVAL: '1',
    }, extraEnv),
    stdio: ['ignore', out, out], detached: true,
  });
  const log = () => fs.readFileSync(logFile, 'utf8');
  try {
    await waitFor(() => /Yard is ready/.test(log()) || p.exitCode !== null, 60000, 'run.sh ready');
    assert.strictEqual(p.exitCode, null, log());
    assert.doesNotMatch(log(), /enrolling the local agent failed/);
    // Its agent enrolled into the shared database and comes online.
    const nodeId = JSON.parse(fs.readFileSync(path.join(varDir, 'agent', 'node.json'), 'utf8')).node_id;
    await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${nodeId}`, { token: admin })).json.status === 'online',
      15000, 'run.sh\'s agent online');
    // No token in what run.sh printed.
    assert.doesNotMatch(log(), /[A-Za-z0-9_-]{43}/);
    await check({ varDir, log, yardUrl: `http://127.0.0.1:${yardPort}`, ewsUrl: `http://127.0.0.1:${ewsPort}` });
  } finally {
    // run.sh stops what it started; the group is killed only if it hangs.
    try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ }
    await Promise.race([new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r))), sleep(15000)]);
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  assert.match(log(), /stopped/);
}

test('make-admin: creates or marks the user, audited; a second run changes nothing', async () => {
  const sub = 'first-admin-' + crypto.randomBytes(3).toString('hex');
  const token = s.token(sub, { iss: ISSUER });
  // Before: an unknown user; a plain user once signed in.
  let r = yardAdmin(['make-admin', sub, '--name', 'First Admin'], dsnEnv());
  assert.strictEqual(r.code, 0, r.err);
  assert.strictEqual(r.out, `yard-admin: user ${sub} created as an admin\n`);
  const row = JSON.parse(s.sql(`SELECT row_to_json(u) FROM users u WHERE sub = '${sub}'`));
  assert.strictEqual(row.admin, true);
  assert.strictEqual(row.name, 'First Admin');
  const me = await s.api('GET', '/api/v1/me', { token });
  assert.strictEqual(me.status, 200);
  assert.strictEqual(me.json.admin, true);
  const users = await s.api('GET', '/api/v1/users', { token });
  assert.strictEqual(users.status, 200, 'the marked user may use admin resources');

  r = yardAdmin(['make-admin', sub], dsnEnv());
  assert.strictEqual(r.code, 0, r.err);
  assert.match(r.out, /is an admin already: nothing changed/);

  // A disabled or unmarked user is marked and enabled again.
  s.sql(`UPDATE users SET admin = false, disabled = true WHERE sub = '${sub}'`);
  r = yardAdmin(['make-admin', sub], dsnEnv());
  assert.strictEqual(r.out, `yard-admin: user ${sub} is an admin now\n`);
  assert.strictEqual(s.sql(`SELECT admin AND NOT disabled FROM users WHERE sub = '${sub}'`), 't');
  const audit = s.sql(`SELECT string_agg(a.action || ' ' || (a.detail->>'via'), ',' ORDER BY a.id) FROM audit a
    JOIN users u ON a.object_type = 'user' AND a.object_id = u.id WHERE u.sub = '${sub}' AND a.actor_id IS NULL`);
  assert.strictEqual(audit, 'user.create yard-admin,user.update yard-admin');

  // Bad arguments: a clear error, nothing written.
  const before = count('users');
  for (const [args, re] of [
    [['make-admin'], /usage/],
    [['make-admin', ''], /SUB must be 1 to 255 characters/],
    [['make-admin', 'x'.repeat(256)], /SUB must be 1 to 255 characters/],
    [['make-admin', 'a\tb'], /control characters/],
    [['make-admin', 'ok', '--name'], /--name needs a value/],
    [['make-admin', 'ok', '--bogus'], /unknown argument: --bogus/],
  ]) {
    r = yardAdmin(args, dsnEnv());
    assert.notStrictEqual(r.code, 0, args.join(' '));
    assert.match(r.err, re, args.join(' '));
  }
  r = yardAdmin(['make-admin', 'ok'], { YARD_PG_DSN: 'postgresql://yard@127.0.0.1:1/yard?connect_timeout=1' });
  assert.notStrictEqual(r.code, 0);
  assert.match(r.err, /could not make ok an admin/);
  assert.strictEqual(count('users'), before);
});

test('scripts/run.sh enrols its local agent when the issuer is a real EWS', async () => {
  await runSh('run-foreign', {
    YARD_EWS_ISSUER: ISSUER, YARD_EWS_PUBLIC_KEY_FILE: s.env.YARD_EWS_PUBLIC_KEY_FILE,
    YARD_EWS_ORIGINS: 'https://ews.corp.example', YARD_EWS_LOGIN_URL: 'https://ews.corp.example/login',
  }, ({ varDir, log, yardUrl }) => {
    // No development EWS for a foreign issuer.
    assert.ok(!fs.existsSync(path.join(varDir, 'dev-ews.log')), 'no development EWS');
    assert.match(log(), new RegExp(`Yard is ready: ${yardUrl}/ \\(sign in through your EWS\\)`));
  });
});

test('scripts/run.sh with the development EWS, as make run starts it', async () => {
  await runSh('run-dev', {}, async ({ log, ewsUrl }) => {
    assert.match(log(), new RegExp(`Yard is ready: ${ewsUrl}/`));
    assert.strictEqual((await fetch(ewsUrl + '/login')).status, 200);
  });
});
