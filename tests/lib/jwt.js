// JWT minting for tests: an independent signer (node:crypto) so the
// server's verifier is checked against something it does not share code with.
'use strict';
const crypto = require('node:crypto');

function b64u(buf) {
  return Buffer.from(buf).toString('base64url');
}

// sign(header, payload, key): key is a KeyObject (RS*/ES*) or a Buffer (HS*).
function sign(header, payload, key) {
  const h = typeof header === 'string' ? header : JSON.stringify(header);
  const p = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const input = b64u(h) + '.' + b64u(p);
  const alg = (typeof header === 'string' ? JSON.parse(header) : header).alg;
  let sig;
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512':
      sig = crypto.sign('sha' + alg.slice(2), Buffer.from(input), key);
      break;
    case 'ES256': case 'ES384': case 'ES512':
      sig = crypto.sign('sha' + alg.slice(2), Buffer.from(input),
        { key, dsaEncoding: 'ieee-p1363' });
      break;
    case 'HS256': case 'hs256':
      sig = crypto.createHmac('sha256', key).update(input).digest();
      break;
    default:
      sig = Buffer.alloc(0);
  }
  return input + '.' + b64u(sig);
}

function keys() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    rsa,
    ec,
    rsaPem: rsa.publicKey.export({ type: 'spki', format: 'pem' }),
    ecPem: ec.publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

// claims(overrides): a valid claim set for the test issuer/audience.
function claims(over = {}) {
  const now = Math.floor(Date.now() / 1000);
  return Object.assign({
    iss: 'test-ews', aud: 'yard', sub: 'u-test', name: 'Test User',
    email: 'test@example.test', roles: [], iat: now, nbf: now,
    exp: now + 600, jti: crypto.randomUUID(),
  }, over);
}

module.exports = { sign, keys, claims, b64u };
