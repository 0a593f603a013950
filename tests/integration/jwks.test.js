// Keys from a JWKS URL: fetched at start, re-fetched off the event loop
// when an unknown kid arrives, at most once per YARD_JWKS_REFRESH_MIN.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const crypto = require('node:crypto');
const { startStack, sleep } = require('../lib/stack.js');
const jwt = require('../lib/jwt.js');

let s, jwksSrv, hits = 0, started;
const k1 = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const k2 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
let published = [];

function jwk(pair, kid, alg) {
  return Object.assign(pair.publicKey.export({ format: 'jwk' }), { kid, alg, use: 'sig' });
}

test.before(async () => {
  published = [jwk(k1, 'k1', 'RS256')];
  jwksSrv = http.createServer((req, res) => {
    hits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: published }));
  });
  await new Promise((r) => jwksSrv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${jwksSrv.address().port}/.well-known/jwks.json`;
  s = await startStack({ env: { YARD_EWS_JWKS_URL: url, YARD_EWS_PUBLIC_KEY_FILE: '',
    YARD_JWKS_REFRESH_MIN: '10', YARD_WORKERS: '1' } });
  started = Date.now();
});
test.after(async () => { await s.stop(); jwksSrv.close(); });

const tok = (pair, kid, alg) => jwt.sign({ alg, typ: 'JWT', kid }, jwt.claims({ sub: 'jw' }), pair.privateKey);
const me = (t) => s.api('GET', '/api/v1/me', { token: t });

test('keys from the JWKS fetched at start verify tokens', async () => {
  assert.strictEqual(hits, 1);
  const r = await me(tok(k1, 'k1', 'RS256'));
  assert.strictEqual(r.status, 200, r.text);
});

test('an unknown kid within the refresh interval is refused without a fetch', async () => {
  published.push(jwk(k2, 'k2', 'ES256'));
  const r = await me(tok(k2, 'k2', 'ES256'));
  assert.strictEqual(r.status, 401);
  assert.strictEqual(hits, 1);
});

test('after the interval an unknown kid triggers one fetch, then verifies', async () => {
  await sleep(Math.max(0, 10500 - (Date.now() - started)));
  let r = await me(tok(k2, 'k2', 'ES256'));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(hits, 2);
  // Another unknown kid right away: refused, no fetch storm.
  const k3 = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  for (let i = 0; i < 5; i++) {
    r = await me(tok(k3, 'k3', 'RS256'));
    assert.strictEqual(r.status, 401);
  }
  assert.strictEqual(hits, 2);
});

test('a key withdrawn from the JWKS stops verifying after the next refresh', async () => {
  published = [jwk(k2, 'k2', 'ES256')];
  await sleep(10500);
  const k4 = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  await me(tok(k4, 'k4', 'RS256')); // unknown kid: triggers the refresh
  const r = await me(tok(k1, 'k1', 'RS256'));
  assert.strictEqual(r.status, 401, 'k1 is gone');
  assert.strictEqual(hits, 3);
});

test('no worker died (the JWKS task thread ran under the sandbox)', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
