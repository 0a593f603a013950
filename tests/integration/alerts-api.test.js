// The alerts API against the real server: rules CRUD and every class of
// validation error (nothing written on a refusal), who may edit rules and
// see extra_emails, events by the target's view level with filters and
// paging, the pages' summary, mutes (manage on the target) and the preview
// of a rule on seeded metrics.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startStack } = require('../lib/stack.js');

let s, admin, n1, n2, taskA, taskB, taskC;
const users = {};

const RULE = {
  name: 'cpu busy', kind: 'task_cpu', threshold: 80, recovery: 60, for_seconds: 120,
  scope: { node_ids: [], task_ids: [] }, channels: ['inbox'], extra_emails: ['ops@example.com'],
};

async function userWith(sub, grant) {
  await s.api('GET', '/api/v1/me', { token: s.token(sub) });
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  if (grant) {
    const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, grant) });
    assert.strictEqual(r.status, 201, r.text);
  }
  return s.token(sub);
}

const count = (table, where = 'true') => Number(s.sql(`SELECT count(*) FROM ${table} WHERE ${where}`));
const audits = (action) => count('audit', `action = '${action}'`);

test.before(async () => {
  // Events are inserted by SQL here: keep the evaluator (when there is
  // one) from judging them while the tests look.
  s = await startStack({ env: { YARD_ALERT_EVAL: '3600' } });
  admin = s.adminToken('al-admin');
  n1 = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('al-n1', 'n1.local') RETURNING id`));
  n2 = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('al-n2', 'n2.local') RETURNING id`));
  const mk = (node, name) => Number(s.sql(`INSERT INTO tasks (node_id, name, kind, spec)
    VALUES (${node}, '${name}', 'console', '{}') RETURNING id`));
  taskA = mk(n1, 'alpha');
  taskB = mk(n1, 'beta');
  taskC = mk(n2, 'gamma');
  users.admin = admin;
  users.stranger = await userWith('al-stranger');
  for (const lvl of ['view', 'operate', 'manage']) {
    users['node-' + lvl] = await userWith('al-node-' + lvl, { node_id: n1, level: lvl });
  }
  users['task-manage'] = await userWith('al-task-manage', { task_id: taskA, level: 'manage' });
});
test.after(async () => { await s.stop(); });

test('rules: the shipped nine, extra_emails for admins only', async () => {
  const a = await s.api('GET', '/api/v1/alerts/rules', { token: admin });
  assert.strictEqual(a.status, 200, a.text);
  assert.strictEqual(a.json.items.length, 9);
  const cpu = a.json.items.find((r) => r.name === 'CPU high');
  assert.deepStrictEqual(Object.keys(cpu).sort(), ['channels', 'created_at', 'enabled', 'extra_emails',
    'for_seconds', 'id', 'kind', 'name', 'no_data', 'recovery', 'scope', 'threshold', 'updated_at',
    'window_seconds']);
  assert.deepStrictEqual(cpu.scope, { node_ids: [], task_ids: [] });
  assert.strictEqual(cpu.threshold, 90);
  for (const who of ['stranger', 'node-view', 'node-manage']) {
    const r = await s.api('GET', '/api/v1/alerts/rules', { token: users[who] });
    assert.strictEqual(r.status, 200, who);
    assert.strictEqual(r.json.items.length, 9, who);
    assert.ok(r.json.items.every((x) => !('extra_emails' in x)), who);
  }
  const one = await s.api('GET', `/api/v1/alerts/rules/${cpu.id}`, { token: users.stranger });
  assert.strictEqual(one.status, 200);
  assert.ok(!('extra_emails' in one.json));
  assert.strictEqual((await s.api('GET', '/api/v1/alerts/rules', {})).status, 401);
});

test('rules: create, replace, delete, with audit rows', async () => {
  const c = await s.api('POST', '/api/v1/alerts/rules', { token: admin,
    body: Object.assign({}, RULE, { scope: { node_ids: [n1], task_ids: [taskA] } }) });
  assert.strictEqual(c.status, 201, c.text);
  const id = c.json.id;
  assert.strictEqual(c.json.name, 'cpu busy');
  assert.deepStrictEqual(c.json.scope, { node_ids: [n1], task_ids: [taskA] });
  assert.deepStrictEqual(c.json.extra_emails, ['ops@example.com']);
  assert.strictEqual(c.json.no_data, 'keep');
  assert.strictEqual(c.json.enabled, true);
  assert.strictEqual(audits('alert_rule.create'), 1);
  assert.strictEqual(s.sql(`SELECT created_by IS NOT NULL FROM alert_rules WHERE id = ${id}`), 't');

  // The same name again: 409, nothing written.
  const dup = await s.api('POST', '/api/v1/alerts/rules', { token: admin, body: RULE });
  assert.strictEqual(dup.status, 409, dup.text);
  assert.strictEqual(dup.json.error, 'exists');
  assert.strictEqual(count('alert_rules'), 10);

  // PUT replaces in full: members left out take their defaults.
  const u = await s.api('PUT', `/api/v1/alerts/rules/${id}`, { token: admin, body: {
    name: 'disk', kind: 'node_disk', threshold: 5, recovery: 10, no_data: 'ok', enabled: false } });
  assert.strictEqual(u.status, 200, u.text);
  assert.strictEqual(u.json.kind, 'node_disk');
  assert.deepStrictEqual(u.json.scope, { node_ids: [], task_ids: [] });
  assert.deepStrictEqual(u.json.channels, ['inbox', 'email']);
  assert.deepStrictEqual(u.json.extra_emails, []);
  assert.strictEqual(u.json.enabled, false);
  assert.ok(u.json.updated_at >= c.json.updated_at);
  assert.strictEqual(audits('alert_rule.update'), 1);

  // Renaming onto another rule's name: 409, nothing written.
  const taken = await s.api('PUT', `/api/v1/alerts/rules/${id}`, { token: admin,
    body: Object.assign({}, RULE, { name: 'CPU high' }) });
  assert.strictEqual(taken.status, 409, taken.text);
  assert.strictEqual(s.sql(`SELECT name FROM alert_rules WHERE id = ${id}`), 'disk');
  const gone = await s.api('PUT', '/api/v1/alerts/rules/999999', { token: admin, body: RULE });
  assert.strictEqual(gone.status, 404);
  assert.strictEqual(audits('alert_rule.update'), 1);

  // Deleting resolves the rule's open events.
  s.sql(`INSERT INTO alert_events (rule_id, kind, node_id, state, threshold, recovery)
    VALUES (${id}, 'node_disk', ${n2}, 'firing', 5, 10)`);
  const d = await s.api('DELETE', `/api/v1/alerts/rules/${id}`, { token: admin });
  assert.strictEqual(d.status, 204, d.text);
  assert.strictEqual(audits('alert_rule.delete'), 1);
  assert.strictEqual(count('alert_events', `state <> 'resolved'`), 0);
  assert.strictEqual((await s.api('GET', `/api/v1/alerts/rules/${id}`, { token: admin })).status, 404);
  assert.strictEqual((await s.api('DELETE', `/api/v1/alerts/rules/${id}`, { token: admin })).status, 404);
  s.sql('DELETE FROM alert_events');
});

test('rules: only admins write', async () => {
  const before = s.sql('SELECT md5(string_agg(r::text, \',\' ORDER BY id)) FROM alert_rules r');
  const id = Number(s.sql(`SELECT id FROM alert_rules WHERE name = 'CPU high'`));
  for (const who of ['stranger', 'node-view', 'node-operate', 'node-manage', 'task-manage']) {
    const tok = users[who];
    assert.strictEqual((await s.api('POST', '/api/v1/alerts/rules', { token: tok, body: RULE })).status, 403, who);
    assert.strictEqual((await s.api('PUT', `/api/v1/alerts/rules/${id}`, { token: tok, body: RULE })).status, 403, who);
    assert.strictEqual((await s.api('DELETE', `/api/v1/alerts/rules/${id}`, { token: tok })).status, 403, who);
    assert.strictEqual((await s.api('POST', '/api/v1/alerts/rules/preview', { token: tok, body: RULE })).status, 403, who);
  }
  assert.strictEqual(s.sql('SELECT md5(string_agg(r::text, \',\' ORDER BY id)) FROM alert_rules r'), before);
});

test('rules: every validation error names its member and writes nothing', async () => {
  const base = { name: 'v', kind: 'task_cpu', threshold: 80, recovery: 60 };
  const bad = [
    [{ kind: 'task_cpu', threshold: 1, recovery: 1 }, 'name'],
    [Object.assign({}, base, { name: '' }), 'name'],
    [Object.assign({}, base, { name: 'x'.repeat(101) }), 'name'],
    [Object.assign({}, base, { kind: 'task_disk' }), 'kind'],
    [Object.assign({}, base, { threshold: '80' }), 'threshold'],
    [Object.assign({}, base, { threshold: 25601 }), 'threshold'],
    [Object.assign({}, base, { kind: 'task_memory', threshold: 0, recovery: 0 }), 'threshold'],
    [Object.assign({}, base, { kind: 'node_disk', threshold: 120, recovery: 130 }), 'threshold'],
    [Object.assign({}, base, { kind: 'task_exit', threshold: 2, recovery: 1 }), 'threshold'],
    [Object.assign({}, base, { recovery: 90 }), 'recovery'],
    [Object.assign({}, base, { kind: 'node_memory', threshold: 512, recovery: 256 }), 'recovery'],
    [Object.assign({}, base, { for_seconds: 604801 }), 'for_seconds'],
    [Object.assign({}, base, { window_seconds: 600 }), 'window_seconds'],
    [Object.assign({}, base, { kind: 'task_restarts', threshold: 3, recovery: 0 }), 'window_seconds'],
    [Object.assign({}, base, { kind: 'task_restarts', threshold: 3, recovery: 0, window_seconds: 30 }), 'window_seconds'],
    [Object.assign({}, base, { no_data: 'ignore' }), 'no_data'],
    [Object.assign({}, base, { scope: [] }), 'scope'],
    [Object.assign({}, base, { scope: { node_ids: [-1] } }), 'scope.node_ids'],
    [Object.assign({}, base, { scope: { task_ids: [1, 1] } }), 'scope.task_ids'],
    [Object.assign({}, base, { scope: { node_ids: Array.from({ length: 1001 }, (_, i) => i + 1) } }), 'scope.node_ids'],
    [Object.assign({}, base, { kind: 'node_offline', threshold: 1, recovery: 1, scope: { task_ids: [taskA] } }), 'scope.task_ids'],
    [Object.assign({}, base, { channels: [] }), 'channels'],
    [Object.assign({}, base, { channels: ['inbox', 'sms'] }), 'channels'],
    [Object.assign({}, base, { channels: ['email', 'email'] }), 'channels'],
    [Object.assign({}, base, { extra_emails: ['not-an-address'] }), 'extra_emails'],
    [Object.assign({}, base, { extra_emails: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) }), 'extra_emails'],
    [Object.assign({}, base, { enabled: 'yes' }), 'enabled'],
    [Object.assign({}, base, { days: 3 }), undefined],
    [Object.assign({}, base, { id: 4 }), undefined],
  ];
  const rules = count('alert_rules');
  const audit = count('audit');
  for (const [body, field] of bad) {
    const r = await s.api('POST', '/api/v1/alerts/rules', { token: admin, body });
    assert.strictEqual(r.status, 400, JSON.stringify(body).slice(0, 200));
    assert.strictEqual(r.json.error, 'bad_request');
    assert.strictEqual(r.json.field, field, r.text);
    assert.ok(r.json.message.length > 0);
  }
  // Unknown nodes and tasks in the scope are named.
  let r = await s.api('POST', '/api/v1/alerts/rules', { token: admin,
    body: Object.assign({}, base, { scope: { node_ids: [n1, 987654, 987655] } }) });
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.field, 'scope.node_ids');
  assert.match(r.json.message, /987654, 987655/);
  r = await s.api('POST', '/api/v1/alerts/rules', { token: admin,
    body: Object.assign({}, base, { scope: { task_ids: [taskA, 876543] } }) });
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.field, 'scope.task_ids');
  assert.match(r.json.message, /876543/);
  const id = Number(s.sql(`SELECT id FROM alert_rules WHERE name = 'CPU high'`));
  r = await s.api('PUT', `/api/v1/alerts/rules/${id}`, { token: admin,
    body: Object.assign({}, base, { scope: { task_ids: [876543] } }) });
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.field, 'scope.task_ids');
  // Not JSON, not an object, duplicate keys, wrong type.
  r = await s.api('POST', '/api/v1/alerts/rules', { token: admin, body: '{"name":' });
  assert.strictEqual(r.json.error, 'bad_json');
  r = await s.api('POST', '/api/v1/alerts/rules', { token: admin, body: '{"name":"a","name":"b"}' });
  assert.strictEqual(r.status, 400);
  r = await s.api('POST', '/api/v1/alerts/rules', { token: admin, body: JSON.stringify(base),
    headers: { 'content-type': 'text/plain' } });
  assert.strictEqual(r.status, 415);
  assert.strictEqual(count('alert_rules'), rules);
  assert.strictEqual(count('audit'), audit);
  assert.strictEqual(s.sql(`SELECT name FROM alert_rules WHERE id = ${id}`), 'CPU high');
});

// Events on every kind of target, inserted as the evaluator would.
function seedEvents() {
  const rule = Number(s.sql(`SELECT id FROM alert_rules WHERE name = 'CPU high'`));
  const node = Number(s.sql(`SELECT id FROM alert_rules WHERE name = 'Node offline'`));
  const ev = (r, kind, nid, tid, state, started) => Number(s.sql(`INSERT INTO alert_events
    (rule_id, kind, node_id, task_id, state, value, threshold, recovery, started_at, fired_at, resolved_at)
    VALUES (${r}, '${kind}', ${nid}, ${tid}, '${state}', 95, 90, 70, now() - interval '${started} minutes',
    ${state === 'pending' ? 'NULL' : `now() - interval '${started - 1} minutes'`},
    ${state === 'resolved' ? 'now()' : 'NULL'}) RETURNING id`));
  return {
    rule,
    aFiring: ev(rule, 'task_cpu', n1, taskA, 'firing', 50),
    aResolved: ev(rule, 'task_cpu', n1, taskA, 'resolved', 300),
    bPending: ev(rule, 'task_cpu', n1, taskB, 'pending', 40),
    cFiring: ev(rule, 'task_cpu', n2, taskC, 'firing', 30),
    n1Firing: ev(node, 'node_offline', n1, 'NULL', 'firing', 20),
    n2Firing: ev(node, 'node_offline', n2, 'NULL', 'firing', 10),
  };
}

test('events: by the target\'s view level, filters, paging', async () => {
  const e = seedEvents();
  const ids = async (tok, qs = '') => {
    const r = await s.api('GET', '/api/v1/alerts/events' + qs, { token: tok });
    assert.strictEqual(r.status, 200, r.text);
    return r.json.items.map((x) => x.id);
  };
  const all = [e.n2Firing, e.n1Firing, e.cFiring, e.bPending, e.aResolved, e.aFiring];
  assert.deepStrictEqual(await ids(admin), all);
  assert.deepStrictEqual(await ids(users.stranger), []);
  for (const who of ['node-view', 'node-operate', 'node-manage']) {
    assert.deepStrictEqual(await ids(users[who]), [e.n1Firing, e.bPending, e.aResolved, e.aFiring], who);
  }
  // A task grant sees its task's events and its node's (the node is
  // visible to it), not the node's other tasks.
  assert.deepStrictEqual(await ids(users['task-manage']), [e.n1Firing, e.aResolved, e.aFiring]);

  const one = await s.api('GET', `/api/v1/alerts/events/${e.aFiring}`, { token: users['node-view'] });
  assert.strictEqual(one.status, 200, one.text);
  assert.deepStrictEqual(one.json.target, { node_id: n1, task_id: taskA, node_name: 'al-n1', task_name: 'alpha' });
  assert.strictEqual(one.json.rule_name, 'CPU high');
  assert.strictEqual(one.json.state, 'firing');
  assert.strictEqual(one.json.threshold, 90);
  for (const k of ['id', 'rule_id', 'kind', 'value', 'recovery', 'started_at', 'fired_at', 'resolved_at', 'suppressed_by']) {
    assert.ok(k in one.json, k);
  }
  assert.strictEqual((await s.api('GET', `/api/v1/alerts/events/${e.cFiring}`, { token: users['node-view'] })).status, 404);
  assert.strictEqual((await s.api('GET', `/api/v1/alerts/events/${e.bPending}`, { token: users['task-manage'] })).status, 404);
  assert.strictEqual((await s.api('GET', '/api/v1/alerts/events/99999999', { token: admin })).status, 404);

  assert.deepStrictEqual(await ids(admin, '?state=open'), [e.n2Firing, e.n1Firing, e.cFiring, e.bPending, e.aFiring]);
  assert.deepStrictEqual(await ids(admin, '?state=pending'), [e.bPending]);
  assert.deepStrictEqual(await ids(admin, '?state=resolved'), [e.aResolved]);
  assert.deepStrictEqual(await ids(admin, `?task_id=${taskA}`), [e.aResolved, e.aFiring]);
  assert.deepStrictEqual(await ids(admin, `?node_id=${n2}`), [e.n2Firing, e.cFiring]);
  assert.deepStrictEqual(await ids(admin, `?rule_id=${e.rule}&state=firing`), [e.cFiring, e.aFiring]);
  const since = new Date(Date.now() - 35 * 60000).toISOString();
  assert.deepStrictEqual(await ids(admin, `?since=${since}`), [e.n2Firing, e.n1Firing, e.cFiring]);

  // Pages of two, newest first, by before.
  let r = await s.api('GET', '/api/v1/alerts/events?limit=2', { token: admin });
  const seen = r.json.items.map((x) => x.id);
  while (r.json.next !== null) {
    r = await s.api('GET', `/api/v1/alerts/events?limit=2&before=${r.json.next}`, { token: admin });
    assert.strictEqual(r.status, 200, r.text);
    seen.push(...r.json.items.map((x) => x.id));
  }
  assert.deepStrictEqual(seen, all);

  for (const qs of ['?state=closed', '?limit=0', '?limit=501', '?before=x', '?since=yesterday', '?node_id=-1']) {
    const b = await s.api('GET', '/api/v1/alerts/events' + qs, { token: admin });
    assert.strictEqual(b.status, 400, qs);
    assert.ok(b.json.field, qs);
  }
});

test('mutes: manage on the target or admin; lifecycle and summary', async () => {
  const until = new Date(Date.now() + 3600e3).toISOString();
  const body = { task_id: taskA, until, reason: 'maintenance window' };
  const before = count('alert_mutes');
  assert.strictEqual((await s.api('POST', '/api/v1/mutes', { token: users.stranger, body })).status, 404);
  for (const who of ['node-view', 'node-operate']) {
    const r = await s.api('POST', '/api/v1/mutes', { token: users[who], body });
    assert.strictEqual(r.status, 403, who);
    assert.match(r.json.message, /muting needs manage/);
  }
  // A task grant may not mute the task's node.
  let r = await s.api('POST', '/api/v1/mutes', { token: users['task-manage'], body: { node_id: n1, until, reason: 'x' } });
  assert.strictEqual(r.status, 403, r.text);
  const bad = [
    [{ task_id: taskA, node_id: n1, until, reason: 'x' }, 'task_id'],
    [{ until, reason: 'x' }, 'node_id'],
    [{ task_id: taskA, until: '2030-01-01T00:00:00', reason: 'x' }, 'until'],
    [{ task_id: taskA, until: 'tomorrow', reason: 'x' }, 'until'],
    [{ task_id: taskA, until: '2027-02-29T00:00:00Z', reason: 'x' }, 'until'],
    [{ task_id: taskA, until: new Date(Date.now() - 60e3).toISOString(), reason: 'x' }, 'until'],
    [{ task_id: taskA, until: new Date(Date.now() + 91 * 86400e3).toISOString(), reason: 'x' }, 'until'],
    [{ task_id: taskA, until }, 'reason'],
    [{ task_id: taskA, until, reason: '' }, 'reason'],
    [{ task_id: taskA, until, reason: 'r'.repeat(501) }, 'reason'],
    [{ task_id: taskA, until, reason: 'x', extra: 1 }, 'extra'],
  ];
  for (const [b, field] of bad) {
    r = await s.api('POST', '/api/v1/mutes', { token: admin, body: b });
    assert.strictEqual(r.status, 400, JSON.stringify(b).slice(0, 120) + ' ' + r.text);
    assert.strictEqual(r.json.field, field, r.text);
  }
  assert.strictEqual((await s.api('POST', '/api/v1/mutes', { token: admin, body: { task_id: 99999999, until, reason: 'x' } })).status, 404);
  assert.strictEqual(count('alert_mutes'), before);
  assert.strictEqual(audits('alert_mute.create'), 0);

  r = await s.api('POST', '/api/v1/mutes', { token: users['task-manage'], body });
  assert.strictEqual(r.status, 201, r.text);
  const mute = r.json;
  assert.strictEqual(mute.task_id, taskA);
  assert.strictEqual(mute.node_id, null);
  assert.strictEqual(mute.reason, 'maintenance window');
  assert.strictEqual(mute.created_by, 'al-task-manage');
  assert.strictEqual(new Date(mute.until).getTime(), new Date(until).getTime());
  r = await s.api('POST', '/api/v1/mutes', { token: users['node-manage'], body: { node_id: n1, until, reason: 'rack move' } });
  assert.strictEqual(r.status, 201, r.text);
  const nodeMute = r.json;
  r = await s.api('POST', '/api/v1/mutes', { token: admin, body: { node_id: n2, until, reason: 'n2 work' } });
  assert.strictEqual(r.status, 201, r.text);
  // An ended one does not count as active.
  s.sql(`INSERT INTO alert_mutes (task_id, until, reason) VALUES (${taskB}, now() - interval '1 minute', 'old')`);
  assert.strictEqual(audits('alert_mute.create'), 3);

  const list = async (tok, qs = '') => {
    const l = await s.api('GET', '/api/v1/mutes' + qs, { token: tok });
    assert.strictEqual(l.status, 200, l.text);
    return l.json.items.map((m) => m.reason);
  };
  assert.deepStrictEqual(await list(admin), ['old', 'n2 work', 'rack move', 'maintenance window']);
  assert.deepStrictEqual(await list(admin, '?active=1'), ['n2 work', 'rack move', 'maintenance window']);
  assert.deepStrictEqual(await list(admin, `?active=1&task_id=${taskA}`), ['maintenance window']);
  assert.deepStrictEqual(await list(admin, `?node_id=${n2}`), ['n2 work']);
  assert.deepStrictEqual(await list(users['node-view'], '?active=1'), ['rack move', 'maintenance window']);
  assert.deepStrictEqual(await list(users['task-manage']), ['rack move', 'maintenance window']);
  assert.deepStrictEqual(await list(users.stranger), []);

  // Summary: visible targets with open events or active mutes.
  const sum = await s.api('GET', '/api/v1/alerts/summary', { token: admin });
  assert.strictEqual(sum.status, 200, sum.text);
  assert.deepStrictEqual(sum.json.tasks[taskA], { firing: 1, pending: 0,
    muted_until: sum.json.tasks[taskA].muted_until, mute_reason: 'maintenance window' });
  assert.strictEqual(new Date(sum.json.tasks[taskA].muted_until).getTime(), new Date(until).getTime());
  assert.deepStrictEqual(sum.json.tasks[taskB], { firing: 0, pending: 1, muted_until: null, mute_reason: null });
  assert.deepStrictEqual(sum.json.tasks[taskC], { firing: 1, pending: 0, muted_until: null, mute_reason: null });
  assert.strictEqual(sum.json.nodes[n1].firing, 1);
  assert.strictEqual(sum.json.nodes[n1].mute_reason, 'rack move');
  assert.strictEqual(sum.json.nodes[n2].mute_reason, 'n2 work');
  const vs = await s.api('GET', '/api/v1/alerts/summary', { token: users['task-manage'] });
  assert.deepStrictEqual(Object.keys(vs.json.tasks), [String(taskA)]);
  assert.deepStrictEqual(Object.keys(vs.json.nodes), [String(n1)]);
  const ss = await s.api('GET', '/api/v1/alerts/summary', { token: users.stranger });
  assert.deepStrictEqual(ss.json, { nodes: {}, tasks: {} });

  // Ending a mute: manage on its target.
  r = await s.api('DELETE', `/api/v1/mutes/${nodeMute.id}`, { token: users['node-operate'] });
  assert.strictEqual(r.status, 403, r.text);
  r = await s.api('DELETE', `/api/v1/mutes/${nodeMute.id}`, { token: users['task-manage'] });
  assert.strictEqual(r.status, 403, r.text);
  r = await s.api('DELETE', `/api/v1/mutes/${nodeMute.id}`, { token: users.stranger });
  assert.strictEqual(r.status, 404, r.text);
  assert.strictEqual(audits('alert_mute.delete'), 0);
  r = await s.api('DELETE', `/api/v1/mutes/${nodeMute.id}`, { token: users['node-manage'] });
  assert.strictEqual(r.status, 204, r.text);
  assert.strictEqual((await s.api('DELETE', `/api/v1/mutes/${nodeMute.id}`, { token: admin })).status, 404);
  r = await s.api('DELETE', `/api/v1/mutes/${mute.id}`, { token: admin });
  assert.strictEqual(r.status, 204, r.text);
  assert.strictEqual(audits('alert_mute.delete'), 2);
  assert.deepStrictEqual(await list(admin, '?active=1'), ['n2 work']);
  const after = await s.api('GET', '/api/v1/alerts/summary', { token: admin });
  assert.strictEqual(after.json.tasks[taskA].muted_until, null);
  assert.strictEqual(after.json.nodes[n1].mute_reason, null);
});

test('preview: a CPU series crossing twice with hysteresis', async () => {
  const t = Number(s.sql(`INSERT INTO tasks (node_id, name, kind, spec) VALUES (${n2}, 'preview', 'console', '{}') RETURNING id`));
  const other = Number(s.sql(`INSERT INTO tasks (node_id, name, kind, spec) VALUES (${n2}, 'quiet', 'console', '{}') RETURNING id`));
  // One sample every 10 s over two hours ago .. 1 h 56 min ago: above
  // 90 for 40 s (fires with for 30 s), a dip to 80 (the hysteresis band:
  // stays open), 60 (resolves); 91 twice then 60 (pending only, never
  // fires); then above again for 60 s with a dip to 85 (one event).
  const series = [50, 50, 95, 95, 95, 95, 80, 95, 60, 50, 91, 91, 60, 50, 95, 85, 95, 95, 95, 95, 95, 60, 50];
  const values = series.map((v, i) => `(${t}, date_trunc('minute', now()) - interval '2 hours' + make_interval(secs => ${i * 10}), ${v}, 1048576)`);
  values.push(...series.map((_, i) => `(${other}, date_trunc('minute', now()) - interval '2 hours' + make_interval(secs => ${i * 10}), 10, 1048576)`));
  s.sql(`INSERT INTO task_metrics (task_id, at, cpu, rss) VALUES ${values.join(',')}`);
  const rule = { name: 'p', kind: 'task_cpu', threshold: 90, recovery: 70, for_seconds: 30,
    scope: { node_ids: [n2], task_ids: [] } };
  let r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: Object.assign({ days: 1 }, rule) });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.supported, true);
  assert.strictEqual(r.json.fired, 2, r.text);
  assert.strictEqual(r.json.targets, 2);
  assert.strictEqual(r.json.samples, 2 * series.length);
  // Fired at 50 s, resolved at 80 s; fired at 170 s, resolved at 210 s.
  assert.strictEqual(r.json.firing_seconds, 30 + 40);
  assert.strictEqual(r.json.events.length, 2);
  const [late, early] = r.json.events;
  assert.strictEqual(late.task_id, t);
  assert.strictEqual(late.node_id, n2);
  assert.strictEqual(late.peak, 95);
  assert.strictEqual((new Date(late.fired_at) - new Date(late.started_at)) / 1000, 30);
  assert.strictEqual((new Date(early.resolved_at) - new Date(early.fired_at)) / 1000, 30);
  assert.ok(new Date(late.fired_at) > new Date(early.fired_at));

  // Without a for duration the pending-only crossing fires too.
  r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: Object.assign({}, rule, { for_seconds: 0 }) });
  assert.strictEqual(r.json.fired, 3, r.text);
  // A recovery at the threshold: the dip to 80 and 85 resolves each time.
  r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: Object.assign({}, rule, { for_seconds: 0, recovery: 90 }) });
  assert.strictEqual(r.json.fired, 5, r.text);
  // Scope narrows: only the quiet task.
  r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin,
    body: Object.assign({}, rule, { scope: { node_ids: [], task_ids: [other] } }) });
  assert.strictEqual(r.json.fired, 0);
  assert.strictEqual(r.json.targets, 1);
  // The sample bound: past it the answer covers what was read.
  const cut = JSON.parse(s.sql(`SELECT yard_alert_preview('${JSON.stringify(Object.assign({}, rule,
    { no_data: 'keep' }))}'::jsonb, 1, 30, 6, 5000)`));
  assert.strictEqual(cut.truncated, true);
  assert.strictEqual(cut.samples, 6);
  // The sixth sample fires the first event, still open where reading stopped.
  assert.strictEqual(cut.fired, 1);
  assert.strictEqual(cut.events[0].resolved_at, null);
  // Kinds without a history say so.
  r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin,
    body: { name: 'd', kind: 'node_disk', threshold: 10, recovery: 15 } });
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.json.supported, false);
  assert.match(r.json.reason, /disk/);
  for (const days of [0, 8, 'x']) {
    r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: Object.assign({ days }, rule) });
    assert.strictEqual(r.status, 400);
    assert.strictEqual(r.json.field, 'days');
  }
  r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: Object.assign({}, rule, { threshold: -5 }) });
  assert.strictEqual(r.json.field, 'threshold');
});

test('preview: node offline from node events, the for duration counted', async () => {
  const n = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('al-n3', 'n3.local') RETURNING id`));
  // Offline for 60 s (fires with for 30), online, offline for 20 s (no).
  s.sql(`INSERT INTO node_events (node_id, at, status) VALUES
    (${n}, now() - interval '3 days', 'online'),
    (${n}, now() - interval '60 minutes', 'offline'),
    (${n}, now() - interval '59 minutes', 'online'),
    (${n}, now() - interval '50 minutes', 'lost'),
    (${n}, now() - interval '50 minutes' + interval '20 seconds', 'online')`);
  const r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin,
    body: { name: 'o', kind: 'node_offline', threshold: 1, recovery: 1, for_seconds: 30, days: 1,
      scope: { node_ids: [n] } } });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.fired, 1, r.text);
  assert.strictEqual(r.json.firing_seconds, 30);
  assert.strictEqual(r.json.events[0].node_id, n);
  assert.strictEqual(r.json.events[0].task_id, null);
});

test('preview: missing data resolves with no_data ok, keeps otherwise', async () => {
  const t = Number(s.sql(`INSERT INTO tasks (node_id, name, kind, spec) VALUES (${n2}, 'gappy', 'console', '{}') RETURNING id`));
  // Above from 0 to 30 s, nothing for 5 minutes, above again at 330 and
  // 340 s, then nothing (the history ends three hours ago).
  const at = [0, 10, 20, 30, 330, 340];
  s.sql(`INSERT INTO task_metrics (task_id, at, cpu, rss) VALUES ${at.map((x) =>
    `(${t}, date_trunc('minute', now()) - interval '3 hours' + make_interval(secs => ${x}), 95, 1048576)`).join(',')}`);
  const rule = { name: 'g', kind: 'task_cpu', threshold: 90, recovery: 70, days: 1,
    scope: { task_ids: [t] } };
  // The stack's YARD_NODE_OFFLINE_AFTER is 15 s: a gap is over 30 s.
  let r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: Object.assign({ no_data: 'ok' }, rule) });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.fired, 2, r.text);
  assert.strictEqual(r.json.firing_seconds, 60 + 40);
  assert.ok(r.json.events.every((e) => e.resolved_at !== null));
  for (const no_data of ['keep', 'alerting']) {
    r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: Object.assign({ no_data }, rule) });
    assert.strictEqual(r.json.fired, 1, no_data + ' ' + r.text);
    assert.strictEqual(r.json.events[0].resolved_at, null);
    assert.ok(r.json.firing_seconds > 3 * 3600 - 60);
  }
});

test('preview: restarts within the window, from the restart log', async () => {
  const t = Number(s.sql(`INSERT INTO tasks (node_id, name, kind, spec) VALUES (${n2}, 'flappy', 'console', '{}') RETURNING id`));
  const rule = { name: 'r', kind: 'task_restarts', threshold: 3, recovery: 0, window_seconds: 600,
    days: 1, scope: { task_ids: [t] } };
  if (s.sql(`SELECT to_regclass('task_restart_log') IS NULL`) === 't') {
    // Without the evaluator's restart log there is no history to replay.
    const r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: rule });
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(r.json.supported, false);
    assert.match(r.json.reason, /restarts/);
    // The evaluator's migration (016) makes this table; its shape here.
    s.sql(`CREATE TABLE task_restart_log (task_id bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
      at timestamptz NOT NULL DEFAULT now(), count integer NOT NULL CHECK (count > 0))`);
  }
  // 4 restarts within 2 minutes (more than 3 in 600 s: fires), the last
  // leaves the window 10 minutes later (resolves); 2 more an hour later
  // (not enough).
  s.sql(`INSERT INTO task_restart_log (task_id, at, count) VALUES
    (${t}, now() - interval '120 minutes', 1), (${t}, now() - interval '119 minutes', 1),
    (${t}, now() - interval '118 minutes', 2), (${t}, now() - interval '60 minutes', 2)`);
  let r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: rule });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.fired, 1, r.text);
  assert.strictEqual(r.json.firing_seconds, 600);
  assert.strictEqual(r.json.events[0].peak, 4);
  r = await s.api('POST', '/api/v1/alerts/rules/preview', { token: admin, body: Object.assign({}, rule, { threshold: 4 }) });
  assert.strictEqual(r.json.fired, 0, r.text);
});
