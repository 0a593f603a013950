// The web kinds, run by a real yard-agent against the real server: a real
// jar task (a tiny com.sun.net.httpserver service compiled here with
// Debian's javac), a real Tomcat 10 task (Debian's tomcat10 with a
// private CATALINA_BASE on free loopback ports), the health check that
// turns them running, and their polite stops: SIGTERM for the jar,
// Tomcat's stop script for Tomcat.  A stand-in catalina.sh covers the
// stop script's failures (cannot run, fails, hangs).  Needs make deps
// (default-jdk-headless, tomcat10, tomcat10-user).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startStack, waitFor, freePort } = require('../lib/stack.js');
const { taskKit, environs, ownByTaskUser } = require('../lib/tasks.js');

const FIX = path.join(__dirname, '..', 'fixtures', 'webkinds');
const CATALINA_HOME = '/usr/share/tomcat10';

let s, admin, agent, kit, createTask, run, task, markedPids;
test.before(async () => {
  for (const f of ['/usr/bin/javac', '/usr/bin/jar', `${CATALINA_HOME}/bin/catalina.sh`,
    '/usr/bin/tomcat10-instance-create']) {
    assert.ok(fs.existsSync(f), `${f} is missing: run make deps`);
  }
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('web-admin');
  agent = await s.agent('web');
  kit = taskKit(s, admin, agent);
  ({ create: createTask, run, task, markedPids } = kit);
});
test.after(async () => {
  // Whatever a failed test left running: the tasks' processes, and stop
  // scripts (they carry no mark, but our CATALINA_BASE).
  for (const pid of [...(kit ? kit.markedPids() : []), ...basePids(s.dir)]) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  await s.stop();
});

// Processes whose CATALINA_BASE is under dir (Tomcat, its stop script).
function basePids(dir) {
  return environs().filter(([, env]) =>
    env.some((e) => e.startsWith('CATALINA_BASE=' + dir))).map(([pid]) => pid);
}

// The agent's children that are not reaped yet (zombies).
function agentZombies() {
  const pid = agent.proc.pid;
  let kids = [];
  try { kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean); } catch { /* none */ }
  return kids.filter((k) => {
    try { return / Z /.test(fs.readFileSync(`/proc/${k}/stat`, 'utf8').replace(/^.*\)/, '')); } catch { return false; }
  });
}

const logOf = (id) => {
  try { return fs.readFileSync(path.join(agent.state, 'logs', `${id}.log`), 'utf8'); } catch { return ''; }
};

// Wait for a state (and health), noting the states seen on the way.
async function waitState(id, want, ms, health) {
  const seen = [];
  let t;
  try {
    await waitFor(async () => {
      t = await task(id);
      if (seen[seen.length - 1] !== t.state) seen.push(t.state);
      return t.state === want && (health === undefined || t.health === health);
    }, ms, `task ${id} ${want}${health ? ' with health ' + health : ''}`);
  } catch (e) {
    throw new Error(`${e.message}; states seen: ${seen.join(' -> ')}; last ${JSON.stringify(t)}\n` +
      logOf(id).slice(-3000));
  }
  return seen;
}

async function get(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(10000) });
  return { status: r.status, text: await r.text() };
}

// Whether something listens on port (/proc/net/tcp and tcp6).
function listening(port) {
  const hex = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((f) => {
    try {
      return fs.readFileSync(f, 'utf8').split('\n').some((l) => {
        const c = l.trim().split(/\s+/);
        return c[1] !== undefined && c[1].endsWith(hex) && c[3] === '0A';
      });
    } catch { return false; }
  });
}

// A loopback listener that takes a port and drops every connection.
function holdPort(port) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((c) => c.destroy());
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

// A private CATALINA_BASE (tomcat10-instance-create) in dir: HTTP and
// shutdown ports on 127.0.0.1 and the hello webapp.  The default start
// and stop script is bin/catalina.sh under tomcat.home (Debian's).
function tomcatBase(dir, httpPort, shutPort) {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  execFileSync('tomcat10-instance-create', ['-p', String(httpPort), '-c', String(shutPort), dir],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const xml = path.join(dir, 'conf', 'server.xml');
  let conf = fs.readFileSync(xml, 'utf8');
  const server = `<Server port="${shutPort}"`;
  const conn = `<Connector port="${httpPort}"`;
  assert.ok(conf.includes(server) && conf.includes(conn), 'server.xml has the ports');
  conf = conf.replace(server, `<Server address="127.0.0.1" port="${shutPort}"`)
    .replace(conn, `<Connector address="127.0.0.1" port="${httpPort}"`);
  fs.writeFileSync(xml, conf);
  fs.cpSync(path.join(FIX, 'hello'), path.join(dir, 'webapps', 'hello'), { recursive: true });
  // Tomcat runs as the node policy's account: it writes logs/, work/.
  return ownByTaskUser(dir);
}

function tomcatSpec(base, httpPort, over = {}) {
  return Object.assign({
    kind: 'tomcat', deploy_dir: base,
    tomcat: { home: CATALINA_HOME, port: httpPort, app_path: '/hello/' },
    health: { path: '/hello/health.txt', interval: 1, timeout: 2 },
    stop_grace: 30, restart: { policy: 'never' },
  }, over);
}

test('jar: a real service runs, turns healthy, logs, and stops on SIGTERM', { timeout: 90000 }, async (t) => {
  const deploy = path.join(s.dir, 'deploy', 'svc');
  const classes = path.join(s.dir, 'build', 'svc');
  fs.mkdirSync(deploy, { recursive: true });
  execFileSync('javac', ['-d', classes, path.join(FIX, 'Svc.java')], { stdio: 'pipe' });
  execFileSync('jar', ['--create', '--file', path.join(deploy, 'svc.jar'), '--main-class', 'Svc',
    '-C', classes, '.'], { stdio: 'pipe' });
  const port = await freePort();
  const id = await createTask('svc', {
    kind: 'jar', deploy_dir: deploy,
    jar: { jar: 'svc.jar', args: [String(port)], port },
    health: { path: '/health', interval: 1, timeout: 2 },
    stop_grace: 15, restart: { policy: 'never' },
  });
  const d = await run('start', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  const pid = Number(/started, pid (\d+)/.exec(d.output)[1]);
  const seen = await waitState(id, 'running', 30000, 'ok');
  t.diagnostic(`jar states: ${seen.join(' -> ')}`);
  assert.strictEqual((await task(id)).pid, pid);
  assert.deepStrictEqual(markedPids(id), [pid]);
  const r = await get(`http://127.0.0.1:${port}/health`);
  assert.deepStrictEqual([r.status, r.text], [200, 'ok\n']);
  // Its stdout reached the task's log, and it carries the task's mark.
  assert.match(logOf(id), new RegExp(`svc: listening on 127\\.0\\.0\\.1:${port}, ` +
    `task mark ${kit.mark(id)}\\n`));

  const st = await run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /^stopped by SIGTERM in \d+ ms$/);
  // SIGTERM ran the JVM's shutdown hooks.
  assert.match(logOf(id), /svc: shutting down/);
  assert.deepStrictEqual(markedPids(id), []);
  assert.throws(() => process.kill(pid, 0));
  await waitState(id, 'stopped', 10000);
});

test('tomcat: a real Tomcat runs, turns healthy, serves, and stops by its stop script', { timeout: 120000 }, async (t) => {
  const [http, shut] = [await freePort(), await freePort()];
  const base = tomcatBase(path.join(s.dir, 'deploy', 'tomcat'), http, shut);
  const id = await createTask('tomcat', tomcatSpec(base, http));
  const d = await run('start', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  const pid = Number(/started, pid (\d+)/.exec(d.output)[1]);
  const seen = await waitState(id, 'running', 60000, 'ok');
  t.diagnostic(`tomcat states: ${seen.join(' -> ')}`);
  // catalina.sh run execs the JVM: one process, the task's.
  assert.deepStrictEqual(markedPids(id), [pid]);
  let r = await get(`http://127.0.0.1:${http}/hello/health.txt`);
  assert.deepStrictEqual([r.status, r.text], [200, 'ok\n']);
  r = await get(`http://127.0.0.1:${http}/hello/`);
  assert.strictEqual(r.status, 200, r.text);
  assert.match(r.text, new RegExp(`hello from Apache Tomcat/10\\.[\\d.]+.*, base ${base}`));
  assert.match(logOf(id), /Server startup in/);
  // The shutdown port opens just after startup: then stop.
  await waitFor(() => listening(shut), 30000, 'the shutdown port');

  const st = await run('stop', id, 60000);
  t.diagnostic(`tomcat stop: ${st.output}`);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /^stopped by the stop script in \d+ ms$/);
  assert.ok(!listening(http) && !listening(shut), 'its ports are closed');
  const log = logOf(id);
  assert.match(log, /A valid shutdown command was received via the shutdown port/);
  assert.deepStrictEqual(markedPids(id), []);
  // The stop script (no mark) is gone too, and reaped.
  assert.deepStrictEqual(basePids(base), []);
  await waitFor(() => agentZombies().length === 0, 3000, 'no zombies');
  await waitState(id, 'stopped', 10000);
  await assert.rejects(get(`http://127.0.0.1:${http}/hello/health.txt`));
});

test('tomcat: its HTTP port taken, Tomcat runs without it: unhealthy; the stop script still stops it', { timeout: 120000 }, async () => {
  const [http, shut] = [await freePort(), await freePort()];
  const base = tomcatBase(path.join(s.dir, 'deploy', 'tomcat-taken'), http, shut);
  const holder = await holdPort(http);
  try {
    const id = await createTask('tomcat-taken', tomcatSpec(base, http, {
      health: { path: '/hello/health.txt', interval: 1, timeout: 2, start_timeout: 3 },
    }));
    // The start answers "started" at once, or, where a start waits for
    // the health check, fails when it has not passed within
    // start_timeout; either way the task runs.
    const d = await run('start', id);
    assert.ok(d.state === 'succeeded' || /not healthy within/.test(d.output), d.output);
    // Tomcat logs the bind failure and carries on (its default; see
    // EXIT_ON_INIT_FAILURE below): the process runs, the check fails.
    await waitFor(() => /BindException: Address already in use/.test(logOf(id)), 60000, 'the bind failure');
    await waitState(id, 'unhealthy', 30000, 'failing');
    // It still listens on its shutdown port: the stop script works.
    await waitFor(() => /Server startup in/.test(logOf(id)) && listening(shut), 60000,
      'Tomcat started, its shutdown port open');
    const st = await run('stop', id, 60000);
    assert.strictEqual(st.state, 'succeeded', st.output);
    assert.match(st.output, /^stopped by the stop script in \d+ ms$/);
    assert.deepStrictEqual(markedPids(id), []);
    assert.deepStrictEqual(basePids(base), []);
  } finally {
    holder.close();
  }
});

test('tomcat: its HTTP port taken with EXIT_ON_INIT_FAILURE: the task fails', { timeout: 120000 }, async () => {
  const [http, shut] = [await freePort(), await freePort()];
  const base = tomcatBase(path.join(s.dir, 'deploy', 'tomcat-strict'), http, shut);
  const holder = await holdPort(http);
  try {
    // No health check: a Tomcat start settles for 5 s; it ends sooner, so
    // the start fails and shows the end of its log.
    const id = await createTask('tomcat-strict', tomcatSpec(base, http, {
      env: { CATALINA_OPTS: '-Dorg.apache.catalina.startup.EXIT_ON_INIT_FAILURE=true' },
      health: null,
    }));
    const d = await run('start', id);
    assert.strictEqual(d.state, 'failed', d.output);
    assert.match(d.output, /^started, but it ended \(exit status 1\) within 5 s; the last lines of its log:\n./);
    assert.match(d.output, /BindException: Address already in use/);
    await waitState(id, 'failed', 60000);
    const t = await task(id);
    assert.strictEqual(t.metrics.exit_status, 1, JSON.stringify(t));
    assert.match(logOf(id), /BindException: Address already in use/);
    assert.deepStrictEqual(markedPids(id), []);
    assert.strictEqual((await run('stop', id)).output, 'not running');
  } finally {
    holder.close();
  }
});

test('tomcat: a broken server.xml ends in a crash loop', { timeout: 120000 }, async () => {
  const [http, shut] = [await freePort(), await freePort()];
  const base = tomcatBase(path.join(s.dir, 'deploy', 'tomcat-broken'), http, shut);
  fs.writeFileSync(path.join(base, 'conf', 'server.xml'), '<Server port="');
  const id = await createTask('tomcat-broken', tomcatSpec(base, http, {
    restart: { policy: 'on-failure', backoff_initial: 1, backoff_max: 1, crash_loop: 1 },
    health: null,
  }));
  const d = await run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /ended \(exit status 1\) within 5 s; the last lines of its log:\n(.|\n)*Server instance is not configured/);
  await waitState(id, 'crash_loop', 60000);
  const t = await task(id);
  assert.strictEqual(t.restarts, 1);
  assert.strictEqual(t.metrics.exit_status, 1, JSON.stringify(t));
  assert.match(logOf(id), /Server instance is not configured/);
  assert.deepStrictEqual(markedPids(id), []);
});

// A tomcat task whose catalina.sh (under its home, here its deploy
// directory) is tests/fixtures/webkinds/fake-catalina.sh.
async function fakeTomcat(name, fakeStop, over = {}) {
  const deploy = path.join(s.dir, 'deploy', name);
  fs.mkdirSync(path.join(deploy, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(FIX, 'fake-catalina.sh'), path.join(deploy, 'bin', 'catalina.sh'));
  fs.chmodSync(path.join(deploy, 'bin', 'catalina.sh'), 0o755);
  ownByTaskUser(deploy);
  const id = await createTask(name, Object.assign({
    kind: 'tomcat', deploy_dir: deploy, env: { FAKE_STOP: fakeStop },
    tomcat: { home: deploy, port: 1 }, stop_grace: 2, restart: { policy: 'never' },
  }, over));
  const d = await run('start', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  await waitFor(() => /fake: running/.test(logOf(id)), 5000, 'the fake Tomcat running');
  return { id, deploy, pid: Number(/started, pid (\d+)/.exec(d.output)[1]) };
}

test('tomcat stop script: run without the task mark, with the start environment', async () => {
  const { id, deploy } = await fakeTomcat('fake-ok', 'ok');
  const st = await run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /^stopped by the stop script in \d+ ms$/);
  const log = logOf(id);
  assert.match(log, new RegExp(`fake stop: mark=none CATALINA_HOME=${deploy} CATALINA_BASE=${deploy}\\n`));
  assert.match(log, /fake: stop requested/);
  assert.doesNotMatch(log, /fake: SIGTERM/);
  assert.deepStrictEqual(markedPids(id), []);
  assert.deepStrictEqual(basePids(deploy), []);
});

test('tomcat stop script: when it fails, SIGTERM', async () => {
  const { id } = await fakeTomcat('fake-fail', 'fail');
  const st = await run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /^stopped by SIGTERM in \d+ ms$/);
  assert.match(logOf(id), /fake stop: failing\n(.|\n)*fake: SIGTERM/);
  assert.match(agent.logText(), new RegExp(`task ${id}: the stop script failed \\(status 1\\): SIGTERM`));
  assert.deepStrictEqual(markedPids(id), []);
});

test('tomcat stop script: when it cannot run, SIGTERM', async () => {
  const home = path.join(s.dir, 'deploy', 'fake-missing');
  const { id } = await fakeTomcat('fake-missing', 'ok', { tomcat: { home, port: 1, stop_script: 'bin/nope.sh' } });
  const st = await run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /^stopped by SIGTERM in \d+ ms$/);
  assert.match(logOf(id), new RegExp(`yard-agent: the stop script failed: cannot run ${home}/bin/nope\\.sh: No such file or directory; sending SIGTERM\n(.|\n)*fake: SIGTERM`));
  assert.deepStrictEqual(markedPids(id), []);
});

test('tomcat stop script: when it hangs, SIGKILL after the grace period, the script too', async () => {
  const { id, deploy } = await fakeTomcat('fake-hang', 'hang');
  const st = await run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /^killed with SIGKILL after the grace period in \d+ ms$/);
  assert.ok(Number(/in (\d+) ms/.exec(st.output)[1]) >= 2000, st.output);
  assert.deepStrictEqual(markedPids(id), []);
  assert.deepStrictEqual(basePids(deploy), []);
  await waitFor(() => agentZombies().length === 0, 3000, 'no zombies');
});

test('tomcat stop script: the task ends but the script lingers: the script is killed at the deadline', async () => {
  const { id, deploy } = await fakeTomcat('fake-late', 'late');
  const st = await run('stop', id);
  assert.strictEqual(st.state, 'succeeded', st.output);
  assert.match(st.output, /^stopped by the stop script in \d+ ms$/);
  assert.ok(Number(/in (\d+) ms/.exec(st.output)[1]) >= 2000, st.output);
  assert.match(logOf(id), /fake: stop requested/);
  assert.deepStrictEqual(basePids(deploy), []);
  await waitFor(() => agentZombies().length === 0, 3000, 'no zombies');
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
