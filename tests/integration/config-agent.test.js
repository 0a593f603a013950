// A task's configuration on the node, through the real server and a real
// yard-agent (docs/config.md, "On the node"; docs/agent-protocol.md,
// "Configuration"): the brief's example from a PUT to the bytes on the
// node, byte for byte; a failed apply changing nothing and starting
// nothing; apply-config with and without a restart; the restart policy
// applying it again; the deployed-file read of the Configuration tab and
// who may use it; a secret never in the agent's or the server's log.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const { taskKit, ownByTaskUser } = require('../lib/tasks.js');
const { zip } = require('../lib/zip.js');

const SECRET = 'S3cr3t-' + crypto.randomBytes(6).toString('hex') + '-<&>"\'';
const URL_VALUE = '/gateway/app/refreshTokenByKey.htm';
const b64 = (s) => Buffer.from(s).toString('base64');

let s, admin, agent, k, keyDir;
test.before(async () => {
  keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-cfgkey-'));
  fs.writeFileSync(path.join(keyDir, 'config.key'), crypto.randomBytes(32), { mode: 0o600 });
  s = await startStack({
    privatePg: true,
    env: { YARD_HEARTBEAT_INTERVAL: '1', YARD_CONFIG_KEY_FILE: path.join(keyDir, 'config.key') },
  });
  admin = s.adminToken('cfg-admin');
  agent = await s.agent('cfg');
  k = taskKit(s, admin, agent);
});
test.after(async () => {
  if (k) k.killAll();
  if (s) await s.stop();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

// A console task whose deploy directory holds files (rel -> content).
async function taskWith(name, files, script, over = {}) {
  const dir = path.join(s.dir, 'deploy', name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  ownByTaskUser(dir);
  const id = await k.console(name, script, over);
  return { id, dir };
}

async function putConfig(id, body) {
  const r = await s.api('PUT', `/api/v1/tasks/${id}/config`, { token: admin, body });
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

// An apply-config command (restart or not) and its final detail.
async function applyConfig(id, restart) {
  const c = await s.api('POST', '/api/v1/commands', {
    token: admin, body: { type: 'apply-config', task_id: id, restart },
  });
  assert.strictEqual(c.status, 201, c.text);
  let d;
  await waitFor(async () => {
    d = (await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin })).json;
    return ['succeeded', 'failed', 'timed_out'].includes(d.state);
  }, 30000, 'apply-config result');
  return d;
}

const pidOf = (d) => Number(/pid (\d+)/.exec(d.output)[1]);

const APP_XML = '\ufeff<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- gateway -->\r\n' +
  '<root>\r\n  <nodes>\r\n    <nodes>\r\n      <nodes>/old/path.htm</nodes>\r\n' +
  '      <nodes keep="1">second</nodes>\r\n    </nodes>\r\n  </nodes>\r\n</root>\r\n';
const SETTINGS = '{\n  "ConnectionStrings": {\n' +
  '    "Default": "none"\n  },\n  "Logging": { "Level": "Info" }\n}\n';
const OVERRIDE = Buffer.from([0x61, 0x3d, 0x31, 0x0d, 0x0a, 0xe4, 0xb8, 0xad, 0x00, 0xff]);

let brief; // the task of the brief's example: { id, dir, pid }

test('the brief\'s example: from a PUT to the bytes on the node, byte for byte', async () => {
  const t = await taskWith('brief', { 'conf/app.xml': APP_XML, 'appsettings.json': SETTINGS },
    'env > "$PWD/env.out"; exec sleep 300');
  await putConfig(t.id, {
    values: [
      { key: 'RefreshSecretSubUrl', value: URL_VALUE, secret: false },
      { key: 'db.password', value: SECRET, secret: true },
      { key: 'bad-env-key', value: 'x y', secret: false },
    ],
    mappings: [
      { key: 'RefreshSecretSubUrl', file: 'conf/app.xml', format: 'xml', nodepath: 'root.nodes[0].nodes[0].nodes[0]' },
      { key: 'db.password', file: 'appsettings.json', format: 'json', nodepath: 'ConnectionStrings.Default' },
    ],
    files: [{ path: 'conf/override.bin', content_base64: OVERRIDE.toString('base64') }],
    env: true, properties_file: 'conf/yard.properties', comment: 'the brief',
  });
  const d = await k.run('start', t.id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.match(d.output, /^config v1 applied: 4 files written, 2 values mapped, 2 environment variables; not in the environment \(no variable name\): bad-env-key; started, pid \d+$/);
  // The command as users see it: the secret masked.
  assert.strictEqual(JSON.stringify(d).includes(SECRET), false);
  // Only the value's bytes changed: BOM, declaration, comment, CRLF stay.
  assert.strictEqual(fs.readFileSync(path.join(t.dir, 'conf/app.xml'), 'utf8'),
    APP_XML.replace('/old/path.htm', URL_VALUE));
  const esc = JSON.stringify(SECRET).slice(1, -1);
  assert.strictEqual(fs.readFileSync(path.join(t.dir, 'appsettings.json'), 'utf8'),
    SETTINGS.replace('"none"', `"${esc}"`));
  assert.ok(fs.readFileSync(path.join(t.dir, 'conf/override.bin')).equals(OVERRIDE));
  const props = fs.readFileSync(path.join(t.dir, 'conf/yard.properties'), 'utf8');
  assert.match(props, /^RefreshSecretSubUrl=\/gateway\/app\/refreshTokenByKey.htm$/m);
  assert.match(props, /^db.password=/m);
  assert.strictEqual(fs.statSync(path.join(t.dir, 'conf/yard.properties')).mode & 0o777, 0o600);
  // The environment: '.' as "__"; a key without a name left out.
  await waitFor(() => fs.existsSync(path.join(t.dir, 'env.out')), 5000, 'env.out');
  await sleep(200);
  const env = fs.readFileSync(path.join(t.dir, 'env.out'), 'utf8').split('\n');
  assert.ok(env.includes(`RefreshSecretSubUrl=${URL_VALUE}`));
  assert.ok(env.includes(`db__password=${SECRET}`));
  assert.strictEqual(env.some((l) => l.startsWith('bad-env-key')), false);
  // Kept for the agent's own restarts: 0600 in its state directory.
  const kept = path.join(agent.state, 'config', `${t.id}.json`);
  assert.strictEqual(fs.statSync(kept).mode & 0o777, 0o600);
  brief = { id: t.id, dir: t.dir, pid: pidOf(d) };
});

test('a failed apply changes no file and starts nothing', async () => {
  assert.ok(brief, 'needs the first test');
  const { id, dir } = brief;
  assert.strictEqual((await k.run('stop', id)).state, 'succeeded');
  fs.writeFileSync(path.join(dir, 'conf/broken.xml'), '<root><a>1</a>\n');
  const before = {};
  for (const f of ['conf/app.xml', 'appsettings.json', 'conf/override.bin', 'conf/yard.properties']) {
    before[f] = { bytes: fs.readFileSync(path.join(dir, f)), ino: fs.statSync(path.join(dir, f)).ino };
  }
  await putConfig(id, {
    values: [
      { key: 'RefreshSecretSubUrl', value: '/changed.htm', secret: false },
      { key: 'db.password', value: null, secret: true },
    ],
    mappings: [
      { key: 'RefreshSecretSubUrl', file: 'conf/app.xml', format: 'xml', nodepath: 'root.nodes[0].nodes[0].nodes[0]' },
      { key: 'db.password', file: 'conf/broken.xml', format: 'xml', nodepath: 'root.a' },
    ],
    files: [{ path: 'conf/override.bin', content_base64: b64('changed') }],
    env: true, properties_file: 'conf/yard.properties',
  });
  const d = await k.run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /^start failed: config: conf\/broken\.xml: root\.a: /);
  assert.strictEqual(d.output.includes(SECRET), false);
  for (const [f, b] of Object.entries(before)) {
    assert.ok(fs.readFileSync(path.join(dir, f)).equals(b.bytes), `${f} unchanged`);
    assert.strictEqual(fs.statSync(path.join(dir, f)).ino, b.ino, `${f} not replaced`);
  }
  // No temporary or backup file left, and the program did not start.
  assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'conf')).filter((n) => n.startsWith('.')), []);
  assert.deepStrictEqual(k.markedPids(id), []);
  await waitFor(async () => (await k.task(id)).state === 'stopped', 5000, 'stopped');
});

test('apply-config: without restart the program keeps running; with restart it starts on the new files', async () => {
  assert.ok(brief, 'needs the first test');
  const { id, dir } = brief;
  await putConfig(id, {
    values: [{ key: 'RefreshSecretSubUrl', value: '/v3.htm', secret: false }],
    mappings: [{ key: 'RefreshSecretSubUrl', file: 'conf/app.xml', format: 'xml', nodepath: 'root.nodes[0].nodes[0].nodes[0]' }],
  });
  let d = await k.run('start', id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.match(d.output, /^config v3 applied: 1 file written, 1 value mapped; started/);
  const pid = pidOf(d);
  await putConfig(id, {
    values: [{ key: 'RefreshSecretSubUrl', value: '/v4 & <now>.htm', secret: false }],
    mappings: [{ key: 'RefreshSecretSubUrl', file: 'conf/app.xml', format: 'xml', nodepath: 'root.nodes[0].nodes[0].nodes[0]' }],
  });
  d = await applyConfig(id, false);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual(d.output, 'config v4 applied: 1 file written, 1 value mapped; the files changed ' +
    'while it runs: restart the task for them to take effect');
  assert.strictEqual(fs.readFileSync(path.join(dir, 'conf/app.xml'), 'utf8'),
    APP_XML.replace('/old/path.htm', '/v4 &amp; &lt;now&gt;.htm'));
  assert.deepStrictEqual(k.markedPids(id), [pid], 'still the same process');

  await putConfig(id, {
    values: [{ key: 'RefreshSecretSubUrl', value: '/v5.htm', secret: false }],
    mappings: [{ key: 'RefreshSecretSubUrl', file: 'conf/app.xml', format: 'xml', nodepath: 'root.nodes[0].nodes[0].nodes[0]' }],
  });
  d = await applyConfig(id, true);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.match(d.output, /^stopped by SIGTERM in \d+ ms; config v5 applied: 1 file written, 1 value mapped; started, pid \d+$/);
  assert.notStrictEqual(pidOf(d), pid);
  assert.strictEqual(fs.readFileSync(path.join(dir, 'conf/app.xml'), 'utf8'),
    APP_XML.replace('/old/path.htm', '/v5.htm'));
  assert.deepStrictEqual(k.markedPids(id), [pidOf(d)]);
});

test('a configuration larger than other agent messages reaches the node whole', async () => {
  // 600 KiB of bytes (800 KiB of base64): the commands answer carrying
  // it is more than the 256 KiB any other message may be.
  const big = crypto.randomBytes(600 * 1024);
  const t = await taskWith('large', {}, 'exec sleep 300');
  await putConfig(t.id, { files: [{ path: 'data/blob.bin', content_base64: big.toString('base64') }] });
  const d = await k.run('start', t.id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.match(d.output, /^config v1 applied: 1 file written, 0 values mapped; started/);
  assert.ok(fs.readFileSync(path.join(t.dir, 'data/blob.bin')).equals(big));
  assert.strictEqual((await k.run('stop', t.id)).state, 'succeeded');
});

test('the restart policy applies the kept configuration again', async () => {
  const t = await taskWith('policy', { 'conf/app.properties': '# app\r\nname = old\r\n' },
    "[ -e scribbled ] && exec sleep 300; sleep 1; echo 'name = scribble' > conf/app.properties; " +
    'touch scribbled; exit 1',
    { restart: { policy: 'on-failure', backoff_initial: 1, backoff_max: 1, crash_loop: 5 } });
  await putConfig(t.id, {
    values: [{ key: 'name', value: 'Zoë = \u4e2d', secret: false }],
    mappings: [{ key: 'name', file: 'conf/app.properties', format: 'properties', nodepath: 'name' }],
  });
  const d = await k.run('start', t.id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  const file = path.join(t.dir, 'conf/app.properties');
  const want = fs.readFileSync(file, 'utf8');
  assert.match(want, /^# app\r\nname = .+\r\n$/);
  assert.notStrictEqual(want, '# app\r\nname = old\r\n');
  // The program scribbles over it and exits; the restart writes it again.
  await waitFor(() => fs.readFileSync(file, 'utf8') === 'name = scribble\n', 5000, 'the scribble');
  await waitFor(async () => (await k.task(t.id)).restarts >= 1, 10000, 'the restart');
  await waitFor(async () => (await k.task(t.id)).state === 'running', 5000, 'running again');
  // Only the value again: the program's own line end stays.
  assert.strictEqual(fs.readFileSync(file, 'utf8'), `name = ${/name = (.*)\r\n/.exec(want)[1]}\n`);
  const applied = agent.logText().split('\n').filter((l) => l.includes(`task ${t.id}: config v`));
  assert.strictEqual(applied.length, 2, applied.join('\n'));
  assert.strictEqual((await k.run('stop', t.id)).state, 'succeeded');
});

test('a restarted agent starts a task that ended meanwhile with the kept configuration', async () => {
  const t = await taskWith('agentrestart', { 'app.json': '{"url": "old"}\n' }, 'exec sleep 300');
  await putConfig(t.id, {
    values: [{ key: 'url', value: 'http://kept/', secret: false }],
    mappings: [{ key: 'url', file: 'app.json', format: 'json', nodepath: 'url' }],
  });
  const d = await k.run('start', t.id);
  assert.strictEqual(d.state, 'succeeded', d.output);
  const file = path.join(t.dir, 'app.json');
  assert.strictEqual(fs.readFileSync(file, 'utf8'), '{"url": "http://kept/"}\n');
  // The agent goes; the program dies and its file is changed meanwhile.
  await agent.stop('SIGTERM');
  for (const pid of k.markedPids(t.id)) process.kill(pid, 'SIGKILL');
  fs.writeFileSync(file, '{"url": "changed"}\n');
  const mark = agent.logText().length;
  agent.start();
  await waitFor(() => k.markedPids(t.id).length === 1, 15000, 'started again by the new agent');
  assert.strictEqual(fs.readFileSync(file, 'utf8'), '{"url": "http://kept/"}\n');
  assert.match(agent.logText().slice(mark), new RegExp(`task ${t.id}: config v1 applied: 1 file written, 1 value mapped`));
  assert.strictEqual((await k.run('stop', t.id)).state, 'succeeded');
});

test('env: the node policy refuses what its refuse_env names, as for the spec', async () => {
  const t = await taskWith('envpolicy', {}, 'exec sleep 300');
  await putConfig(t.id, { values: [{ key: 'LD_PRELOAD', value: '/tmp/x.so', secret: false }], env: true });
  const d = await k.run('start', t.id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /^start failed: policy: environment variable LD_PRELOAD is refused/);
  assert.strictEqual(d.output.includes('/tmp/x.so'), false);
  assert.deepStrictEqual(k.markedPids(t.id), []);
});

// A zip of files (path -> content) in the package store, as an upload
// leaves it (tests/integration/deploy.test.js does the same).
function storePackage(name, version, files) {
  const body = zip(Object.entries(files).map(([p, d]) => ({ name: p, data: d, deflate: true })));
  const sum = crypto.createHash('sha256').update(body).digest('hex');
  const dir = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', sum.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, sum), body);
  const manifest = Object.entries(files).map(([p, d]) => ({
    path: p, size: Buffer.byteLength(d), sha256: crypto.createHash('sha256').update(d).digest('hex'),
  }));
  const q = (x) => `'${String(x).replace(/'/g, "''")}'`;
  return Number(s.sql(`INSERT INTO packages (sha256, name, version, size, entries, manifest)
    VALUES (${q(sum)}, ${q(name)}, ${q(version)}, ${body.length}, ${manifest.length},
    ${q(JSON.stringify(manifest))}::jsonb) RETURNING id`).split('\n')[0]);
}

async function runCommand(body) {
  const c = await s.api('POST', '/api/v1/commands', { token: admin, body });
  assert.strictEqual(c.status, 201, c.text);
  let d;
  await waitFor(async () => {
    d = (await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin })).json;
    return ['succeeded', 'failed', 'timed_out'].includes(d.state);
  }, 60000, `${body.type} result`);
  return d;
}

test('deploy and update: the new release is configured before the switch; a failing one leaves the live release',
  { timeout: 120000 }, async () => {
    const dir = path.join(s.dir, 'deploy', 'pkg');
    const id = await k.create('pkg', {
      kind: 'console', deploy_dir: dir, console: { command: '/bin/sh', args: ['-c', 'exec sleep 300'] },
      restart: { policy: 'never' }, stop_grace: 5,
    });
    const XML = '<?xml version="1.0"?>\n<root><url>packaged</url></root>\n';
    const cfg = (url, extra, file = 'conf/app.xml') => ({
      values: [{ key: 'url', value: url, secret: false }],
      mappings: [{ key: 'url', file, format: 'xml', nodepath: 'root.url' }],
      files: [{ path: 'conf/extra.txt', content_base64: b64(extra) }],
    });
    const r1 = path.join(dir, 'releases', '1');
    const r2 = path.join(dir, 'releases', '2');
    const read = (f) => fs.readFileSync(f, 'utf8');

    await putConfig(id, cfg('http://one/?a&b', 'one\n'));
    let d = await runCommand({ type: 'deploy', task_id: id,
      package_id: storePackage('pkg', '1', { 'conf/app.xml': XML, 'lib/same.txt': 'same\n' }) });
    assert.strictEqual(d.state, 'succeeded', d.output);
    assert.match(d.output, /^deployed release 1 \(pkg 1\); started, pid \d+; config v1 applied: 2 files written, 1 value mapped$/);
    assert.strictEqual(read(path.join(r1, 'conf/app.xml')), XML.replace('packaged', 'http://one/?a&amp;b'));
    assert.strictEqual(read(path.join(r1, 'conf/extra.txt')), 'one\n');

    // The update's release starts as hard links to the live one's files;
    // the configuration never writes through them.
    await putConfig(id, cfg('http://two/', 'two\n'));
    d = await runCommand({ type: 'update', task_id: id,
      package_id: storePackage('pkg', '2', { 'conf/app.xml': XML, 'lib/same.txt': 'same\n', 'v2.txt': '2\n' }) });
    assert.strictEqual(d.state, 'succeeded', d.output);
    assert.match(d.output, /config v2 applied: 2 files written, 1 value mapped/);
    assert.strictEqual(fs.readlinkSync(path.join(dir, 'current')), 'releases/2');
    assert.strictEqual(fs.statSync(path.join(r1, 'lib/same.txt')).ino, fs.statSync(path.join(r2, 'lib/same.txt')).ino,
      'unchanged files are shared by hard link');
    assert.strictEqual(read(path.join(r2, 'conf/app.xml')), XML.replace('packaged', 'http://two/'));
    assert.strictEqual(read(path.join(r2, 'conf/extra.txt')), 'two\n');
    assert.strictEqual(read(path.join(r1, 'conf/extra.txt')), 'one\n', 'release 1 untouched');
    assert.strictEqual(read(path.join(r1, 'conf/app.xml')), XML.replace('packaged', 'http://one/?a&amp;b'));
    const pids = k.markedPids(id);
    assert.strictEqual(pids.length, 1);

    // A configuration that does not apply fails the update before the
    // switch: release 2 stays live, its files as they were, running.
    const before = { xml: read(path.join(r2, 'conf/app.xml')), extra: read(path.join(r2, 'conf/extra.txt')) };
    await putConfig(id, cfg('http://three/', 'three\n', 'conf/none.xml'));
    d = await runCommand({ type: 'update', task_id: id,
      package_id: storePackage('pkg', '3', { 'conf/app.xml': XML, 'lib/same.txt': 'same\n', 'v3.txt': '3\n' }) });
    assert.strictEqual(d.state, 'failed', d.output);
    assert.match(d.output, /^update failed: start failed: config: conf\/none\.xml: no such file to map into; rolled back to release 2/);
    assert.strictEqual(fs.readlinkSync(path.join(dir, 'current')), 'releases/2');
    assert.strictEqual(read(path.join(r2, 'conf/app.xml')), before.xml);
    assert.strictEqual(read(path.join(r2, 'conf/extra.txt')), before.extra);
    await waitFor(() => k.markedPids(id).length === 1, 10000, 'release 2 running again');
    assert.strictEqual((await k.run('stop', id)).state, 'succeeded');
  });

test('config/file: the deployed file, for managers only; 404, 413, 400 and 504', async () => {
  assert.ok(brief, 'needs the first test');
  const { id, dir } = brief;
  const file = (p, tok = admin) => s.api('GET', `/api/v1/tasks/${id}/config/file?path=${encodeURIComponent(p)}`, { token: tok });
  let r = await file('conf/override.bin');
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(Object.keys(r.json).sort(), ['content_base64', 'path', 'size']);
  assert.strictEqual(r.json.path, 'conf/override.bin');
  assert.strictEqual(r.json.size, OVERRIDE.length);
  assert.ok(Buffer.from(r.json.content_base64, 'base64').equals(OVERRIDE));
  // Exactly 1 MiB passes (in several chunks); one byte more is 413.
  const big = crypto.randomBytes(1024 * 1024);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  r = await file('big.bin');
  assert.strictEqual(r.status, 200, r.text.slice(0, 300));
  assert.ok(Buffer.from(r.json.content_base64, 'base64').equals(big));
  fs.appendFileSync(path.join(dir, 'big.bin'), 'x');
  r = await file('big.bin');
  assert.strictEqual(r.status, 413, r.text);
  assert.match(r.json.message, /too large: big\.bin has 1048577 bytes \(at most 1048576\)/);
  r = await file('conf/none.xml');
  assert.strictEqual(r.status, 404, r.text);
  assert.match(r.json.message, /no such file: conf\/none\.xml/);
  r = await file('conf');
  assert.strictEqual(r.status, 404, r.text);
  assert.match(r.json.message, /not a regular file/);
  for (const p of ['../x', '/etc/passwd', '']) {
    r = await file(p);
    assert.strictEqual(r.status, 400, `${p}: ${r.text}`);
  }
  // A symlink out of the deploy directory, and into the state directory.
  fs.symlinkSync('/etc/hostname', path.join(dir, 'out'));
  r = await file('out');
  assert.strictEqual(r.status, 409, r.text);
  assert.match(r.json.message, /^policy: out resolves outside the task's deploy directory/);
  fs.symlinkSync(path.join(agent.state, 'node.json'), path.join(dir, 'node.json'));
  r = await file('node.json');
  assert.strictEqual(r.status, 409, r.text);
  // Operate and view may not read it; nothing is asked of the agent.
  for (const level of ['view', 'operate']) {
    const sub = `cfg-${level}`;
    const tok = s.token(sub);
    await s.api('GET', '/api/v1/me', { token: tok });
    const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
    const g = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid, task_id: id, level } });
    assert.ok([200, 201].includes(g.status), g.text);
    const before = s.sql('SELECT count(*) FROM log_requests');
    r = await file('conf/app.xml', tok);
    assert.strictEqual(r.status, 403, r.text);
    assert.match(r.json.message, /needs manage/);
    assert.strictEqual(s.sql('SELECT count(*) FROM log_requests'), before);
  }
  // The agent does not answer: 504 after 10 s.
  agent.proc.kill('SIGSTOP');
  try {
    const t0 = Date.now();
    r = await file('conf/app.xml');
    assert.strictEqual(r.status, 504, r.text);
    assert.ok(Date.now() - t0 >= 9500);
  } finally {
    agent.proc.kill('SIGCONT');
  }
});

test('a commands answer holds at most 16 MiB of payloads, and always the first command', async () => {
  // A node of our own, speaking the protocol, with three commands of
  // 9 MiB each waiting: one at a time; small ones come together.
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  const en = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: {
      hostname: 'big', os: 'Debian GNU/Linux 12', kernel: '6.1.0', arch: 'x86_64', cpus: 1, mem_total: 1e9,
      boot_id: 'b0a7c0de-0000-4000-8000-000000000002', uptime: 1, agent_version: '0.1.0', disks: [] } }),
  });
  assert.strictEqual(en.status, 201);
  const node = await en.json();
  const auth = `YardNode ${node.node_id}:${node.secret}`;
  const poll = async (after) => {
    const r = await fetch(`${s.yard.url}/agent/v1/commands?after=${after}&wait=1`, { headers: { authorization: auth } });
    assert.strictEqual(r.status, 200);
    return (await r.json()).commands;
  };
  for (let i = 0; i < 3; i++) {
    s.sql(`INSERT INTO commands (type, node_id, payload, deadline) VALUES ('ping', ${node.node_id},
      jsonb_build_object('pad', repeat('x', 9 * 1024 * 1024)), now() + interval '1 hour')`);
  }
  let c = await poll(0);
  assert.strictEqual(c.length, 1);
  const first = c[0].seq;
  c = await poll(first);
  assert.strictEqual(c.length, 1);
  assert.ok(c[0].seq > first);
  s.sql(`UPDATE commands SET payload = '{}' WHERE node_id = ${node.node_id}`);
  c = await poll(0);
  assert.strictEqual(c.length, 3);
});

test('a secret value is never in the agent\'s log nor the server\'s', async () => {
  assert.ok(brief, 'needs the first test');
  // The agent's log has the applies (and says nothing of values).
  const alog = agent.logText();
  assert.match(alog, /config v1 applied/);
  assert.strictEqual(alog.includes(SECRET), false, 'not in the agent log');
  assert.strictEqual(alog.includes(URL_VALUE), false, 'no value at all in the agent log');
  assert.strictEqual(s.yard.logText().includes(SECRET), false, 'not in the server log');
  assert.strictEqual(fs.readFileSync(k.logPath(brief.id), 'utf8').includes(SECRET), false, 'not in the task log');
});
