// The Apollo follower (docs/config.md "Apollo") against the development
// Apollo (tools/dev-apollo): the real server follows every namespace named
// by a task's newest configuration (rows written here with SQL, in the
// format of migration 012), keeps apollo_snapshots current through the
// /notifications/v2 long-poll and the fallback pull, lets Apollo's values
// win in yard_config_effective(), issues apply-config as the system for
// tasks with auto_apply whose values changed (waiting for a busy task),
// survives Apollo answering 500 or going away, and no worker dies.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { startStack, waitFor, sleep } = require('../lib/stack.js');
const devApollo = require('../../tools/dev-apollo/server.js');

const PULL = 2;
let s;
const T = {};

function oa(ns) {
  return `${s.apollo.url}/openapi/v1/envs/DEV/apps/app1/clusters/default/namespaces/${ns}`;
}

async function setItem(ns, key, value, base = null) {
  const url = (base ? `${base}/openapi/v1/envs/DEV/apps/app1/clusters/default/namespaces/${ns}` : oa(ns)) +
    `/items/${encodeURIComponent(key)}?createIfNotExists=true`;
  const r = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key, value, dataChangeLastModifiedBy: 'tester' }) });
  assert.equal(r.status, 200, await r.text());
}

async function release(ns, base = null) {
  const url = (base ? `${base}/openapi/v1/envs/DEV/apps/app1/clusters/default/namespaces/${ns}` : oa(ns)) + '/releases';
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ releaseTitle: 'test', releasedBy: 'tester' }) });
  assert.equal(r.status, 200);
  return r.json();
}

function snap(ns) {
  const t = s.sql(`SELECT row_to_json(x) FROM (SELECT release_key, items, notification_id,
    extract(epoch FROM fetched_at) AS fetched, extract(epoch FROM checked_at) AS checked, error
    FROM apollo_snapshots WHERE app_id = 'app1' AND cluster = 'default' AND namespace = '${ns}') x`);
  return t ? JSON.parse(t) : null;
}

function effective(task) {
  return JSON.parse(s.sql(`SELECT yard_config_effective(${task})`));
}

function value(cfg, key) {
  return cfg.values.find((v) => v.key === key);
}

function applyCommands(task) {
  const t = s.sql(`SELECT coalesce(json_agg(row_to_json(x) ORDER BY x.seq), '[]') FROM (SELECT c.id, c.seq,
    c.payload, c.issued_by, c.state FROM commands c WHERE c.task_id = ${task} AND c.type = 'apply-config') x`);
  return JSON.parse(t);
}

function config(task, apollo, values = []) {
  const doc = { values, apollo, mappings: [], files: [], env: false, properties_file: null };
  s.sql(`INSERT INTO task_configs (task_id, version, author_sub, doc) VALUES (${task},
    coalesce((SELECT max(version) FROM task_configs WHERE task_id = ${task}), 0) + 1, 'tester',
    '${JSON.stringify(doc).replace(/'/g, "''")}'::jsonb)`);
}

test.before(async () => {
  s = await startStack({
    apollo: { holdMs: 1000 },
    env: { YARD_APOLLO_PULL: String(PULL), YARD_APOLLO_TIMEOUT: '5' },
  });
  // Apollo has two released namespaces before Yard follows them.
  await setItem('application', 'db.url', 'jdbc:mysql://apollo/db?a=1&b=<2>');
  await setItem('application', 'feature', 'on');
  await release('application');
  await setItem('shared', 'db.url', 'jdbc:shared');
  await setItem('shared', 'zh', '配置中心 ✓');
  await release('shared');

  const node = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('ap-n1', 'ap1.local') RETURNING id`));
  for (const name of ['restart', 'apply', 'manual', 'shadowed']) {
    T[name] = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${node}, 'ap-${name}', 'console') RETURNING id`));
  }
  const yardValues = [{ key: 'db.url', value: 'yard-db', secret: false }, { key: 'only.yard', value: 'y', secret: false }];
  config(T.restart, { app_id: 'app1', cluster: 'default', namespaces: ['application', 'shared'],
    auto_apply: true, auto_restart: true }, yardValues);
  config(T.apply, { app_id: 'app1', cluster: 'default', namespaces: ['application'],
    auto_apply: true, auto_restart: false });
  config(T.manual, { app_id: 'app1', cluster: 'default', namespaces: ['application'],
    auto_apply: false, auto_restart: false });
  // "shared" first: its db.url hides application's.
  config(T.shadowed, { app_id: 'app1', cluster: 'default', namespaces: ['shared', 'application'],
    auto_apply: true, auto_restart: true });
});

test.after(async () => {
  if (s) await s.stop();
});

test('Apollo up: snapshots appear and Apollo values win in the effective configuration', async () => {
  // The first GET and the long-poll's first answer (the current
  // notification id) both land within a round or two.
  await waitFor(async () => snap('application')?.release_key && snap('shared')?.release_key &&
    snap('application').notification_id > 0 && snap('shared').notification_id > 0, 10000, 'snapshots');
  const a = snap('application');
  assert.deepEqual(a.items, { 'db.url': 'jdbc:mysql://apollo/db?a=1&b=<2>', feature: 'on' });
  assert.equal(a.error, null);
  assert.ok(a.notification_id > 0, 'the notification id of the long-poll is kept');
  assert.equal(snap('shared').items.zh, '配置中心 ✓');

  const e = effective(T.restart);
  assert.deepEqual(value(e, 'db.url'), { key: 'db.url', value: 'jdbc:mysql://apollo/db?a=1&b=<2>', source: 'apollo', secret: false });
  assert.equal(value(e, 'only.yard').source, 'yard');
  assert.equal(value(e, 'only.yard').value, 'y');
  assert.equal(value(e, 'zh').source, 'apollo');
  assert.equal(value(effective(T.shadowed), 'db.url').value, 'jdbc:shared');
  // A first snapshot is no change: nothing was applied.
  await sleep(1500);
  assert.deepEqual(applyCommands(T.restart), []);
});

test('304: an unchanged release only advances checked_at', async () => {
  const before = snap('application');
  const n304 = s.apollo.counts.configs304;
  await waitFor(async () => {
    const now = snap('application');
    return now.checked > before.checked + 0.5 && s.apollo.counts.configs304 > n304;
  }, (PULL + 4) * 1000, 'a fallback pull answered 304');
  const after = snap('application');
  assert.equal(after.fetched, before.fetched, 'fetched_at unchanged');
  assert.equal(after.release_key, before.release_key);
  assert.deepEqual(after.items, before.items);
  assert.equal(after.error, null);
});

test('changing: a release reaches the snapshot through the long-poll and auto-applies', async () => {
  // The "apply" task is busy with another command: it must wait its turn.
  const busy = s.sql(`INSERT INTO commands (type, node_id, task_id, deadline)
    SELECT 'restart', node_id, id, now() + interval '1 hour' FROM tasks WHERE id = ${T.apply} RETURNING id`);
  await setItem('application', 'db.url', 'jdbc:mysql://apollo/db2');
  const t0 = Date.now();
  const rel = await release('application');
  await waitFor(async () => snap('application').release_key === rel.releaseKey, 5000, 'snapshot updated');
  const took = Date.now() - t0;
  const a = snap('application');
  // Only the long-poll knows this id: a fallback pull would not have it.
  assert.equal(a.notification_id, rel.notificationId);
  assert.equal(a.items['db.url'], 'jdbc:mysql://apollo/db2');
  assert.ok(took < 5000, `took ${took} ms`);
  assert.equal(value(effective(T.restart), 'db.url').value, 'jdbc:mysql://apollo/db2');

  await waitFor(async () => applyCommands(T.restart).length === 1, 5000, 'apply-config for auto_restart');
  const [c] = applyCommands(T.restart);
  assert.equal(c.issued_by, null, 'issued by the system');
  assert.equal(c.payload.restart, true);
  assert.equal(c.payload.task.id, T.restart);
  assert.deepEqual(c.payload.config, effective(T.restart), 'the config member is yard_config_effective()');
  assert.equal(value(c.payload.config, 'db.url').source, 'apollo');
  const audit = s.sql(`SELECT actor_sub || ' ' || coalesce(actor_id::text, 'null') || ' ' || action FROM audit
    WHERE object_type = 'task' AND object_id = ${T.restart} AND detail->>'command' = '${c.id}'`);
  assert.equal(audit, 'apollo null command.issue');

  // Without auto_apply: nothing; with the key hidden by another namespace:
  // the effective values did not change, so nothing either.
  await sleep(2000);
  assert.deepEqual(applyCommands(T.manual), []);
  assert.deepEqual(applyCommands(T.shadowed), []);
  // The busy task keeps its mark...
  assert.deepEqual(applyCommands(T.apply), []);
  assert.equal(s.sql(`SELECT count(*) FROM apollo_pending WHERE task_id = ${T.apply}`), '1');
  // ...and gets its command once the other one is finished.
  s.sql(`UPDATE commands SET state = 'succeeded', finished_at = now() WHERE id = '${busy}'`);
  await waitFor(async () => applyCommands(T.apply).length === 1, 5000, 'apply-config after the busy command');
  const [ca] = applyCommands(T.apply);
  assert.equal(ca.payload.restart, false);
  assert.equal(value(ca.payload.config, 'db.url').value, 'jdbc:mysql://apollo/db2');
  assert.equal(s.sql(`SELECT count(*) FROM apollo_pending`), '0');
  s.sql(`UPDATE commands SET state = 'succeeded', finished_at = now() WHERE type = 'apply-config'`);
});

test('a new namespace in a task\'s newest configuration is followed at once', async () => {
  await setItem('extra', 'extra.key', 'x & y');
  await release('extra');
  config(T.manual, { app_id: 'app1', cluster: 'default', namespaces: ['application', 'extra'],
    auto_apply: false, auto_restart: false });
  await waitFor(async () => snap('extra')?.items?.['extra.key'] === 'x & y', 5000, 'extra followed');
  assert.equal(value(effective(T.manual), 'extra.key').source, 'apollo');
});

test('down: a silent Apollo times out, 500s and a stopped Apollo are recorded, the last good values stay, and it recovers', async () => {
  const good = snap('application');
  // Accepts and never answers: the client timeout (YARD_APOLLO_TIMEOUT 5 s) ends it.
  s.apollo.setMode('silent');
  await waitFor(async () => /timed out|timeout/i.test(snap('application').error || ''), 15000, 'timeout recorded');
  assert.deepEqual(snap('application').items, good.items);
  assert.equal(value(effective(T.apply), 'db.url').value, 'jdbc:mysql://apollo/db2');
  s.apollo.setMode('normal');
  await waitFor(async () => snap('application').error === null, 15000, 'back from silence');
  s.apollo.setMode('error');
  await waitFor(async () => snap('application').error !== null, 8000, 'error recorded');
  const bad = snap('application');
  assert.match(bad.error, /500/);
  assert.deepEqual(bad.items, good.items, 'the last good items are kept');
  assert.equal(bad.release_key, good.release_key);
  assert.equal(bad.fetched, good.fetched);
  assert.equal(value(effective(T.apply), 'db.url').value, 'jdbc:mysql://apollo/db2');
  const apiOk = await fetch(s.yard.url + '/healthz');
  assert.equal(apiOk.status, 200);

  // Gone altogether: connections refused.
  const port = s.apollo.port;
  await s.apollo.close();
  await waitFor(async () => /connect|refused|Couldn/i.test(snap('shared').error || ''), 10000,
    'connection error recorded');
  assert.equal(snap('shared').items.zh, '配置中心 ✓');
  assert.equal(value(effective(T.restart), 'zh').value, '配置中心 ✓');

  // Back, on the same address, with the same values released again.
  s.apollo = await devApollo.start({ listen: `127.0.0.1:${port}`, holdMs: 1000 });
  await setItem('application', 'db.url', 'jdbc:mysql://apollo/db2');
  await setItem('application', 'feature', 'on');
  const rel = await release('application');
  await setItem('shared', 'db.url', 'jdbc:shared');
  await setItem('shared', 'zh', '配置中心 ✓');
  await release('shared');
  await waitFor(async () => snap('application').release_key === rel.releaseKey && snap('application').error === null &&
    snap('shared').error === null, 15000, 'recovered');
  // Same items under a new release key: no values changed, nothing applied.
  await sleep(1500);
  assert.equal(applyCommands(T.restart).length, 1);
});

test('an auto-applied command wakes the node\'s parked long-poll', async () => {
  const a = await s.agent('ap');
  try {
    await waitFor(async () => s.sql(`SELECT status FROM nodes WHERE id = ${a.nodeId}`) === 'online', 10000, 'agent online');
    const task = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${a.nodeId}, 'ap-agent', 'console') RETURNING id`));
    config(task, { app_id: 'app1', cluster: 'default', namespaces: ['application'], auto_apply: true, auto_restart: false });
    await sleep(2500);	// followed, and the agent's poll parked again
    await setItem('application', 'feature', 'agent');
    await release('application');
    // Dispatched within seconds: the agent's poll (held 25 s) was woken.
    await waitFor(async () => s.sql(`SELECT count(*) FROM commands WHERE task_id = ${task}
      AND type = 'apply-config' AND dispatched_at IS NOT NULL`) === '1', 8000, 'apply-config dispatched');
  } finally {
    await a.stop();
  }
  s.sql(`UPDATE commands SET state = 'succeeded', finished_at = now() WHERE state IN ('queued', 'dispatched', 'running')`);
});

test('another instance takes over when the leading one stops', async () => {
  const other = await s.startAnother();
  const holder = () => s.sql(`SELECT holder FROM duty_runs WHERE duty = 'apollo-follow'`);
  assert.match(holder(), new RegExp(`:${s.yard.port}/`));
  await s.yard.stop();
  await waitFor(async () => new RegExp(`:${other.port}/`).test(holder()), 10000, 'the other instance leads');
  await setItem('application', 'feature', 'off');
  const rel = await release('application');
  // A fallback pull may bring the release before the long-poll's
  // notification does: both must arrive.
  await waitFor(async () => snap('application').release_key === rel.releaseKey
    && Number(snap('application').notification_id) === rel.notificationId, 10000, 'followed by the new leader');
  assert.equal(snap('application').items.feature, 'off');
});

test('no worker died and nothing was left pending', async () => {
  assert.deepEqual(s.deaths(), []);
  assert.doesNotMatch(s.yard.logText(), /apollo: dropping/);
});
