// Deploy, update, rollback and move as the server sees them, with this
// file playing the agent over the real agent protocol (a node enrolled by
// hand, no agent process): each command's payload as the agent receives
// it, bodies checked before anything is written, levels, release commands
// queueing behind each other and nothing else, progress kept while a
// command runs, the releases a final result reports, a move's new
// deploy_dir, the package download while the command is unfinished, the
// diff against a task's live release and YARD_DEPLOY_TIMEOUT
// (docs/api.md, "Commands" and "Releases").
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, waitFor } = require('../lib/stack.js');
const { zip } = require('../lib/zip.js');

// Release commands time out after 20 s here (start and the like: 120 s).
const DEPLOY_TIMEOUT = 20;

let s, admin, node, other, after = 0;
const T = {}; // task ids by name
const P = {}; // packages by name: { id, sha, size, body }

test.before(async () => {
  s = await startStack({ env: { YARD_DEPLOY_TIMEOUT: String(DEPLOY_TIMEOUT) } });
  admin = s.adminToken('rel-admin');
  node = await enroll('rel-node');
  other = await enroll('rel-other');
  for (const name of ['app', 'perm', 'queue', 'prog', 'rels', 'mv', 'dl', 'diff', 'tmo'])
    T[name] = await task(node, name);
  T.far = await task(other, 'far');
  pkg('web', '2.1', T.app, [['index.html', 'hello'], ['conf/app.properties', 'a=1']]);
  pkg('web', '2.2', T.app, [['index.html', 'hello again'], ['conf/app.properties', 'a=1'], ['new.txt', 'n']]);
  pkg('far', '1.0', T.far, [['x', 'y']]);
});
test.after(async () => { if (s) await s.stop(); });

const FACTS = (host) => ({
  hostname: host, os: 'Debian GNU/Linux 12 (bookworm)', os_family: 'linux', kernel: '6.1.0',
  arch: 'x86_64', cpus: 2, mem_total: 8e9, boot_id: 'b0a7c0de-0000-4000-8000-000000000010', uptime: 100,
  agent_version: '0.1.0', policy: {
    roots: [{ path: '/srv/yard', user: 'yard-task' }, { path: '/opt/legacy', user: 'root' }],
    user: 'yard-task', kinds: {}, refuse_env: ['LD_*'], limits: { tasks: 256, log_bytes: 10485760 },
  },
});

async function enroll(host) {
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  const r = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: FACTS(host) }),
  });
  const text = await r.text();
  assert.strictEqual(r.status, 201, text);
  const j = JSON.parse(text);
  return { id: j.node_id, auth: `YardNode ${j.node_id}:${j.secret}` };
}

async function task(n, name) {
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: n.id, name, spec: {
    kind: 'console', deploy_dir: `/srv/yard/${name}`, console: { command: 'bin/run' },
    preserved_paths: ['conf/app.properties'], shared_paths: ['data'],
  } } });
  assert.strictEqual(r.status, 201, r.text);
  return r.json.id;
}

// A package of task, stored as the upload path stores it (file by hash,
// one row); files: [[path, content]].
function pkg(name, version, taskId, files) {
  const body = zip(files.map(([n, d]) => ({ name: n, data: d })));
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  const dir = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', sha.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, sha), body);
  const manifest = files.map(([n, d]) => ({ path: n, size: Buffer.byteLength(d),
    sha256: crypto.createHash('sha256').update(d).digest('hex') }));
  const id = Number(s.sql(`INSERT INTO packages (sha256, name, version, task_id, size, entries, manifest)
    VALUES ('${sha}', '${name}', '${version}', ${taskId}, ${body.length}, ${files.length},
    '${JSON.stringify(manifest)}') RETURNING id`).split('\n')[0]);
  const unpacked = manifest.reduce((a, m) => a + m.size, 0);
  P[`${name}-${version}`] = { id, sha, size: body.length, unpacked, body };
  return P[`${name}-${version}`];
}

async function userWith(sub, grant) {
  await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  if (grant) {
    const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, grant) });
    assert.strictEqual(r.status, 201, r.text);
  }
  return { token: s.token(sub), id: uid };
}

const issue = (body, token = admin) => s.api('POST', '/api/v1/commands', { token, body });
const cmd = async (id) => (await s.api('GET', `/api/v1/commands/${id}`, { token: admin })).json;

// The fake agent: what a poll hands out now (commands after the last
// seen), and a result.
async function poll(n = node) {
  const r = await fetch(`${s.yard.url}/agent/v1/commands?after=${after}&wait=5`, { headers: { authorization: n.auth } });
  if (r.status === 204) return [];
  assert.strictEqual(r.status, 200);
  const j = await r.json();
  for (const c of j.commands) after = Math.max(after, c.seq);
  return j.commands;
}
async function result(id, body, n = node) {
  const r = await fetch(`${s.yard.url}/agent/v1/commands/${id}/result`, {
    method: 'POST', headers: { authorization: n.auth, 'content-type': 'application/json' },
    body: JSON.stringify(Object.assign({ v: 1 }, body)),
  });
  return { status: r.status, json: await r.json() };
}
const done = (id, extra = {}) => result(id, Object.assign({ state: 'succeeded', exit_status: 0, output: 'ok',
  received_at: Date.now(), finished_at: Date.now() }, extra));
async function finishAll() {
  for (const c of await poll()) await done(c.id);
  s.sql(`UPDATE commands SET state = 'succeeded', finished_at = now() WHERE state IN ('queued', 'dispatched', 'running')`);
}
const counts = () => s.sql(`SELECT (SELECT count(*) FROM commands) || ',' || (SELECT count(*) FROM audit WHERE action = 'command.issue')`);

test('each release command reaches the agent in the contract\'s shape', async () => {
  const spec = (await s.api('GET', `/api/v1/tasks/${T.app}`, { token: admin })).json.spec;
  const t = { id: T.app, name: 'app', spec };
  const p = P['web-2.1'];
  const pk = { sha256: p.sha, size: p.size, unpacked: p.unpacked, name: 'web', version: '2.1' };
  const bodies = [
    [{ type: 'deploy', task_id: T.app, package_id: p.id }, { task: t, package: pk, adopt: false }],
    [{ type: 'deploy', task_id: T.app, package_id: p.id, adopt: true }, { task: t, package: pk, adopt: true }],
    [{ type: 'update', task_id: T.app, package_id: P['web-2.2'].id, clean: true }, { task: t, package: {
      sha256: P['web-2.2'].sha, size: P['web-2.2'].size, unpacked: P['web-2.2'].unpacked, name: 'web', version: '2.2' },
    clean: true }],
    [{ type: 'update', task_id: T.app, package_id: p.id }, { task: t, package: pk, clean: false }],
    [{ type: 'rollback', task_id: T.app, release: 2 }, { task: t, release: 2 }],
    [{ type: 'rollback', task_id: T.app, release: 0 }, { task: t, release: 0 }],
    [{ type: 'rollback', task_id: T.app }, { task: t }],
    [{ type: 'move', task_id: T.app, deploy_dir: '/srv/yard/app2' }, { task: t, deploy_dir: '/srv/yard/app2' }],
  ];
  const ids = [];
  for (const [b] of bodies) {
    const r = await issue(b);
    assert.strictEqual(r.status, 201, `${JSON.stringify(b)}: ${r.text}`);
    assert.deepStrictEqual(r.json.payload, bodies[ids.length][1]);
    ids.push(r.json.id);
  }
  const got = await poll();
  assert.deepStrictEqual(got.map((c) => c.id), ids);
  got.forEach((c, i) => {
    assert.strictEqual(c.type, bodies[i][0].type);
    assert.deepStrictEqual(c.payload, bodies[i][1], c.type);
  });
  // Audited like every command, with the command's own members.
  const a = JSON.parse(s.sql(`SELECT detail FROM audit WHERE action = 'command.issue' AND detail->>'command' = '${ids[2]}'`));
  assert.deepStrictEqual(a, { command: ids[2], type: 'update', package_id: P['web-2.2'].id, clean: true });
  // (The move fails: app keeps its deploy_dir for the tests below.)
  for (const id of ids.slice(0, -1)) assert.strictEqual((await done(id)).status, 200);
  assert.strictEqual((await result(ids[ids.length - 1], { state: 'failed', exit_status: 1,
    output: 'move failed: test', finished_at: Date.now() })).status, 200);
});

test('a bad body is a 400 naming the member, and writes nothing', async () => {
  const before = counts();
  const p = P['web-2.1'].id;
  for (const [b, field] of [
    [{ type: 'deploy', task_id: T.app }, 'package_id'],
    [{ type: 'deploy', task_id: T.app, package_id: 'x' }, 'package_id'],
    [{ type: 'deploy', task_id: T.app, package_id: 0 }, 'package_id'],
    [{ type: 'deploy', task_id: T.app, package_id: p, adopt: 'yes' }, 'adopt'],
    [{ type: 'deploy', task_id: T.app, package_id: p, clean: true }, 'clean'],
    [{ type: 'update', task_id: T.app }, 'package_id'],
    [{ type: 'update', task_id: T.app, package_id: p, clean: 1 }, 'clean'],
    [{ type: 'update', task_id: T.app, package_id: p, adopt: false }, 'adopt'],
    [{ type: 'rollback', task_id: T.app, release: -1 }, 'release'],
    [{ type: 'rollback', task_id: T.app, release: '2' }, 'release'],
    [{ type: 'rollback', task_id: T.app, release: 1.5 }, 'release'],
    [{ type: 'rollback', task_id: T.app, package_id: p }, 'package_id'],
    [{ type: 'move', task_id: T.app }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: 7 }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: 'srv/yard/rel' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '/srv/yard/../etc' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '/etc/app' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '/srv/yard' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '/srv/yard/app' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '/srv/yard/app/' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '/srv/yard/app/inner' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '/srv/yard/a\u0001b' }, 'deploy_dir'],
    [{ type: 'move', task_id: T.app, deploy_dir: '/srv/yard/x', extra: 1 }, 'extra'],
    [{ type: 'deploy', node_id: node.id, package_id: p }, 'task_id'],
  ]) {
    const r = await issue(b);
    assert.strictEqual(r.status, 400, `${JSON.stringify(b)}: ${r.text}`);
    assert.strictEqual(r.json.field, field, `${JSON.stringify(b)}: ${r.text}`);
    assert.ok(r.json.message, JSON.stringify(b));
  }
  // A package that does not exist, or that the caller may not see.
  const mgr = await userWith('rel-mgr', { task_id: T.app, level: 'manage' });
  for (const [b, token] of [
    [{ type: 'deploy', task_id: T.app, package_id: 999999 }, admin],
    [{ type: 'update', task_id: T.app, package_id: P['far-1.0'].id }, mgr.token],
  ]) {
    const r = await issue(b, token);
    assert.strictEqual(r.status, 404, r.text);
    assert.strictEqual(r.json.error, 'package_not_found');
    assert.strictEqual(r.json.field, 'package_id');
  }
  assert.strictEqual(counts(), before);
  // The outside-the-roots message names the roots.
  const r = await issue({ type: 'move', task_id: T.app, deploy_dir: '/etc/app' });
  assert.match(r.json.message, /outside the node's allowed roots \(\/srv\/yard, \/opt\/legacy\)/);
  // Under another root: fine.
  const ok = await issue({ type: 'move', task_id: T.app, deploy_dir: '/opt/legacy/app' });
  assert.strictEqual(ok.status, 201, ok.text);
  await finishAll();
});

test('levels: view and operate 403, manage issues, an invisible task 404', async () => {
  const viewer = await userWith('rel-viewer', { task_id: T.perm, level: 'view' });
  const operator = await userWith('rel-operator', { node_id: node.id, level: 'operate' });
  const manager = await userWith('rel-manager', { task_id: T.perm, level: 'manage' });
  const stranger = await userWith('rel-stranger', { task_id: T.far, level: 'manage' });
  // The manager must see the package: make one of their task.
  const p = pkg('perm', '1', T.perm, [['a', 'b']]).id;
  const bodies = [
    { type: 'deploy', task_id: T.perm, package_id: p },
    { type: 'update', task_id: T.perm, package_id: p },
    { type: 'rollback', task_id: T.perm },
    { type: 'move', task_id: T.perm, deploy_dir: '/srv/yard/perm2' },
  ];
  const before = counts();
  for (const b of bodies) {
    for (const [who, status] of [[viewer, 403], [operator, 403], [stranger, 404]]) {
      const r = await issue(b, who.token);
      assert.strictEqual(r.status, status, `${b.type}: ${r.text}`);
      if (status === 403) assert.match(r.json.message, /manage/);
    }
  }
  assert.strictEqual(counts(), before);
  for (const b of bodies) {
    const r = await issue(b, manager.token);
    assert.strictEqual(r.status, 201, `${b.type}: ${r.text}`);
    assert.strictEqual(r.json.type, b.type);
  }
  await finishAll();
});

test('release commands queue behind each other; nothing else mixes with them', async () => {
  const p = P['web-2.1'].id;
  const u1 = await issue({ type: 'update', task_id: T.queue, package_id: p });
  const u2 = await issue({ type: 'update', task_id: T.queue, package_id: p });
  assert.strictEqual(u1.status, 201, u1.text);
  assert.strictEqual(u2.status, 201, u2.text);
  // A start (or stop, restart, uninstall) while they are queued: refused.
  for (const type of ['start', 'stop', 'restart', 'uninstall']) {
    const r = await issue({ type, task_id: T.queue });
    assert.strictEqual(r.status, 409, `${type}: ${r.text}`);
    assert.strictEqual(r.json.error, 'command_in_progress');
  }
  // Both reach the agent in order; the start is still refused while the
  // second runs.
  const got = await poll();
  assert.deepStrictEqual(got.map((c) => c.id), [u1.json.id, u2.json.id]);
  await done(u1.json.id);
  await result(u2.json.id, { state: 'running', received_at: Date.now() });
  assert.strictEqual((await issue({ type: 'start', task_id: T.queue })).status, 409);
  await done(u2.json.id);
  // A start running: an update is refused now.
  const st = await issue({ type: 'start', task_id: T.queue });
  assert.strictEqual(st.status, 201, st.text);
  const up = await issue({ type: 'update', task_id: T.queue, package_id: p });
  assert.strictEqual(up.status, 409, up.text);
  assert.strictEqual(up.json.error, 'command_in_progress');
  await finishAll();
  // The database refuses the mix too, whatever the statement checked.
  s.sql(`INSERT INTO commands (type, node_id, task_id, deadline) VALUES ('update', ${node.id}, ${T.queue}, now() + interval '1 hour')`);
  assert.throws(() => s.sql(`INSERT INTO commands (type, node_id, task_id, deadline) VALUES ('start', ${node.id}, ${T.queue}, now() + interval '1 hour')`),
    /commands_release_queue/);
  await finishAll();
});

test('progress is kept while the command runs, shown, then cleared', async () => {
  const c = await issue({ type: 'deploy', task_id: T.prog, package_id: P['web-2.1'].id });
  assert.strictEqual(c.status, 201, c.text);
  await poll();
  const id = c.json.id;
  assert.strictEqual((await cmd(id)).progress, null);
  let r = await result(id, { state: 'running', progress: { step: 'download', percent: 40 }, received_at: Date.now() });
  assert.strictEqual(r.status, 200, JSON.stringify(r.json));
  assert.deepStrictEqual((await cmd(id)).progress, { step: 'download', percent: 40 });
  r = await result(id, { state: 'running', progress: { step: 'unpack', percent: -1 }, received_at: Date.now() });
  assert.strictEqual(r.status, 200);
  const d = await cmd(id);
  assert.deepStrictEqual(d.progress, { step: 'unpack', percent: -1 });
  assert.strictEqual(d.state, 'running');
  // One running event, however many progress reports.
  assert.deepStrictEqual(d.events.map((e) => e.state), ['queued', 'dispatched', 'running']);
  // In the list too.
  const l = await s.api('GET', `/api/v1/commands?task_id=${T.prog}`, { token: admin });
  assert.deepStrictEqual(l.json.items[0].progress, { step: 'unpack', percent: -1 });
  // Bad progress: a 400 naming it, nothing changed.
  for (const [progress, field] of [
    [{ step: 'dance', percent: 1 }, 'progress.step'],
    [{ percent: 1 }, 'progress.step'],
    [{ step: 'download', percent: 101 }, 'progress.percent'],
    [{ step: 'download', percent: -2 }, 'progress.percent'],
    [{ step: 'download', percent: '5' }, 'progress.percent'],
    [{ step: 'download' }, 'progress.percent'],
    ['fast', 'progress'],
  ]) {
    r = await result(id, { state: 'running', progress, received_at: Date.now() });
    assert.strictEqual(r.status, 400, JSON.stringify(progress));
    assert.strictEqual(r.json.field, field, JSON.stringify(progress));
  }
  // A running result without progress keeps the last one.
  assert.strictEqual((await result(id, { state: 'running', received_at: Date.now() })).status, 200);
  assert.deepStrictEqual((await cmd(id)).progress, { step: 'unpack', percent: -1 });
  // Every step is accepted.
  for (const step of ['download', 'check', 'unpack', 'stop', 'switch', 'start', 'health', 'rollback', 'move', 'copy'])
    assert.strictEqual((await result(id, { state: 'running', progress: { step, percent: 0 }, received_at: Date.now() })).status, 200, step);
  // Finished: gone.
  assert.strictEqual((await done(id)).status, 200);
  assert.strictEqual((await cmd(id)).progress, null);
});

test('the releases of a final result are recorded and listed', async () => {
  const deployer = await userWith('rel-deployer', { task_id: T.rels, level: 'manage' });
  const viewer = await userWith('rel-rviewer', { task_id: T.rels, level: 'view' });
  const stranger = await userWith('rel-rstranger', { task_id: T.far, level: 'manage' });
  const p1 = pkg('rels', '1.0', T.rels, [['a', '1']]);
  const p2 = pkg('rels', '2.0', T.rels, [['a', '2']]);
  const empty = await s.api('GET', `/api/v1/tasks/${T.rels}/releases`, { token: viewer.token });
  assert.strictEqual(empty.status, 200, empty.text);
  assert.deepStrictEqual(empty.json, { items: [], next: null });

  const d = await issue({ type: 'deploy', task_id: T.rels, package_id: p1.id, adopt: true }, deployer.token);
  assert.strictEqual(d.status, 201, d.text);
  await poll();
  const t0 = 1795468349000;
  const gone = 'f'.repeat(64); // no package row has it
  let r = await done(d.json.id, { output: 'deployed release 1 (rels 1.0); started, pid 42', releases: [
    { n: 1, sha256: p1.sha, state: 'live', deployed_at: t0 + 1000, command: d.json.id.toUpperCase() },
    { n: 0, sha256: '', state: 'good', deployed_at: t0, command: d.json.id },
  ] });
  assert.strictEqual(r.status, 200, JSON.stringify(r.json));
  let l = await s.api('GET', `/api/v1/tasks/${T.rels}/releases`, { token: viewer.token });
  assert.strictEqual(l.status, 200, l.text);
  assert.deepStrictEqual(l.json.items.map((i) => [i.n, i.package_id, i.name, i.version, i.sha256, i.state]), [
    [1, p1.id, 'rels', '1.0', p1.sha, 'live'],
    [0, null, null, null, '', 'good'],
  ]);
  assert.strictEqual(l.json.next, null);
  assert.strictEqual(l.json.items[0].deployed_by, deployer.id);
  assert.strictEqual(l.json.items[0].deployed_by_sub, 'rel-deployer');
  assert.strictEqual(l.json.items[0].command_id, d.json.id);
  assert.strictEqual(Date.parse(l.json.items[0].deployed_at), t0 + 1000);

  // A failed update's releases replace them (the bad one included).
  const u = await issue({ type: 'update', task_id: T.rels, package_id: p2.id });
  await poll();
  r = await result(u.json.id, { state: 'failed', exit_status: 1, output: 'update failed: health check failed; rolled back to release 1',
    received_at: Date.now(), finished_at: Date.now(), releases: [
      { n: 3, sha256: gone, state: 'kept', deployed_at: t0 + 3000, command: '' },
      { n: 2, sha256: p2.sha, state: 'bad', deployed_at: t0 + 2000, command: u.json.id },
      { n: 1, sha256: p1.sha, state: 'live', deployed_at: t0 + 1000, command: d.json.id },
    ] });
  assert.strictEqual(r.status, 200, JSON.stringify(r.json));
  l = await s.api('GET', `/api/v1/tasks/${T.rels}/releases`, { token: viewer.token });
  assert.deepStrictEqual(l.json.items.map((i) => [i.n, i.package_id, i.version, i.state, i.deployed_by, i.command_id]), [
    [3, null, null, 'kept', null, null],
    [2, p2.id, '2.0', 'bad', Number(s.sql("SELECT id FROM users WHERE sub = 'rel-admin'")), u.json.id],
    [1, p1.id, '1.0', 'live', deployer.id, d.json.id],
  ]);
  // A repeated final result changes nothing.
  r = await result(u.json.id, { state: 'succeeded', finished_at: Date.now(), releases: [] });
  assert.strictEqual(r.status, 200);
  assert.strictEqual((await s.api('GET', `/api/v1/tasks/${T.rels}/releases`, { token: admin })).json.items.length, 3);
  // A start's releases are not a release command's: ignored.
  const st = await issue({ type: 'start', task_id: T.rels });
  await poll();
  await done(st.json.id, { releases: [] });
  assert.strictEqual((await s.api('GET', `/api/v1/tasks/${T.rels}/releases`, { token: admin })).json.items.length, 3);
  // Bad releases: a 400 naming the member, nothing recorded.
  const rb = await issue({ type: 'rollback', task_id: T.rels, release: 2 });
  await poll();
  for (const [rel, field] of [
    [{ n: -1, sha256: '', state: 'live', deployed_at: 1, command: '' }, 'releases[0].n'],
    [{ n: 1, sha256: 'ABC', state: 'live', deployed_at: 1, command: '' }, 'releases[0].sha256'],
    [{ n: 1, sha256: '', state: 'new', deployed_at: 1, command: '' }, 'releases[0].state'],
    [{ n: 1, sha256: '', state: 'live', deployed_at: 'now', command: '' }, 'releases[0].deployed_at'],
    [{ n: 1, sha256: '', state: 'live', deployed_at: 1, command: 'x' }, 'releases[0].command'],
  ]) {
    r = await done(rb.json.id, { releases: [rel] });
    assert.strictEqual(r.status, 400, JSON.stringify(rel));
    assert.strictEqual(r.json.field, field);
  }
  const many = Array.from({ length: 129 }, (_, i) => ({ n: i, sha256: '', state: 'kept', deployed_at: 1, command: '' }));
  r = await done(rb.json.id, { releases: many });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'releases');
  assert.strictEqual((await cmd(rb.json.id)).state, 'dispatched');
  r = await done(rb.json.id, { output: 'rolled back to release 2', releases: many.slice(0, 128) });
  assert.strictEqual(r.status, 200, JSON.stringify(r.json));
  assert.strictEqual((await s.api('GET', `/api/v1/tasks/${T.rels}/releases`, { token: admin })).json.items.length, 128);
  // Not visible: 404.
  assert.strictEqual((await s.api('GET', `/api/v1/tasks/${T.rels}/releases`, { token: stranger.token })).status, 404);
  assert.strictEqual((await s.api('GET', '/api/v1/tasks/999999/releases', { token: admin })).status, 404);
});

test('a move sets deploy_dir only when it succeeds', async () => {
  const dir = async () => (await s.api('GET', `/api/v1/tasks/${T.mv}`, { token: admin })).json.spec.deploy_dir;
  const m1 = await issue({ type: 'move', task_id: T.mv, deploy_dir: '/srv/yard/mv-new' });
  assert.strictEqual(m1.status, 201, m1.text);
  await poll();
  await result(m1.json.id, { state: 'failed', exit_status: 1, output: 'move failed: copy: no space left on device',
    received_at: Date.now(), finished_at: Date.now() });
  assert.strictEqual(await dir(), '/srv/yard/mv');
  const m2 = await issue({ type: 'move', task_id: T.mv, deploy_dir: '/srv/yard/mv-new' });
  await poll();
  await result(m2.json.id, { state: 'running', progress: { step: 'copy', percent: 50 }, received_at: Date.now() });
  assert.strictEqual(await dir(), '/srv/yard/mv');
  await done(m2.json.id, { output: 'moved to /srv/yard/mv-new' });
  assert.strictEqual(await dir(), '/srv/yard/mv-new');
  // The next command carries the new one; moving back is allowed.
  const m3 = await issue({ type: 'move', task_id: T.mv, deploy_dir: '/srv/yard/mv' });
  assert.strictEqual(m3.status, 201, m3.text);
  assert.strictEqual(m3.json.payload.task.spec.deploy_dir, '/srv/yard/mv-new');
  await finishAll();
});

test('the agent downloads the package only while the deploy is unfinished', async () => {
  const p = pkg('dl', '1', T.dl, [['big.bin', crypto.randomBytes(50000).toString('hex')]]);
  const get = (n = node) => fetch(`${s.yard.url}/agent/v1/packages/${p.sha}`, { headers: { authorization: n.auth } });
  assert.strictEqual((await get()).status, 404);
  const d = await issue({ type: 'deploy', task_id: T.dl, package_id: p.id });
  assert.strictEqual(d.status, 201, d.text);
  let r = await get();
  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual(Buffer.from(await r.arrayBuffer()), p.body);
  assert.strictEqual((await get(other)).status, 404);
  await poll();
  await result(d.json.id, { state: 'running', progress: { step: 'download', percent: 10 }, received_at: Date.now() });
  r = await fetch(`${s.yard.url}/agent/v1/packages/${p.sha}`, { headers: { authorization: node.auth, range: 'bytes=10-19' } });
  assert.strictEqual(r.status, 206);
  assert.deepStrictEqual(Buffer.from(await r.arrayBuffer()), p.body.subarray(10, 20));
  await done(d.json.id);
  assert.strictEqual((await get()).status, 404);
});

test('the diff of a package against a task\'s live release', async () => {
  const f = (p, d) => [p, d];
  const v1 = pkg('diffy', '1', T.diff, [f('a.txt', 'a'), f('b.txt', 'b'), f('gone.txt', 'g')]);
  const v2 = pkg('diffy', '2', T.diff, [f('a.txt', 'a'), f('b.txt', 'B!'), f('new.txt', 'n')]);
  const viewer = await userWith('rel-dviewer', { task_id: T.diff, level: 'view' });
  const stranger = await userWith('rel-dstranger', { task_id: T.far, level: 'view' });
  // Nothing live: every file added.
  let r = await s.api('GET', `/api/v1/packages/${v2.id}/diff?task_id=${T.diff}`, { token: viewer.token });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.against, null);
  assert.strictEqual(r.json.basis, 'live');
  assert.strictEqual(r.json.live, null);
  assert.deepStrictEqual(r.json.counts, { added: 3, changed: 0, removed: 0, unchanged: 0 });
  assert.deepStrictEqual(r.json.items.map((i) => [i.path, i.change]), [['a.txt', 'added'], ['b.txt', 'added'], ['new.txt', 'added']]);
  // v1 live (as a deploy's result reports it).
  const d = await issue({ type: 'deploy', task_id: T.diff, package_id: v1.id });
  await poll();
  await done(d.json.id, { releases: [{ n: 1, sha256: v1.sha, state: 'live', deployed_at: Date.now(), command: d.json.id }] });
  r = await s.api('GET', `/api/v1/packages/${v2.id}/diff?task_id=${T.diff}`, { token: viewer.token });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.against.id, v1.id);
  assert.strictEqual(r.json.against.version, '1');
  assert.deepStrictEqual(r.json.live, { n: 1, sha256: v1.sha });
  assert.deepStrictEqual(r.json.counts, { added: 1, changed: 1, removed: 1, unchanged: 1 });
  assert.deepStrictEqual(r.json.items.map((i) => [i.path, i.change]), [['b.txt', 'changed'], ['gone.txt', 'removed'], ['new.txt', 'added']]);
  // Paged like any diff.
  r = await s.api('GET', `/api/v1/packages/${v2.id}/diff?task_id=${T.diff}&limit=2`, { token: viewer.token });
  assert.deepStrictEqual(r.json.items.map((i) => i.path), ['b.txt', 'gone.txt']);
  assert.strictEqual(r.json.next, 'gone.txt');
  // The live package against itself: nothing.
  r = await s.api('GET', `/api/v1/packages/${v1.id}/diff?task_id=${T.diff}`, { token: viewer.token });
  assert.deepStrictEqual(r.json.counts, { added: 0, changed: 0, removed: 0, unchanged: 3 });
  // A task the caller may not view, or none: 404; with against: 400.
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${v2.id}/diff?task_id=${T.far}`, { token: viewer.token })).status, 404);
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${v2.id}/diff?task_id=${T.diff}`, { token: stranger.token })).status, 404);
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${v2.id}/diff?task_id=999999`, { token: admin })).status, 404);
  r = await s.api('GET', `/api/v1/packages/${v2.id}/diff?task_id=${T.diff}&against=${v1.id}`, { token: admin });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'task_id');
  assert.strictEqual((await s.api('GET', `/api/v1/packages/${v2.id}/diff?task_id=x`, { token: admin })).status, 400);
});

test('release commands time out after YARD_DEPLOY_TIMEOUT, others after YARD_COMMAND_TIMEOUT', async () => {
  const d = await issue({ type: 'deploy', task_id: T.tmo, package_id: P['web-2.1'].id });
  assert.strictEqual(d.status, 201, d.text);
  const secs = (id) => Number(s.sql(`SELECT extract(epoch FROM deadline - issued_at)::integer FROM commands WHERE id = '${id}'`));
  assert.strictEqual(secs(d.json.id), DEPLOY_TIMEOUT);
  await poll();
  await result(d.json.id, { state: 'running', progress: { step: 'unpack', percent: 5 }, received_at: Date.now() });
  await waitFor(async () => (await cmd(d.json.id)).state === 'timed_out', (DEPLOY_TIMEOUT + 10) * 1000, 'deploy timed out');
  const c = await cmd(d.json.id);
  assert.strictEqual(c.progress, null);
  assert.ok(Date.parse(c.finished_at) - Date.parse(c.issued_at) >= DEPLOY_TIMEOUT * 1000);
  const st = await issue({ type: 'start', task_id: T.tmo });
  assert.strictEqual(st.status, 201, st.text);
  assert.strictEqual(secs(st.json.id), 120);
  await finishAll();
});

test('no worker died', () => {
  assert.deepStrictEqual(s.yard.deaths(), []);
});
