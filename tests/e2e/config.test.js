// Browser: the Configuration view of a task (issue 11), with a real server
// and agent.  An implementer who manages a console task whose tree holds
// an XML and a JSON file adds the brief's key RefreshSecretSubUrl, maps it
// to root.nodes[0].nodes[0].nodes[0] of conf/app.xml, sees the preview of
// the line, saves, applies and restarts, and the file on the node is the
// original with only that value changed, byte for byte; a value with
// special characters and Chinese typed into the page reaches the server
// and a JSON file unchanged, and a file override typed into the editor
// arrives byte-exact (CRLF kept); a secret is masked after a reload and
// never reaches the page in clear; a .properties import is merged into the
// table and Export downloads the effective values (secrets as comments);
// a member the server refuses shows its reason next to it; Apollo's
// settings and each namespace's status show, an Apollo value wins with
// Yard's own shown under it; the version history shows a version's diff
// and Restore makes a new version; a viewer sees it all read-only.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startE2E, browser, waitFor, TOP, TASK_USER } = require('../lib/stack.js');

const SHOTS = path.join(TOP, 'tests', 'e2e', 'screenshots');
const VALUE = '/gateway/app/refreshTokenByKey.htm';
const SPECIAL = '& < > " \' ${x} 中文配置 \\ 100% #tag';
const SECRET = 'hunter2-秘密-' + Date.now();
// The deployed files: a comment, the XML declaration, odd indentation.
const XML = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!-- gateway settings: keep this comment -->\n' +
  '<root>\n  <nodes>\n\t<nodes>\n      <nodes>http://old.example/refresh</nodes>\n' +
  '      <nodes>second</nodes>\n\t</nodes>\n  </nodes>\n  <other a="1"/>\n</root>\n';
const JSON_FILE = '{\n  "svc": { "url": "old-url", "n": 1 },\n  "name": "app"\n}\n';
const OVERRIDE = 'line1 & <b> "q" \'s\' ${x}\r\n中文 第二行\r\n';
const BLOB = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x0a]);

let s, b, agent, admin, taskId, deployDir;

async function grant(sub, roles, g) {
  const tok = await s.mint(sub, roles);
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: tok })).status, 200);
  const uid = Number(s.sql(`SELECT id FROM users WHERE sub = '${sub}'`));
  const r = await s.api('POST', '/api/v1/grants', { token: admin, body: Object.assign({ user_id: uid }, g) });
  assert.strictEqual(r.status, 201, r.text);
  return tok;
}

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('config-page', s.yard.url, e.json.token);
  await waitFor(() => s.sql(`SELECT status FROM nodes WHERE id = ${agent.nodeId}`) === 'online', 15000, 'the agent online');
  // A task without a package: its tree is its deploy directory.
  deployDir = path.join(s.dir, 'deploy', 'gateway');
  fs.mkdirSync(path.join(deployDir, 'conf'), { recursive: true });
  fs.writeFileSync(path.join(deployDir, 'conf', 'app.xml'), XML);
  fs.writeFileSync(path.join(deployDir, 'conf', 'app.json'), JSON_FILE);
  fs.writeFileSync(path.join(deployDir, 'conf', 'local.txt'), 'deployed\n');
  execFileSync('chown', ['-R', TASK_USER, deployDir]);
  const spec = { kind: 'console', deploy_dir: deployDir, stop_grace: 2,
    console: { command: '/bin/sh', args: ['-c', 'echo gateway up; exec sleep 300'] } };
  const r = await s.api('POST', '/api/v1/tasks', { token: admin, body: { node_id: agent.nodeId, name: 'gateway', spec } });
  assert.strictEqual(r.status, 201, r.text);
  taskId = r.json.id;
  await grant('u-impl', ['implementer'], { task_id: taskId, level: 'manage' });
  await grant('u-viewer', [], { node_id: agent.nodeId, level: 'view' });
  const c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'start', task_id: taskId } });
  assert.strictEqual(c.status, 201, c.text);
  await waitFor(() => s.sql(`SELECT state FROM tasks WHERE id = ${taskId}`) === 'running', 20000, 'the task running');
});
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

// The Tasks page with the task's Configuration open, signed in as sub.
// Every answer the frame receives is kept in bodies (to look for secrets).
async function withConfig(name, sub, fn) {
  const ctx = await b.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await ctx.newPage();
  const bodies = [];
  page.on('response', async (res) => {
    if (!/\/api\/v1\//.test(res.url()))
      return;
    try { bodies.push(res.url() + ' ' + await res.text()); } catch { /* gone */ }
  });
  fs.mkdirSync(SHOTS, { recursive: true });
  try {
    await page.goto(`${s.ews.url}/?module=tasks&query=${encodeURIComponent('config=' + taskId)}`);
    await page.waitForURL(/\/login/);
    await page.click(`#login-${sub}`);
    const f = page.frameLocator('#yard-frame');
    await f.locator(`#config-panel[data-task-id="${taskId}"][data-state=ready]`).waitFor({ timeout: 15000 });
    await fn(page, f, bodies);
    await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
  } catch (e) {
    await page.screenshot({ path: path.join(SHOTS, name + '-failed.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}

async function addValue(f, key, value, secret) {
  await f.locator('[data-action=add-value]').click();
  const row = f.locator('#config-values-body tr[data-row]').last();
  await row.locator('input[data-field=key]').fill(key);
  if (secret)
    await row.locator('input[data-field=secret]').check();
  await f.locator('#config-values-body tr[data-row]').last().locator('input[data-field=value]').fill(value);
}

async function addMapping(f, key, file, format, nodepath) {
  await f.locator('[data-action=add-mapping]').click();
  const row = f.locator('#config-mappings-body tr[data-mapping]').last();
  await row.locator('input[data-field=key]').fill(key);
  await row.locator('input[data-field=file]').fill(file);
  await row.locator('select[data-field=format]').selectOption(format);
  await row.locator('input[data-field=nodepath]').fill(nodepath);
  return row;
}

async function save(f, comment, version) {
  await f.locator('#config-comment').fill(comment);
  await f.locator('[data-action=config-save]').click();
  await f.locator(`#config-panel[data-version="${version}"][data-dirty="0"]`).waitFor({ timeout: 10000 });
}

async function applyRestart(f) {
  const before = await f.locator('#config-apply').getAttribute('data-command-id');
  await f.locator('[data-action=apply-restart]').click();
  await f.locator('#yard-confirm [data-action=confirm]').click();
  await waitFor(async () => {
    const box = f.locator('#config-apply');
    const id = await box.getAttribute('data-command-id');
    const st = await box.getAttribute('data-state');
    return id !== before && ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(st);
  }, 60000, 'apply-config to end');
  const box = f.locator('#config-apply');
  assert.strictEqual(await box.getAttribute('data-state'), 'succeeded', await box.innerText());
}

async function config(tok = admin) {
  const r = await s.api('GET', `/api/v1/tasks/${taskId}/config`, { token: tok });
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

test('the brief\'s example: key, mapping, preview, save, apply and restart, the file byte-exact', async () => {
  await withConfig('config-example', 'u-impl', async (page, f) => {
    assert.strictEqual(await f.locator('#config-panel').getAttribute('data-level'), 'manage');
    assert.strictEqual(await f.locator('#config-panel').getAttribute('data-version'), '0');
    await addValue(f, 'RefreshSecretSubUrl', VALUE);
    const row = await addMapping(f, 'RefreshSecretSubUrl', 'conf/app.xml', 'xml', 'root.nodes[0].nodes[0].nodes[0]');
    // The preview: the deployed file's line before and after.
    await row.locator('[data-action=preview]').click();
    const pv = f.locator('tr[data-preview-of="0"] .config-preview');
    await waitFor(async () => (await pv.getAttribute('data-state')) !== 'loading', 20000, 'the preview');
    assert.strictEqual(await pv.getAttribute('data-state'), 'ready', await pv.innerText());
    assert.deepStrictEqual(await pv.locator('tr[data-line-kind=del] .config-lines__text').allInnerTexts(),
      ['      <nodes>http://old.example/refresh</nodes>']);
    assert.deepStrictEqual(await pv.locator('tr[data-line-kind=add] .config-lines__text').allInnerTexts(),
      [`      <nodes>${VALUE}</nodes>`]);
    // A nodepath that does not exist: cfgedit's reason next to the row.
    const bad = await addMapping(f, 'RefreshSecretSubUrl', 'conf/app.xml', 'xml', 'root.nodes[3]');
    await bad.locator('[data-action=preview]').click();
    const pv2 = f.locator('tr[data-preview-of="1"] .config-preview');
    await pv2.locator('[data-preview-error]').waitFor({ timeout: 20000 });
    assert.match(await pv2.innerText(), /root\.nodes\[3\]/);
    // A file that is not deployed says so.
    await bad.locator('input[data-field=file]').fill('conf/missing.xml');
    await bad.locator('[data-action=preview]').click();
    await f.locator('tr[data-preview-of="1"] .config-preview[data-state=absent]').waitFor({ timeout: 20000 });
    await bad.locator('[data-action=remove-mapping]').click();
    assert.strictEqual(await f.locator('#config-mappings-body tr[data-mapping]').count(), 1);

    // A nodepath the server refuses: its reason by the row, nothing saved.
    const np = f.locator('#config-mappings-body tr[data-mapping="0"] input[data-field=nodepath]');
    await np.fill('root..nodes');
    await f.locator('[data-action=config-save]').click();
    const fe = f.locator('[data-field-error="mappings[0]"]');
    await fe.waitFor({ state: 'visible', timeout: 10000 });
    // In the page's words, with the server's reason for an "invalid" one.
    assert.match(await fe.innerText(), /mappings\[0\]\.nodepath: /);
    assert.strictEqual((await config()).version, 0);
    await np.fill('root.nodes[0].nodes[0].nodes[0]');

    await save(f, 'the brief\'s example', 1);
    assert.strictEqual(await fe.count(), 1);
    assert.strictEqual(await fe.isVisible(), false);
    const c = await config();
    assert.deepStrictEqual(c.values.map((v) => [v.key, v.value, v.secret, v.source]),
      [['RefreshSecretSubUrl', VALUE, false, 'yard']]);
    assert.deepStrictEqual(c.mappings, [{ key: 'RefreshSecretSubUrl', file: 'conf/app.xml', format: 'xml',
      nodepath: 'root.nodes[0].nodes[0].nodes[0]' }]);
    assert.strictEqual(c.comment, 'the brief\'s example');

    await applyRestart(f);
    const got = fs.readFileSync(path.join(deployDir, 'conf', 'app.xml'));
    assert.ok(got.equals(Buffer.from(XML.replace('http://old.example/refresh', VALUE))),
      'conf/app.xml on the node:\n' + got.toString());
    // Only the applied file changed.
    assert.strictEqual(fs.readFileSync(path.join(deployDir, 'conf', 'app.json'), 'utf8'), JSON_FILE);
    await waitFor(() => s.sql(`SELECT state FROM tasks WHERE id = ${taskId}`) === 'running', 20000, 'running again');
  });
});

test('special characters and Chinese through the page arrive byte-exact; a file override keeps CRLF', async () => {
  await withConfig('config-special', 'u-impl', async (page, f) => {
    await addValue(f, 'svc.url', SPECIAL);
    await addMapping(f, 'svc.url', 'conf/app.json', 'json', 'svc.url');
    await f.locator('[data-action=add-file]').click();
    const file = f.locator('#config-files [data-file]').last();
    await file.locator('input[data-field=path]').fill('conf/local.txt');
    // A textarea turns CRLF into LF: the page's own bytes are compared below.
    await file.locator('textarea').fill(OVERRIDE.replace(/\r\n/g, '\n'));
    await file.locator('[data-action=file-diff]').click();
    const d = file.locator('.config-filediff');
    await waitFor(async () => (await d.getAttribute('data-state')) !== 'loading', 20000, 'the file diff');
    assert.strictEqual(await d.getAttribute('data-state'), 'ready', await d.innerText());
    assert.deepStrictEqual(await d.locator('tr[data-line-kind=del] .config-lines__text').allInnerTexts(), ['deployed']);
    assert.deepStrictEqual(await d.locator('tr[data-line-kind=add] .config-lines__text').allInnerTexts(),
      OVERRIDE.split('\r\n').slice(0, 2));
    await save(f, 'special characters', 2);
    const c = await config();
    assert.strictEqual(c.values.find((v) => v.key === 'svc.url').value, SPECIAL);
    const fo = c.files.find((x) => x.path === 'conf/local.txt');
    assert.strictEqual(Buffer.from(fo.content_base64, 'base64').toString(), OVERRIDE.replace(/\r\n/g, '\n'));

    await applyRestart(f);
    const json = fs.readFileSync(path.join(deployDir, 'conf', 'app.json'), 'utf8');
    const [head, tail] = JSON_FILE.split('"old-url"');
    assert.ok(json.startsWith(head) && json.endsWith(tail), json);
    assert.strictEqual(JSON.parse(json).svc.url, SPECIAL);
    assert.ok(fs.readFileSync(path.join(deployDir, 'conf', 'local.txt')).equals(
      Buffer.from(OVERRIDE.replace(/\r\n/g, '\n'))));
  });
  // An override saved with CRLF (by the API) keeps it when edited in the page.
  const c = await config();
  const body = { values: c.values.filter((v) => v.source === 'yard').map((v) => ({ key: v.key, value: v.value, secret: v.secret })),
    apollo: null, mappings: c.mappings, env: c.env, properties_file: c.properties_file, comment: 'crlf',
    files: [{ path: 'conf/local.txt', content_base64: Buffer.from(OVERRIDE).toString('base64') },
      { path: 'lib/blob.bin', content_base64: BLOB.toString('base64') }] };
  const r = await s.api('PUT', `/api/v1/tasks/${taskId}/config`, { token: admin, body });
  assert.strictEqual(r.status, 200, r.text);
  await withConfig('config-crlf', 'u-impl', async (page, f) => {
    const ta = f.locator('#config-files [data-path="conf/local.txt"] textarea');
    await ta.fill((await ta.inputValue()) + 'third\n');
    // Bytes that are not UTF-8: their size, no editor.
    const bin = f.locator('#config-files [data-path="lib/blob.bin"]');
    assert.strictEqual(await bin.locator('textarea').count(), 0);
    assert.strictEqual(await bin.locator('[data-binary]').getAttribute('data-size'), String(BLOB.length));
    await save(f, 'a third line', 4);
    const files = (await config()).files;
    const fo = files.find((x) => x.path === 'conf/local.txt');
    assert.strictEqual(Buffer.from(fo.content_base64, 'base64').toString(), OVERRIDE + 'third\r\n');
    assert.ok(Buffer.from(files.find((x) => x.path === 'lib/blob.bin').content_base64, 'base64').equals(BLOB));
  });
});

test('a secret is masked after a reload and never reaches the page in clear', async () => {
  await withConfig('config-secret', 'u-impl', async (page, f, bodies) => {
    await addValue(f, 'db.password', SECRET, true);
    // Java's rules: comments, ':' and '=' separators, an escaped ':',
    // a continued line, \\uXXXX; svc.url is there already.
    await f.locator('#config-import-file').setInputFiles({ name: 'more.properties', mimeType: 'text/plain',
      buffer: Buffer.from('# a comment\n! another\na.b = 1\nc\\:d: two\nlong = first \\\n    second\n' +
        'uni = \\u4e2d\\u6587\nsvc.url = changed-by-import\n') });
    const res = f.locator('#config-import-result');
    await res.waitFor({ state: 'visible', timeout: 10000 });
    assert.strictEqual(await res.getAttribute('data-added'), '4');
    assert.strictEqual(await res.getAttribute('data-changed'), '1');
    const val = (k) => f.locator(`#config-values-body tr[data-key="${k}"] input[data-field=value]`).inputValue();
    assert.strictEqual(await val('a.b'), '1');
    assert.strictEqual(await val('c:d'), 'two');
    assert.strictEqual(await val('long'), 'first second');
    assert.strictEqual(await val('uni'), '中文');
    assert.strictEqual(await val('svc.url'), 'changed-by-import');
    assert.strictEqual(await f.locator('#config-panel').getAttribute('data-dirty'), '1');
    await save(f, 'a secret', 5);
    // Export: the effective values, the secret only named in a comment.
    const [dl] = await Promise.all([page.waitForEvent('download'),
      f.locator('[data-action=config-export]').click()]);
    const text = fs.readFileSync(await dl.path(), 'utf8');
    assert.match(text, /^RefreshSecretSubUrl\s*[=:]\s*\/gateway\/app\/refreshTokenByKey\.htm$/m);
    assert.match(text, /^# db\.password: secret, not exported$/m);
    assert.ok(!text.includes(SECRET), text);
    assert.strictEqual(dl.suggestedFilename(), 'gateway.properties');
  });
  await withConfig('config-secret-reload', 'u-impl', async (page, f, bodies) => {
    const row = f.locator('#config-values-body tr[data-key="db.password"]');
    assert.strictEqual(await row.getAttribute('data-secret'), '1');
    const input = row.locator('input[data-field=value]');
    assert.strictEqual(await input.getAttribute('type'), 'password');
    assert.strictEqual(await input.inputValue(), '');
    assert.strictEqual(await input.getAttribute('placeholder'), '••••••');
    // Made plain without its value (which the page never had): refused here.
    await row.locator('input[data-field=secret]').uncheck();
    await f.locator('[data-action=config-save]').click();
    const err = f.locator('#config-values-body tr[data-key="db.password"] [data-field-error]');
    await err.waitFor({ state: 'visible', timeout: 5000 });
    assert.strictEqual((await config()).version, 5);
    await f.locator('#config-values-body tr[data-key="db.password"] input[data-field=secret]').check();
    // Saving again without typing keeps the stored secret.
    await f.locator('#config-values-body tr[data-key="svc.url"] input[data-field=value]').fill(SPECIAL);
    await save(f, 'the secret kept', 6);
    await f.locator('tr[data-version="5"] [data-action=version-diff]').click();
    await f.locator('#config-version-diff[data-version="5"][data-state=ready]').waitFor({ timeout: 10000 });
    const d = f.locator('#config-version-diff tr[data-part=value][data-name="db.password"]');
    assert.strictEqual(await d.getAttribute('data-change'), 'added');
    assert.match(await d.innerText(), /••••••/);
    const html = await page.frame({ url: /\/ui\/tasks/ }).content();
    assert.ok(!html.includes(SECRET), 'the secret is in the page');
    assert.ok(!bodies.some((x) => x.includes(SECRET)), 'the secret came in an answer');
  });
  const c = await config();
  const v = c.values.find((x) => x.key === 'db.password');
  assert.strictEqual(v.secret, true);
  assert.strictEqual(v.value, null);
  assert.strictEqual(c.version, 6);
});

test('version history: a version\'s diff, Restore makes a new version', async () => {
  await withConfig('config-history', 'u-impl', async (page, f) => {
    await f.locator('tr[data-version="2"]').waitFor({ timeout: 10000 });
    assert.strictEqual(await f.locator('#config-versions-body tr[data-version]').count(), 6);
    await f.locator('tr[data-version="2"] [data-action=version-diff]').click();
    await f.locator('#config-version-diff[data-version="2"][data-state=ready]').waitFor({ timeout: 10000 });
    const diff = f.locator('#config-version-diff');
    assert.strictEqual(await diff.locator('tr[data-part=value][data-name="svc.url"]').getAttribute('data-change'), 'added');
    assert.match(await diff.locator('tr[data-part=value][data-name="svc.url"]').innerText(), /中文配置/);
    assert.strictEqual(await diff.locator('tr[data-part=mapping]').count() >= 1, true);
    assert.strictEqual(await diff.locator('tr[data-part=file][data-name="conf/local.txt"]').getAttribute('data-change'), 'added');

    await f.locator('tr[data-version="1"] [data-action=restore]').click();
    await f.locator('#yard-confirm [data-action=confirm]').click();
    await f.locator('#config-panel[data-version="7"]').waitFor({ timeout: 10000 });
    await f.locator('tr[data-version="7"]').waitFor({ timeout: 10000 });
    assert.match(await f.locator('tr[data-version="7"]').innerText(), /恢复自版本 1/);
    assert.deepStrictEqual(await f.locator('#config-values-body tr[data-row]').evaluateAll((r) => r.map((x) => x.dataset.key)),
      ['RefreshSecretSubUrl']);
  });
  const v = await s.api('GET', `/api/v1/tasks/${taskId}/config/versions`, { token: admin });
  assert.strictEqual(v.status, 200, v.text);
  assert.strictEqual(v.json.items[0].version, 7);
  assert.strictEqual(v.json.items[0].restored_from, 1);
  assert.strictEqual((await config()).version, 7);
});

test('Apollo: settings from the page, each namespace\'s status, Apollo\'s value wins over Yard\'s', async () => {
  // What the server's Apollo follower keeps (issue 11): a snapshot per
  // namespace; the second one has never been fetched and failed.
  s.sql(`INSERT INTO apollo_snapshots (app_id, cluster, namespace, release_key, items, fetched_at, error)
    VALUES ('gateway-app', 'default', 'application', '20261202-r1',
      '{"RefreshSecretSubUrl": "/from/apollo"}', now(), NULL),
    ('gateway-app', 'default', 'gw.common', NULL, '{}', NULL, 'connection refused')`);
  await withConfig('config-apollo', 'u-impl', async (page, f) => {
    await f.locator('#config-apollo-use').check();
    await f.locator('#config-apollo-app').fill('gateway-app');
    assert.strictEqual(await f.locator('#config-apollo-cluster').inputValue(), 'default');
    await f.locator('#config-apollo-ns').fill('application\ngw.common');
    await f.locator('#config-apollo-auto-apply').check();
    await save(f, 'apollo', 8);
    const row = f.locator('#config-values-body tr[data-key="RefreshSecretSubUrl"]');
    assert.strictEqual(await row.getAttribute('data-source'), 'apollo');
    assert.strictEqual(await row.locator('[data-effective]').innerText(), '/from/apollo');
    assert.strictEqual(await row.locator('[data-yard-value] input[data-field=value]').inputValue(), VALUE);
    const st = f.locator('#config-apollo-status');
    assert.match(await st.locator('tr[data-namespace="application"]').innerText(), /20261202-r1/);
    assert.strictEqual(await st.locator('tr[data-namespace="gw.common"]').getAttribute('data-error'), '1');
    assert.match(await st.locator('tr[data-namespace="gw.common"]').innerText(), /connection refused/);
  });
  const c = await config();
  assert.deepStrictEqual([c.apollo.app_id, c.apollo.cluster, c.apollo.namespaces, c.apollo.auto_apply, c.apollo.auto_restart],
    ['gateway-app', 'default', ['application', 'gw.common'], true, false]);
  const v = c.values.find((x) => x.key === 'RefreshSecretSubUrl');
  assert.deepStrictEqual([v.value, v.source, v.yard_value], ['/from/apollo', 'apollo', VALUE]);
});

test('a viewer sees the configuration read-only, secrets masked, no file reads', async () => {
  // A secret again, so the viewer has one to not see.
  await withConfig('config-secret-again', 'u-impl', async (page, f) => {
    await addValue(f, 'db.password', SECRET, true);
    await save(f, 'the secret again', 9);
  });
  await withConfig('config-viewer', 'u-viewer', async (page, f, bodies) => {
    const p = f.locator('#config-panel');
    assert.strictEqual(await p.getAttribute('data-level'), 'view');
    await f.locator('#config-panel [data-view-only]').waitFor();
    for (const a of ['config-save', 'apply', 'apply-restart', 'config-import', 'add-value', 'add-mapping',
      'add-file', 'restore', 'preview', 'file-diff', 'remove-value', 'remove-mapping', 'remove-file'])
      assert.strictEqual(await f.locator(`#config-panel [data-action="${a}"]`).count(), 0, a);
    assert.strictEqual(await f.locator('#config-panel [data-action=config-export]').count(), 1);
    assert.strictEqual(await f.locator('#config-values-body input[data-field=key], #config-values-body input[data-field=value]').count(), 0);
    const row = f.locator('#config-values-body tr[data-key="db.password"]');
    assert.strictEqual(await row.locator('[data-cell=value]').innerText(), '••••••');
    const apollo = f.locator('#config-values-body tr[data-key="RefreshSecretSubUrl"]');
    assert.strictEqual(await apollo.locator('[data-effective]').innerText(), '/from/apollo');
    assert.strictEqual(await apollo.locator('[data-yard-value]').getAttribute('data-yard-value'), VALUE);
    assert.strictEqual(await f.locator('#config-mappings-body tr[data-mapping] input').count(), 0);
    // The history and its diffs are there to read.
    assert.strictEqual(await f.locator('#config-apollo-app').isDisabled(), true);
    await f.locator('tr[data-version="9"] [data-action=version-diff]').click();
    await f.locator('#config-version-diff[data-version="9"][data-state=ready]').waitFor({ timeout: 10000 });
    assert.ok(!bodies.some((x) => x.includes(SECRET)), 'the secret came in an answer');
    assert.ok(!bodies.some((x) => /\/config\/file/.test(x)), 'a viewer read a deployed file');
  });
  const viewer = await s.mint('u-viewer');
  const r = await s.api('PUT', `/api/v1/tasks/${taskId}/config`, { token: viewer,
    body: { values: [], apollo: null, mappings: [], files: [], env: false, properties_file: null, comment: 'no' } });
  assert.strictEqual(r.status, 403, r.text);
});
