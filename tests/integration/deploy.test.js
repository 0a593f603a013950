// Deploy, overlay update, rollback and move, done by a real yard-agent
// for the real server (docs/deploy.md): packages the tests build go into
// the package store as the upload path leaves them, then deploy makes
// release 1, updates overlay it keeping preserved and shared files byte
// for byte, a bad update rolls itself back, two updates run one after
// the other, an agent killed mid-update leaves the old release running,
// a full disk and a hostile entry are refused with nothing changed, and
// a move crosses file systems.  The program is a small node HTTP service
// (the package's app.js) that reports the release it runs from.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startStack, waitFor, freePort, sleep } = require('../lib/stack.js');
const { taskKit, ownByTaskUser } = require('../lib/tasks.js');
const { zip } = require('../lib/zip.js');

const FIX = path.join(__dirname, '..', 'fixtures', 'webkinds');

// The service: GET /health answers health.txt of its working directory
// (so a package without it fails its checks), /version version.txt,
// /file?p=x any file under it.  At start it appends a line to the
// preserved conf/local.properties and to the shared data/starts.log, as
// a program that keeps its own state would, and when it stops (after the
// new release was built) one more to conf/local.properties.
const APP = `
const http = require('node:http');
const fs = require('node:fs');
const port = Number(process.argv[2]);
const stamp = 'started ' + process.pid + ' in ' + process.cwd() + '\\n';
try { fs.appendFileSync('conf/local.properties', '# ' + stamp); } catch (e) { console.log('conf: ' + e.message); }
try { fs.mkdirSync('data', { recursive: true }); fs.appendFileSync('data/starts.log', stamp); } catch (e) { console.log('data: ' + e.message); }
process.on('SIGTERM', () => {
  console.log('app: SIGTERM');
  try { fs.appendFileSync('conf/local.properties', '# stopped ' + process.pid + '\\n'); } catch { /* gone */ }
  setTimeout(() => process.exit(0), Number(process.env.STOP_MS || 0));
});
http.createServer((q, r) => {
  const u = new URL(q.url, 'http://x');
  const send = (f) => { try { r.end(fs.readFileSync(f)); } catch { r.writeHead(404); r.end('no ' + f); } };
  if (u.pathname === '/health') return send('health.txt');
  if (u.pathname === '/version') return send('version.txt');
  if (u.pathname === '/file') return send(u.searchParams.get('p'));
  r.writeHead(404); r.end();
}).listen(port, '127.0.0.1', () => console.log('app: listening on ' + port + ' from ' + process.cwd()));
`;

let s, admin, agent, kit;
test.before(async () => {
  s = await startStack({ privatePg: true, env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  admin = s.adminToken('dep-admin');
  agent = await s.agent('dep');
  kit = taskKit(s, admin, agent);
});
test.after(async () => {
  if (kit) kit.killAll();
  for (const m of mounts.reverse()) { try { execFileSync('umount', ['-l', m]); } catch { /* gone */ } }
  await s.stop();
});

const mounts = [];
// A tmpfs of size at dir (root only); null with a reason when it cannot.
function tmpfs(dir, size) {
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    return `cannot mount a tmpfs here: ${String(e.stderr || e.message).trim()}`;
  }
  mounts.push(dir);
  return null;
}

// Put a zip into the package store as a checked upload would: the file
// by its hash, a row with its manifest.  files: { path: content }.
function storePackage(name, version, files, extra = []) {
  const entries = Object.entries(files).map(([p, d]) => ({ name: p, data: d, deflate: true }))
    .concat(extra);
  const body = zip(entries);
  return storeBytes(name, version, body, Object.entries(files));
}

function storeBytes(name, version, body, files) {
  const sum = crypto.createHash('sha256').update(body).digest('hex');
  const dir = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', sum.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, sum), body);
  const manifest = files.map(([p, d]) => ({
    path: p, size: Buffer.byteLength(d), sha256: crypto.createHash('sha256').update(d).digest('hex'),
  }));
  const q = (x) => `'${String(x).replace(/'/g, "''")}'`;
  // The manifest through a file: thousands of entries do not fit argv.
  const mf = path.join(s.dir, `manifest-${sum}.json`);
  fs.writeFileSync(mf, JSON.stringify(manifest));
  const id = Number(s.sql(`INSERT INTO packages (sha256, name, version, size, entries, manifest)
    VALUES (${q(sum)}, ${q(name)}, ${q(version)}, ${body.length}, ${files.length},
    pg_read_file(${q(mf)})::jsonb)
    ON CONFLICT (sha256) DO UPDATE SET name = EXCLUDED.name RETURNING id`).split('\n')[0]);
  return { id, sha256: sum, size: body.length };
}

// The files of version v of the service.
function appFiles(v, over = {}) {
  return Object.assign({
    'app.js': APP,
    'version.txt': `v${v}\n`,
    'health.txt': 'ok\n',
    'conf/local.properties': `# packaged default ${v <= 2 ? 1 : 2}\nmode=packaged\n`,
    [`only-in-${v}.txt`]: `this file is only in v${v}\n`,
    'lib/unchanged.txt': 'the same bytes in every version\n',
  }, over);
}

async function issue(body, tok = admin) {
  return s.api('POST', '/api/v1/commands', { token: tok, body });
}

async function finished(id, ms = 60000) {
  let d;
  await waitFor(async () => {
    d = (await s.api('GET', `/api/v1/commands/${id}`, { token: admin })).json;
    return ['succeeded', 'failed', 'timed_out'].includes(d.state);
  }, ms, `command ${id} finished`);
  return d;
}

async function run(body, ms) {
  const c = await issue(body);
  assert.strictEqual(c.status, 201, c.text);
  return finished(c.json.id, ms);
}

async function get(port, p) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(3000) });
    return { status: r.status, text: await r.text() };
  } catch (e) { return { status: 0, text: e.message }; }
}

async function releases(taskId) {
  const r = await s.api('GET', `/api/v1/tasks/${taskId}/releases`, { token: admin });
  assert.strictEqual(r.status, 200, r.text);
  return r.json.items;
}

// A console task running the service from its release, with a health
// check; deploy_dir under the stack (the agent's policy root).
async function appTask(name, over = {}) {
  const port = await freePort();
  const dir = over.deploy_dir || path.join(s.dir, 'deploy', name);
  const id = await kit.create(name, Object.assign({
    kind: 'console', deploy_dir: dir,
    console: { command: '/usr/bin/node', args: ['app.js', String(port)] },
    health: { path: '/health', port, interval: 1, timeout: 2, start_timeout: 20, window: 3 },
    preserved_paths: ['conf/local.properties'], shared_paths: ['data'],
    restart: { policy: 'never' }, stop_grace: 5,
  }, over));
  return { id, port, dir };
}

const inode = (f) => fs.statSync(f).ino;

test('deploy, three overlay updates keeping preserved and shared files, a bad update rolled back, rollback',
  { timeout: 240000 }, async () => {
    const t = await appTask('svc');
    const p1 = storePackage('svc', '1', appFiles(1));
    let d = await run({ type: 'deploy', task_id: t.id, package_id: p1.id });
    assert.strictEqual(d.state, 'succeeded', d.output);
    assert.match(d.output, /^deployed release 1 \(svc 1\)/);
    assert.strictEqual(fs.readlinkSync(path.join(t.dir, 'current')), 'releases/1');
    assert.strictEqual((await get(t.port, '/version')).text, 'v1\n');
    // Shared: a link into shared/, seeded (here: made) on the first deploy.
    assert.ok(fs.lstatSync(path.join(t.dir, 'releases', '1', 'data')).isSymbolicLink());
    assert.ok(fs.existsSync(path.join(t.dir, 'shared', 'data', 'starts.log')));
    let rel = await releases(t.id);
    assert.deepStrictEqual(rel.map((r) => [r.n, r.state, r.version]), [[1, 'live', '1']]);
    assert.strictEqual(rel[0].package_id, p1.id);
    assert.strictEqual(rel[0].deployed_by_sub, 'dep-admin');

    // Three updates.  Before each, the running program has changed its
    // preserved file; the new release must hold those bytes exactly.
    for (const v of [2, 3, 4]) {
      const live = path.join(t.dir, 'current');
      const before = fs.readFileSync(path.join(live, 'conf', 'local.properties'));
      const starts = fs.readFileSync(path.join(t.dir, 'shared', 'data', 'starts.log'), 'utf8');
      // The running program's pid, as it wrote it when it started.
      const oldPid = /started (\d+) in [^\n]*\n$/.exec(fs.readFileSync(path.join(t.dir, 'shared', 'data', 'starts.log'), 'utf8'))[1];
      const pk = storePackage('svc', String(v), appFiles(v));
      d = await run({ type: 'update', task_id: t.id, package_id: pk.id });
      assert.strictEqual(d.state, 'succeeded', d.output);
      assert.match(d.output, new RegExp(`^updated to release ${v} \\(svc ${v}\\)`));
      if (v === 3) assert.match(d.output, /new defaults available: conf\/local\.properties/);
      assert.strictEqual(fs.readlinkSync(live), `releases/${v}`);
      assert.strictEqual((await get(t.port, '/version')).text, `v${v}\n`);
      // The preserved file: the live bytes, then the new start's line.
      const now = fs.readFileSync(path.join(live, 'conf', 'local.properties'));
      assert.ok(now.subarray(0, before.length).equals(before), `v${v}: preserved bytes kept`);
      assert.doesNotMatch(now.toString(), /packaged default 2/);
      // ... and what it wrote as it stopped, after the release was built.
      assert.ok(now.toString().includes(`# stopped ${oldPid}\n`), `v${v}: the stop's write carried over`);
      // Shared: still a link, and what the program wrote survives.
      assert.ok(fs.lstatSync(path.join(t.dir, 'releases', String(v), 'data')).isSymbolicLink());
      assert.ok(fs.readFileSync(path.join(t.dir, 'shared', 'data', 'starts.log'), 'utf8').startsWith(starts));
      // Overlay: files of earlier versions stay; unchanged files cost nothing.
      for (let k = 1; k <= v; k++) assert.ok(fs.existsSync(path.join(live, `only-in-${k}.txt`)), `only-in-${k} kept`);
      assert.strictEqual(inode(path.join(t.dir, 'releases', String(v), 'lib', 'unchanged.txt')),
        inode(path.join(t.dir, 'releases', String(v - 1), 'lib', 'unchanged.txt')));
    }
    rel = await releases(t.id);
    assert.deepStrictEqual(rel.map((r) => [r.n, r.state]), [[4, 'live'], [3, 'good'], [2, 'good'], [1, 'good']]);

    // A bad update: no health.txt, so its checks fail within the window.
    const bad = appFiles(5);
    delete bad['health.txt'];
    const p5 = storePackage('svc', '5', bad);
    s.sql(`UPDATE packages SET manifest = manifest WHERE id = ${p5.id}`);
    // health.txt is kept by the overlay; a clean update drops it.
    d = await run({ type: 'update', task_id: t.id, package_id: p5.id, clean: true });
    assert.strictEqual(d.state, 'failed', d.output);
    assert.match(d.output, /^update failed: .*rolled back to release 4, healthy again/s);
    assert.strictEqual(fs.readlinkSync(path.join(t.dir, 'current')), 'releases/4');
    assert.strictEqual((await get(t.port, '/version')).text, 'v4\n');
    assert.strictEqual((await get(t.port, '/health')).status, 200);
    rel = await releases(t.id);
    assert.deepStrictEqual(rel.slice(0, 2).map((r) => [r.n, r.state]), [[5, 'bad'], [4, 'live']]);

    // Roll back to release 2 on purpose.
    d = await run({ type: 'rollback', task_id: t.id, release: 2 });
    assert.strictEqual(d.state, 'succeeded', d.output);
    assert.match(d.output, /^rolled back to release 2/);
    assert.strictEqual((await get(t.port, '/version')).text, 'v2\n');
    assert.strictEqual(fs.readlinkSync(path.join(t.dir, 'current')), 'releases/2');
    // Rolling back to a bad one is refused, changing nothing.
    d = await run({ type: 'rollback', task_id: t.id, release: 5 });
    assert.strictEqual(d.state, 'failed', d.output);
    assert.match(d.output, /^rollback failed: /);
    assert.strictEqual((await get(t.port, '/version')).text, 'v2\n');
  });

test('deploy refuses a non-empty directory unless adopt, which keeps it as release 0', { timeout: 120000 }, async () => {
  const t = await appTask('handmade');
  for (const [f, d] of Object.entries(appFiles(0))) {
    fs.mkdirSync(path.dirname(path.join(t.dir, f)), { recursive: true });
    fs.writeFileSync(path.join(t.dir, f), d);
  }
  fs.writeFileSync(path.join(t.dir, 'conf', 'local.properties'), 'hand=made\n');
  ownByTaskUser(t.dir);
  const p = storePackage('handmade', '1', appFiles(1));
  let d = await run({ type: 'deploy', task_id: t.id, package_id: p.id });
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /^deploy failed: .* is not empty: deploy with adopt/);
  assert.ok(fs.existsSync(path.join(t.dir, 'version.txt')), 'nothing moved');
  // adopt: what was there becomes release 0, the package goes over it
  // as an update would (release 1), keeping the hand-made preserved file.
  d = await run({ type: 'deploy', task_id: t.id, package_id: p.id, adopt: true });
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual((await get(t.port, '/version')).text, 'v1\n');
  assert.strictEqual(fs.readFileSync(path.join(t.dir, 'releases', '0', 'version.txt'), 'utf8'), 'v0\n');
  assert.ok(fs.readFileSync(path.join(t.dir, 'current', 'conf', 'local.properties'), 'utf8').startsWith('hand=made\n'));
  assert.ok(!fs.existsSync(path.join(t.dir, 'version.txt')), 'the files moved into release 0');
  const rel = await releases(t.id);
  // Release 0 ran, but never as a release of Yard's: kept, not proven.
  assert.deepStrictEqual(rel.map((r) => [r.n, r.state]), [[1, 'live'], [0, 'kept']]);
  assert.strictEqual(rel[1].package_id, null);
  await kit.run('stop', t.id);
});

test('two updates issued together run one after the other', { timeout: 180000 }, async () => {
  const t = await appTask('queue');
  let d = await run({ type: 'deploy', task_id: t.id, package_id: storePackage('queue', '1', appFiles(1)).id });
  assert.strictEqual(d.state, 'succeeded', d.output);
  const a = await issue({ type: 'update', task_id: t.id, package_id: storePackage('queue', '2', appFiles(2)).id });
  const b = await issue({ type: 'update', task_id: t.id, package_id: storePackage('queue', '3', appFiles(3)).id });
  assert.strictEqual(a.status, 201, a.text);
  assert.strictEqual(b.status, 201, b.text);
  // Anything else meanwhile is refused (one thing at a time per task).
  const st = await kit.command('restart', t.id);
  assert.strictEqual(st.status, 409, st.text);
  const da = await finished(a.json.id, 90000);
  const db = await finished(b.json.id, 90000);
  assert.strictEqual(da.state, 'succeeded', da.output);
  assert.strictEqual(db.state, 'succeeded', db.output);
  assert.ok(Date.parse(db.finished_at) > Date.parse(da.finished_at));
  assert.ok(db.agent_received_ms >= da.agent_received_ms);
  assert.match(da.output, /^updated to release 2/);
  assert.match(db.output, /^updated to release 3/);
  assert.strictEqual((await get(t.port, '/version')).text, 'v3\n');
  await kit.run('stop', t.id);
});

test('a package with a hostile entry that got past the server is refused by the agent', { timeout: 120000 }, async () => {
  const t = await appTask('hostile');
  let d = await run({ type: 'deploy', task_id: t.id, package_id: storePackage('hostile', '1', appFiles(1)).id });
  assert.strictEqual(d.state, 'succeeded', d.output);
  const evil = storePackage('hostile', '2', appFiles(2), [{ name: '../../evil.txt', data: 'owned\n' }]);
  d = await run({ type: 'update', task_id: t.id, package_id: evil.id });
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /^update failed: package entry \.\.\/\.\.\/evil\.txt: path_traversal/);
  assert.ok(!fs.existsSync(path.join(t.dir, '..', 'evil.txt')));
  assert.ok(!fs.existsSync(path.join(t.dir, 'evil.txt')));
  assert.deepStrictEqual(fs.readdirSync(path.join(t.dir, 'releases')), ['1']);
  assert.ok(!fs.existsSync(path.join(t.dir, '.staging')) || fs.readdirSync(path.join(t.dir, '.staging')).length === 0);
  assert.strictEqual((await get(t.port, '/version')).text, 'v1\n');
  // A package whose bytes are not what its hash says is refused too.
  const p = storePackage('hostile', '3', appFiles(3));
  const file = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', p.sha256.slice(0, 2), p.sha256);
  const b = fs.readFileSync(file);
  b[b.length - 30] ^= 0xff;
  fs.writeFileSync(file, b);
  d = await run({ type: 'update', task_id: t.id, package_id: p.id });
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /^update failed: .*sha-?256/i);
  assert.strictEqual((await get(t.port, '/version')).text, 'v1\n');
  await kit.run('stop', t.id);
});

test('a full disk: a clear error naming the directory, nothing changed', { timeout: 120000 }, async (tt) => {
  const small = path.join(s.dir, 'small');
  const why = tmpfs(small, '3m');
  if (why) { tt.skip(why); return; }
  ownByTaskUser(small);
  const t = await appTask('full', { deploy_dir: path.join(small, 'full') });
  let d = await run({ type: 'deploy', task_id: t.id, package_id: storePackage('full', '1', appFiles(1)).id });
  assert.strictEqual(d.state, 'succeeded', d.output);
  const big = storePackage('full', '2', appFiles(2, { 'big.bin': crypto.randomBytes(4 << 20) }));
  d = await run({ type: 'update', task_id: t.id, package_id: big.id });
  assert.strictEqual(d.state, 'failed', d.output);
  assert.match(d.output, /^update failed: not enough space in .*full.*: \d+ bytes needed, \d+ free/);
  assert.deepStrictEqual(fs.readdirSync(path.join(t.dir, 'releases')), ['1']);
  assert.strictEqual((await get(t.port, '/version')).text, 'v1\n');
  await kit.run('stop', t.id);
});

test('move across file systems, then back on one', { timeout: 150000 }, async (tt) => {
  const other = path.join(s.dir, 'otherfs');
  const why = tmpfs(other, '64m');
  if (why) { tt.skip(why); return; }
  ownByTaskUser(other);
  const t = await appTask('mover');
  let d = await run({ type: 'deploy', task_id: t.id, package_id: storePackage('mover', '1', appFiles(1)).id });
  assert.strictEqual(d.state, 'succeeded', d.output);
  const to = path.join(other, 'mover');
  d = await run({ type: 'move', task_id: t.id, deploy_dir: to });
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.match(d.output, new RegExp(`^moved to ${to}`));
  assert.ok(!fs.existsSync(t.dir), 'the old directory is gone');
  assert.strictEqual(fs.readlinkSync(path.join(to, 'current')), 'releases/1');
  assert.ok(fs.lstatSync(path.join(to, 'releases', '1', 'data')).isSymbolicLink());
  assert.strictEqual((await kit.task(t.id)).spec.deploy_dir, to);
  await waitFor(async () => (await get(t.port, '/version')).text === 'v1\n', 20000, 'running again after the move');
  const back = path.join(s.dir, 'deploy', 'mover2');
  d = await run({ type: 'move', task_id: t.id, deploy_dir: back });
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual((await kit.task(t.id)).spec.deploy_dir, back);
  // An update after moving runs in the new place.
  d = await run({ type: 'update', task_id: t.id, package_id: storePackage('mover', '2', appFiles(2)).id });
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual(fs.readlinkSync(path.join(back, 'current')), 'releases/2');
  await kit.run('stop', t.id);
});

// Wait until command id reports step (its progress while running).
async function atStep(id, step, ms = 60000) {
  let d;
  await waitFor(async () => {
    d = (await s.api('GET', `/api/v1/commands/${id}`, { token: admin })).json;
    if (['succeeded', 'failed', 'timed_out'].includes(d.state)) throw new Error(`finished before ${step}: ${d.output}`);
    return d.progress && d.progress.step === step;
  }, ms, `step ${step}`);
  return d;
}

test('the agent killed with SIGKILL mid-unpack and mid-switch: the old release runs on, the command fails, staging is gone',
  { timeout: 240000 }, async () => {
    const t = await appTask('crash', { env: { STOP_MS: '4000' }, stop_grace: 20 });
    let d = await run({ type: 'deploy', task_id: t.id, package_id: storePackage('crash', '1', appFiles(1)).id });
    assert.strictEqual(d.state, 'succeeded', d.output);
    // Big enough that unpacking takes a while: 3000 files of 8 KiB.
    const many = appFiles(2);
    for (let i = 0; i < 3000; i++) many[`bulk/${i % 30}/f${i}.bin`] = crypto.randomBytes(8192);
    const big = storePackage('crash', '2', many);
    const c = await issue({ type: 'update', task_id: t.id, package_id: big.id });
    assert.strictEqual(c.status, 201, c.text);
    await atStep(c.json.id, 'unpack');
    await agent.stop('SIGKILL');
    agent.start();
    d = await finished(c.json.id, 60000);
    assert.strictEqual(d.state, 'failed', d.output);
    assert.match(d.output, /agent restarted during (unpack|check|download); release 1 is live/);
    assert.strictEqual((await get(t.port, '/version')).text, 'v1\n');
    assert.ok(!fs.existsSync(path.join(t.dir, '.staging')) || fs.readdirSync(path.join(t.dir, '.staging')).length === 0);
    assert.strictEqual(fs.readlinkSync(path.join(t.dir, 'current')), 'releases/1');

    // Mid-switch: the old program takes 4 s to stop; kill the agent
    // while it waits, after the new release is staged and journaled.
    const p3 = storePackage('crash', '3', appFiles(3));
    const c3 = await issue({ type: 'update', task_id: t.id, package_id: p3.id });
    await atStep(c3.json.id, 'stop');
    await agent.stop('SIGKILL');
    agent.start();
    d = await finished(c3.json.id, 60000);
    assert.strictEqual(d.state, 'failed', d.output);
    assert.match(d.output, /agent restarted during (stop|switch); release 1 is live/);
    await waitFor(async () => (await get(t.port, '/version')).text === 'v1\n', 30000, 'v1 served again');
    assert.strictEqual(fs.readlinkSync(path.join(t.dir, 'current')), 'releases/1');
    const rel = await releases(t.id);
    assert.strictEqual(rel.find((r) => r.state === 'live').n, 1);
    // And the next update works.
    d = await run({ type: 'update', task_id: t.id, package_id: p3.id });
    assert.strictEqual(d.state, 'succeeded', d.output);
    assert.strictEqual((await get(t.port, '/version')).text, 'v3\n');
    await kit.run('stop', t.id);
  });

test('a jar from a package, updated', { timeout: 150000 }, async () => {
  const build = path.join(s.dir, 'build', 'jar');
  execFileSync('javac', ['-d', build, path.join(FIX, 'Svc.java')], { stdio: 'pipe' });
  fs.writeFileSync(path.join(build, 'manifest.txt'), 'Main-Class: Svc\n');
  const jar = path.join(s.dir, 'build', 'svc.jar');
  execFileSync('jar', ['cfm', jar, path.join(build, 'manifest.txt'), '-C', build, '.'], { stdio: 'pipe' });
  const port = await freePort();
  const id = await kit.create('jarsvc', {
    kind: 'jar', deploy_dir: path.join(s.dir, 'deploy', 'jarsvc'),
    jar: { jar: 'app/svc.jar', args: [String(port)], port },
    health: { path: '/health', interval: 1, timeout: 2, start_timeout: 60, window: 2 },
    restart: { policy: 'never' }, stop_grace: 10,
  });
  const bytes = fs.readFileSync(jar).toString('latin1');
  const pk = (v) => storeBytes('jarsvc', v, zip([
    { name: 'app/svc.jar', data: Buffer.from(bytes, 'latin1') }, { name: 'VERSION', data: v },
  ]), [['app/svc.jar', Buffer.from(bytes, 'latin1')], ['VERSION', v]]);
  let d = await run({ type: 'deploy', task_id: id, package_id: pk('1').id }, 90000);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual((await get(port, '/health')).status, 200);
  d = await run({ type: 'update', task_id: id, package_id: pk('2').id }, 90000);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual((await get(port, '/health')).status, 200);
  assert.strictEqual(fs.readFileSync(path.join(s.dir, 'deploy', 'jarsvc', 'current', 'VERSION'), 'utf8'), '2');
  await kit.run('stop', id);
});

test('Tomcat: a hand-made base adopted, then a war deployed into webapps and kept conf/', { timeout: 240000 }, async () => {
  const home = '/usr/share/tomcat10';
  assert.ok(fs.existsSync(`${home}/bin/catalina.sh`), 'tomcat10 is missing: run make deps');
  const [http, shut] = [await freePort(), await freePort()];
  const base = path.join(s.dir, 'deploy', 'tc');
  fs.mkdirSync(path.dirname(base), { recursive: true });
  execFileSync('tomcat10-instance-create', ['-p', String(http), '-c', String(shut), base], { stdio: 'pipe' });
  const xml = path.join(base, 'conf', 'server.xml');
  const conf = fs.readFileSync(xml, 'utf8')
    .replace(`<Server port="${shut}"`, `<Server address="127.0.0.1" port="${shut}"`)
    .replace(`<Connector port="${http}"`, `<Connector address="127.0.0.1" port="${http}"`);
  fs.writeFileSync(xml, conf);
  const id = await kit.create('tc', {
    kind: 'tomcat', deploy_dir: base,
    tomcat: { home, port: http, app_path: '/hello/' },
    health: { path: '/hello/health.txt', interval: 1, timeout: 2, start_timeout: 90, window: 2 },
    restart: { policy: 'never' }, stop_grace: 30,
  });
  const war = (v) => {
    const files = { 'health.txt': `ok ${v}\n`, 'index.jsp': fs.readFileSync(path.join(FIX, 'hello', 'index.jsp'), 'utf8') };
    return storeBytes('hello', v, zip(Object.entries(files).map(([n, d]) => ({ name: n, data: d, deflate: true }))),
      Object.entries(files));
  };
  // The base as someone set it up by hand, with the webapp in place.
  fs.cpSync(path.join(FIX, 'hello'), path.join(base, 'webapps', 'hello'), { recursive: true });
  ownByTaskUser(base);
  let d = await run({ type: 'deploy', task_id: id, package_id: war('1').id, adopt: true }, 150000);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual((await get(http, '/hello/health.txt')).text, 'ok 1\n');
  assert.ok(fs.existsSync(path.join(base, 'current', 'webapps', 'hello', 'index.jsp')));
  assert.strictEqual(fs.readFileSync(path.join(base, 'current', 'conf', 'server.xml'), 'utf8'), conf);
  d = await run({ type: 'update', task_id: id, package_id: war('2').id }, 150000);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.strictEqual((await get(http, '/hello/health.txt')).text, 'ok 2\n');
  await kit.run('stop', id, 60000);
});
