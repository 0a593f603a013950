// Browser, zh-CN: a failed start's result reads in Chinese, its reason
// worded from the agent's reason_code (docs/agent-protocol.md, "Reason
// codes") with no Latin word but the data it names (the program's path,
// the error's symbolic name); every documented reason code has words in
// both languages; an unknown code falls back to the agent's English
// (issue 13).  The tasks list tells a policy refusal by its code.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startE2E, browser, TOP } = require('../lib/stack.js');
const { taskKit } = require('../lib/tasks.js');
const { foreignWords, dataWords } = require('../lib/latin.js');

let s, b, agent, admin, k;

test.before(async () => {
  s = await startE2E({ env: { YARD_HEARTBEAT_INTERVAL: '1' } });
  b = await browser();
  admin = await s.mint('u-admin', ['yard-admin']);
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  agent = await s.agent('reasons-page', s.yard.url, e.json.token);
  k = taskKit(s, admin, agent);
});
test.after(async () => {
  if (k) k.killAll();
  if (b) await b.close();
  if (s) await s.stop();
});

test('a start whose program is missing reads in Chinese, naming only data', async () => {
  const prog = path.join(s.dir, 'deploy', 'noprog-zh', 'bin', 'run.sh');
  const id = await k.create('noprog-zh', {
    kind: 'console', deploy_dir: path.join(s.dir, 'deploy', 'noprog-zh'),
    console: { command: prog }, stop_grace: 2,
  });
  const d = await k.run('start', id);
  assert.strictEqual(d.state, 'failed', d.output);
  assert.strictEqual(d.params.reason_code, 'exec_failed', JSON.stringify(d.params));
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=commands&lang=zh-CN&query=${encodeURIComponent('task=' + id)}`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    const f = page.frameLocator('#yard-frame');
    const row = f.locator(`tr[data-command-id="${d.id}"][data-state="failed"]`);
    await row.waitFor({ timeout: 15000 });
    await row.locator('button[data-action=toggle]').click();
    await f.locator('#detail-result', { hasText: '启动失败' }).waitFor({ timeout: 10000 });
    const result = await f.locator('#detail-result').innerText();
    assert.strictEqual(result, `启动失败：无法运行 ${prog}：文件或目录不存在（ENOENT）`);
    // No Latin word but what the machine form names (never the
    // agent's English, which is not counted as data here).
    const data = dataWords([d.params.reason_path, d.params.reason_errno]);
    assert.deepStrictEqual(foreignWords(result, data), [], result);
    assert.doesNotMatch(result, /cannot|such|file|directory/i);
    // The agent's own words stay at hand, folded away.
    assert.strictEqual(await f.locator('#detail-output').textContent(),
      `start failed: cannot run ${prog}: No such file or directory`);
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', 'reasons-zh.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
});

test('the tasks list words a policy refusal in Chinese, and knows it for one from its code', async () => {
  const id = await k.console('preload-zh', 'id', { env: { LD_PRELOAD: '/tmp/evil.so' } });
  const d = await k.run('start', id);
  assert.strictEqual(d.params.reason_code, 'policy_env_refused', JSON.stringify(d.params));
  // The words say "policy:" too; that they are not what is read here,
  // an output without them shows.
  s.sql(`UPDATE commands SET output = 'start failed' WHERE id = '${d.id}'`);
  const ctx = await b.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=tasks&lang=zh-CN`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    const f = page.frameLocator('#yard-frame');
    const box = f.locator(`tr[data-last-command-of="${id}"]`);
    await box.waitFor({ timeout: 15000 });
    assert.strictEqual(await box.getAttribute('data-policy'), '1');
    const text = await box.locator('pre').innerText();
    assert.strictEqual(text, '启动失败：节点策略（refuse_env）：不允许环境变量 LD_PRELOAD（匹配 LD_*）');
    const data = dataWords([d.params.reason_rule, d.params.reason_name, d.params.reason_pattern]);
    assert.deepStrictEqual(foreignWords(text, data), [], text);
  } catch (e) {
    fs.mkdirSync(path.join(TOP, 'tests', 'e2e', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(TOP, 'tests', 'e2e', 'screenshots', 'reasons-tasks-zh.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await ctx.close();
  }
});

// The reason codes docs/agent-protocol.md lists.
function documentedCodes() {
  const doc = fs.readFileSync(path.join(TOP, 'docs', 'agent-protocol.md'), 'utf8');
  const from = doc.indexOf('#### Reason codes');
  assert.ok(from !== -1, 'docs/agent-protocol.md has no "Reason codes" section');
  const sect = doc.slice(from, doc.indexOf('\n### ', from));
  return [...sect.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]);
}

test('every documented reason code has words in both languages, the same as the agent knows', () => {
  global.window = {};
  require(path.join(TOP, 'frontend-fragments', 'shared', 'i18n.js'));
  const { 'zh-CN': zh, en } = global.window.YardI18n;
  const codes = documentedCodes();
  assert.ok(codes.length >= 70, String(codes.length));
  const src = fs.readFileSync(path.join(TOP, 'src', 'agentproto', 'reasons.c'), 'utf8');
  const known = [...src.matchAll(/^\t"([a-z0-9_]+)",$/gm)].map((m) => m[1]);
  assert.deepStrictEqual([...codes].sort(), [...known].sort(), 'docs and agentproto list the same codes');
  for (const c of codes) {
    assert.ok(zh['reason.' + c], `zh-CN reason.${c}`);
    assert.ok(en['reason.' + c], `en reason.${c}`);
  }
});

test('Yard.reasonText words nested reasons and falls back on an unknown code', async () => {
  const ctx = await b.newContext();
  const page = await ctx.newPage();
  try {
    await page.goto(`${s.ews.url}/?module=commands&lang=zh-CN`);
    await page.waitForURL(/\/login/);
    await page.click('#login-u-admin');
    const frame = page.frameLocator('#yard-frame');
    await frame.locator('body').waitFor();
    const h = await page.locator('#yard-frame').elementHandle();
    const fr = await h.contentFrame();
    await fr.waitForFunction(() => window.Yard && typeof window.Yard.commandText === 'function');
    const out = await fr.evaluate(() => {
      const Y = window.Yard;
      return {
        nested: Y.commandText({ code: 'release_failed_rolled_back', output: 'x', params: {
          reason: 'not healthy within 30 s (HTTP 503, expected 200)', release: 2, after: '', healthy_again: 1,
          reason_code: 'not_healthy_within', reason_timeout_s: 30, reason_health: 'health_status',
          reason_status: 503, reason_expected: 200 } }),
        policy: Y.commandText({ code: 'start_failed', output: 'x', params: {
          reason: 'policy: no account named x here (user)', reason_code: 'policy_account',
          reason_account: 'account_unknown', reason_user: 'tomcat7', reason_rule: 'user' } }),
        unknown: Y.commandText({ code: 'start_failed', output: 'x', params: {
          reason: 'something new happened', reason_code: 'from_a_newer_agent' } }),
      };
    });
    assert.strictEqual(out.nested, '失败：30 秒内未通过健康检查（HTTP 状态码为 503，应为 200）；已回滚到版本 2；已恢复健康');
    assert.strictEqual(out.policy, '启动失败：节点策略（user）：本机没有名为 tomcat7 的账户');
    assert.strictEqual(out.unknown, '启动失败：something new happened');
  } finally {
    await ctx.close();
  }
});
