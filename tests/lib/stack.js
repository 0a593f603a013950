// Test stack: real PostgreSQL, Redis and Yard servers on loopback.
//
// scripts/test.sh starts one PostgreSQL cluster for the whole run and
// exports YARD_TEST_PG_PORT; each test file then gets its own database, its
// own Redis and its own server (production seccomp filter, 2 workers).  Run
// alone, a file starts a private cluster.  stop() fails the file when any
// worker died (for instance from a sandbox violation).
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const TOP = path.resolve(__dirname, '..', '..');
const PG_BIN = '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid() === 0;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function asPg(cmd, args, opts = {}) {
  if (isRoot) return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], opts);
  return execFileSync(cmd, args, opts);
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { if (await fn()) return; } catch (e) { last = e; }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
}

// A PostgreSQL cluster in dir on port (initdb on first use).
async function pgCluster(dir, port) {
  fs.mkdirSync(dir, { recursive: true });
  if (isRoot) execFileSync('chown', ['postgres', dir]);
  if (!fs.existsSync(path.join(dir, 'data', 'PG_VERSION'))) {
    asPg(PG_BIN + '/initdb', ['-D', dir + '/data', '-A', 'trust', '-U', 'postgres',
      '--no-sync', '-E', 'UTF8'], { stdio: 'ignore' });
  }
  asPg(PG_BIN + '/pg_ctl', ['-D', dir + '/data', '-l', dir + '/postgres.log', '-w', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start'], { stdio: 'ignore' });
  return {
    port,
    stop() {
      try {
        asPg(PG_BIN + '/pg_ctl', ['-D', dir + '/data', '-m', 'immediate', 'stop'],
          { stdio: 'ignore' });
      } catch { /* already down */ }
    },
    start() {
      asPg(PG_BIN + '/pg_ctl', ['-D', dir + '/data', '-l', dir + '/postgres.log', '-w', '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
        'start'], { stdio: 'ignore' });
    },
  };
}

function psql(port, db, sql) {
  return asPg('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db,
    '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
}

async function redisServer(dir) {
  const port = await freePort();
  fs.mkdirSync(dir, { recursive: true });
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 5000, 'redis');
  return { port, proc: p, stop() { try { p.kill('SIGKILL'); } catch { /* gone */ } } };
}

// Start a Yard server.  env: extra YARD_* settings.
// cmd: the yard-server script (default the checkout's; a package's in
// tests/integration/deb.test.js).
async function yardServer(dir, env, fixedPort, cmd) {
  const port = fixedPort || await freePort();
  const log = path.join(dir, `yard-${port}.log`);
  const out = fs.openSync(log, 'a');
  const full = Object.assign({}, process.env, {
    YARD_LISTEN: `127.0.0.1:${port}`,
    YARD_PUBLIC_URL: `http://127.0.0.1:${port}`,
    YARD_RUN_DIR: path.join(dir, `run-${port}`),
    YARD_HOME: TOP,
    YARD_WORKERS: '2',
  }, env);
  const p = spawn(cmd || path.join(TOP, 'scripts', 'yard-server'), [], {
    env: full, stdio: ['ignore', out, out], detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const logs = [log];
  const srv = {
    url, port, log, proc: p,
    logText() { return fs.readFileSync(this.log, 'utf8'); },
    async restart() {
      await this.stop();
      const again = await yardServer(dir, env, port, cmd);
      Object.assign(this, { proc: again.proc, log: again.log });
      logs.push(again.log);
    },
    deaths() {
      return logs.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n')).filter((l) =>
        /died from sandbox violation|exited with status|worker .* gone/.test(l));
    },
    async stop() {
      // this.proc: restart() replaces the process.
      const cur = this.proc;
      try { process.kill(-cur.pid, 'SIGTERM'); } catch { /* gone */ }
      await new Promise((r) => { if (cur.exitCode !== null) r(); else cur.once('exit', r); setTimeout(r, 5000); });
      try { process.kill(-cur.pid, 'SIGKILL'); } catch { /* gone */ }
    },
  };
  try {
    await waitFor(async () => (await fetch(url + '/healthz')).ok, 20000, 'yard server');
  } catch (e) {
    throw new Error(e.message + '\n' + srv.logText().slice(-3000));
  }
  return srv;
}

// startStack(opts): { pg, pgPort, db, redis, yard, dir, keys, token(),
// stop() }.  opts.env adds settings; opts.keys chooses test keys; opts.serverCmd
// runs another yard-server script.
async function startStack(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-test-'));
  fs.chmodSync(dir, 0o755);
  let pg = null;
  // opts.pgPort: a cluster another stack of this file started.
  let pgPort = opts.pgPort || (opts.privatePg ? 0 : Number(process.env.YARD_TEST_PG_PORT || 0));
  if (!pgPort) {
    pgPort = await freePort();
    pg = await pgCluster(path.join(dir, 'pg'), pgPort);
  }
  const db = 'yard_' + crypto.randomBytes(6).toString('hex');
  psql(pgPort, 'postgres', `CREATE DATABASE ${db}`);
  const redis = await redisServer(path.join(dir, 'redis'));

  const jwt = require('./jwt.js');
  const keys = opts.keys || jwt.keys();
  fs.writeFileSync(path.join(dir, 'rsa.pem'), keys.rsaPem);
  fs.writeFileSync(path.join(dir, 'ec.pem'), keys.ecPem);

  const env = Object.assign({
    YARD_PG_DSN: `postgresql://postgres@127.0.0.1:${pgPort}/${db}?connect_timeout=2`,
    YARD_REDIS_URL: `redis://127.0.0.1:${redis.port}/0`,
    YARD_EWS_ISSUER: 'test-ews',
    YARD_EWS_AUDIENCE: 'yard',
    YARD_EWS_PUBLIC_KEY_FILE: `${dir}/rsa.pem,${dir}/ec.pem`,
    YARD_EWS_ORIGINS: 'http://127.0.0.1:1',
    YARD_EWS_LOGIN_URL: 'http://127.0.0.1:1/login',
    YARD_PACKAGE_DIR: path.join(dir, 'packages'),
  }, opts.env || {});
  // opts.apollo: start the development Apollo (tools/dev-apollo) on
  // loopback, true or its start() options, and point YARD_APOLLO_URL at
  // it; stack.apollo is it (stop() closes stack.apollo).
  let apollo = null;
  if (opts.apollo) {
    const devApollo = require('../../tools/dev-apollo/server.js');
    apollo = await devApollo.start(Object.assign({ listen: '127.0.0.1:0', holdMs: 1000 },
      opts.apollo === true ? {} : opts.apollo));
    if (env.YARD_APOLLO_URL === undefined) env.YARD_APOLLO_URL = apollo.url;
  }
  const servers = [];
  const agents = [];
  const yard = await yardServer(dir, env, opts.port, opts.serverCmd);
  servers.push(yard);

  const stack = {
    dir, pg, pgPort, db, redis, yard, keys, env, apollo,
    sql(q) { return psql(pgPort, db, q); },
    // A signed RS256 token for sub with extra claims.
    token(sub = 'u-test', over = {}) {
      return jwt.sign({ alg: 'RS256', typ: 'JWT' }, jwt.claims(Object.assign({ sub }, over)),
        keys.rsa.privateKey);
    },
    adminToken(sub = 'u-admin', over = {}) {
      return this.token(sub, Object.assign({ roles: ['yard-admin'] }, over));
    },
    async api(method, p, { token, body, headers } = {}) {
      const h = Object.assign({}, headers || {});
      if (token) h.authorization = 'Bearer ' + token;
      if (body !== undefined) h['content-type'] = h['content-type'] || 'application/json';
      const r = await fetch(yard.url + p, {
        method, headers: h,
        body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
      });
      const text = await r.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
      return { status: r.status, headers: r.headers, json, text };
    },
    async startAnother(extraEnv = {}) {
      const s = await yardServer(dir, Object.assign({}, env, extraEnv));
      servers.push(s);
      return s;
    },
    deaths() { return servers.flatMap((s) => s.deaths()); },
    // Enrol and run a real yard-agent with its own state directory.
    // token: an enrolment token to use (default: a fresh one).
    // opts.policy: members of its node policy over the default (roots
    // [the stack's dir], user yard-task when root, else our own account);
    // opts.env: variables added to the agent's environment
    // (YARD_AGENT_NO_CGROUP=1, say); opts.binary: another yard-agent.
    async agent(name, url = yard.url, token = null, opts = {}) {
      // Test files running at once get node ids far apart (older agents
      // marked tasks node<id>-<task>; marks are per installation now).
      if (!this.nodeIdsSpread) {
        psql(pgPort, db, `SELECT setval('nodes_id_seq', greatest((SELECT max(id) FROM nodes), 0) + ${1000000 + crypto.randomInt(1000000000)})`);
        this.nodeIdsSpread = true;
      }
      let tok = { json: { token } };
      if (!token) {
        tok = await this.api('POST', '/api/v1/enrollments', { token: this.adminToken('agent-enroller') });
        if (tok.status !== 201) throw new Error('enrollment: ' + tok.text);
      }
      const state = path.join(dir, 'agent-' + name);
      const policy = path.join(dir, `policy-${name}.json`);
      writePolicy(policy, opts.policy);
      const bin = opts.binary || path.join(TOP, 'obj', 'yard-agent');
      execFileSync(bin, ['enroll', '--server', url, '--state-dir', state,
        '--policy', policy],
      { env: Object.assign({}, process.env, { YARD_AGENT_TOKEN: tok.json.token }), stdio: 'pipe' });
      const nodeId = Number(JSON.parse(fs.readFileSync(path.join(state, 'node.json'), 'utf8')).node_id);
      const log = path.join(dir, `agent-${name}.log`);
      const a = {
        name, state, nodeId, log, policy, proc: null,
        start() {
          const out = fs.openSync(log, 'a');
          this.proc = spawn(bin, ['run', '-d', '--state-dir', state,
            '--policy', policy],
          { stdio: ['ignore', out, out], env: Object.assign({}, process.env, opts.env || {}) });
          return this;
        },
        // Replace its policy (members over the default) and have it
        // read it again (SIGHUP).
        setPolicy(over) {
          writePolicy(policy, over);
          this.proc.kill('SIGHUP');
        },
        async stop(sig = 'SIGTERM') {
          if (!this.proc || this.proc.exitCode !== null) return;
          const p = this.proc;
          await new Promise((r) => { p.once('exit', r); p.kill(sig); });
        },
        logText() { return fs.readFileSync(log, 'utf8'); },
      };
      agents.push(a);
      return a.start();
    },
    async stop() {
      for (const a of agents) await a.stop();
      const dead = this.deaths();
      for (const s of servers) await s.stop();
      if (this.apollo) await this.apollo.close();
      redis.stop();
      try { psql(pgPort, 'postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`); } catch { /* down */ }
      if (pg) pg.stop();
      if (!process.env.YARD_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
      if (dead.length) throw new Error('Kore workers died during the test:\n' + dead.join('\n'));
    },
  };
  return stack;
}

// The account tasks run as in tests: yard-task (scripts/install-deps.sh)
// when we are root, else our own (an agent that is not root cannot
// switch accounts).
const TASK_USER = isRoot ? 'yard-task' : os.userInfo().username;

// A node policy for a test agent: roots [the file's directory (the
// stack's)], TASK_USER, then over's members.
function writePolicy(file, over = {}) {
  const p = Object.assign({ roots: [path.dirname(file)], user: TASK_USER }, over || {});
  fs.writeFileSync(file, JSON.stringify(p, null, 2));
}

// netfake(mode, ...ports): tests/lib/netfake.js as a child process.
// Resolves to { port, events: [[kind, value]...], kill() } once listening.
async function netfake(mode, ...ports) {
  const p = spawn(process.execPath, [path.join(__dirname, 'netfake.js'), mode, ...ports.map(String)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const f = { port: 0, events: [], kill() { try { p.kill('SIGKILL'); } catch { /* gone */ } } };
  let out = '';
  p.stdout.on('data', (d) => {
    out += d;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const [k, v] = out.slice(0, nl).split(' ');
      out = out.slice(nl + 1);
      if (k === 'port') f.port = Number(v);
      else f.events.push([k, v]);
    }
  });
  try {
    await waitFor(() => f.port > 0, 5000, 'netfake ' + mode);
  } catch (e) {
    f.kill();
    throw e;
  }
  return f;
}

// startE2E(opts): a stack whose tokens come from a real development EWS
// (tools/dev-ews) on its own port.  Adds ews: {url, close} and
// mint(sub, roles): a token from it.
async function startE2E(opts = {}) {
  const devEws = require(path.join(TOP, 'tools', 'dev-ews', 'server.js'));
  const yardPort = await freePort();
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-ews-'));
  const ews = await devEws.start({
    listen: '127.0.0.1:0', yardUrl: `http://127.0.0.1:${yardPort}`, keyDir,
    ttl: opts.ttl || 600, log: false, testMint: true,
  });
  const stack = await startStack({
    port: yardPort,
    env: Object.assign({
      YARD_EWS_ISSUER: 'dev-ews',
      YARD_EWS_PUBLIC_KEY_FILE: path.join(keyDir, 'public.pem'),
      YARD_EWS_ORIGINS: new URL(ews.url).origin,
      YARD_EWS_LOGIN_URL: ews.url + '/login',
    }, opts.env || {}),
  });
  const stop = stack.stop.bind(stack);
  stack.ews = ews;
  // A token for sub with roles, signed by the development EWS.
  stack.mint = async (sub, roles = []) => {
    const r = await fetch(ews.url + '/api/mint', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub, roles }),
    });
    return (await r.json()).token;
  };
  stack.stop = async () => {
    await ews.close();
    fs.rmSync(keyDir, { recursive: true, force: true });
    await stop();
  };
  return stack;
}

// A headless Debian chromium driven by playwright-core.
async function browser() {
  const { chromium } = require(path.join(TOP, 'node_modules', 'playwright-core'));
  return chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

// A page in a fresh context of b, signed in as sub through the stack's
// development EWS, opened at start (an EWS path), handed to fn with the
// Yard frame; a full-page screenshot under tests/e2e/screenshots on the
// way out (NAME.png, or NAME-failed.png when fn throws).
// Where browser tests keep their screenshots: under the test log directory
// of scripts/test.sh (YARD_TEST_LOGDIR), else tests/e2e/screenshots.
function shotDir() {
  return process.env.YARD_TEST_LOGDIR ? path.join(process.env.YARD_TEST_LOGDIR, 'screenshots') :
    path.join(TOP, 'tests', 'e2e', 'screenshots');
}

async function withPage(b, stack, { name, sub, start, width = 1100, height = 900 }, fn) {
  const shots = shotDir();
  const ctx = await b.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  fs.mkdirSync(shots, { recursive: true });
  try {
    await page.goto(stack.ews.url + start);
    await page.waitForURL(/\/login/);
    await page.click(`#login-${sub}`);
    await fn(page, page.frameLocator('#yard-frame'));
    await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
  } catch (e) {
    await page.screenshot({ path: path.join(shots, name + '-failed.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

module.exports = { startE2E, browser, withPage, shotDir, startStack, netfake, freePort, pgCluster, psql, redisServer, yardServer, waitFor, sleep, TOP, TASK_USER };
