// Start-up refuses bad settings with a message naming the variable, and
// refuses to run without a usable verification key (SPEC 9, issue 2).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { TOP } = require('../lib/stack.js');
const jwt = require('../lib/jwt.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-startup-'));
const keys = jwt.keys();
fs.writeFileSync(path.join(dir, 'rsa.pem'), keys.rsaPem);
fs.writeFileSync(path.join(dir, 'junk.pem'), 'not a key\n');
fs.writeFileSync(path.join(dir, 'short.key'), 'sixteen bytes..\n');
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

function start(env) {
  const r = spawnSync(path.join(TOP, 'scripts', 'yard-server'), [], {
    env: Object.assign({}, process.env, {
      YARD_LISTEN: '127.0.0.1:1', YARD_RUN_DIR: path.join(dir, 'run'),
      YARD_PG_DSN: 'postgresql://nobody@127.0.0.1:1/none?connect_timeout=1',
      YARD_EWS_PUBLIC_KEY_FILE: path.join(dir, 'rsa.pem'), YARD_PG_START_WAIT: '1',
    }, env),
    encoding: 'utf8', timeout: 20000,
  });
  return { code: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

for (const [env, needle] of [
  [{ YARD_EWS_CLOCK_SKEW: 'abc' }, 'YARD_EWS_CLOCK_SKEW'],
  [{ YARD_EWS_CLOCK_SKEW: '601' }, 'YARD_EWS_CLOCK_SKEW'],
  [{ YARD_AUTO_PROVISION: '2' }, 'YARD_AUTO_PROVISION'],
  [{ YARD_EWS_ORIGINS: 'http://ews.example/path' }, 'YARD_EWS_ORIGINS'],
  [{ YARD_EWS_LOGIN_URL: 'javascript:alert(1)' }, 'YARD_EWS_LOGIN_URL'],
  [{ YARD_EWS_ISSUER: '' }, 'YARD_EWS_ISSUER'],
  [{ YARD_REDIS_URL: 'http://x' }, 'YARD_REDIS_URL'],
  [{ YARD_SMTP_URL: 'ftp://x' }, 'YARD_SMTP_URL'],
  [{ YARD_SMTP_URL: 'smtps://127.0.0.1:1' }, 'YARD_SMTP_FROM'],
  [{ YARD_SMTP_URL: 'smtps://127.0.0.1:1', YARD_SMTP_FROM: 'a@b.example',
    YARD_SMTP_PASSWORD_FILE: '/nonexistent' }, 'YARD_SMTP_PASSWORD_FILE'],
  [{ YARD_EWS_NOTIFY_URL: 'http://127.0.0.1:1/n' }, 'YARD_EWS_NOTIFY_SECRET_FILE'],
  [{ YARD_EWS_NOTIFY_URL: 'http://127.0.0.1:1/n', YARD_EWS_NOTIFY_SECRET_FILE: '/nonexistent' },
    'YARD_EWS_NOTIFY_SECRET_FILE'],
  [{ YARD_EWS_ALGS: 'RS256,none' }, 'YARD_EWS_ALGS'],
  [{ YARD_EWS_ALGS: 'HS256' }, 'YARD_EWS_HS256_SECRET_FILE'],
  [{ YARD_EWS_PUBLIC_KEY_FILE: '/nonexistent.pem' }, 'YARD_EWS_PUBLIC_KEY_FILE'],
  [{ YARD_EWS_PUBLIC_KEY_FILE: path.join(dir, 'junk.pem') }, 'YARD_EWS_PUBLIC_KEY_FILE'],
  [{ YARD_EWS_PUBLIC_KEY_FILE: '' }, 'no usable verification key'],
  [{ YARD_EWS_PUBLIC_KEY_FILE: '', YARD_EWS_JWKS_URL: 'http://127.0.0.1:1/jwks' }, 'YARD_EWS_JWKS_URL'],
  [{ YARD_SETTINGS_FILE: '/nonexistent.conf' }, 'YARD_SETTINGS_FILE'],
  [{ YARD_CONFIG_KEY_FILE: '/nonexistent.key' }, 'YARD_CONFIG_KEY_FILE: cannot read /nonexistent.key'],
  [{ YARD_CONFIG_KEY_FILE: path.join(dir, 'short.key') }, 'must hold 32 bytes or 64 hex characters'],
]) {
  test(`refuses ${JSON.stringify(env)}`, () => {
    const r = start(env);
    assert.notStrictEqual(r.code, 0, r.out);
    assert.ok(r.out.includes(needle), `expected "${needle}" in:\n${r.out}`);
  });
}

test('a settings file: unknown keys and bad values name the line', () => {
  const f = path.join(dir, 'settings.conf');
  fs.writeFileSync(f, '# comment\news_issuer corp-ews\nbogus_key 1\n');
  let r = start({ YARD_SETTINGS_FILE: f });
  assert.notStrictEqual(r.code, 0);
  assert.match(r.out, /settings file:3: unknown setting 'bogus_key'/);
  fs.writeFileSync(f, 'ews_clock_skew -5\n');
  r = start({ YARD_SETTINGS_FILE: f });
  assert.match(r.out, /settings file:1: YARD_EWS_CLOCK_SKEW/);
});

test('with good settings it gets as far as PostgreSQL and says so', () => {
  const r = start({});
  assert.notStrictEqual(r.code, 0);
  assert.match(r.out, /YARD_PG_DSN: cannot connect/);
});

test('the default key file is created (32 random bytes, 0600) and kept', () => {
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  const key = path.join(home, 'var', 'config.key');
  let r = start({ YARD_HOME: home });
  assert.ok(fs.existsSync(key), r.out);
  const st = fs.statSync(key);
  assert.strictEqual(st.size, 32);
  assert.strictEqual(st.mode & 0o777, 0o600);
  const first = fs.readFileSync(key);
  assert.ok(!first.equals(Buffer.alloc(32)));
  r = start({ YARD_HOME: home });
  assert.ok(fs.readFileSync(key).equals(first), 'the key is kept across starts');
  assert.ok(!fs.readdirSync(path.join(home, 'var')).some((f) => f.endsWith('.tmp')));
  // An explicit key of 64 hex characters is taken; it gets as far as
  // PostgreSQL.
  const hex = path.join(dir, 'hex.key');
  fs.writeFileSync(hex, 'ab'.repeat(32) + '\n');
  r = start({ YARD_CONFIG_KEY_FILE: hex });
  assert.match(r.out, /YARD_PG_DSN: cannot connect/);
});
