// Every page looked at, not only clicked: each module page (and a task's
// own page, with its Logs tab, and a node's) in zh-CN and English, light
// and dark, 1440 wide (and 1024 wide in both languages' light theme),
// with a real agent and real tasks behind it.  Each visit fails on a console error, a failed
// request, an axe-core violation (WCAG 2.1 A and AA), text overflowing its
// box, a page that never leaves "loading", and, in zh-CN, Latin-script
// text that is not data (data: every string the API answered the page
// with, plus product names and units).  The dialogs and panels a user
// opens (a task's drawer, menu, stop confirmation, mute, deploy and move
// dialogs, the enrolment panel) get the same checks, open, in both
// languages and themes.  Screenshots are kept under the
// test log directory (YARD_TEST_LOGDIR/screenshots/walk) for review.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, shotDir, waitFor, TOP } = require('../lib/stack.js');
const { foreignWords, dataWords } = require('../lib/latin.js');
const { taskKit } = require('../lib/tasks.js');

const AXE = fs.readFileSync(path.join(TOP, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let s, b, admin, agent, running, fresh, kit;

async function taskOf(name, script) {
  const r = await s.api('POST', '/api/v1/tasks', {
    token: admin,
    body: { node_id: agent.nodeId, name, spec: { kind: 'console',
      deploy_dir: path.join(s.dir, 'deploy', name),
      console: { command: '/bin/sh', args: ['-c', script] }, stop_grace: 2 } },
  });
  assert.strictEqual(r.status, 201, r.text);
  return r.json.id;
}

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('walk-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('walk-node', s.yard.url, e.json.token);
  kit = taskKit(s, admin, agent);
  running = await taskOf('walk-echo', 'echo started; while :; do echo tick; sleep 1; done');
  fresh = await taskOf('walk-idle', 'exec sleep 300');
  const c = await s.api('POST', '/api/v1/commands', { token: admin, body: { type: 'start', task_id: running } });
  assert.strictEqual(c.status, 201, c.text);
  await waitFor(() => s.sql(`SELECT state FROM tasks WHERE id = ${running}`) === 'running', 20000);
  // Some output for the logs page and a sample or two for the charts.
  await new Promise((r) => setTimeout(r, 3000));
});
test.after(async () => {
  // Tasks outlive their agent: end them with the stack.
  if (kit) kit.killAll();
  if (b) await b.close();
  if (s) await s.stop();
});

// The pages: every module folder, plus a task's and a node's own page.
function pages() {
  const dir = path.join(TOP, 'frontend-fragments');
  const mods = fs.readdirSync(dir).filter((m) => m !== 'shared' &&
    fs.existsSync(path.join(dir, m, 'index.html'))).sort();
  const extra = { logs: `?task=${running}`, metrics: `?task=${running}` };
  const out = mods.map((m) => ({ name: m, path: `/ui/${m}${extra[m] || ''}` }));
  out.push({ name: 'task', path: `/ui/tasks/${running}` });
  // The task page's Logs tab: the logs view, following the task.
  out.push({ name: 'task-logs', path: `/ui/tasks/${running}?tab=logs` });
  out.push({ name: 'node', path: `/ui/nodes/${agent.nodeId}` });
  return out;
}

// In the page: text overflowing its box, and visible text with its
// context (whether it sits in code, an input or marked data).
function inspect() {
  const out = { overflow: [], texts: [], state: document.body.dataset.yardPage || '' };
  const de = document.documentElement;
  if (de.scrollWidth > de.clientWidth + 1)
    out.overflow.push(`the page scrolls sideways: ${de.scrollWidth} > ${de.clientWidth}`);
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') || el.closest('[hidden]')) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || el.clientWidth === 0) continue;
    if (['auto', 'scroll', 'hidden', 'clip'].includes(cs.overflowX)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (own && el.scrollWidth > el.clientWidth + 1)
      out.overflow.push(`${describe(el)}: "${el.textContent.trim().slice(0, 60)}" is ${el.scrollWidth}px in ${el.clientWidth}px`);
  }
  const data = 'code, pre, kbd, samp, textarea, [data-yard-data]';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent.trim();
    const el = n.parentElement;
    if (t === '' || el.closest('script, style, [hidden]') || el.closest(data)) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    if (el.closest('svg') === null && el.getClientRects().length === 0) continue;
    out.texts.push({ where: describe(el), text: t });
  }
  for (const el of document.body.querySelectorAll('[placeholder], [aria-label], [title]')) {
    if (el.closest('[hidden]') || el.closest(data)) continue;
    for (const a of ['placeholder', 'aria-label', 'title']) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.texts.push({ where: describe(el) + `[${a}]`, text: v.trim() });
    }
  }
  return out;
}

// open(page): what opens a dialog once the page is ready.
async function visit(p, lang, theme, width, open) {
  const ctx = await b.newContext({ viewport: { width, height: 900 } });
  const page = await ctx.newPage();
  const problems = [];
  const words = new Set();
  const pending = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // Long-polls the page ends by leaving are not failures.
    if (!/aborted/i.test(r.failure().errorText)) problems.push(`request failed: ${r.url()} ${r.failure().errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
    if (/\/api\//.test(r.url()) && /json/.test(r.headers()['content-type'] || ''))
      pending.push(r.json().then((j) => dataWords(j, words)).catch(() => {}));
  });
  const sep = p.path.includes('?') ? '&' : '?';
  const tag = `${p.name}-${lang}-${theme}-${width}`;
  try {
    await page.goto(`${s.yard.url}${p.path}${sep}lang=${lang}&theme=${theme}#access_token=${admin}`);
    await page.waitForFunction(() => ['ready', 'forbidden', 'error'].includes(document.body.dataset.yardPage),
      null, { timeout: 15000 }).catch(() => problems.push('the page never left "' +
        'loading"'));
    await page.waitForTimeout(400);
    await Promise.all(pending);
    const seen = await page.evaluate(inspect);
    if (open) {
      await open(page);
      await page.waitForTimeout(300);
      await Promise.all(pending);
      Object.assign(seen, await page.evaluate(inspect));
    }
    if (seen.state !== 'ready') problems.push(`page state "${seen.state}", not ready`);
    problems.push(...seen.overflow.map((o) => 'overflow: ' + o));
    if (lang === 'zh-CN') {
      for (const { where, text } of seen.texts) {
        const bad = foreignWords(text, words);
        if (bad.length) problems.push(`Latin text in ${where}: "${text.slice(0, 80)}" (${bad.join(', ')})`);
      }
    }
    await page.evaluate(AXE);
    const axe = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    }));
    for (const v of axe.violations)
      problems.push(`axe ${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  } finally {
    const dir = path.join(shotDir(), 'walk');
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, tag + '.png'), fullPage: true }).catch(() => {});
    await ctx.close();
  }
  return problems.map((x) => `${tag}: ${x}`);
}

for (const lang of ['zh-CN', 'en']) {
  for (const theme of ['light', 'dark']) {
    test(`every page in ${lang}, ${theme}: no console error, failed request, axe violation, overflow or untranslated text`, async () => {
      const problems = [];
      const widths = theme === 'light' ? [1440, 1024] : [1440];
      for (const p of pages())
        for (const w of widths) problems.push(...await visit(p, lang, theme, w));
      assert.deepStrictEqual(problems, []);
    });
  }
}

// The dialogs: each opened the way a user opens it.
function dialogs() {
  const row = (id) => `tr[data-task-id="${id}"]`;
  const menu = (id, action) => async (page) => {
    await page.locator(`${row(id)} [data-action="more"]`).click({ timeout: 10000 });
    await page.locator(`${row(id)} [role=menu] [data-action="${action}"]`).click({ timeout: 5000 });
  };
  return [
    { name: 'task-drawer', path: '/ui/tasks', open: async (page) => {
      await page.locator('#task-new').click({ timeout: 10000 });
      await page.locator('#task-drawer[open]').waitFor({ timeout: 5000 });
    } },
    { name: 'task-menu', path: '/ui/tasks', open: async (page) => {
      await page.locator(`${row(running)} [data-action="more"]`).click({ timeout: 10000 });
      await page.locator(`${row(running)} [role=menu]`).waitFor({ timeout: 5000 });
    } },
    { name: 'stop-confirm', path: '/ui/tasks', open: async (page) => {
      await page.locator(`${row(running)} [data-action="stop"]`).click({ timeout: 10000 });
      await page.locator('#yard-confirm[open]').waitFor({ timeout: 5000 });
    } },
    { name: 'mute-dialog', path: '/ui/tasks', open: async (page) => {
      await menu(running, 'mute')(page);
      await page.locator('#mute-dialog[open]').waitFor({ timeout: 5000 });
    } },
    { name: 'deploy-dialog', path: '/ui/tasks', open: async (page) => {
      await menu(fresh, 'deploy')(page);
      await page.locator('#deploy-dialog[open]').waitFor({ timeout: 5000 });
    } },
    { name: 'move-dialog', path: '/ui/tasks', open: async (page) => {
      await menu(fresh, 'move')(page);
      await page.locator('#move-dialog[open]').waitFor({ timeout: 5000 });
    } },
    { name: 'enrol-panel', path: '/ui/nodes', open: async (page) => {
      await page.locator('[data-action="enroll"]').first().click({ timeout: 10000 });
      await page.locator('#enroll-command', { hasText: 'yard-agent' }).waitFor({ timeout: 5000 });
    } },
  ];
}

for (const lang of ['zh-CN', 'en']) {
  test(`every dialog in ${lang}, light and dark: the same checks, open`, async () => {
    const problems = [];
    for (const theme of ['light', 'dark'])
      for (const d of dialogs()) problems.push(...await visit(d, lang, theme, 1440, d.open));
    assert.deepStrictEqual(problems, []);
  });
}
