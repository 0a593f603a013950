// Task configuration through the API (docs/api.md, "Configuration"):
// versions, diff and restore; special characters byte for byte; secrets
// encrypted at rest, masked in every answer, the audit and the log, and
// in clear only in the agent's delivery; permissions; validation that
// writes nothing; concurrent saves; import, export and the preview.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { startStack } = require('../lib/stack.js');

let s, admin, node, users = {};

const SPECIAL = '& < > " \' \\ $ ${x} % # \n second line\ttab 中文 😀 \r\n end';
const SECRET = 'S3cr3t-&<>"\'-${pw}-密码-🔑';
const SECRET2 = 'another-secret-value-42';

// An enrolled node driven by hand (no agent process): its auth header.
async function handNode() {
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  const r = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: {
      hostname: 'cfg-hand', os: 'Debian', kernel: '6.1', arch: 'x86_64', cpus: 2, mem_total: 8e9,
      boot_id: 'b0a7c0de-0000-4000-8000-000000000011', uptime: 100, agent_version: '0.1.0',
    } }),
  });
  assert.strictEqual(r.status, 201);
  const j = await r.json();
  return { id: j.node_id, auth: `YardNode ${j.node_id}:${j.secret}` };
}

async function newTask(name) {
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: node.id, name, spec: {
    kind: 'console', deploy_dir: path.join(s.dir, 'deploy', name),
    console: { command: '/bin/sleep', args: ['300'] },
  } } });
  assert.strictEqual(r.status, 201, r.text);
  return r.json.id;
}

async function userWith(sub, grant) {
  await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  if (grant) {
    const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, grant) });
    assert.strictEqual(r.status, 201, r.text);
  }
  return s.token(sub);
}

const cfgPath = (id, rest = '') => `/api/v1/tasks/${id}/config${rest}`;
const put = (id, body, token = admin) => s.api('PUT', cfgPath(id), { token, body });
const get = (id, rest = '', token = admin) => s.api('GET', cfgPath(id, rest), { token });
const b64 = (t) => Buffer.from(t, 'utf8').toString('base64');
// Commands stay queued without an agent: end them so the next may start.
const settle = () => s.sql(`UPDATE commands SET state = 'cancelled', finished_at = now() WHERE state IN ('queued', 'dispatched', 'running')`);

function baseBody(over = {}) {
  return Object.assign({
    values: [
      { key: 'RefreshSecretSubUrl', value: '/gateway/app/refreshTokenByKey.htm', secret: false },
      { key: 'special', value: SPECIAL, secret: false },
      { key: 'db.password', value: SECRET, secret: true },
    ],
    apollo: null,
    mappings: [
      { key: 'RefreshSecretSubUrl', file: 'conf/app.xml', format: 'xml', nodepath: 'root.nodes[0].nodes[0].nodes[0]' },
      { key: 'special', file: 'appsettings.json', format: 'json', nodepath: 'Logging.LogLevel.Default' },
    ],
    files: [{ path: 'conf/override.properties', content_base64: b64('a=1\r\n# 中文\n') }],
    env: true,
    properties_file: 'conf/yard.properties',
    comment: 'first',
  }, over);
}

test.before(async () => {
  s = await startStack();
  admin = s.adminToken('cfg-admin');
  node = await handNode();
});
test.after(async () => { if (s) await s.stop(); });

test('a task without a configuration answers version 0', async () => {
  const id = await newTask('empty');
  const r = await get(id);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.version, 0);
  assert.deepStrictEqual(r.json.values, []);
  assert.deepStrictEqual(r.json.mappings, []);
  assert.strictEqual(r.json.apollo, null);
  assert.strictEqual((await get(999999)).status, 404);
});

test('PUT then GET: every byte of every value, secrets masked, versions count', async () => {
  const id = await newTask('roundtrip');
  let r = await put(id, baseBody());
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.version, 1);
  assert.strictEqual(r.json.author, 'cfg-admin');
  assert.strictEqual(r.json.comment, 'first');
  r = await get(id);
  assert.strictEqual(r.status, 200);
  const byKey = Object.fromEntries(r.json.values.map((v) => [v.key, v]));
  assert.strictEqual(byKey.special.value, SPECIAL);
  assert.strictEqual(byKey.special.source, 'yard');
  assert.strictEqual(byKey.special.secret, false);
  assert.strictEqual(byKey['db.password'].value, null);
  assert.strictEqual(byKey['db.password'].secret, true);
  assert.ok(!r.text.includes(SECRET) && !r.text.includes('"enc"'), r.text);
  assert.strictEqual(r.json.mappings.length, 2);
  assert.deepStrictEqual(r.json.mappings[0], baseBody().mappings[0]);
  assert.strictEqual(r.json.files[0].path, 'conf/override.properties');
  assert.strictEqual(Buffer.from(r.json.files[0].content_base64, 'base64').toString('utf8'), 'a=1\r\n# 中文\n');
  assert.strictEqual(r.json.files[0].size, Buffer.byteLength('a=1\r\n# 中文\n'));
  assert.strictEqual(r.json.env, true);
  assert.strictEqual(r.json.properties_file, 'conf/yard.properties');
  // Stored encrypted: the plaintext is nowhere in the table.
  const dump = s.sql(`SELECT doc::text FROM task_configs WHERE task_id = ${id}`);
  assert.ok(!dump.includes(SECRET) && !dump.includes('S3cr3t'), dump);
  assert.match(dump, /"enc": "/);
  // A second save: the secret kept by giving no value.
  const b = baseBody({ comment: 'second' });
  b.values[2] = { key: 'db.password', value: null, secret: true };
  b.values[1].value = 'changed';
  r = await put(id, b);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.version, 2);
  const enc = s.sql(`SELECT doc->'values' FROM task_configs WHERE task_id = ${id} ORDER BY version`).split('\n');
  assert.strictEqual(JSON.parse(enc[0])[2].enc, JSON.parse(enc[1])[2].enc, 'the stored secret was kept');
  // What GET answers goes back as a PUT (read-only members ignored; the
  // masked secret keeps its stored value).
  const back = (await get(id)).json;
  r = await put(id, back);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.version, 3);
  const enc3 = s.sql(`SELECT doc->'values' FROM task_configs WHERE task_id = ${id} AND version = 3`);
  assert.strictEqual(JSON.parse(enc3).find((v) => v.key === 'db.password').enc, JSON.parse(enc[0])[2].enc);
  assert.strictEqual(JSON.parse(enc3).find((v) => v.key === 'special').value, 'changed');
});

test('versions, a version with its diff, restore, the audit', async () => {
  const id = await newTask('versions');
  assert.strictEqual((await put(id, baseBody())).status, 200);
  const b = baseBody({ comment: 'v2' });
  b.values[0].value = '/new/url';
  b.values[2] = { key: 'db.password', value: SECRET2, secret: true };
  b.values.push({ key: 'added.key', value: 'x', secret: false });
  b.mappings.pop();
  b.env = false;
  assert.strictEqual((await put(id, b)).status, 200);
  let r = await get(id, '/versions');
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(r.json.items.map((v) => v.version), [2, 1]);
  assert.strictEqual(r.json.items[0].comment, 'v2');
  assert.strictEqual(r.json.next, null);
  r = await get(id, '/versions?limit=1');
  assert.deepStrictEqual(r.json.items.map((v) => v.version), [2]);
  assert.strictEqual(r.json.next, '2');
  r = await get(id, '/versions?limit=1&cursor=2');
  assert.deepStrictEqual(r.json.items.map((v) => v.version), [1]);
  assert.strictEqual(r.json.next, null);

  r = await get(id, '/versions/2');
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.version, 2);
  assert.ok(!r.text.includes(SECRET) && !r.text.includes(SECRET2) && !r.text.includes('"enc"'), r.text);
  const d = Object.fromEntries(r.json.diff.map((x) => [`${x.part}:${x.name}`, x]));
  assert.deepStrictEqual(d['value:RefreshSecretSubUrl'],
    { part: 'value', name: 'RefreshSecretSubUrl', change: 'changed', old: '/gateway/app/refreshTokenByKey.htm', new: '/new/url' });
  assert.deepStrictEqual(d['value:db.password'],
    { part: 'value', name: 'db.password', change: 'changed', old: null, new: null });
  assert.strictEqual(d['value:added.key'].change, 'added');
  assert.strictEqual(d['mapping:appsettings.json:Logging.LogLevel.Default'].change, 'removed');
  assert.strictEqual(d['env:env'].change, 'changed');
  assert.ok(!d['value:special'], 'unchanged values are not in the diff');
  assert.strictEqual((await get(id, '/versions/9')).status, 404);

  // Restore 1: version 3 equal to 1.
  r = await s.api('POST', cfgPath(id, '/versions/1/restore'), { token: admin, body: { comment: 'back' } });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.version, 3);
  assert.strictEqual(r.json.restored_from, 1);
  const docs = s.sql(`SELECT doc::text FROM task_configs WHERE task_id = ${id} AND version IN (1, 3) ORDER BY version`).split('\n');
  assert.strictEqual(docs[0], docs[1]);
  assert.strictEqual((await s.api('POST', cfgPath(id, '/versions/7/restore'), { token: admin })).status, 404);

  // The audit names versions and keys, never a value.
  const audit = s.sql(`SELECT action || ' ' || detail::text FROM audit WHERE object_type = 'task' AND object_id = ${id} AND action LIKE 'config.%' ORDER BY id`);
  assert.match(audit, /config.save .*"version": 2/);
  assert.match(audit, /"changed_keys": \[[^\]]*"db.password"/);
  assert.match(audit, /config.restore .*"restored_from": 1/);
  assert.ok(!audit.includes(SECRET) && !audit.includes(SECRET2) && !audit.includes('/new/url'), audit);
});

test('bad input: 400 naming the member, nothing written', async () => {
  const id = await newTask('badinput');
  assert.strictEqual((await put(id, baseBody())).status, 200);
  const cases = [
    [{ values: [{ key: '', value: 'x' }] }, 'values[0].key'],
    [{ values: [{ key: 'a\nb', value: 'x' }] }, 'values[0].key'],
    [{ values: [{ key: 'k'.repeat(201), value: 'x' }] }, 'values[0].key'],
    [{ values: [{ key: 'a', value: 'x' }, { key: 'a', value: 'y' }] }, 'values[1].key'],
    [{ values: [{ key: 'a', value: 5 }] }, 'values[0].value'],
    [{ values: [{ key: 'a' }] }, 'values[0].value'],
    [{ values: [{ key: 'new.secret', value: null, secret: true }] }, 'values[0].value'],
    [{ values: [{ key: 'a', value: 'x', secret: 'yes' }] }, 'values[0].secret'],
    [{ mappings: [{ key: 'RefreshSecretSubUrl', file: '../x.xml', format: 'xml', nodepath: 'a' }] }, 'mappings[0].file'],
    [{ mappings: [{ key: 'RefreshSecretSubUrl', file: '/etc/x.xml', format: 'xml', nodepath: 'a' }] }, 'mappings[0].file'],
    [{ mappings: [{ key: 'RefreshSecretSubUrl', file: 'x.yaml', format: 'yaml', nodepath: 'a' }] }, 'mappings[0].format'],
    [{ mappings: [{ key: 'nokey', file: 'x.xml', format: 'xml', nodepath: 'a' }] }, 'mappings[0].key'],
    [{ files: [{ path: 'a/../b', content_base64: 'YQ==' }] }, 'files[0].path'],
    [{ files: [{ path: 'a', content_base64: 'not base64!' }] }, 'files[0].content_base64'],
    [{ files: [{ path: 'a', content_base64: 'YQ==' }, { path: 'a', content_base64: 'YQ==' }] }, 'files[1].path'],
    [{ env: 'yes' }, 'env'],
    [{ properties_file: '../p' }, 'properties_file'],
    [{ comment: 'c'.repeat(501) }, 'comment'],
    [{ apollo: { app_id: 'a b', cluster: 'default', namespaces: ['application'] } }, 'apollo.app_id'],
    [{ apollo: { app_id: 'a', cluster: 'default', namespaces: [] } }, 'apollo.namespaces'],
    [{ apollo: { app_id: 'a', cluster: 'default', namespaces: Array(21).fill('n') } }, 'apollo.namespaces'],
    [{ apollo: { app_id: 'a', cluster: 'default', namespaces: ['ok', 'no/slash'] } }, 'apollo.namespaces[1]'],
    [{ apollo: { app_id: 'a', cluster: 'default', namespaces: ['n'], auto_apply: 1 } }, 'apollo.auto_apply'],
    [{ bogus: 1 }, 'bogus'],
  ];
  for (const [over, field] of cases) {
    if (over.values) over.mappings = [];
    const r = await put(id, baseBody(over));
    assert.strictEqual(r.status, 400, `${JSON.stringify(over)}: ${r.text}`);
    assert.strictEqual(r.json.field, field, `${JSON.stringify(over)}: ${r.text}`);
    assert.ok(r.json.message.includes(field), r.text);
  }
  assert.strictEqual((await get(id)).json.version, 1, 'nothing was written');
  assert.strictEqual(s.sql(`SELECT count(*) FROM task_configs WHERE task_id = ${id}`), '1');
  // With Apollo set, a mapped key may come from Apollo alone.
  const r = await put(id, baseBody({
    apollo: { app_id: 'app-1', cluster: 'default', namespaces: ['application'], auto_apply: true },
    mappings: [{ key: 'only.in.apollo', file: 'x.json', format: 'json', nodepath: 'a.b' }],
  }));
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(r.json.apollo.status, [{ namespace: 'application', release_key: null, fetched_at: null, error: null }]);
  assert.strictEqual(r.json.apollo.auto_restart, false);
});

test('a file override of 1 MiB is taken (a body spooled to disk), one byte more is not', async () => {
  const id = await newTask('bigfile');
  const big = Buffer.alloc(1024 * 1024, 0x41);
  big[0] = 0xff;
  let r = await put(id, baseBody({ files: [{ path: 'big.bin', content_base64: big.toString('base64') }] }));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.files[0].size, big.length);
  assert.ok(Buffer.from(r.json.files[0].content_base64, 'base64').equals(big));
  r = await put(id, baseBody({ files: [{ path: 'big.bin',
    content_base64: Buffer.concat([big, Buffer.from('x')]).toString('base64') }] }));
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.field, 'files[0].content_base64');
  assert.strictEqual((await get(id)).json.version, 1);
});

test('Apollo values win and show their source and Yard\'s value', async () => {
  const id = await newTask('apollo');
  const r0 = await put(id, baseBody({
    apollo: { app_id: 'app-2', cluster: 'default', namespaces: ['application', 'shared'] },
  }));
  assert.strictEqual(r0.status, 200, r0.text);
  s.sql(`INSERT INTO apollo_snapshots (app_id, cluster, namespace, release_key, items, fetched_at)
    VALUES ('app-2', 'default', 'application', 'rk-1', '{"RefreshSecretSubUrl":"/from/apollo","apollo.only":"a"}', now())`);
  const r = await get(id);
  const byKey = Object.fromEntries(r.json.values.map((v) => [v.key, v]));
  assert.strictEqual(byKey.RefreshSecretSubUrl.value, '/from/apollo');
  assert.strictEqual(byKey.RefreshSecretSubUrl.source, 'apollo');
  assert.strictEqual(byKey.RefreshSecretSubUrl.yard_value, '/gateway/app/refreshTokenByKey.htm');
  assert.strictEqual(byKey['apollo.only'].source, 'apollo');
  assert.strictEqual(byKey.special.source, 'yard');
  assert.strictEqual(r.json.apollo.status[0].release_key, 'rk-1');
  assert.strictEqual(r.json.apollo.status[1].release_key, null);
});

test('commands carry the configuration: masked for users, in clear for the agent', async () => {
  const id = await newTask('deliver');
  assert.strictEqual((await put(id, baseBody())).status, 200);
  // apply-config: only restart, manage, a configuration.
  let c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'apply-config', task_id: id, restart: 'x' } });
  assert.strictEqual(c.status, 400, c.text);
  c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'apply-config', task_id: id, force: true } });
  assert.strictEqual(c.status, 400, c.text);
  assert.strictEqual(c.json.field, 'force');
  const none = await newTask('noconfig');
  c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'apply-config', task_id: none } });
  assert.strictEqual(c.status, 409, c.text);
  assert.strictEqual(c.json.error, 'no_configuration');

  c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'apply-config', task_id: id, restart: true } });
  assert.strictEqual(c.status, 201, c.text);
  assert.strictEqual(c.json.payload.restart, true);
  assert.strictEqual(c.json.payload.config.version, 1);
  assert.ok(!c.text.includes(SECRET) && !c.text.includes('"enc"'), c.text);
  const sec = c.json.payload.config.values.find((v) => v.key === 'db.password');
  assert.deepStrictEqual([sec.value, sec.secret], [null, true]);
  const one = await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin });
  assert.ok(!one.text.includes(SECRET) && !one.text.includes('"enc"'), one.text);
  assert.strictEqual(one.json.payload.config.values.find((v) => v.key === 'special').value, SPECIAL);
  const list = await s.api('GET', `/api/v1/commands?task_id=${id}`, { token: admin });
  assert.ok(list.json.items.length >= 1);
  assert.ok(!list.text.includes(SECRET) && !list.text.includes('"enc"'), list.text);
  // At rest in the ledger: encrypted.
  const row = s.sql(`SELECT payload::text FROM commands WHERE id = '${c.json.id}'`);
  assert.ok(!row.includes(SECRET) && row.includes('"enc"'), row);
  // The audit of the issue does not carry the configuration.
  const audit = s.sql(`SELECT detail::text FROM audit WHERE action = 'command.issue' AND object_id = ${id}`);
  assert.ok(!audit.includes('"config"') && !audit.includes('"enc"') && !audit.includes('values'), audit);

  // The agent's delivery: the secret in clear, every byte.
  const poll = await fetch(`${s.yard.url}/agent/v1/commands?after=0&wait=0`, { headers: { authorization: node.auth } });
  assert.strictEqual(poll.status, 200);
  const got = (await poll.json()).commands.find((x) => x.id === c.json.id);
  assert.ok(got, 'the command was delivered');
  const vals = Object.fromEntries(got.payload.config.values.map((v) => [v.key, v]));
  assert.strictEqual(vals['db.password'].value, SECRET);
  assert.strictEqual(vals['db.password'].enc, undefined);
  assert.strictEqual(vals.special.value, SPECIAL);
  assert.deepStrictEqual(got.payload.config.mappings, baseBody().mappings);
  settle();

  // Start carries it too; stop does not.
  c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'start', task_id: id } });
  assert.strictEqual(c.status, 201, c.text);
  assert.strictEqual(c.json.payload.config.version, 1);
  settle();
  c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'stop', task_id: id } });
  assert.strictEqual(c.status, 201, c.text);
  assert.strictEqual(c.json.payload.config, undefined);
  settle();

  // A secret that does not decrypt fails its command instead of going out.
  c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'apply-config', task_id: id } });
  assert.strictEqual(c.status, 201, c.text);
  s.sql(`UPDATE commands SET payload = jsonb_set(payload, '{config,values}', (SELECT jsonb_agg(CASE WHEN v ? 'enc'
    THEN jsonb_set(v, '{enc}', to_jsonb(${"'AAAA'"} || (v->>'enc'))) ELSE v END) FROM jsonb_array_elements(payload->'config'->'values') v))
    WHERE id = '${c.json.id}'`);
  const p2 = await fetch(`${s.yard.url}/agent/v1/commands?after=0&wait=0`, { headers: { authorization: node.auth } });
  const body2 = p2.status === 200 ? await p2.json() : { commands: [] };
  assert.ok(!body2.commands.some((x) => x.id === c.json.id), 'not delivered');
  const failed = await s.api('GET', `/api/v1/commands/${c.json.id}`, { token: admin });
  assert.strictEqual(failed.json.state, 'failed');
  assert.match(failed.json.output, /db\.password.*cannot be decrypted/);
  settle();

  // Nothing of the secret anywhere in the database's tables.
  const lit = (v) => `'${v.replace(/'/g, "''")}'`;
  const rows = s.sql(`SELECT count(*), count(*) FILTER (WHERE strpos(x, ${lit(SECRET)}) > 0
    OR strpos(x, 'S3cr3t') > 0) FROM (SELECT doc::text AS x FROM task_configs
    UNION ALL SELECT payload::text || coalesce(output, '') FROM commands
    UNION ALL SELECT detail::text FROM audit UNION ALL SELECT detail::text FROM command_events) t`);
  const [n, hits] = rows.split('|').map(Number);
  assert.ok(n > 20, rows);
  assert.strictEqual(hits, 0, 'secret in a table');
  // Nothing of the secret in the server's log.
  const log = s.yard.logText();
  assert.ok(!log.includes(SECRET) && !log.includes('S3cr3t'), 'secret in the log');
});

test('permissions: view reads masked, operate and view cannot write, manage can', async () => {
  const id = await newTask('perms');
  assert.strictEqual((await put(id, baseBody())).status, 200);
  users.view = await userWith('cfg-view', { task_id: id, level: 'view' });
  users.operate = await userWith('cfg-operate', { task_id: id, level: 'operate' });
  users.manage = await userWith('cfg-manage', { task_id: id, level: 'manage' });
  users.stranger = await userWith('cfg-stranger');
  let r = await get(id, '', users.view);
  assert.strictEqual(r.status, 200, r.text);
  assert.ok(r.json.values.some((v) => v.key === 'db.password' && v.value === null));
  assert.ok(!r.text.includes(SECRET));
  assert.strictEqual((await get(id, '/versions', users.view)).status, 200);
  assert.strictEqual((await get(id, '/versions/1', users.view)).status, 200);
  assert.strictEqual((await get(id, '/export', users.view)).status, 200);
  for (const tok of [users.view, users.operate]) {
    assert.strictEqual((await put(id, baseBody(), tok)).status, 403);
    assert.strictEqual((await s.api('POST', cfgPath(id, '/versions/1/restore'), { token: tok })).status, 403);
    assert.strictEqual((await s.api('POST', cfgPath(id, '/import'), { token: tok, body: 'a=1\n',
      headers: { 'content-type': 'text/plain' } })).status, 403);
    const c = await s.api('POST', '/api/v1/commands', { token: tok, body: { type: 'apply-config', task_id: id } });
    assert.strictEqual(c.status, 403, c.text);
  }
  assert.strictEqual((await get(id, '', users.stranger)).status, 404);
  assert.strictEqual((await put(id, baseBody(), users.stranger)).status, 404);
  r = await put(id, baseBody({ comment: 'by manage' }), users.manage);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.version, 2);
  const c = await s.api('POST', '/api/v1/commands', { token: users.manage, body: { type: 'apply-config', task_id: id } });
  assert.strictEqual(c.status, 201, c.text);
  settle();
});

test('concurrent saves get distinct versions', async () => {
  const id = await newTask('concurrent');
  const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => put(id, baseBody({ comment: `c${i}` }))));
  for (const r of rs) assert.strictEqual(r.status, 200, r.text);
  const versions = rs.map((r) => r.json.version).sort((a, b) => a - b);
  assert.deepStrictEqual(versions, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.strictEqual(s.sql(`SELECT count(DISTINCT version) FROM task_configs WHERE task_id = ${id}`), '8');
});

test('import parses tricky .properties lines; export writes them back', async () => {
  const id = await newTask('props');
  const text = [
    '# a comment', '! another', 'a=1', 'b : two', 'c three', '  d=leading blanks',
    'e=one \\', '    continued', 'f=\\u4e2d\\u6587', 'g\\ key=sp', 'h=x=y:z', 'i=', 'a=again',
  ].join('\n') + '\n';
  let r = await s.api('POST', cfgPath(id, '/import'), { token: admin, body: text,
    headers: { 'content-type': 'text/plain' } });
  assert.strictEqual(r.status, 200, r.text);
  const m = Object.fromEntries(r.json.values.map((v) => [v.key, v]));
  assert.strictEqual(m.a.value, 'again');
  assert.strictEqual(m.b.value, 'two');
  assert.strictEqual(m.c.value, 'three');
  assert.strictEqual(m.d.value, 'leading blanks');
  assert.strictEqual(m.e.value, 'one continued');
  assert.strictEqual(m.e.line, 7);
  assert.strictEqual(m.f.value, '中文');
  assert.strictEqual(m['g key'].value, 'sp');
  assert.strictEqual(m.h.value, 'x=y:z');
  assert.strictEqual(m.i.value, '');
  assert.strictEqual((await get(id)).json.version, 0, 'import saves nothing');

  assert.strictEqual((await put(id, baseBody())).status, 200);
  r = await get(id, '/export');
  assert.strictEqual(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.match(r.text, /^# db\.password: secret, not exported$/m);
  assert.ok(!r.text.includes(SECRET));
  // Read back by the import: the same pairs, byte for byte.
  r = await s.api('POST', cfgPath(id, '/import'), { token: admin, body: r.text,
    headers: { 'content-type': 'text/plain' } });
  assert.strictEqual(r.status, 200, r.text);
  const back = Object.fromEntries(r.json.values.map((v) => [v.key, v.value]));
  assert.strictEqual(back.special, SPECIAL);
  assert.strictEqual(back.RefreshSecretSubUrl, '/gateway/app/refreshTokenByKey.htm');
  assert.strictEqual(back['db.password'], undefined);
});

test('preview: the lines around the edit, before and after; errors', async () => {
  const xml = '<?xml version="1.0"?>\n<root>\n  <!-- c -->\n  <nodes>\n    <nodes>\n      <nodes>old</nodes>\n    </nodes>\n  </nodes>\n</root>\n';
  let r = await s.api('POST', '/api/v1/config/preview', { token: users.view || admin, body: {
    content_base64: b64(xml), format: 'xml', nodepath: 'root.nodes[0].nodes[0].nodes[0]', value: 'a & <b>',
  } });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.line, 6);
  assert.deepStrictEqual(r.json.before, ['  <nodes>', '    <nodes>', '      <nodes>old</nodes>', '    </nodes>', '  </nodes>']);
  assert.deepStrictEqual(r.json.after, ['  <nodes>', '    <nodes>', '      <nodes>a &amp; &lt;b&gt;</nodes>', '    </nodes>', '  </nodes>']);
  r = await s.api('POST', '/api/v1/config/preview', { token: admin, body: {
    content_base64: b64(xml), format: 'xml', nodepath: 'root.nodes[3]', value: 'x',
  } });
  assert.strictEqual(r.status, 422, r.text);
  assert.match(r.json.message, /nodes/);
  r = await s.api('POST', '/api/v1/config/preview', { token: admin, body: {
    content_base64: b64(xml), format: 'yaml', nodepath: 'a', value: 'x',
  } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'format');
  r = await s.api('POST', '/api/v1/config/preview', { token: admin, body: {
    content_base64: 'not base64', format: 'xml', nodepath: 'a', value: 'x',
  } });
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.json.field, 'content_base64');
  r = await s.api('POST', '/api/v1/config/preview', { body: { content_base64: '', format: 'xml', nodepath: 'a', value: 'x' } });
  assert.strictEqual(r.status, 401);
});
