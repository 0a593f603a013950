// SSO against the real server: every classic JWT attack (RFC 8725) gets
// 401 with the worker alive, and valid tokens work (SPEC 3.1, 3.3).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const { startStack } = require('../lib/stack.js');
const jwt = require('../lib/jwt.js');

let s;
test.before(async () => { s = await startStack(); });
test.after(async () => { await s.stop(); });

async function me(token) {
  return s.api('GET', '/api/v1/me', { token });
}

function tamper(token, fn) {
  const [h, p, sig] = token.split('.');
  return fn(h, p, sig);
}

test('valid RS256 and ES256 tokens are accepted and provision the user', async () => {
  let r = await me(s.token('alice', { name: 'Alice' }));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.sub, 'alice');
  assert.strictEqual(r.json.name, 'Alice');
  assert.strictEqual(r.json.admin, false);
  assert.deepStrictEqual(r.json.grants, []);
  const es = jwt.sign({ alg: 'ES256', typ: 'JWT' }, jwt.claims({ sub: 'alice' }), s.keys.ec.privateKey);
  r = await me(es);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(s.sql("SELECT count(*) FROM users WHERE sub = 'alice'"), '1');
});

test('the EWS admin role makes an admin', async () => {
  const r = await me(s.adminToken('boss'));
  assert.strictEqual(r.json.admin, true);
});

test('missing, malformed and non-bearer credentials answer 401 with login_url', async () => {
  let r = await me(undefined);
  assert.strictEqual(r.status, 401);
  assert.strictEqual(r.json.error, 'missing_token');
  assert.match(r.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
  assert.ok(r.json.login_url.startsWith('http://127.0.0.1:1/login?redirect_uri='));
  r = await s.api('GET', '/api/v1/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
  assert.strictEqual(r.json.error, 'missing_token');
  for (const bad of ['abc', 'a.b', 'a.b.c.d', '...', 'a.b.c=', 'e30.e30.', '\u00e9.e30.e30']) {
    r = await s.api('GET', '/api/v1/me', { headers: { authorization: 'Bearer ' + encodeURIComponent(bad) } });
    assert.strictEqual(r.status, 401, bad);
    assert.strictEqual(r.json.error, 'invalid_token', bad);
  }
});

test('login_url returns to the calling page when it is one of ours', async () => {
  const r = await s.api('GET', '/api/v1/me', {
    headers: { referer: s.yard.url + '/ui/users?x=1#frag' },
  });
  const u = new URL(r.json.login_url);
  assert.strictEqual(u.searchParams.get('redirect_uri'), s.yard.url + '/ui/users?x=1');
});

test('alg none in any spelling is refused', async () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const t = jwt.sign({ alg, typ: 'JWT' }, jwt.claims({ sub: 'mallory' }), null);
    const r = await me(t);
    assert.strictEqual(r.status, 401, alg);
    // with a bogus signature too
    const r2 = await me(t + 'AAAA');
    assert.strictEqual(r2.status, 401, alg);
  }
});

test('HS256 signed with the RSA public key (key confusion) is refused', async () => {
  for (const alg of ['HS256', 'hs256']) {
    const t = jwt.sign({ alg, typ: 'JWT' }, jwt.claims({ sub: 'mallory', roles: ['yard-admin'] }),
      Buffer.from(s.keys.rsaPem));
    const r = await me(t);
    assert.strictEqual(r.status, 401, alg);
  }
});

test('a token signed by another key is refused', async () => {
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const r = await me(jwt.sign({ alg: 'RS256', typ: 'JWT' }, jwt.claims({ sub: 'mallory' }), other.privateKey));
  assert.strictEqual(r.status, 401);
  assert.strictEqual(r.json.error, 'invalid_token');
});

test('expired, future and skewed times', async () => {
  const now = Math.floor(Date.now() / 1000);
  let r = await me(s.token('t1', { exp: now - 3600, iat: now - 7200, nbf: now - 7200 }));
  assert.strictEqual(r.status, 401);
  assert.strictEqual(r.json.error, 'token_expired');
  r = await me(s.token('t1', { exp: now - 30 })); // within the 60 s skew
  assert.strictEqual(r.status, 200);
  r = await me(s.token('t1', { nbf: now + 3600 }));
  assert.strictEqual(r.status, 401);
  r = await me(s.token('t1', { iat: now + 3600, exp: now + 7200 }));
  assert.strictEqual(r.status, 401);
  r = await me(s.token('t1', { exp: String(now + 600) }));
  assert.strictEqual(r.status, 401);
  r = await me(s.token('t1', { exp: undefined }));
  assert.strictEqual(r.status, 401);
});

test('wrong issuer or audience; audience arrays', async () => {
  let r = await me(s.token('t2', { iss: 'evil-ews' }));
  assert.strictEqual(r.status, 401);
  r = await me(s.token('t2', { aud: 'other' }));
  assert.strictEqual(r.status, 401);
  r = await me(s.token('t2', { aud: ['other', 'yard'] }));
  assert.strictEqual(r.status, 200);
  r = await me(s.token('t2', { aud: ['other'] }));
  assert.strictEqual(r.status, 401);
  r = await me(s.token('t2', { sub: '' }));
  assert.strictEqual(r.status, 401);
});

test('duplicate claims and header members are refused', async () => {
  const now = Math.floor(Date.now() / 1000);
  const payload = `{"iss":"test-ews","aud":"yard","sub":"alice","exp":${now + 600},"sub":"admin"}`;
  let r = await me(jwt.sign({ alg: 'RS256', typ: 'JWT' }, payload, s.keys.rsa.privateKey));
  assert.strictEqual(r.status, 401);
  const header = '{"alg":"RS256","alg":"none","typ":"JWT"}';
  r = await me(jwt.sign(header, jwt.claims({ sub: 'alice' }), s.keys.rsa.privateKey));
  assert.strictEqual(r.status, 401);
});

test('kid, jku, x5u and jwk tricks are refused and never fetched', async () => {
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  // A kid is only ever a key into the configured keys: never a path, never
  // SQL.  Signed by a foreign key, any kid is refused...
  for (const kid of ['../../../../dev/null', "x' UNION SELECT 1--", '']) {
    const r = await me(jwt.sign({ alg: 'RS256', typ: 'JWT', kid }, jwt.claims({ sub: 'alice' }), other.privateKey));
    assert.strictEqual(r.status, 401, kid);
  }
  // ...and signed by a configured key it does not change which key verifies.
  const r0 = await me(jwt.sign({ alg: 'RS256', typ: 'JWT', kid: '../../../../dev/null' },
    jwt.claims({ sub: 'alice' }), s.keys.rsa.privateKey));
  assert.strictEqual(r0.status, 200);
  // Header-borne keys and key URLs are refused outright, even when the
  // signature is good.
  for (const extra of [{ jku: 'http://127.0.0.1:1/jwks' }, { x5u: 'http://127.0.0.1:1/cert' },
    { jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }, { x5c: ['AAAA'] }, { crit: ['exp'] }]) {
    const r = await me(jwt.sign(Object.assign({ alg: 'RS256', typ: 'JWT' }, extra),
      jwt.claims({ sub: 'alice' }), s.keys.rsa.privateKey));
    assert.strictEqual(r.status, 401, JSON.stringify(extra));
  }
});

test('tampered payload, signature malleability, oversize and huge headers', async () => {
  const good = s.token('alice');
  let r = await me(tamper(good, (h, p, sig) => `${h}.${jwt.b64u(JSON.stringify(jwt.claims({ sub: 'admin' })))}.${sig}`));
  assert.strictEqual(r.status, 401);
  r = await me(good + '!!');
  assert.strictEqual(r.status, 401);
  r = await me(good + '=');
  assert.strictEqual(r.status, 401);
  const big = s.token('alice', { pad: 'x'.repeat(9000) });
  assert.ok(big.length > 8192);
  r = await me(big);
  assert.strictEqual(r.status, 401);
  // A 12 kB header line: refused by the server without a crash.
  const huge = 'e' + 'x'.repeat(12000) + '.e30.e30';
  const res = await fetch(s.yard.url + '/api/v1/me', { headers: { authorization: 'Bearer ' + huge } })
    .then((x) => x.status).catch(() => 'dropped');
  assert.notStrictEqual(res, 200);
  r = await me(good);
  assert.strictEqual(r.status, 200, 'the server still answers');
});

test('typ other than JWT or at+jwt and payloads that are not objects', async () => {
  let r = await me(jwt.sign({ alg: 'RS256', typ: 'JOSE' }, jwt.claims({ sub: 'alice' }), s.keys.rsa.privateKey));
  assert.strictEqual(r.status, 401);
  r = await me(jwt.sign({ alg: 'RS256', typ: 'JWT' }, '[1,2,3]', s.keys.rsa.privateKey));
  assert.strictEqual(r.status, 401);
});

test('a cached token still expires', async () => {
  const now = Math.floor(Date.now() / 1000);
  const t = s.token('shortlived', { exp: now - 58 }); // 2 s of skew left
  let r = await me(t);
  assert.strictEqual(r.status, 200);
  await new Promise((res) => setTimeout(res, 3000));
  r = await me(t);
  assert.strictEqual(r.status, 401);
  assert.strictEqual(r.json.error, 'token_expired');
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
