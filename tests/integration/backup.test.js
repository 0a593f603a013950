// scripts/yard-admin backup and restore against the real stack
// (docs/operations.md, "Backup and restore"): users, grants, a node with
// a real agent, a task whose configuration holds a secret, an uploaded
// package and an upload in progress; backed up while the server runs;
// the database and the package store wiped; restored; the server started
// on it again answers as before, the agent carries on, the secret still
// decrypts (with the key restored from the archive, or with the key
// kept), the package's bytes are served.  A damaged archive, a key that
// differs, a non-empty database and a database still in use are refused
// and change nothing.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, psql, waitFor, TOP } = require('../lib/stack.js');
const { taskKit, ownByTaskUser } = require('../lib/tasks.js');
const { zip } = require('../lib/zip.js');

const ADMIN = path.join(TOP, 'scripts', 'yard-admin');
const SECRET = 'Bk-' + crypto.randomBytes(8).toString('hex');
const KEY = crypto.randomBytes(32);
let s, admin, agent, k, keyDir, keyFile, bkDir, taskId, pkg, partial, env;

test.before(async () => {
  keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-bkkey-'));
  keyFile = path.join(keyDir, 'config.key');
  fs.writeFileSync(keyFile, KEY, { mode: 0o600 });
  bkDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-bk-'));
  s = await startStack({ env: { YARD_HEARTBEAT_INTERVAL: '1', YARD_CONFIG_KEY_FILE: keyFile } });
  admin = s.adminToken('bk-admin');
  env = {
    YARD_PG_DSN: s.env.YARD_PG_DSN, YARD_PACKAGE_DIR: s.env.YARD_PACKAGE_DIR,
    YARD_CONFIG_KEY_FILE: keyFile,
  };
  agent = await s.agent('bk');
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    15000, 'the agent online');
  k = taskKit(s, admin, agent);
  await fill();
});
test.after(async () => {
  if (k) k.killAll();
  if (s) await s.stop();
  for (const d of [keyDir, bkDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

// Run yard-admin with env (only what is given, plus PATH and HOME).
function yardAdmin(args, e = env, PATH = process.env.PATH) {
  const r = spawnSync(ADMIN, args, {
    env: Object.assign({ PATH, HOME: process.env.HOME }, e),
    encoding: 'utf8', timeout: 120000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const b64 = (v) => Buffer.from(String(v)).toString('base64');
const meta = (m) => Object.entries(m).map(([key, v]) => `${key} ${b64(v)}`).join(',');
const hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// tus: create an upload of buf for the task and send its first n bytes.
async function upload(token, buf, n) {
  const c = await fetch(s.yard.url + '/api/v1/uploads', {
    method: 'POST',
    headers: {
      authorization: 'Bearer ' + token, 'tus-resumable': '1.0.0', 'upload-length': String(buf.length),
      'upload-metadata': meta({ name: 'bk-app', version: '1.0', filename: 'bk.zip', task_id: taskId }),
    },
  });
  assert.strictEqual(c.status, 201, await c.text());
  const loc = c.headers.get('location');
  const r = await fetch(loc, {
    method: 'PATCH',
    headers: {
      authorization: 'Bearer ' + token, 'tus-resumable': '1.0.0',
      'content-type': 'application/offset+octet-stream', 'upload-offset': '0',
    },
    body: buf.subarray(0, n),
  });
  assert.strictEqual(r.status, 204, await r.text());
  return loc;
}

// Users and grants, a task with a secret in its configuration, a checked
// package, an upload left half-way.
async function fill() {
  for (const sub of ['bk-viewer', 'bk-operator']) await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  const uid = (sub) => Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  let r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_id: uid('bk-viewer'), node_id: agent.nodeId, level: 'view' } });
  assert.strictEqual(r.status, 201, r.text);
  const dir = path.join(s.dir, 'deploy', 'bk-app');
  fs.mkdirSync(dir, { recursive: true });
  ownByTaskUser(dir);
  taskId = await k.console('bk-app', 'exec sleep 300');
  r = await s.api('POST', '/api/v1/grants', { token: admin, body: { user_sub: 'bk-operator', task_id: taskId, level: 'operate' } });
  assert.strictEqual(r.status, 201, r.text);
  r = await s.api('PUT', `/api/v1/tasks/${taskId}/config`, {
    token: admin,
    body: {
      values: [{ key: 'db.password', value: SECRET, secret: true }, { key: 'db.user', value: 'app', secret: false }],
      properties_file: 'conf/yard.properties', comment: 'before the backup',
    },
  });
  assert.strictEqual(r.status, 200, r.text);

  const svc = s.token('ews-backend', { scope: 'packages:upload' });
  const body = zip([{ name: 'app.txt', data: crypto.randomBytes(100000) }, { name: 'README', data: 'bk', deflate: true }]);
  const loc = await upload(svc, body, body.length);
  let v;
  await waitFor(async () => {
    v = await (await fetch(loc, { headers: { authorization: 'Bearer ' + svc } })).json();
    return v.state !== 'checking';
  }, 20000, 'the check');
  assert.strictEqual(v.state, 'accepted', JSON.stringify(v));
  pkg = { id: v.package_id, sha: hex(body), body };
  // Half an upload: its bytes live in YARD_UPLOAD_DIR, which no backup holds.
  const half = zip([{ name: 'big.bin', data: crypto.randomBytes(300000) }]);
  partial = await upload(svc, half, 100000);
}

// What the API answers about everything backed up, without what the
// running system changes by itself (presence, heartbeats, sign-ins).
async function answers() {
  const get = async (p) => {
    let r;
    try {
      r = await s.api('GET', p, { token: admin });
    } catch (e) {
      throw new Error(`${p}: ${e.message}: ${e.cause && (e.cause.code || e.cause.message)}`);
    }
    assert.strictEqual(r.status, 200, `${p}: ${r.text}`);
    return r.json;
  };
  const pick = (o, keys) => Object.fromEntries(keys.map((key) => [key, o[key]]));
  return {
    users: (await get('/api/v1/users?limit=100')).items
      .map((u) => pick(u, ['id', 'sub', 'name', 'email', 'admin', 'disabled', 'created_at'])),
    grants: (await get('/api/v1/grants?limit=100')).items,
    nodes: (await get('/api/v1/nodes?limit=100')).items
      .map((n) => pick(n, ['id', 'name', 'hostname', 'agent_version', 'enrolled_at', 'revoked_at', 'created_at'])),
    tasks: (await get('/api/v1/tasks?limit=100')).items
      .map((t) => pick(t, ['id', 'node_id', 'node_name', 'name', 'kind', 'created_at'])),
    task: pick(await get(`/api/v1/tasks/${taskId}`), ['id', 'name', 'spec']),
    config: await get(`/api/v1/tasks/${taskId}/config`),
    packages: await get('/api/v1/packages?limit=100'),
    package: await get(`/api/v1/packages/${pkg.id}`),
    enrollments: (await get('/api/v1/enrollments')).items,
  };
}

// Tables whose rows nothing changes by itself, as text, and the number of
// rows of every table.
function rows() {
  const out = {};
  for (const t of ['grants', 'packages', 'task_configs', 'enrollments', 'schema_migrations', 'audit']) {
    out[t] = s.sql(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x`);
  }
  return out;
}
function counts() {
  const tables = s.sql(`SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`);
  return Object.fromEntries((tables ? tables.split(' ') : []).map((t) => [t, Number(s.sql(`SELECT count(*) FROM ${t}`))]));
}
const publicTables = () => Number(s.sql(`SELECT count(*) FROM pg_class c JOIN pg_namespace n
  ON n.oid = c.relnamespace WHERE n.nspname = 'public'`));

// The rows of each table in the archive's dump, counted from pg_restore's
// COPY blocks (independently of yard-admin's own count).
function dumpRows(archive) {
  const dir = fs.mkdtempSync(path.join(bkDir, 'x-'));
  spawnSync('tar', ['-xf', archive, '-C', dir, 'db.dump']);
  const sqlText = spawnSync('pg_restore', ['--data-only', '-f', '-', path.join(dir, 'db.dump')],
    { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
  fs.rmSync(dir, { recursive: true, force: true });
  const out = {};
  let t = null;
  for (const l of sqlText.split('\n')) {
    const m = /^COPY public\.(\w+) /.exec(l);
    if (m) { t = m[1]; out[t] = 0; } else if (t && l === '\\.') t = null; else if (t) out[t]++;
  }
  return out;
}

// The members of a tar archive: name -> { offset of its data, size }.
function members(buf) {
  const out = {};
  for (let off = 0; off + 512 <= buf.length;) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
    out[name] = { offset: off + 512, size };
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

// Stop the server and wipe what a lost machine loses: the database
// (dropped and made again, empty) and the package store.
async function wipe() {
  await s.yard.stop();
  psql(s.pgPort, 'postgres', `DROP DATABASE ${s.db} WITH (FORCE)`);
  psql(s.pgPort, 'postgres', `CREATE DATABASE ${s.db}`);
  fs.rmSync(s.env.YARD_PACKAGE_DIR, { recursive: true, force: true });
  assert.strictEqual(publicTables(), 0);
}

async function restartAndCompare(before, beforeRows) {
  await s.yard.restart();
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    20000, 'the agent online on the restored server');
  const after = await answers();
  for (const key of Object.keys(before)) assert.deepStrictEqual(after[key], before[key], key);
  const afterRows = rows();
  // The audit log gains rows only from what happens after the restore.
  assert.deepStrictEqual(Object.assign({}, afterRows, { audit: null }), Object.assign({}, beforeRows, { audit: null }));
  // The package's bytes, as the store serves them to an agent.
  const node = JSON.parse(fs.readFileSync(path.join(agent.state, 'node.json'), 'utf8'));
  s.sql(`INSERT INTO commands (type, node_id, payload, state, deadline) VALUES ('deploy', ${agent.nodeId},
    '{"package":{"sha256":"${pkg.sha}"}}', 'running', now() + interval '1 hour')`);
  const r = await fetch(`${s.yard.url}/agent/v1/packages/${pkg.sha}`, { headers: { authorization: `YardNode ${node.node_id}:${node.secret}` } });
  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual(Buffer.from(await r.arrayBuffer()), pkg.body);
  s.sql(`UPDATE commands SET state = 'failed', finished_at = now() WHERE payload->'package'->>'sha256' = '${pkg.sha}' AND state = 'running'`);
  // The secret decrypts: the agent writes it on the node at start.
  const d = await k.run('start', taskId);
  assert.strictEqual(d.state, 'succeeded', d.output);
  assert.match(d.output, /config v1 applied/);
  const props = fs.readFileSync(path.join(s.dir, 'deploy', 'bk-app', 'conf', 'yard.properties'), 'utf8');
  assert.match(props, new RegExp(`^db.password=${SECRET}$`, 'm'));
  assert.strictEqual((await k.run('stop', taskId)).state, 'succeeded');
}

test('backup --with-key while the server runs; wipe everything; restore: every row and file is back', async () => {
  const before = await answers();
  const beforeRows = rows();
  const out = path.join(bkDir, 'site.yardbak');
  const r = yardAdmin(['backup', '--with-key', out]);
  assert.strictEqual(r.code, 0, r.err);
  assert.match(r.out, /backup .*site\.yardbak: 0\d\d_\w+\.sql, \d+ tables, \d+ rows, 1 package files \(1 named by the database\), configuration key included/);
  assert.strictEqual(fs.statSync(out).mode & 0o777, 0o600);
  assert.ok(!fs.existsSync(out + '.tmp'));
  assert.deepStrictEqual(fs.readdirSync(bkDir).sort(), ['site.yardbak'], 'no work files left');
  const buf = fs.readFileSync(out);
  const m = members(buf);
  const pkgMember = `packages/sha256/${pkg.sha.slice(0, 2)}/${pkg.sha}`;
  assert.deepStrictEqual(Object.keys(m), ['MANIFEST', 'db.dump', 'config.key', pkgMember]);
  assert.ok(buf.subarray(m['config.key'].offset, m['config.key'].offset + 32).equals(KEY));
  assert.ok(buf.subarray(m[pkgMember].offset, m[pkgMember].offset + pkg.body.length).equals(pkg.body));
  const manifest = buf.subarray(m.MANIFEST.offset, m.MANIFEST.offset + m.MANIFEST.size).toString();
  assert.match(manifest, /^yard-backup 1\ncreated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n/);
  assert.match(manifest, new RegExp(`^migration ${s.sql('SELECT max(name) FROM schema_migrations')}$`, 'm'));
  assert.match(manifest, /^rows grants 2$/m);
  assert.match(manifest, new RegExp(`^part ${pkg.sha} ${pkg.body.length} ${pkgMember}$`, 'm'));
  assert.match(manifest, new RegExp(`^part ${hex(buf.subarray(m['db.dump'].offset, m['db.dump'].offset + m['db.dump'].size))} ${m['db.dump'].size} db\\.dump$`, 'm'));
  // An existing file is never replaced.
  const again = yardAdmin(['backup', out]);
  assert.notStrictEqual(again.code, 0);
  assert.match(again.err, /site\.yardbak exists: a backup never replaces a file/);
  assert.ok(fs.readFileSync(out).equals(buf));

  await wipe();
  fs.rmSync(keyFile);
  const archived = dumpRows(out);

  // A byte flipped in the dump, in the package, in the manifest:
  // refused, nothing changed.
  for (const [where, at] of [['db.dump', m['db.dump'].offset + (m['db.dump'].size >> 1)],
    [pkgMember, m[pkgMember].offset + 1000], ['MANIFEST', m.MANIFEST.offset + 20]]) {
    const bad = Buffer.from(buf);
    bad[at] ^= 0x01;
    const f = path.join(bkDir, 'bad.yardbak');
    fs.writeFileSync(f, bad);
    const rb = yardAdmin(['restore', '--with-key', f]);
    assert.notStrictEqual(rb.code, 0, where);
    assert.match(rb.err, where === 'MANIFEST' ? /MANIFEST does not match its own checksum: nothing changed/ :
      new RegExp(`does not match the manifest \\(SHA-256 or size\\): ${where.replace('.', '\\.')}[\\s\\S]*damaged: nothing changed`), where);
    assert.strictEqual(publicTables(), 0, where);
    assert.ok(!fs.existsSync(s.env.YARD_PACKAGE_DIR), where);
    assert.ok(!fs.existsSync(keyFile), where);
    fs.rmSync(f);
  }
  // Cut short: refused.
  fs.writeFileSync(path.join(bkDir, 'short.yardbak'), buf.subarray(0, m[pkgMember].offset + 700));
  let rr = yardAdmin(['restore', path.join(bkDir, 'short.yardbak')]);
  assert.notStrictEqual(rr.code, 0);
  assert.match(rr.err, /damaged \(tar could not read it whole\): nothing changed/);
  // Another key in place: never replaced, nothing restored.
  fs.writeFileSync(keyFile, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  rr = yardAdmin(['restore', '--with-key', out]);
  assert.notStrictEqual(rr.code, 0);
  assert.match(rr.err, /holds another key than the archive's and is never replaced.*nothing changed/);
  assert.strictEqual(publicTables(), 0);
  assert.ok(!fs.existsSync(s.env.YARD_PACKAGE_DIR));
  fs.rmSync(keyFile);

  rr = yardAdmin(['restore', '--with-key', out]);
  assert.strictEqual(rr.code, 0, rr.err);
  assert.match(rr.out, /restored .*: database at 0\d\d_\w+\.sql, \d+ tables, \d+ rows; 1 package files in /);
  assert.match(rr.out, /removed 1 unfinished upload\(s\)/);
  assert.match(rr.out, /the archive's key written to /);
  assert.ok(fs.readFileSync(keyFile).equals(KEY));
  assert.strictEqual(fs.statSync(keyFile).mode & 0o777, 0o600);
  const stored = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', pkg.sha.slice(0, 2), pkg.sha);
  assert.ok(fs.readFileSync(stored).equals(pkg.body));
  assert.deepStrictEqual(fs.readdirSync(s.env.YARD_PACKAGE_DIR), ['sha256'], 'no work files left in the store');
  // Every table holds the rows of the dump; the upload in progress is gone.
  const now = counts();
  assert.deepStrictEqual(Object.keys(now).sort(), Object.keys(archived).sort());
  for (const [t, n] of Object.entries(archived)) {
    assert.strictEqual(now[t], t === 'uploads' ? n - 1 : n, t);
  }

  await restartAndCompare(before, beforeRows);
  // The upload in progress is gone for its client: it starts again.
  const gone = await fetch(partial, { headers: { authorization: 'Bearer ' + s.token('ews-backend', { scope: 'packages:upload' }) } });
  assert.strictEqual(gone.status, 404, await gone.text());
});

test('a non-empty database is refused without --force, a database in use even with it', async () => {
  const out = path.join(bkDir, 'keyless.yardbak');
  const r = yardAdmin(['backup', out]);
  assert.strictEqual(r.code, 0, r.err);
  assert.match(r.out, /configuration key not-included/);
  assert.ok(!fs.readFileSync(out).includes(KEY), 'the key is nowhere in the archive');
  assert.ok(!fs.readFileSync(out).includes(Buffer.from(KEY.toString('hex'))));
  const before = counts();
  let rr = yardAdmin(['restore', out]);
  assert.notStrictEqual(rr.code, 0);
  assert.match(rr.err, /the database is not empty \(\d+ tables, sequences and views in schema public\): restore into an empty one, or add --force/);
  rr = yardAdmin(['restore', '--force', out]);
  assert.notStrictEqual(rr.code, 0);
  assert.match(rr.err, /other session\(s\) use the database: pid \d+.*Stop the Yard server/);
  rr = yardAdmin(['restore', '--with-key', '--force', out]);
  assert.notStrictEqual(rr.code, 0);
  assert.match(rr.err, /--with-key: .* holds no key \(it was written without --with-key\)/);
  const after = counts();
  for (const t of ['users', 'grants', 'tasks', 'nodes', 'packages', 'task_configs', 'enrollments']) {
    assert.strictEqual(after[t], before[t], t);
  }
});

test('backup without the key; restore with --force over a database; the kept key still reads the secret', async () => {
  const before = await answers();
  const beforeRows = rows();
  const out = path.join(bkDir, 'nokey.yardbak');
  let r = yardAdmin(['backup', out]);
  assert.strictEqual(r.code, 0, r.err);
  // The server stops; the database is left as it is (not empty): --force.
  await s.yard.stop();
  s.sql(`INSERT INTO users (sub) VALUES ('bk-after-backup')`);
  fs.rmSync(s.env.YARD_PACKAGE_DIR, { recursive: true, force: true });
  // A key file that differs: a warning, not a refusal.
  fs.renameSync(keyFile, keyFile + '.kept');
  fs.writeFileSync(keyFile, crypto.randomBytes(32), { mode: 0o600 });
  r = yardAdmin(['restore', '--force', out]);
  assert.strictEqual(r.code, 0, r.err);
  assert.match(r.err, /warning: YARD_CONFIG_KEY_FILE \(.*\) is not the key the restored secrets were written with/);
  fs.renameSync(keyFile + '.kept', keyFile);
  assert.strictEqual(s.sql(`SELECT count(*) FROM users WHERE sub = 'bk-after-backup'`), '0');
  await restartAndCompare(before, beforeRows);
});

test('bad arguments, missing tools, an unreachable database: a clear error, nothing written', () => {
  const out = path.join(bkDir, 'never.yardbak');
  const down = { YARD_PG_DSN: 'postgresql://nobody@127.0.0.1:1/none?connect_timeout=1', YARD_PACKAGE_DIR: env.YARD_PACKAGE_DIR };
  // A PATH with everything but PostgreSQL's client programs.
  const bin = fs.mkdtempSync(path.join(bkDir, 'bin-'));
  for (const d of ['/usr/bin', '/bin']) {
    for (const f of fs.readdirSync(d)) {
      if (/^(pg_|psql)/.test(f) || fs.existsSync(path.join(bin, f))) continue;
      fs.symlinkSync(path.join(d, f), path.join(bin, f));
    }
  }
  const existing = path.join(bkDir, 'site.yardbak');
  for (const [args, e, needle, p] of [
    [['backup'], env, /backup: name the archive to write/],
    [['backup', '--bogus', out], env, /backup: unknown argument: --bogus/],
    [['restore'], env, /restore: name the archive to read/],
    [['restore', path.join(bkDir, 'none.yardbak')], env, /cannot read the archive .*none\.yardbak: nothing changed/],
    [['backup', out], down, /pg_dump could not dump the database \(YARD_PG_DSN\): no backup written/],
    [['restore', existing], down, /cannot reach the database \(YARD_PG_DSN.*nothing changed/],
    [['backup', out], env, /pg_dump not found: install postgresql-client/, bin],
    [['restore', existing], env, /psql not found: install postgresql-client/, bin],
  ]) {
    const r = yardAdmin(args, e, p);
    assert.notStrictEqual(r.code, 0, args.join(' '));
    assert.match(r.err, needle, args.join(' '));
  }
  // Not an archive; an archive of another format.
  const junk = path.join(bkDir, 'junk.yardbak');
  fs.writeFileSync(junk, crypto.randomBytes(4096));
  let r = yardAdmin(['restore', junk]);
  assert.match(r.err, /junk\.yardbak is not a Yard backup archive .*nothing changed/);
  const x = fs.mkdtempSync(path.join(bkDir, 'fmt-'));
  spawnSync('tar', ['-xf', existing, '-C', x]);
  fs.writeFileSync(path.join(x, 'MANIFEST'), fs.readFileSync(path.join(x, 'MANIFEST'), 'utf8').replace(/^yard-backup 1/, 'yard-backup 2'));
  spawnSync('tar', ['-cf', junk, '-C', x, 'MANIFEST', 'db.dump']);
  r = yardAdmin(['restore', junk]);
  assert.match(r.err, /junk\.yardbak is archive format 2; this yard-admin reads format 1 only/);
  assert.ok(!fs.existsSync(out) && !fs.existsSync(out + '.tmp'));
  assert.deepStrictEqual(fs.readdirSync(bkDir).filter((f) => f.startsWith('.yard')), []);
});

test('a package file the database names is missing or damaged: dumped again once, then no backup', () => {
  const out = path.join(bkDir, 'lost.yardbak');
  const ghost = crypto.randomBytes(32).toString('hex');
  s.sql(`INSERT INTO packages (sha256, name, size, entries, manifest) VALUES ('${ghost}', 'ghost', 1, 0, '[]')`);
  try {
    const r = yardAdmin(['backup', out]);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.err, /1 package file\(s\) the dump names are gone \(removed by retention after the dump began\?\): dumping again/);
    assert.match(r.err, new RegExp(`packages/sha256/${ghost.slice(0, 2)}/${ghost}\n`));
    assert.match(r.err, /1 package file\(s\) the database names are missing from YARD_PACKAGE_DIR \(.*\), twice: the store has lost them; no backup written/);
  } finally {
    s.sql(`DELETE FROM packages WHERE sha256 = '${ghost}'`);
  }
  // The real package's file, damaged in place.
  const stored = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', pkg.sha.slice(0, 2), pkg.sha);
  fs.renameSync(stored, stored + '.good');
  fs.writeFileSync(stored, Buffer.concat([pkg.body, Buffer.from('x')]));
  try {
    const r = yardAdmin(['backup', out]);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.err, /1 package file\(s\) the database names do not match their names \(SHA-256\): YARD_PACKAGE_DIR is damaged; no backup written/);
  } finally {
    fs.renameSync(stored + '.good', stored);
  }
  assert.ok(!fs.existsSync(out) && !fs.existsSync(out + '.tmp'));
  assert.deepStrictEqual(fs.readdirSync(bkDir).filter((f) => f.startsWith('.yard')), []);
});

test('the settings file names the database, the store and the key, relative paths under YARD_HOME', () => {
  const f = path.join(s.dir, 'bk-settings.conf');
  fs.writeFileSync(f, `# the server's settings\n  pg_dsn ${env.YARD_PG_DSN}\npackage_dir ${path.relative(s.dir, env.YARD_PACKAGE_DIR)}\n` +
    `config_key_file ${keyFile}  \n`);
  const out = path.join(bkDir, 'settings.yardbak');
  const r = yardAdmin(['backup', '--with-key', out], { YARD_SETTINGS_FILE: f, YARD_HOME: s.dir });
  assert.strictEqual(r.code, 0, r.err);
  assert.match(r.out, /1 package files \(1 named by the database\), configuration key included/);
  const m = members(fs.readFileSync(out));
  assert.ok(m[`packages/sha256/${pkg.sha.slice(0, 2)}/${pkg.sha}`], Object.keys(m).join(' '));
  // An empty value is an error, as for the server.
  fs.writeFileSync(f, `pg_dsn ${env.YARD_PG_DSN}\npackage_dir\n`);
  const e = yardAdmin(['backup', path.join(bkDir, 'empty.yardbak')], { YARD_SETTINGS_FILE: f });
  assert.notStrictEqual(e.code, 0);
  assert.match(e.err, /bk-settings\.conf: package_dir is empty/);
});
