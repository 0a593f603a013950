// The node policy through the real API, server and agent: each way a
// user who may create a task could reach root on the node, refused or
// contained.  Tasks run as yard-task with a clean environment; a deploy
// directory must lie below an allowed root and apart from the agent's
// state; refuse_env refuses LD_*; files a task exposes (log reads and
// rotation) stay inside its deploy directory; root only where the policy
// names it; the policy is reported in the node's facts.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { startStack, waitFor, TOP, TASK_USER } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');

const isRoot = process.getuid() === 0;
const LOG_BYTES = 4096;

let s, admin, agent, kit, legacy;
test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('policy-admin');
  legacy = path.join(s.dir, 'legacy');
  agent = await s.agent('guarded', undefined, null, {
    policy: {
      roots: [s.dir, { path: legacy, user: 'root' }],
      limits: { log_bytes: LOG_BYTES },
    },
    // What an agent's environment may hold; none of it reaches a task.
    env: { YARD_CANARY: 'canary-7f3a', YARD_PG_DSN: s.env.YARD_PG_DSN, LANG: 'C.UTF-8', TZ: 'UTC' },
  });
  kit = taskKit(s, admin, agent);
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    10000, 'node online');
});
test.after(async () => {
  if (kit) kit.killAll();
  await s.stop();
});

const logs = (id, qs = '') => s.api('GET', `/api/v1/tasks/${id}/logs${qs}`, { token: admin });
const logOf = (id) => {
  try { return fs.readFileSync(kit.logPath(id), 'utf8'); } catch { return ''; }
};
const deployOf = (name) => path.join(s.dir, 'deploy', name);

// A console task running `sh -c script`; the start's command detail.
async function startConsole(name, script, over = {}) {
  const id = await kit.console(name, script, Object.assign({ stop_grace: 2 }, over));
  return { id, d: await kit.run('start', id) };
}

test('deploy_dir / is refused with the policy rule, and nothing runs', async () => {
  // The server knows the node's roots from its facts and refuses at once.
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: agent.nodeId,
    name: 'slash0', spec: { kind: 'console', deploy_dir: '/', console: { command: '/bin/sh' } } } });
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.field, 'spec.deploy_dir');
  // A server that is wrong (here: its database edited behind its back)
  // still meets the node's own refusal.
  const id = await kit.console('slash', 'id; head -1 /etc/shadow', { stop_grace: 2 });
  s.sql(`UPDATE tasks SET spec = jsonb_set(spec, '{deploy_dir}', '"/"') WHERE id = ${id}`);
  const d = await kit.run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.strictEqual(d.output, `start failed: policy: deploy_dir / is outside the allowed roots (${s.dir}, ${legacy})`);
  assert.doesNotMatch(logOf(id), /root:|uid=/);
  assert.deepStrictEqual(kit.markedPids(id), []);
});

test('a deploy_dir that is a link to /etc is outside the roots too', async () => {
  fs.mkdirSync(path.join(s.dir, 'deploy'), { recursive: true });
  const link = path.join(s.dir, 'deploy', 'etclink');
  fs.symlinkSync('/etc', link);
  const { id, d } = await startConsole('etclink', 'exec sleep 300', { deploy_dir: link, log_files: ['shadow'] });
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /^start failed: policy: deploy_dir .*\/etclink is outside the allowed roots/);
  // Its log_files serve nothing either.
  const r = await logs(id, '?file=shadow');
  assert.notStrictEqual(r.status, 200, r.text);
  assert.doesNotMatch(r.text, /root:/);
});

test('LD_PRELOAD is refused (refuse_env), and the refused start changes nothing', async () => {
  const { id, d } = await startConsole('preload', 'id', { env: { LD_PRELOAD: '/tmp/evil.so' } });
  assert.strictEqual(d.state, 'failed', d.output);
  assert.strictEqual(d.output, 'start failed: policy: environment variable LD_PRELOAD is refused (refuse_env LD_*)');
  assert.ok(!fs.existsSync(deployOf('preload')), 'no deploy directory was made');
  assert.strictEqual(logOf(id), '');
});

test('the agent\'s state directory is never a deploy directory, nor inside one', async () => {
  for (const [name, dir] of [['state', agent.state], ['statelogs', path.join(agent.state, 'logs')]]) {
    const { d } = await startConsole(name, 'cat node.json', { deploy_dir: dir });
    assert.strictEqual(d.state, 'failed', d.output);
    assert.match(d.output, /^start failed: policy: deploy_dir .* overlaps the agent's (state directory|task logs)/);
  }
  // Its log_files (node.json holds the node's secret) serve nothing.
  const r = await logs(await kit.console('statefile', 'true', { deploy_dir: agent.state, log_files: ['node.json'] }),
    '?file=node.json');
  assert.notStrictEqual(r.status, 200, r.text);
  assert.doesNotMatch(r.text, /secret/);
});

test('a task runs as yard-task, unprivileged, with a clean documented environment', { skip: !isRoot && 'needs root' }, async () => {
  const uid = Number(execFileSync('id', ['-u', TASK_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', TASK_USER], { encoding: 'utf8' }).trim());
  assert.ok(uid > 0);
  const dir = deployOf('whoami');
  const { id, d } = await startConsole('whoami',
    'echo "uid=$(id -u) gid=$(id -g)"; grep CapEff /proc/self/status; env | sort | sed "s/^/env: /";' +
    ' echo "fds:" $(ls /proc/self/fd);' +
    ' touch /etc/yard-policy-probe 2>/dev/null && echo "wrote /etc"; echo ok > mine; echo done; exec sleep 300',
    { env: { APP_MODE: 'test' } });
  assert.strictEqual(d.state, 'succeeded', d.output);
  await waitFor(() => /done/.test(logOf(id)), 10000, 'the task ran');
  const log = logOf(id);
  assert.match(log, new RegExp(`^uid=${uid} gid=${gid}$`, 'm'));
  assert.match(log, /^CapEff:\s+0+$/m);
  // None of the agent's descriptors (connections, journal): only
  // stdin, stdout, stderr and the one ls opens to list them.
  assert.match(log, /^fds: 0 1 2 3$/m);
  assert.doesNotMatch(log, /wrote \/etc/);
  assert.ok(!fs.existsSync('/etc/yard-policy-probe'));
  // The deploy directory the agent made is the account's.
  const st = fs.statSync(dir);
  assert.deepStrictEqual([st.uid, st.gid], [uid, gid]);
  assert.strictEqual(fs.readFileSync(path.join(dir, 'mine'), 'utf8'), 'ok\n');
  // Nothing of the agent's environment; the documented base; the spec's.
  const env = Object.fromEntries(log.split('\n').filter((l) => l.startsWith('env: '))
    .map((l) => { const kv = l.slice(5); const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; }));
  assert.ok(!JSON.stringify(env).includes('canary-7f3a'), JSON.stringify(env));
  const pwHome = execFileSync('getent', ['passwd', TASK_USER], { encoding: 'utf8' }).split(':')[5];
  const want = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: fs.existsSync(pwHome) ? pwHome : dir,
    USER: TASK_USER, LOGNAME: TASK_USER, SHELL: '/bin/sh', LANG: 'C.UTF-8', TZ: 'UTC',
    APP_MODE: 'test',
  };
  for (const [k, v] of Object.entries(want)) assert.strictEqual(env[k], v, k);
  // Only those, the mark, and what the shell itself sets.
  const allowed = new Set([...Object.keys(want), 'YARD_TASK_MARK', 'PWD', 'OLDPWD', 'SHLVL', '_']);
  assert.deepStrictEqual(Object.keys(env).filter((k) => !allowed.has(k)), []);
  assert.ok(env.YARD_TASK_MARK && env.YARD_TASK_MARK.endsWith(`-${id}`), env.YARD_TASK_MARK);
  assert.strictEqual((await kit.run('stop', id)).state, 'succeeded');
});

test('a link to /etc inside the deploy directory: the log read is refused and serves nothing', async () => {
  const { id, d } = await startConsole('etcdir', 'ln -s /etc etcdir; echo linked; exec sleep 300',
    { log_files: ['etcdir/shadow', 'etcdir/passwd', 'shadow'] });
  assert.strictEqual(d.state, 'succeeded', d.output);
  await waitFor(() => /linked/.test(logOf(id)), 10000, 'the link');
  let r = await logs(id, '');
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(r.json.files, ['stdout']);
  for (const f of ['etcdir/shadow', 'etcdir/passwd']) {
    r = await logs(id, `?file=${f}`);
    assert.strictEqual(r.status, 409, r.text);
    assert.match(r.json.message, /^policy: .* resolves outside the task's deploy directory/);
    assert.doesNotMatch(r.text, /root:/);
    r = await logs(id, `?file=${f}&download=1`);
    assert.notStrictEqual(r.status, 200, r.text);
    assert.doesNotMatch(r.text, /root:/);
  }
  assert.strictEqual((await kit.run('stop', id)).state, 'succeeded');
});

test('rotation never truncates a file outside the deploy directory', { timeout: 60000 }, async () => {
  // An 11 MiB file outside, reached by a link the task makes; a log of
  // its own past limits.log_bytes inside, to see a rotation pass.
  const outside = path.join(s.dir, 'outside');
  fs.mkdirSync(outside, { recursive: true });
  const big = path.join(outside, 'big.log');
  fs.writeFileSync(big, Buffer.alloc(11 * 1024 * 1024, 'x'));
  const { id, d } = await startConsole('rotor',
    `ln -s ${outside} ext; mkdir -p logs; head -c 20000 /dev/zero | tr '\\0' 'y' > logs/app.log;` +
    ' head -c 20000 /dev/zero | tr "\\0" "z"; echo; echo ready; exec sleep 300',
    { log_files: ['ext/*.log', 'logs/*.log'] });
  assert.strictEqual(d.state, 'succeeded', d.output);
  const dir = deployOf('rotor');
  // The agent checks every 10 s: its own part appears, the outside
  // file stays whole.
  await waitFor(() => fs.existsSync(path.join(dir, 'logs', 'app.log.1')), 30000, 'app.log rotated');
  assert.strictEqual(fs.statSync(path.join(dir, 'logs', 'app.log')).size, 0);
  assert.strictEqual(fs.statSync(path.join(dir, 'logs', 'app.log.1')).size, 20000);
  assert.strictEqual(fs.statSync(big).size, 11 * 1024 * 1024);
  assert.ok(!fs.existsSync(big + '.1'));
  // limits.log_bytes rotates the captured output too.
  await waitFor(() => fs.existsSync(kit.logPath(id) + '.1'), 15000, 'stdout rotated');
  assert.strictEqual((await kit.run('stop', id)).state, 'succeeded');
});

test('uninstall removes the deploy directory as the task\'s account, never as root', { skip: !isRoot && 'needs root' }, async () => {
  const { id, d } = await startConsole('leaver', 'mkdir -p data; echo x > data/f; echo made; exec sleep 300');
  assert.strictEqual(d.state, 'succeeded', d.output);
  await waitFor(() => /made/.test(logOf(id)), 10000, 'the task wrote');
  // Something only root may remove, inside: the account cannot, so the
  // uninstall says so and leaves it.
  const dir = deployOf('leaver');
  fs.mkdirSync(path.join(dir, 'rootonly'));
  fs.writeFileSync(path.join(dir, 'rootonly', 'keep'), 'root\n');
  let u = await kit.run('uninstall', id);
  assert.strictEqual(u.state, 'failed', u.output);
  assert.match(u.output, new RegExp(`cannot remove ${dir}: Permission denied`));
  assert.ok(fs.existsSync(path.join(dir, 'rootonly', 'keep')));
  assert.ok(!fs.existsSync(path.join(dir, 'data')), 'what the account holds went');
  fs.rmSync(path.join(dir, 'rootonly'), { recursive: true });
  u = await kit.run('uninstall', id);
  assert.strictEqual(u.state, 'succeeded', u.output);
  assert.ok(!fs.existsSync(dir));
});

test('root runs only below a root entry that names it', async () => {
  const { id, d } = await startConsole('legacy', 'echo "uid=$(id -u)"; exec sleep 300',
    { deploy_dir: path.join(legacy, 'app') });
  assert.strictEqual(d.state, 'succeeded', d.output);
  await waitFor(() => /uid=/.test(logOf(id)), 10000, 'the task ran');
  assert.match(logOf(id), isRoot ? /^uid=0$/m : new RegExp(`^uid=${process.getuid()}$`, 'm'));
  assert.strictEqual((await kit.run('stop', id)).state, 'succeeded');
});

test('the node reports its policy in its facts', async () => {
  const n = (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json;
  assert.deepStrictEqual(n.facts.policy, {
    roots: [{ path: s.dir, user: TASK_USER }, { path: legacy, user: 'root' }],
    user: TASK_USER, kinds: {}, refuse_env: ['LD_*'],
    limits: { tasks: 256, log_bytes: LOG_BYTES },
  });
});

test('limits.tasks: a new task beyond it is refused; a reloaded policy applies (SIGHUP)', async () => {
  agent.setPolicy({ roots: [s.dir, { path: legacy, user: 'root' }], limits: { log_bytes: LOG_BYTES, tasks: 1 } });
  await waitFor(async () => {
    const n = (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json;
    return n.facts.policy && n.facts.policy.limits.tasks === 1;
  }, 15000, 'the new policy in the facts');
  const { d } = await startConsole('onetoomany', 'true');
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /^start failed: policy: this node already has \d+ tasks \(limits\.tasks 1\)$/);
  // A bad policy file on reload changes nothing.
  fs.writeFileSync(agent.policy, '{"roots": ["relative"]}');
  agent.proc.kill('SIGHUP');
  await waitFor(() => /keeping the policy in force/.test(agent.logText()), 10000, 'the refusal logged');
  assert.match(agent.logText(), /roots\[0\]: "relative" must be an absolute path/);
  agent.setPolicy({ roots: [s.dir, { path: legacy, user: 'root' }], limits: { log_bytes: LOG_BYTES } });
});

test('a policy file that is missing or wrong stops the agent at start, naming it', () => {
  const bin = path.join(TOP, 'obj', 'yard-agent');
  const bad = path.join(s.dir, 'bad-policy.json');
  fs.writeFileSync(bad, '{"roots": ["/srv/yard"], "user": "no-such-account-yard"}');
  let r = spawnSync(bin, ['run', '--state-dir', path.join(s.dir, 'never'), '--policy', bad], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, new RegExp(`policy ${bad}: user: no account named no-such-account-yard here`));
  r = spawnSync(bin, ['run', '--state-dir', path.join(s.dir, 'never'), '--policy', bad + '.missing'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /bad-policy\.json\.missing: No such file or directory/);
  fs.writeFileSync(bad, '{"roots": ["/srv/yard"], "colour": "blue"}');
  r = spawnSync(bin, ['run', '--state-dir', path.join(s.dir, 'never'), '--policy', bad], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /unknown member "colour"/);
  assert.ok(!fs.existsSync(path.join(s.dir, 'never')), 'nothing was started or made');
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
