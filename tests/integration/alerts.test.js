// Alerts (docs/alerts.md) with real programs: two Yard instances on one
// database (one leads alert-eval and alert-notify), a real agent running
// a CPU burner, a memory grower, a crasher, an exiter and an HTTP server
// whose health path is switched off; a node of our own whose samples the
// test writes (hysteresis, grouping, repeat, mutes, a restart mid-event).
// Mails are read from the development mail catcher (tools/dev-mail),
// callbacks from a receiver here; every mail must arrive exactly once.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { startStack, freePort, waitFor, sleep } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');
const devmail = require('../../tools/dev-mail/server.js');

const REPEAT = 6;
const GROUP_WAIT = 2;
const GRACE = 5;
let s, s2, mail, dir, admin, agent, kit, ticker, marker, recv;
const got = []; // callbacks
const ids = {};

// A mail as the catcher stored it: headers (unfolded, lower-case names),
// the decoded subject and body, and its envelope recipients.
function parseMail(meta) {
  const raw = mail.raw(meta.id);
  const cut = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, cut).replace(/\r\n[ \t]+/g, ' ');
  const headers = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const words = [...(headers.subject || '').matchAll(/=\?UTF-8\?B\?([^?]*)\?=/g)];
  const subject = Buffer.concat(words.map((w) => Buffer.from(w[1], 'base64'))).toString('utf8');
  const body = Buffer.from(raw.slice(cut + 4).replace(/\r\n/g, ''), 'base64').toString('utf8');
  return { headers, subject, body, to: meta.to, at: Date.parse(meta.at) };
}
function alertMails() {
  return mail.list().map(parseMail).filter((m) => /^alert\./.test(m.headers['x-yard-kind'] || ''));
}
const isRepeat = (m) => /^\[Yard\] (Still firing|仍在告警)/.test(m.subject);
// The mails to `to` naming event id, of kind ('alert.firing' first
// notices only, 'repeat', 'alert.resolved').
function mailsOf(ev, kind, to = 'ops@dev.test') {
  return alertMails().filter((m) => m.to.includes(to) && m.body.includes(`/ui/alerts?event=${ev}\r\n`) &&
    (kind === 'repeat' ? m.headers['x-yard-kind'] === 'alert.firing' && isRepeat(m)
      : m.headers['x-yard-kind'] === kind && !isRepeat(m)));
}

function rule(name, kind, threshold, recovery, over = {}) {
  const o = Object.assign({ for_seconds: 0, window_seconds: 0, task_ids: [], node_ids: [],
    channels: ['inbox', 'email', 'callback'], extra: [], no_data: 'keep' }, over);
  const arr = (a) => `'{${a.join(',')}}'`;
  return Number(s.sql(`INSERT INTO alert_rules (name, kind, threshold, recovery, for_seconds,
    window_seconds, task_ids, node_ids, channels, extra_emails, no_data) VALUES ('${name}', '${kind}',
    ${threshold}, ${recovery}, ${o.for_seconds}, ${o.window_seconds}, ${arr(o.task_ids)}, ${arr(o.node_ids)},
    ${arr(o.channels)}, ${arr(o.extra)}, '${o.no_data}') RETURNING id`));
}
function events(ruleId) {
  return JSON.parse(s.sql(`SELECT coalesce(json_agg(e ORDER BY id), '[]') FROM alert_events e
    WHERE rule_id = ${ruleId}`));
}
async function eventIn(ruleId, state, ms = 20000) {
  let e;
  await waitFor(() => (e = events(ruleId).find((x) => x.state === state)), ms, `rule ${ruleId} ${state}`);
  return e;
}
// A sample of the fake task's metrics, now.
function sample(task, cpu, rssMiB = 10) {
  s.sql(`INSERT INTO task_metrics (task_id, at, cpu, rss) VALUES (${task}, now(), ${cpu},
    ${Math.round(rssMiB * 1048576)})`);
}
function fakeTask(name) {
  return Number(s.sql(`INSERT INTO tasks (node_id, name, kind, state) VALUES (${ids.fake}, '${name}',
    'console', 'running') RETURNING id`));
}

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-alerts-'));
  fs.chmodSync(dir, 0o755);
  marker = `yard-alerts-${crypto.randomBytes(4).toString('hex')}`;
  mail = await devmail.start({ dir: path.join(dir, 'mail'), user: 'yard-mailer', password: 'pw-123', httpPort: null });
  fs.writeFileSync(path.join(dir, 'smtp-password'), 'pw-123\n');
  fs.writeFileSync(path.join(dir, 'notify-secret'), 'alert-secret\n');
  const port = await freePort();
  recv = http.createServer((req, res) => {
    const c = [];
    req.on('data', (d) => c.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(c).toString('utf8');
      got.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((ok) => recv.listen(port, '127.0.0.1', ok));
  s = await startStack({
    env: {
      YARD_SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
      YARD_SMTP_USER: 'yard-mailer',
      YARD_SMTP_PASSWORD_FILE: path.join(dir, 'smtp-password'),
      YARD_SMTP_FROM: 'Yard <yard@dev.test>',
      YARD_SMTP_CA_FILE: mail.certFile,
      YARD_EWS_NOTIFY_URL: `http://127.0.0.1:${port}/notify`,
      YARD_EWS_NOTIFY_SECRET_FILE: path.join(dir, 'notify-secret'),
      YARD_HEARTBEAT_INTERVAL: '1',
      YARD_NODE_OFFLINE_AFTER: '4',
      YARD_ALERT_EVAL: '1',
      YARD_ALERT_GROUP_WAIT: String(GROUP_WAIT),
      YARD_ALERT_REPEAT: String(REPEAT),
      YARD_ALERT_GRACE: String(GRACE),
      YARD_OUTBOX_RETRY_BASE: '1',
      // A delivery cut off by a killed instance is taken up again soon.
      YARD_OUTBOX_STUCK_AFTER: '5',
    },
  });
  // A second instance on the same database: one of them leads each duty.
  s2 = await s.startAnother();
  // The shipped rules would add noise.
  s.sql('UPDATE alert_rules SET enabled = false');
  admin = s.adminToken('alerts-admin');
  agent = await s.agent('alerts');
  kit = taskKit(s, admin, agent);
  await waitFor(() => s.sql(`SELECT status FROM nodes WHERE id = ${agent.nodeId}`) === 'online', 15000, 'online');
  // A node of our own, kept online by the test.
  ids.fake = Number(s.sql(`INSERT INTO nodes (name, status, last_seen, enrolled_at) VALUES ('fake-1',
    'online', now(), now()) RETURNING id`));
  ticker = setInterval(() => {
    try { s.sql(`UPDATE nodes SET last_seen = now() WHERE id = ${ids.fake}`); } catch { /* stopping */ }
  }, 500);
  // Who hears: an operator of both nodes (en), a viewer (too low), an
  // admin without a grant (admins only through grants).
  const u = (sub, email, admin_ = false) => Number(s.sql(`INSERT INTO users (sub, email, lang, admin)
    VALUES ('${sub}', '${email}', 'en', ${admin_}) RETURNING id`));
  ids.ops = u('al-ops', 'ops@dev.test');
  ids.viewer = u('al-viewer', 'viewer@dev.test');
  ids.admin = u('al-admin', 'admin@dev.test', true);
  for (const n of [agent.nodeId, ids.fake]) {
    s.sql(`INSERT INTO grants (user_id, node_id, level) VALUES (${ids.ops}, ${n}, 'operate'),
      (${ids.viewer}, ${n}, 'view')`);
  }
  fs.mkdirSync(path.join(dir, 'flags'), { mode: 0o777 });
  fs.chmodSync(path.join(dir, 'flags'), 0o777);
});

test.after(async () => {
  clearInterval(ticker);
  try { agent.proc.kill('SIGCONT'); } catch { /* gone */ }
  if (kit) kit.killAll();
  try { execFileSync('pkill', ['-KILL', '-f', marker]); } catch { /* none left */ }
  if (s2) await s2.stop();
  if (s) await s.stop();
  if (mail) await mail.stop();
  if (recv) { recv.closeAllConnections(); await new Promise((r) => recv.close(r)); }
  fs.rmSync(dir, { recursive: true, force: true });
});

const flag = (name) => path.join(dir, 'flags', name);
// A console task running script (with the file's marker) and started.
async function startTask(name, script, over = {}) {
  const id = await kit.console(name, `${script} # ${marker}`, Object.assign({ stop_grace: 2 }, over));
  const d = await kit.run('start', id);
  assert.strictEqual(d.state, 'succeeded', JSON.stringify(d));
  return id;
}

test('hysteresis: a value hovering at the threshold opens one event and sends one firing mail', async () => {
  const t = fakeTask('hover');
  const r = rule('hover cpu', 'task_cpu', 90, 70, { task_ids: [t] });
  sample(t, 95);
  const e = await eventIn(r, 'firing');
  // Up and down around 90, never down to 70.
  for (const v of [85, 95, 88, 96, 80, 91]) {
    sample(t, v);
    await sleep(700);
  }
  assert.strictEqual(events(r).length, 1);
  assert.strictEqual(events(r)[0].state, 'firing');
  sample(t, 60);
  await eventIn(r, 'resolved');
  await waitFor(() => mailsOf(e.id, 'alert.resolved').length === 1, 15000, 'resolved mail');
  assert.strictEqual(mailsOf(e.id, 'alert.firing').length, 1);
  const m = mailsOf(e.id, 'alert.firing')[0];
  assert.match(m.subject, /^\[Yard\] Firing: hover cpu on hover@fake-1$/);
  assert.match(m.body, /Value: {5}\d+\.\d % \(fires > 90\.0 %, resolves <= 70\.0 %\)/);
  // Nobody else: a viewer, an admin without a grant.
  assert.deepStrictEqual(alertMails().filter((x) => x.body.includes(`event=${e.id}\r\n`))
    .flatMap((x) => x.to).filter((a) => a !== 'ops@dev.test'), []);
  // Inbox: one item per transition for the operator.
  assert.strictEqual(s.sql(`SELECT string_agg(kind, ',' ORDER BY id) FROM notifications
    WHERE alert_event_id = ${e.id} AND user_id = ${ids.ops}`), 'alert.firing,alert.resolved');
  assert.strictEqual(s.sql(`SELECT count(*) FROM notifications WHERE alert_event_id = ${e.id}
    AND user_id <> ${ids.ops}`), '0');
  // The callback: one per transition, with its body.
  const cb = got.filter((g) => g.body.event_id === e.id);
  assert.deepStrictEqual(cb.map((g) => g.headers['x-yard-kind']).sort(), ['alert.firing', 'alert.resolved']);
  const f = cb.find((g) => g.body.kind === 'alert.firing').body;
  assert.deepStrictEqual(Object.keys(f).sort(), ['event_id', 'id', 'kind', 'recipients', 'rule_id', 'target',
    'url', 'value'].sort());
  assert.deepStrictEqual(f.target, { node_id: ids.fake, task_id: t });
  assert.deepStrictEqual(f.recipients, ['al-ops']);
  assert.strictEqual(f.rule_id, r);
  assert.match(f.url, new RegExp(`/ui/alerts\\?event=${e.id}$`));
  const c0 = cb.find((g) => g.body.kind === 'alert.firing');
  assert.strictEqual(c0.headers['idempotency-key'], f.id);
  assert.strictEqual(c0.headers['x-yard-signature'],
    'sha256=' + crypto.createHmac('sha256', 'alert-secret').update(c0.raw).digest('hex'));
  // The inbox through the API: the item names its event.
  const inbox = await s.api('GET', '/api/v1/notifications', { token: s.token('al-ops', { email: 'ops@dev.test' }) });
  assert.strictEqual(inbox.status, 200, inbox.text);
  const item = inbox.json.items.find((i) => i.alert_event_id === e.id && i.kind === 'alert.firing');
  assert.ok(item, inbox.text);
  assert.strictEqual(item.title, 'Alert: hover cpu — hover @ fake-1');
});

test('node_disk and node_memory fire from facts and samples and resolve at their recovery', async () => {
  const rd = rule('fake disk', 'node_disk', 10, 15, { node_ids: [ids.fake] });
  const rm = rule('fake memory', 'node_memory', 256, 512, { node_ids: [ids.fake] });
  const disks = (free) => s.sql(`UPDATE nodes SET facts = '{"disks":[{"path":"/a","total":1000,"free":900},
    {"path":"/b","total":1000,"free":${free}}]}' WHERE id = ${ids.fake}`);
  const mem = (availMiB) => s.sql(`INSERT INTO node_metrics (node_id, at, cpu, mem_used, mem_total, load1)
    VALUES (${ids.fake}, now(), 1, ${(4096 - availMiB) * 1048576}, ${4096 * 1048576}, 0)`);
  disks(50);
  mem(100);
  const ed = await eventIn(rd, 'firing');
  assert.strictEqual(ed.value, 5);
  const em = await eventIn(rm, 'firing');
  assert.strictEqual(em.value, 100);
  // Between threshold and recovery: still firing (hysteresis, below kinds).
  disks(120);
  mem(400);
  await sleep(2000);
  assert.strictEqual(events(rd)[0].state, 'firing');
  assert.strictEqual(events(rm)[0].state, 'firing');
  disks(200);
  mem(600);
  await eventIn(rd, 'resolved');
  await eventIn(rm, 'resolved');
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id IN (${rd}, ${rm})`);
});

test('missing data: keep holds the event, ok resolves it', async () => {
  const t = fakeTask('silent');
  const rk = rule('silent keep', 'task_cpu', 90, 70, { task_ids: [t] });
  const ro = rule('silent ok', 'task_cpu', 90, 70, { task_ids: [t], no_data: 'ok' });
  sample(t, 99);
  await eventIn(rk, 'firing');
  await eventIn(ro, 'firing');
  // No more samples: after the freshness window (2 x 4 s) there is no data.
  const e = await eventIn(ro, 'resolved', 20000);
  assert.strictEqual(e.value, null);
  const k = events(rk)[0];
  assert.strictEqual(k.state, 'firing');
  assert.strictEqual(k.value, null);
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id IN (${rk}, ${ro})`);
});

test('grouping: two rules firing on one node within the group wait make one mail; repeat only after the interval', async () => {
  const t = fakeTask('grouped');
  const r1 = rule('group cpu', 'task_cpu', 90, 70, { task_ids: [t], extra: ['Oncall@Dev.Test'] });
  const r2 = rule('group memory', 'task_memory', 100, 80, { task_ids: [t], extra: ['oncall@dev.test'] });
  sample(t, 99, 200);
  const e1 = await eventIn(r1, 'firing');
  const e2 = await eventIn(r2, 'firing');
  await waitFor(() => mailsOf(e1.id, 'alert.firing').length >= 1, 15000, 'firing mail');
  await sleep(1500);
  const firstMails = mailsOf(e1.id, 'alert.firing');
  assert.strictEqual(firstMails.length, 1);
  const m = firstMails[0];
  assert.ok(m.body.includes(`event=${e2.id}\r\n`), 'one mail lists both events');
  assert.match(m.subject, /2 alerts on node fake-1/);
  assert.strictEqual(m.headers['x-yard-kind'], 'alert.firing');
  assert.strictEqual(mailsOf(e2.id, 'alert.firing').length, 1);
  // The extra address (once, though two rules name it), in Chinese.
  const extra = mailsOf(e1.id, 'alert.firing', 'oncall@dev.test');
  assert.strictEqual(extra.length, 1);
  assert.match(extra[0].subject, /告警：节点 fake-1 的 2 条告警/);
  // Inbox: one item for the group.
  assert.strictEqual(s.sql(`SELECT count(*) FROM notifications n JOIN alert_notices a
    ON a.id = n.alert_notice_id WHERE ${e1.id} = ANY (a.event_ids) AND n.user_id = ${ids.ops}
    AND n.kind = 'alert.firing'`), '1');
  // Repeat: still firing, again only after REPEAT seconds.
  await waitFor(() => mailsOf(e1.id, 'repeat').length >= 1, (REPEAT + GROUP_WAIT + 8) * 1000, 'repeat');
  const rep = mailsOf(e1.id, 'repeat')[0];
  assert.ok(rep.at - m.at >= REPEAT * 1000 - 500, `repeat after ${rep.at - m.at} ms`);
  assert.ok(rep.body.includes(`event=${e2.id}\r\n`));
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id IN (${r1}, ${r2})`);
  ids.groupEvents = [e1.id, e2.id];
});

test('a mute keeps an event tracked but silent', async () => {
  const t = fakeTask('muted');
  const mute = Number(s.sql(`INSERT INTO alert_mutes (task_id, until, reason) VALUES (${t},
    now() + interval '1 hour', 'maintenance') RETURNING id`));
  const r = rule('muted cpu', 'task_cpu', 90, 70, { task_ids: [t] });
  sample(t, 99);
  const e = await eventIn(r, 'firing');
  assert.strictEqual(e.suppressed_by, `mute:${mute}`);
  sample(t, 10);
  await eventIn(r, 'resolved');
  await sleep((GROUP_WAIT + 2) * 1000);
  assert.strictEqual(alertMails().filter((m) => m.body.includes(`event=${e.id}\r\n`)).length, 0);
  assert.strictEqual(s.sql(`SELECT count(*) FROM notifications WHERE alert_event_id = ${e.id}`), '0');
  assert.strictEqual(got.filter((g) => g.body.event_id === e.id).length, 0);
});

test('a server restart mid-event sends nothing twice', async () => {
  const t = fakeTask('restart-mid');
  const r = rule('restart cpu', 'task_cpu', 90, 70, { task_ids: [t] });
  sample(t, 99);
  const e = await eventIn(r, 'firing');
  // Both instances restart while the notice waits for its group.
  await s.yard.restart();
  await s2.restart();
  await waitFor(() => mailsOf(e.id, 'alert.firing').length >= 1, 20000, 'firing mail');
  sample(t, 10);
  await eventIn(r, 'resolved');
  await waitFor(() => mailsOf(e.id, 'alert.resolved').length >= 1, 20000, 'resolved mail');
  await sleep(2000);
  assert.strictEqual(events(r).length, 1);
  assert.strictEqual(mailsOf(e.id, 'alert.firing').length, 1);
  assert.strictEqual(mailsOf(e.id, 'alert.resolved').length, 1);
  assert.strictEqual(got.filter((g) => g.body.event_id === e.id).length, 2);
});

test('failover: the leader killed mid-event, the other instance continues from the tables', async () => {
  await waitFor(() => s.sql(`SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')`) === '0',
    20000, 'outbox idle');
  const holder = () => s.sql(`SELECT holder FROM duty_runs WHERE duty = 'alert-notify'`);
  const leader = holder().startsWith(`127.0.0.1:${s.yard.port}/`) ? s.yard : s2;
  const other = leader === s.yard ? s2 : s.yard;
  const t = fakeTask('failover');
  const r = rule('failover cpu', 'task_cpu', 90, 70, { task_ids: [t] });
  sample(t, 99);
  const e = await eventIn(r, 'firing');
  // Within the group wait: the notice is not queued yet.
  process.kill(-leader.proc.pid, 'SIGKILL');
  await waitFor(() => holder().startsWith(`127.0.0.1:${other.port}/`), 20000, 'the other leads');
  await waitFor(() => mailsOf(e.id, 'alert.firing').length >= 1, 20000, 'firing mail');
  sample(t, 10);
  await eventIn(r, 'resolved');
  await waitFor(() => mailsOf(e.id, 'alert.resolved').length >= 1, 20000, 'resolved mail');
  assert.strictEqual(events(r).length, 1);
  assert.strictEqual(mailsOf(e.id, 'alert.firing').length, 1);
  assert.strictEqual(s.sql(`SELECT count(*) FROM alert_notices WHERE ${e.id} = ANY (event_ids)`), '2');
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id = ${r}`);
  await leader.restart();
});

test('a CPU burner fires task_cpu and resolves when it stops burning', async () => {
  fs.writeFileSync(flag('burn'), '');
  const t = await startTask('burner', `while [ -e ${flag('burn')} ]; do :; done; exec sleep 100000`);
  const r = rule('burner cpu', 'task_cpu', 50, 20, { task_ids: [t], for_seconds: 2 });
  const e = await eventIn(r, 'firing', 30000);
  // It fired on a sample above 50 (the value may since hover lower).
  assert.ok(Number(s.sql(`SELECT max(cpu) FROM task_metrics WHERE task_id = ${t}
    AND at <= '${e.fired_at}'`)) > 50);
  assert.ok(Date.parse(e.fired_at) - Date.parse(e.started_at) >= 1900, 'pending for for_seconds');
  await waitFor(() => mailsOf(e.id, 'alert.firing').length === 1, 15000, 'firing mail');
  fs.rmSync(flag('burn'));
  await eventIn(r, 'resolved', 30000);
  await waitFor(() => mailsOf(e.id, 'alert.resolved').length === 1, 15000, 'resolved mail');
  ids.burner = t;
});

test('a memory grower fires task_memory', async () => {
  const t = await startTask('grower', `exec ${process.execPath} -e "globalThis.b = []; ` +
    `setInterval(() => { if (b.length < 20) b.push(Buffer.alloc(10 << 20, 1)); }, 100)"`);
  const r = rule('grower memory', 'task_memory', 120, 100, { task_ids: [t] });
  const e = await eventIn(r, 'firing', 30000);
  assert.ok(e.value > 120, `value ${e.value}`);
  await waitFor(() => mailsOf(e.id, 'alert.firing').length === 1, 15000, 'firing mail');
  const d = await kit.run('stop', t);
  assert.strictEqual(d.state, 'succeeded');
  // Stopped: it uses no memory, so the event resolves (and says so).
  await eventIn(r, 'resolved', 15000);
});

test('a crasher fires task_restarts and task_crash_loop, and each resolves; an exiter fires task_exit', async () => {
  const t = await kit.console('crasher', `[ -e ${flag('mended')} ] && exec sleep 100000; sleep 1; exit 3 # ${marker}`, {
    restart: { policy: 'on-failure', backoff_initial: 1, backoff_max: 1, crash_loop: 3 } });
  // A short window (the API's minimum is longer; the evaluator takes any),
  // so that the restarts leave it within the test.
  const rr = rule('crasher restarts', 'task_restarts', 1, 0, { task_ids: [t], window_seconds: 20 });
  const rc = rule('crasher loop', 'task_crash_loop', 1, 1, { task_ids: [t] });
  await kit.command('start', t);
  const er = await eventIn(rr, 'firing', 30000);
  assert.ok(er.value >= 2, `value ${er.value}`);
  const ec = await eventIn(rc, 'firing', 30000);
  assert.strictEqual(ec.value, 1);
  assert.ok(Number(s.sql(`SELECT sum(count) FROM task_restart_log WHERE task_id = ${t}`)) >= 2);
  // Mended and started again, it runs: out of crash loop at once, and no
  // restart left in the window 20 s later.  Each event resolves once.
  fs.writeFileSync(flag('mended'), '');
  await kit.command('start', t);
  await eventIn(rc, 'resolved', 20000);
  await eventIn(rr, 'resolved', 45000);
  assert.deepStrictEqual(events(rc).map((e) => e.state), ['resolved']);
  assert.deepStrictEqual(events(rr).map((e) => e.state), ['resolved']);

  const x = await kit.console('exiter', `[ -e ${flag('live')} ] && exec sleep 100000; sleep 1; exit 4 # ${marker}`,
    { restart: { policy: 'never' } });
  const rx = rule('exiter exit', 'task_exit', 1, 1, { task_ids: [x] });
  await kit.command('start', x);
  const ex = await eventIn(rx, 'firing', 30000);
  assert.strictEqual(ex.value, 1);
  await waitFor(() => mailsOf(ex.id, 'alert.firing').length === 1, 15000, 'exit mail');
  // Started again, it runs: the event resolves.
  fs.writeFileSync(flag('live'), '');
  await kit.command('start', x);
  await eventIn(rx, 'resolved', 15000);
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id IN (${rr}, ${rc}, ${rx})`);
  await kit.run('stop', t).catch(() => {});
});

test('health_failing fires when the health path fails and resolves when it answers again', async () => {
  const port = await freePort();
  fs.writeFileSync(flag('healthy'), '');
  const t = await startTask('web', `exec ${process.execPath} -e "require('http').createServer((q, r) => { ` +
    `r.statusCode = require('fs').existsSync('${flag('healthy')}') ? 200 : 500; r.end(); })` +
    `.listen(${port}, '127.0.0.1')"`, { health: { path: '/h', port, interval: 1, timeout: 1, start_timeout: 30 } });
  const r = rule('web health', 'health_failing', 2, 0, { task_ids: [t] });
  await sleep(2000);
  assert.strictEqual(events(r).length, 0);
  assert.strictEqual(s.sql(`SELECT health_fails FROM tasks WHERE id = ${t}`), '0');
  fs.rmSync(flag('healthy'));
  const e = await eventIn(r, 'firing', 20000);
  assert.ok(e.value >= 2);
  fs.writeFileSync(flag('healthy'), '');
  await waitFor(() => events(r).find((x) => x.id === e.id).state === 'resolved', 20000, 'resolved');
  await waitFor(() => mailsOf(e.id, 'alert.resolved').length === 1, 15000, 'resolved mail');
  assert.strictEqual(mailsOf(e.id, 'alert.firing').length, 1);
  ids.web = t;
});

test('planned work through the API: a stop resolves a pending event silently, a restart opens nothing until its grace ends', async () => {
  fs.writeFileSync(flag('burn2'), '');
  const t = await startTask('burner2', `while [ -e ${flag('burn2')} ]; do :; done; exec sleep 100000`);
  const r = rule('burner2 cpu', 'task_cpu', 50, 20, { task_ids: [t], for_seconds: 600 });
  const e = await eventIn(r, 'pending', 30000);
  const c = await kit.command('stop', t);
  assert.strictEqual(c.status, 201, c.text);
  const done = await eventIn(r, 'resolved', 15000);
  assert.strictEqual(done.suppressed_by, `command:${c.json.id}`);
  assert.strictEqual(done.fired_at, null);
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id = ${r}`);
  assert.strictEqual(alertMails().filter((m) => m.body.includes(`event=${e.id}\r\n`)).length, 0);

  // Still burning, restarted through the API with a rule that fires at
  // once: nothing opens while the restart runs nor within the grace.
  assert.strictEqual((await kit.run('start', t)).state, 'succeeded');
  const r2 = rule('burner2 now', 'task_cpu', 50, 20, { task_ids: [t] });
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id = ${r2}`);
  await sleep(1500);
  const rc = await kit.command('restart', t);
  assert.strictEqual(rc.status, 201, rc.text);
  s.sql(`UPDATE alert_rules SET enabled = true WHERE id = ${r2}`);
  await waitFor(async () => (await s.api('GET', `/api/v1/commands/${rc.json.id}`, { token: admin })).json.state === 'succeeded',
    30000, 'restart');
  const finished = Date.parse(s.sql(`SELECT to_json(finished_at) #>> '{}' FROM commands WHERE id = '${rc.json.id}'`));
  await waitFor(() => Number(s.sql(`SELECT coalesce((metrics->>'cpu')::float, 0) FROM tasks WHERE id = ${t}`)) > 50,
    10000, 'burning again');
  assert.ok(Date.now() < finished + GRACE * 1000, 'checked within the grace');
  assert.strictEqual(events(r2).length, 0);
  // The grace over, it still burns: now it fires.
  const e2 = await eventIn(r2, 'firing', 20000);
  assert.ok(Date.parse(e2.started_at) >= finished + GRACE * 1000 - 500, `opened ${Date.parse(e2.started_at) - finished} ms after`);
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id = ${r2}`);
  fs.rmSync(flag('burn2'));
});

test('a stopped agent raises node_offline once, nothing for its tasks, and resolves when it runs again', async () => {
  const r = rule('agent offline', 'node_offline', 1, 1, { node_ids: [agent.nodeId] });
  // Every task kind watches the agent's tasks, with no_data alerting.
  const watch = ['task_cpu', 'task_memory', 'health_failing'].map((k) =>
    rule(`watch ${k}`, k, 100000, 0, { node_ids: [agent.nodeId], no_data: 'alerting' }));
  await sleep(1500);
  const before = Number(s.sql(`SELECT coalesce(max(id), 0) FROM alert_events`));
  agent.proc.kill('SIGSTOP');
  let e;
  try {
    // (A busy machine may have seen the node flap before: count from now.)
    await waitFor(() => (e = events(r).find((x) => x.id > before && x.state === 'firing')), 20000,
      'node_offline firing');
    await sleep(3000);
    assert.strictEqual(events(r).filter((x) => x.id > before).length, 1);
    assert.strictEqual(s.sql(`SELECT count(*) FROM alert_events WHERE id > ${before}
      AND task_id IS NOT NULL`), '0');
  } finally {
    agent.proc.kill('SIGCONT');
  }
  await eventIn(r, 'resolved', 20000);
  await waitFor(() => mailsOf(e.id, 'alert.resolved').length === 1, 15000, 'resolved mail');
  assert.strictEqual(mailsOf(e.id, 'alert.firing').length, 1);
  assert.match(mailsOf(e.id, 'alert.firing')[0].subject, /^\[Yard\] Firing: agent offline on /);
  s.sql(`UPDATE alert_rules SET enabled = false WHERE id IN (${[r, ...watch].join(',')})`);
});

test('two instances: every mail exactly once, by Message-ID and by recipient; the evaluator ran on one leader', async () => {
  await waitFor(() => s.sql(`SELECT count(*) FROM outbox WHERE kind LIKE 'alert.%'
    AND state <> 'sent'`) === '0', 15000, 'outbox sent');
  const all = alertMails();
  assert.ok(all.length >= 10, `${all.length} mails`);
  const seen = new Map();
  for (const m of all) {
    for (const to of m.to) {
      const k = m.headers['message-id'] + ' ' + to;
      assert.ok(!seen.has(k), `twice: ${k}`);
      seen.set(k, 1);
    }
  }
  const mids = all.map((m) => m.headers['message-id']);
  assert.strictEqual(new Set(mids).size, mids.length);
  // Every message queued once: no two outbox rows per key.
  const runs = JSON.parse(s.sql(`SELECT json_agg(d) FROM duty_runs d WHERE duty LIKE 'alert-%'`));
  assert.deepStrictEqual(runs.map((d) => d.duty).sort(), ['alert-eval', 'alert-notify']);
  for (const d of runs) assert.ok(Number(d.runs) > 10, `${d.duty} ran ${d.runs}`);
  assert.deepStrictEqual(s.deaths(), []);
});
