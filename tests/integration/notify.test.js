// Notifications of a new package (docs/api.md "Notifications",
// docs/ews-integration.md "The callback"): a package row inserted by SQL
// (as the upload path does) queues, in the same transaction, inbox items
// and deliveries for exactly the users who may manage its target; one
// leader sends the mails over SMTP with TLS to the development mail
// catcher (tools/dev-mail) and the signed callback to a receiver here,
// retrying with back-off, and never sends one twice.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { startStack, freePort, waitFor, sleep } = require('../lib/stack.js');
const devmail = require('../../tools/dev-mail/server.js');

const SECRET = 'callback-secret-' + crypto.randomBytes(8).toString('hex');
let s, mail, dir, recv;
const ids = {};
const users = {};

// The callback receiver: every POST recorded; stop() and start() again on
// the same port play "EWS down, then up".
function receiver(port) {
  const r = {
    port, got: [], server: null,
    start() {
      this.server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          r.got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), url: req.url });
          res.writeHead(204);
          res.end();
        });
      });
      return new Promise((ok) => this.server.listen(port, '127.0.0.1', ok));
    },
    stop() {
      this.server.closeAllConnections();
      return new Promise((ok) => this.server.close(ok));
    },
    byKey(key) { return this.got.filter((g) => g.headers['idempotency-key'] === key); },
  };
  return r;
}

// A mail as the catcher stored it: headers (unfolded, lower-case names),
// the decoded subject and the decoded body.
function parseMail(raw) {
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
  return { headers, subject, body };
}

// The mails the catcher has for package pid: [{meta, mail}].
function mailsFor(pid) {
  return mail.list().map((m) => ({ meta: m, mail: parseMail(mail.raw(m.id)) }))
    .filter((x) => x.mail.headers['message-id'].startsWith(`<package.uploaded.${pid}.mail.`));
}

function user(sub, { email = '', lang = 'zh-CN', admin = false, disabled = false } = {}) {
  users[sub] = { email };
  users[sub].id = Number(s.sql(`INSERT INTO users (sub, email, lang, admin, disabled)
    VALUES ('${sub}', '${email}', '${lang}', ${admin}, ${disabled}) RETURNING id`));
  return users[sub].id;
}
function grant(sub, what, id, level) {
  s.sql(`INSERT INTO grants (user_id, ${what}_id, level) VALUES (${users[sub].id}, ${id}, '${level}')`);
}
function pkg(target, name = 'billing', version = '2.1.0') {
  const sha = crypto.randomBytes(32).toString('hex');
  const col = target.task ? 'task_id' : target.node ? 'node_id' : null;
  return Number(s.sql(`INSERT INTO packages (sha256, name, version, filename, size, entries, manifest,
    uploader_sub${col ? ', ' + col : ''}) VALUES ('${sha}', '${name}', '${version}', '${name}.zip', 1234, 3,
    '[]', 'ews-backend'${col ? ', ' + (target.task || target.node) : ''}) RETURNING id`));
}
function inboxSubs(pid) {
  return s.sql(`SELECT string_agg(u.sub, ',' ORDER BY u.sub) FROM notifications n JOIN users u
    ON u.id = n.user_id WHERE n.package_id = ${pid}`).split(',').filter(Boolean);
}
function outbox(where) {
  const t = s.sql(`SELECT coalesce(json_agg(o ORDER BY id), '[]') FROM outbox o WHERE ${where}`);
  return JSON.parse(t);
}
const tokenOf = (sub) => s.token(sub, { email: users[sub].email });

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-notify-'));
  mail = await devmail.start({ dir: path.join(dir, 'mail'), user: 'yard-mailer', password: 'auth-code-123', httpPort: null });
  fs.writeFileSync(path.join(dir, 'smtp-password'), 'auth-code-123\n');
  fs.writeFileSync(path.join(dir, 'notify-secret'), SECRET + '\n');
  recv = receiver(await freePort());
  await recv.start();
  s = await startStack({
    env: {
      YARD_SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
      YARD_SMTP_USER: 'yard-mailer',
      YARD_SMTP_PASSWORD_FILE: path.join(dir, 'smtp-password'),
      YARD_SMTP_FROM: 'Yard <yard-mailer@dev.test>',
      YARD_SMTP_CA_FILE: mail.certFile,
      YARD_EWS_NOTIFY_URL: `http://127.0.0.1:${recv.port}/yard/notify`,
      YARD_EWS_NOTIFY_SECRET_FILE: path.join(dir, 'notify-secret'),
      YARD_OUTBOX_RETRY_BASE: '1',
      YARD_OUTBOX_RETRY_MAX: '2',
      YARD_OUTBOX_MAX_ATTEMPTS: '4',
    },
  });
  ids.n1 = Number(s.sql(`INSERT INTO nodes (name) VALUES ('notify-n1') RETURNING id`));
  ids.n2 = Number(s.sql(`INSERT INTO nodes (name) VALUES ('notify-n2') RETURNING id`));
  ids.t1 = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${ids.n1}, 'billing', 'console')
    RETURNING id`));
  ids.t2 = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${ids.n1}, 'other', 'console')
    RETURNING id`));
  user('nt-mgr-zh', { email: 'mgr-zh@dev.test' });
  grant('nt-mgr-zh', 'task', ids.t1, 'manage');
  user('nt-mgr-en', { email: 'mgr-en@dev.test', lang: 'en' });
  grant('nt-mgr-en', 'node', ids.n1, 'manage');
  user('nt-mgr-nomail');
  grant('nt-mgr-nomail', 'task', ids.t1, 'manage');
  user('nt-admin', { email: 'admin@dev.test', admin: true });
  user('nt-operator', { email: 'operator@dev.test' });
  grant('nt-operator', 'task', ids.t1, 'operate');
  user('nt-viewer', { email: 'viewer@dev.test' });
  grant('nt-viewer', 'node', ids.n1, 'view');
  user('nt-other-task', { email: 'other@dev.test' });
  grant('nt-other-task', 'task', ids.t2, 'manage');
  user('nt-stranger', { email: 'stranger@dev.test' });
  user('nt-disabled', { email: 'disabled@dev.test', disabled: true });
  grant('nt-disabled', 'task', ids.t1, 'manage');
  user('nt-bounce', { email: 'bounce@dev.test', lang: 'en' });
  grant('nt-bounce', 'node', ids.n2, 'manage');
});

test.after(async () => {
  if (s) await s.stop();
  if (mail) await mail.stop();
  if (recv && recv.server.listening) await recv.stop();
  if (dir && !process.env.YARD_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

test('a package for a task: inbox items for exactly its managers, in the same transaction', () => {
  ids.p1 = pkg({ task: ids.t1 });
  // Managers of the task (task grant, node grant), admins; not operators,
  // viewers, other tasks' managers, strangers or disabled users.
  assert.deepStrictEqual(inboxSubs(ids.p1), ['nt-admin', 'nt-mgr-en', 'nt-mgr-nomail', 'nt-mgr-zh']);
  const mails = outbox(`channel = 'mail' AND payload->'package'->>'id' = '${ids.p1}'`);
  assert.deepStrictEqual(mails.map((m) => m.recipient).sort(),
    ['admin@dev.test', 'mgr-en@dev.test', 'mgr-zh@dev.test'], 'a mail only where there is an address');
  assert.strictEqual(outbox(`channel = 'callback' AND payload->>'package_id' = '${ids.p1}'`).length, 1,
    'one callback per event');
});

test('the mails arrive over TLS, authenticated, one per manager, in their language with the deep link', async () => {
  await waitFor(() => mailsFor(ids.p1).length >= 3, 15000, 'three mails');
  const got = mailsFor(ids.p1);
  assert.strictEqual(got.length, 3);
  const byRcpt = Object.fromEntries(got.map((g) => [g.meta.to.join(','), g]));
  assert.deepStrictEqual(Object.keys(byRcpt).sort(), ['admin@dev.test', 'mgr-en@dev.test', 'mgr-zh@dev.test']);
  const link = `${s.yard.url}/ui/packages/${ids.p1}`;
  for (const g of got) {
    assert.strictEqual(g.meta.secure, true, 'STARTTLS was used');
    assert.strictEqual(g.meta.user, 'yard-mailer', 'logged in with the password file');
    assert.strictEqual(g.meta.from, 'yard-mailer@dev.test');
    const h = g.mail.headers;
    for (const name of ['date', 'message-id', 'from', 'to', 'subject', 'mime-version'])
      assert.ok(h[name], `header ${name}`);
    assert.match(h['content-type'], /^text\/plain; charset=UTF-8$/);
    assert.strictEqual(h['content-transfer-encoding'], 'base64');
    assert.ok(!Number.isNaN(Date.parse(h.date)), 'a parseable Date');
    assert.strictEqual(h.to, `<${g.meta.to[0]}>`);
    assert.ok(g.mail.body.includes(link), `the deep link in ${g.mail.body}`);
    assert.ok(g.mail.body.includes('billing') && g.mail.body.includes('2.1.0'));
  }
  assert.strictEqual(byRcpt['mgr-zh@dev.test'].mail.subject, '[Yard] 新的更新包：billing 2.1.0');
  assert.ok(byRcpt['mgr-zh@dev.test'].mail.body.includes('您管理的任务「billing」'));
  assert.strictEqual(byRcpt['mgr-en@dev.test'].mail.subject, '[Yard] New update package: billing 2.1.0');
  assert.ok(byRcpt['mgr-en@dev.test'].mail.body.includes('for task "billing" (node notify-n1)'));
  await waitFor(() => outbox(`channel = 'mail' AND payload->'package'->>'id' = '${ids.p1}'
    AND state = 'sent'`).length === 3, 5000, 'the mails marked sent');
});

test('the callback arrives once, signed over the exact body, with its idempotency key', async () => {
  const key = `package.uploaded.${ids.p1}`;
  await waitFor(() => recv.byKey(key).length >= 1, 15000, 'the callback');
  const [c] = recv.byKey(key);
  assert.strictEqual(c.url, '/yard/notify');
  assert.strictEqual(c.headers['content-type'], 'application/json');
  const want = 'sha256=' + crypto.createHmac('sha256', SECRET).update(c.body).digest('hex');
  assert.strictEqual(c.headers['x-yard-signature'], want);
  const bad = 'sha256=' + crypto.createHmac('sha256', 'other').update(c.body).digest('hex');
  assert.notStrictEqual(c.headers['x-yard-signature'], bad);
  const b = JSON.parse(c.body);
  assert.strictEqual(b.id, key);
  assert.strictEqual(b.kind, 'package.uploaded');
  assert.strictEqual(b.package_id, ids.p1);
  assert.deepStrictEqual(b.target, { task_id: ids.t1 });
  assert.strictEqual(b.package.name, 'billing');
  assert.match(b.package.sha256, /^[0-9a-f]{64}$/);
  assert.deepStrictEqual(b.recipients.sort(), ['nt-admin', 'nt-mgr-en', 'nt-mgr-nomail', 'nt-mgr-zh']);
  assert.strictEqual(b.url, `${s.yard.url}/ui/packages/${ids.p1}`);
  await sleep(2500);
  assert.strictEqual(recv.byKey(key).length, 1, 'sent once');
});

test('a package for a node: its managers and admins; a refusing mail server is retried, then failed with its reply', async () => {
  mail.reject = (addr) => (addr === 'bounce@dev.test' ? 'mailbox bounce@dev.test is full' : null);
  const longName = '基础设施计费系统更新包'.repeat(4) + '-infra';
  const p = pkg({ node: ids.n2 }, longName, '');
  assert.deepStrictEqual(inboxSubs(p), ['nt-admin', 'nt-bounce']);
  await waitFor(() => outbox(`recipient = 'bounce@dev.test' AND state = 'failed'`).length === 1, 30000,
    'the bounce marked failed');
  const [row] = outbox(`recipient = 'bounce@dev.test'`);
  assert.strictEqual(row.attempts, 4, 'YARD_OUTBOX_MAX_ATTEMPTS attempts');
  assert.match(row.last_error, /550/);
  assert.match(row.last_error, /mailbox bounce@dev\.test is full/, 'the server reply kept');
  assert.strictEqual(Number(s.sql(`SELECT count(*) FROM outbox_attempts WHERE outbox_id = ${row.id}
    AND NOT ok AND error <> ''`)), 4, 'every attempt recorded');
  // The admin's mail went through regardless.
  await waitFor(() => mailsFor(p).length === 1, 10000, "the admin's mail");
  const [adm] = mailsFor(p);
  assert.deepStrictEqual(adm.meta.to, ['admin@dev.test']);
  // A long UTF-8 subject: several encoded-words, each whole characters,
  // folded into lines of at most 78 characters.
  assert.strictEqual(adm.mail.subject, `[Yard] 新的更新包：${longName}`);
  const raw = mail.raw(adm.meta.id);
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  const words = [...head.matchAll(/=\?UTF-8\?B\?([^?]*)\?=/g)];
  assert.ok(words.length >= 3, `${words.length} encoded-words`);
  for (const w of words)
    assert.ok(!Buffer.from(w[1], 'base64').toString('utf8').includes('\ufffd'), 'no split character');
  for (const line of head.split('\r\n'))
    assert.ok(line.length <= 78, `header line of ${line.length}: ${line}`);
  mail.reject = null;
});

test('EWS down, then up: the callback is retried and delivered once', async () => {
  await recv.stop();
  const p = pkg({ task: ids.t1 }, 'billing', '2.2.0');
  const key = `package.uploaded.${p}`;
  await waitFor(() => {
    const [r] = outbox(`idem_key = '${key}'`);
    return r.attempts >= 2 && r.state === 'queued';
  }, 20000, 'two failed attempts');
  const [r] = outbox(`idem_key = '${key}'`);
  assert.match(r.last_error, /onnect/, `a connection error kept: ${r.last_error}`);
  await recv.start();
  await waitFor(() => recv.byKey(key).length >= 1, 20000, 'the callback after EWS came back');
  await waitFor(() => outbox(`idem_key = '${key}' AND state = 'sent'`).length === 1, 5000, 'marked sent');
  await sleep(3000);
  assert.strictEqual(recv.byKey(key).length, 1, 'delivered once');
});

test('two instances: one mail per recipient and one callback', async () => {
  await s.startAnother();
  const p = pkg({ task: ids.t1 }, 'billing', '2.3.0');
  await waitFor(() => mailsFor(p).length >= 3 && recv.byKey(`package.uploaded.${p}`).length >= 1, 20000,
    'the deliveries');
  await sleep(3000);
  const rcpts = mailsFor(p).map((g) => g.meta.to.join(',')).sort();
  assert.deepStrictEqual(rcpts, ['admin@dev.test', 'mgr-en@dev.test', 'mgr-zh@dev.test']);
  assert.strictEqual(recv.byKey(`package.uploaded.${p}`).length, 1);
});

test('the inbox API: own items newest first, unread count, mark read, read all', async () => {
  const tok = tokenOf('nt-mgr-zh');
  const list = await s.api('GET', '/api/v1/notifications?limit=2', { token: tok });
  assert.strictEqual(list.status, 200, list.text);
  assert.strictEqual(list.json.items.length, 2);
  assert.ok(list.json.next, 'a next page');
  const [first] = list.json.items;
  assert.strictEqual(first.kind, 'package.uploaded');
  assert.strictEqual(first.task_id, ids.t1);
  assert.strictEqual(first.title, '新的更新包：billing 2.3.0');
  assert.strictEqual(first.read, false);
  assert.ok(list.json.items[0].id > list.json.items[1].id, 'newest first');
  const rest = await s.api('GET', `/api/v1/notifications?cursor=${list.json.next}`, { token: tok });
  assert.strictEqual(rest.json.items.length, 1);
  assert.strictEqual(rest.json.items[0].package_id, ids.p1);

  let u = await s.api('GET', '/api/v1/notifications/unread', { token: tok });
  assert.deepStrictEqual(u.json, { unread: 3 });
  const en = await s.api('GET', '/api/v1/notifications', { token: tokenOf('nt-mgr-en') });
  assert.strictEqual(en.json.items[0].title, 'New update package: billing 2.3.0');
  // Another's item: 404, and it stays unread.
  let r = await s.api('POST', `/api/v1/notifications/${en.json.items[0].id}/read`, { token: tok });
  assert.strictEqual(r.status, 404);
  r = await s.api('POST', `/api/v1/notifications/${first.id}/read`, { token: tok });
  assert.strictEqual(r.status, 204);
  u = await s.api('GET', '/api/v1/notifications/unread', { token: tok });
  assert.deepStrictEqual(u.json, { unread: 2 });
  r = await s.api('POST', '/api/v1/notifications/read-all', { token: tok });
  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual(r.json, { marked: 2 });
  u = await s.api('GET', '/api/v1/notifications/unread', { token: tok });
  assert.deepStrictEqual(u.json, { unread: 0 });
  u = await s.api('GET', '/api/v1/notifications/unread', { token: tokenOf('nt-mgr-en') });
  assert.strictEqual(u.json.unread, 3, "the other user's items untouched");
  const stranger = await s.api('GET', '/api/v1/notifications', { token: tokenOf('nt-stranger') });
  assert.deepStrictEqual(stranger.json.items, []);
  r = await s.api('GET', '/api/v1/notifications/unread');
  assert.strictEqual(r.status, 401);
});

test('a delivery left in sending by a dead instance is queued again and delivered', async () => {
  const key = 'test.stuck.' + crypto.randomBytes(4).toString('hex');
  s.sql(`INSERT INTO outbox (channel, kind, idem_key, payload, state, attempts, claimed_by, claimed_at)
    VALUES ('callback', 'package.uploaded', '${key}', '{"id":"${key}","package_id":${ids.p1}}', 'sending', 1,
    '127.0.0.1:1/1', now() - interval '1 hour')`);
  await waitFor(() => recv.byKey(key).length === 1, 15000, 'the stuck callback delivered');
  await waitFor(() => outbox(`idem_key = '${key}' AND state = 'sent'`).length === 1, 5000, 'marked sent');
  const [r] = outbox(`idem_key = '${key}'`);
  assert.strictEqual(r.attempts, 2);
  assert.match(r.last_error, /interrupted: 127\.0\.0\.1:1\/1 did not report/);
});

test('implicit TLS (smtps://) delivers; smtp:// without STARTTLS refuses to send; no callback URL: skipped', async () => {
  const { SMTPServer } = require('smtp-server');
  // A server that offers no STARTTLS: Yard must not send in clear.
  let cleartext = 0;
  const bare = new SMTPServer({ disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true,
    onData(stream, session, cb) { cleartext++; stream.resume(); stream.on('end', () => cb()); } });
  const barePort = await freePort();
  await new Promise((r) => bare.listen(barePort, '127.0.0.1', r));
  const common = { YARD_SMTP_FROM: 'yard-mailer@dev.test', YARD_SMTP_CA_FILE: mail.certFile,
    YARD_SMTP_USER: 'yard-mailer', YARD_SMTP_PASSWORD_FILE: path.join(dir, 'smtp-password'),
    YARD_OUTBOX_RETRY_BASE: '1', YARD_OUTBOX_MAX_ATTEMPTS: '2' };
  const [tls, clear] = await Promise.all([
    startStack({ pgPort: s.pgPort, env: Object.assign({ YARD_SMTP_URL: `smtps://127.0.0.1:${mail.tlsPort}` }, common) }),
    startStack({ pgPort: s.pgPort, env: Object.assign({ YARD_SMTP_URL: `smtp://127.0.0.1:${barePort}` }, common) }),
  ]);
  try {
    for (const st of [tls, clear]) {
      st.sql(`INSERT INTO users (sub, email, lang, admin) VALUES ('nt-admin2', 'admin2@dev.test', 'en', true)`);
      st.sql(`INSERT INTO packages (sha256, name, size, entries, manifest) VALUES
        ('${crypto.randomBytes(32).toString('hex')}', 'no-target', 1, 1, '[]')`);
    }
    await waitFor(() => mail.list().some((m) => m.to[0] === 'admin2@dev.test'), 15000, 'the smtps mail');
    const m = mail.list().find((x) => x.to[0] === 'admin2@dev.test');
    assert.strictEqual(m.implicit_tls, true);
    assert.strictEqual(m.secure, true);
    assert.strictEqual(parseMail(mail.raw(m.id)).subject, '[Yard] New update package: no-target');
    await waitFor(() => tls.sql(`SELECT state FROM outbox WHERE channel = 'callback'`) === 'skipped', 10000,
      'the callback skipped');
    assert.match(tls.sql(`SELECT last_error FROM outbox WHERE channel = 'callback'`), /YARD_EWS_NOTIFY_URL/);
    await waitFor(() => clear.sql(`SELECT state FROM outbox WHERE channel = 'mail'`) === 'failed', 15000,
      'the cleartext mail failed');
    assert.match(clear.sql(`SELECT last_error FROM outbox WHERE channel = 'mail'`), /STARTTLS|TLS/i);
    assert.strictEqual(cleartext, 0, 'nothing sent in clear');
  } finally {
    await tls.stop();
    await clear.stop();
    await new Promise((r) => bare.close(r));
  }
});

test('admins see the deliveries and why they failed; others may not', async () => {
  let r = await s.api('GET', '/api/v1/notifications/deliveries?state=failed', { token: s.adminToken('nt-ops') });
  assert.strictEqual(r.status, 200, r.text);
  const bounce = r.json.items.find((d) => d.recipient === 'bounce@dev.test');
  assert.ok(bounce, 'the failed mail listed');
  assert.strictEqual(bounce.channel, 'mail');
  assert.strictEqual(bounce.state, 'failed');
  assert.match(bounce.last_error, /mailbox bounce@dev\.test is full/);
  assert.ok(r.json.items.every((d) => d.state === 'failed'));
  r = await s.api('GET', '/api/v1/notifications/deliveries?limit=1', { token: s.adminToken('nt-ops') });
  assert.strictEqual(r.json.items.length, 1);
  assert.ok(r.json.next);
  r = await s.api('GET', '/api/v1/notifications/deliveries?state=bogus', { token: s.adminToken('nt-ops') });
  assert.strictEqual(r.status, 400);
  r = await s.api('GET', '/api/v1/notifications/deliveries', { token: tokenOf('nt-mgr-zh') });
  assert.strictEqual(r.status, 403);
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
