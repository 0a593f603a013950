// Browser: an admin enrols a node from the Nodes page, runs the command it
// shows with the real yard-agent, watches the node come online, and tests
// the connection (issue 3); honest state (issue 13): a node enrolled but
// never connected reads so, an offline node's values are greyed with their
// age, sparklines fill their cells, a node has its own address (Back,
// reload), lists its tasks, and an implementer without grants is told to
// ask an admin.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, withPage, TOP } = require('../lib/stack.js');

let s, b, admin, stale, staleTask;

const one = (sql) => s.sql(sql).split('\n')[0];

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('e2e-admin', ['yard-admin']);
  assert.strictEqual((await s.api('GET', '/api/v1/me', { token: admin })).status, 200);
  // A node last heard from 5 minutes ago (offline), with half an hour of
  // samples before that, and a task that was running on it.
  stale = Number(one(`INSERT INTO nodes (name, hostname, enrolled_at, status, last_seen, metrics, facts)
    VALUES ('stale-node', 'stale.local', now() - interval '1 day', 'offline', now() - interval '5 minutes',
      '{"cpu": 42.5, "mem_used": 2000000000, "mem_total": 8000000000, "load1": 0.5}',
      '{"disks": [{"path": "/", "total": 100000000000, "free": 50000000000}]}') RETURNING id`));
  s.sql(`INSERT INTO node_metrics (node_id, at, cpu, mem_used, mem_total, load1)
    SELECT ${stale}, g, 20 + 20 * random(), 2000000000, 8000000000, 0.5
    FROM generate_series(now() - interval '29 minutes', now() - interval '5 minutes', interval '30 seconds') g`);
  staleTask = Number(one(`INSERT INTO tasks (node_id, name, kind, state, metrics)
    VALUES (${stale}, 'billing', 'console', 'running', '{"cpu": 7.5, "rss": 104857600}') RETURNING id`));
});

// The frame of the Yard page inside the development EWS.
const yardFrame = (page) => page.frames().find((f) => /\/ui\/nodes/.test(f.url()));

// Shots of the page on failure, as the first test does.
async function topLevel(name, width, fn) {
  const ctx = await b.newContext({ viewport: { width, height: 900 } });
  const page = await ctx.newPage();
  try {
    await fn(page);
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', name + '-failed.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
}
test.after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

test('admin enrols a node from the page and watches it come online', async () => {
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=nodes`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    const f = page.frameLocator('#yard-frame');
    await f.locator('[data-action="enroll"]').click({ timeout: 15000 });
    // The box exists before the token arrives: wait for the command.
    const box = f.locator('#enroll-command', { hasText: 'yard-agent enroll' });
    await box.waitFor({ timeout: 10000 });
    const cmd = (await box.innerText()).trim();
    const m = cmd.match(/^yard-agent enroll --server (\S+) --token ([A-Za-z0-9_-]{43})$/);
    assert.ok(m, cmd);
    assert.strictEqual(m[1], s.yard.url);
    const agent = await s.agent('from-page', s.yard.url, m[2]);
    const row = f.locator(`tr[data-node-id="${agent.nodeId}"]`);
    await row.waitFor({ timeout: 15000 });
    await row.locator('[data-status="online"]').waitFor({ timeout: 15000 });
    await row.click();
    await f.locator('[data-action="ping"]').click({ timeout: 10000 });
    await f.locator('#ping-result[data-state="succeeded"]').waitFor({ timeout: 15000 });
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', 'nodes-enrol.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
});

test('with an agent package to offer, the panel gives the one line to install, check, enrol and start', async () => {
  // Another instance of the same cluster, offering a package (any bytes:
  // the server only names and hashes it), opened at the top level.
  const dist = fs.mkdtempSync(path.join(s.dir, 'dist-'));
  const bytes = Buffer.from('not really a package\n');
  fs.writeFileSync(path.join(dist, 'yard-agent_1.2.3-1_amd64.deb'), bytes);
  fs.writeFileSync(path.join(dist, 'notes.txt'), 'skipped');
  const sha = require('node:crypto').createHash('sha256').update(bytes).digest('hex');
  const other = await s.startAnother({ YARD_AGENT_DIST_DIR: dist });
  const ctx = await b.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${other.url}/ui/nodes?lang=zh-CN#access_token=${admin}`);
    await page.locator('[data-action="enroll"]').click({ timeout: 15000 });
    const box = page.locator('#enroll-command', { hasText: 'curl' });
    await box.waitFor({ timeout: 10000 });
    const line = (await box.innerText()).trim();
    assert.match(line, new RegExp(`^curl -fsSLo /tmp/yard-agent\\.deb '${other.url}/agent/v1/dist/yard-agent_1\\.2\\.3-1_amd64\\.deb' && ` +
      `echo '${sha}  /tmp/yard-agent\\.deb' \\| sha256sum -c --quiet - && apt-get install -y /tmp/yard-agent\\.deb && ` +
      `YARD_AGENT_TOKEN='[A-Za-z0-9_-]{43}' yard-agent enroll --server '${other.url}' --state-dir /var/lib/yard-agent && ` +
      'systemctl restart yard-agent$'), line);
    assert.match(await page.locator('#enroll-systems').innerText(), /Debian 12.*amd64.*1\.2\.3-1/);
    // An internal CA: a bad path is refused by the field, a good one is
    // trusted first.
    await page.locator('#enroll-ca').fill("/root/ca.pem'; rm -rf /");
    await page.locator('#enroll-ca-error').waitFor({ state: 'visible' });
    assert.strictEqual((await box.innerText()).trim(), line);
    await page.locator('#enroll-ca').fill('/root/yard-ca.pem');
    await page.locator('#enroll-ca-error').waitFor({ state: 'hidden' });
    assert.strictEqual((await box.innerText()).trim(),
      "install -m 0644 '/root/yard-ca.pem' /usr/local/share/ca-certificates/yard-ca.crt && update-ca-certificates && " + line);
    // The enrolment alone, for a server that has the agent.
    await page.locator('#enroll-only summary').click();
    assert.match((await page.locator('#enroll-only-command').innerText()).trim(),
      /^yard-agent enroll --server \S+ --token [A-Za-z0-9_-]{43}$/);
  } catch (e) {
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', 'nodes-install.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
});

test('a node enrolled but never connected reads so, with no heartbeat age', async () => {
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  const r = await fetch(s.yard.url + '/agent/v1/enroll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, token: e.json.token, facts: { hostname: 'quiet-01', os: 'Debian', kernel: '6.1',
      arch: 'x86_64', cpus: 2, mem_total: 8e9, boot_id: 'b0a7c0de-0000-4000-8000-00000000abcd', uptime: 1,
      agent_version: '0.1.0', disks: [] } }),
  });
  assert.strictEqual(r.status, 201);
  const id = (await r.json()).node_id;
  await withPage(b, s, { name: 'nodes-enrolled', sub: 'u-admin', start: '/?module=nodes&lang=zh-CN' }, async (page, f) => {
    const row = f.locator(`tr[data-node-id="${id}"]`);
    await row.waitFor({ timeout: 15000 });
    const status = row.locator('td[data-status="enrolled"]');
    await status.waitFor({ timeout: 10000 });
    assert.strictEqual((await status.innerText()).trim(), '已登记，未连接');
    const seen = row.locator('td[data-last-seen]');
    assert.strictEqual((await seen.innerText()).trim(), '尚未连接');
    assert.strictEqual(await seen.getAttribute('data-last-seen'), '');
    assert.strictEqual(await row.locator('svg.spark').count(), 0, 'nothing recorded, nothing drawn');
    assert.doesNotMatch(await row.innerText(), /秒前|分钟前/);
    await row.locator('a[data-action="open"]').click();
    await f.locator(`#node-detail[data-node-id="${id}"][data-state="ready"]`).waitFor({ timeout: 10000 });
    await f.locator('#detail-status[data-status="enrolled"]').waitFor();
    assert.strictEqual((await f.locator('#detail-last-seen').innerText()).trim(), '尚未连接');
    await f.locator('#detail-events tr[data-event-status="enrolled"]').waitFor();
  });
});

test('an offline node: values greyed with their age, in the list, the detail and its tasks', async () => {
  await topLevel('nodes-stale', 1440, async (page) => {
    await page.goto(`${s.yard.url}/ui/nodes/${stale}?lang=zh-CN#access_token=${admin}`);
    const row = page.locator(`tr[data-node-id="${stale}"]`);
    await row.locator('td[data-status="offline"]').waitFor({ timeout: 15000 });
    for (const cell of ['td:nth-child(4)', 'td:nth-child(5)']) {
      const box = row.locator(`${cell} .spark-cell[data-stale="1"]`);
      await box.waitFor();
      assert.match((await box.locator('.spark-cell__age').innerText()).trim(), /^5 分钟前的值$/);
      assert.match(await box.getAttribute('title'), /节点不在线/);
    }
    // Greyed: the muted text colour of the theme, not the normal one.
    const colours = await page.evaluate((id) => {
      const probe = document.createElement('span');
      probe.className = 'muted';
      document.body.appendChild(probe);
      const muted = getComputedStyle(probe).color;
      probe.remove();
      const v = document.querySelector(`tr[data-node-id="${id}"] .spark-cell__value`);
      return { muted, value: getComputedStyle(v).color, text: getComputedStyle(document.body).color };
    }, String(stale));
    assert.strictEqual(colours.value, colours.muted);
    assert.notStrictEqual(colours.value, colours.text);
    // The detail: tiles and disks greyed with the age, the tasks too.
    await page.locator(`#node-detail[data-node-id="${stale}"][data-state="ready"]`).waitFor({ timeout: 10000 });
    const cpu = page.locator('#detail-metrics [data-metric="cpu"][data-stale="1"]');
    await cpu.waitFor();
    assert.match(await cpu.innerText(), /5 分钟前的值/);
    await page.locator('#detail-facts [data-disk="/"][data-stale="1"]').waitFor();
    const task = page.locator(`#detail-tasks tr[data-task-id="${staleTask}"]`);
    await task.waitFor({ timeout: 10000 });
    assert.strictEqual(await task.locator('td:nth-child(3)').getAttribute('data-stale'), '1');
    assert.strictEqual(await task.locator('td:nth-child(4)').getAttribute('data-stale'), '1');
    assert.match(await page.locator('#detail-tasks-stale').innerText(), /5 分钟前/);
  });
});

test('sparklines fill their cells at 1440 and 1024 wide', async () => {
  for (const width of [1440, 1024]) {
    await topLevel(`nodes-spark-${width}`, width, async (page) => {
      await page.goto(`${s.yard.url}/ui/nodes?lang=zh-CN#access_token=${admin}`);
      const spark = page.locator(`tr[data-node-id="${stale}"] td:nth-child(4) svg.spark`);
      await spark.waitFor({ timeout: 20000 });
      const m = await page.evaluate((id) => {
        const out = [];
        for (const td of document.querySelectorAll(`tr[data-node-id="${id}"] td:nth-child(4), tr[data-node-id="${id}"] td:nth-child(5)`)) {
          const cs = getComputedStyle(td);
          const inner = td.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
          const box = td.querySelector('.spark-cell');
          const text = td.querySelector('.spark-cell__text').getBoundingClientRect().width;
          const gap = parseFloat(getComputedStyle(box).columnGap) || 0;
          out.push({ inner, text, gap, svg: td.querySelector('svg.spark').getBoundingClientRect().width });
        }
        return out;
      }, String(stale));
      assert.strictEqual(m.length, 2);
      for (const c of m) {
        // The room beside the value (and its age) is the sparkline's.
        assert.ok(c.svg >= 0.9 * (c.inner - c.text - c.gap), `${width}: ${JSON.stringify(c)}`);
        assert.ok(c.svg >= 0.4 * c.inner, `${width}: ${JSON.stringify(c)}`);
      }
    });
  }
});

test('a node has its own address: opening it pushes the URL, Back returns, reload keeps it; its tasks link to theirs', async () => {
  await topLevel('nodes-url', 1100, async (page) => {
    await page.goto(`${s.yard.url}/ui/nodes?lang=zh-CN#access_token=${admin}`);
    const link = page.locator(`tr[data-node-id="${stale}"] a[data-action="open"]`);
    await link.waitFor({ timeout: 15000 });
    assert.strictEqual(new URL(await link.evaluate((a) => a.href)).pathname, `/ui/nodes/${stale}`);
    await link.click();
    await page.locator(`#node-detail[data-node-id="${stale}"][data-state="ready"]`).waitFor({ timeout: 10000 });
    let u = new URL(page.url());
    assert.strictEqual(u.pathname, `/ui/nodes/${stale}`);
    assert.strictEqual(u.searchParams.get('lang'), 'zh-CN');
    const task = page.locator(`#detail-tasks tr[data-task-id="${staleTask}"] a[data-task-link]`);
    await task.waitFor({ timeout: 10000 });
    assert.strictEqual((await task.innerText()).trim(), 'billing');
    u = new URL(await task.evaluate((a) => a.href));
    assert.strictEqual(u.pathname, `/ui/tasks/${staleTask}`);
    assert.strictEqual(await page.locator(`#detail-tasks tr[data-task-id="${staleTask}"]`).getAttribute('data-state'), 'running');
    await page.goBack();
    await page.waitForFunction(() => location.pathname === '/ui/nodes');
    await page.locator('#node-detail[data-state="none"]').waitFor({ state: 'attached' });
    assert.strictEqual(await page.locator('#node-detail').isHidden(), true);
    await page.goForward();
    await page.locator(`#node-detail[data-node-id="${stale}"][data-state="ready"]`).waitFor({ timeout: 10000 });
  });
  // Loading the node's address again (at the top level the token comes
  // with it, as from EWS's login) opens the node.
  await topLevel('nodes-url-reload', 1100, async (page) => {
    await page.goto(`${s.yard.url}/ui/nodes/${stale}?lang=en#access_token=${admin}`);
    await page.locator(`#node-detail[data-node-id="${stale}"][data-state="ready"]`).waitFor({ timeout: 15000 });
    assert.strictEqual(new URL(page.url()).pathname, `/ui/nodes/${stale}`);
    await page.locator('[data-action="close"]').click();
    assert.strictEqual(new URL(page.url()).pathname, '/ui/nodes');
    await page.goBack();
    await page.locator(`#node-detail[data-node-id="${stale}"][data-state="ready"]`).waitFor({ timeout: 10000 });
  });
});

test('framed in EWS: ?node=ID is pushed, Back returns to the list, reloading the frame keeps the node', async () => {
  await withPage(b, s, { name: 'nodes-framed-url', sub: 'u-admin', start: '/?module=nodes&lang=zh-CN' }, async (page, f) => {
    await f.locator(`tr[data-node-id="${stale}"] a[data-action="open"]`).click({ timeout: 15000 });
    await f.locator(`#node-detail[data-node-id="${stale}"][data-state="ready"]`).waitFor({ timeout: 10000 });
    let fr = yardFrame(page);
    assert.strictEqual(new URL(fr.url()).searchParams.get('node'), String(stale));
    assert.strictEqual(new URL(fr.url()).pathname, '/ui/nodes');
    await fr.evaluate(() => history.back());
    await f.locator('#node-detail[data-state="none"]').waitFor({ state: 'attached', timeout: 10000 });
    assert.strictEqual(new URL(yardFrame(page).url()).searchParams.get('node'), null);
    await fr.evaluate(() => history.forward());
    await f.locator(`#node-detail[data-node-id="${stale}"][data-state="ready"]`).waitFor({ timeout: 10000 });
    fr = yardFrame(page);
    await fr.evaluate(() => location.reload());
    await f.locator(`#node-detail[data-node-id="${stale}"][data-state="ready"]`).waitFor({ timeout: 15000 });
  });
});

test('live refreshes patch rows in place and keep the focus', async () => {
  await topLevel('nodes-focus', 1100, async (page) => {
    await page.goto(`${s.yard.url}/ui/nodes/${stale}?lang=zh-CN#access_token=${admin}`);
    const task = page.locator(`#detail-tasks tr[data-task-id="${staleTask}"] a[data-task-link]`);
    await task.waitFor({ timeout: 15000 });
    await page.evaluate((id) => {
      window.__row = document.querySelector(`tr[data-node-id="${id}"]`);
      window.__task = document.querySelector('#detail-tasks a[data-task-link]');
    }, String(stale));
    await task.focus();
    // Two live ticks (every 5 s), one of them with a changed value.
    s.sql(`UPDATE tasks SET metrics = '{"cpu": 9.5, "rss": 104857600}' WHERE id = ${staleTask}`);
    await page.locator(`#detail-tasks tr[data-task-id="${staleTask}"] td:nth-child(3)`, { hasText: '9.5%' })
      .waitFor({ timeout: 15000 });
    await page.waitForTimeout(5500);
    const kept = await page.evaluate((id) => ({
      row: window.__row === document.querySelector(`tr[data-node-id="${id}"]`),
      task: window.__task === document.activeElement,
    }), String(stale));
    assert.deepStrictEqual(kept, { row: true, task: true });
  });
});

test('an implementer without grants is told no node is shared, and to ask an admin', async () => {
  await withPage(b, s, { name: 'nodes-unshared', sub: 'u-impl', start: '/?module=nodes&lang=zh-CN' }, async (page, f) => {
    const empty = f.locator('tr.empty-row[data-empty="unshared"]');
    await empty.waitFor({ timeout: 15000 });
    assert.match(await empty.innerText(), /没有与你共享的节点，请联系管理员/);
    assert.doesNotMatch(await empty.innerText(), /还没有节点/);
    assert.strictEqual(await f.locator('[data-action="enroll"]').isVisible(), false);
  });
  assert.ok(Number(one('SELECT count(*) FROM nodes')) > 0, 'nodes exist');
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
