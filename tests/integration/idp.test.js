// Sign-in with tokens real identity providers issue: oidc-provider (its
// RFC 9068 access tokens, unmodified) serving the JWKS Yard fetches, and
// tokens shaped as Keycloak and Entra ID issue them, signed with jose and
// jsonwebtoken under the same keys.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const jsonwebtoken = require('jsonwebtoken');
const { startStack } = require('../lib/stack.js');
const { startIdp, jwk } = require('../lib/oidc.js');

const rsa = jwk('RS256', 'rs-1');
const ec = jwk('ES256', 'es-1');
const ACCOUNTS = {
  alice: { name: 'Alice Example', email: 'alice@example.test', roles: ['dev', 'yard-admin'] },
  bob: { name: 'Bob Example', email: 'bob@example.test', roles: ['dev'] },
};
let idp, s, kc, jose;

test.before(async () => {
  jose = await import('jose');
  idp = await startIdp({ keys: [rsa, ec], accounts: ACCOUNTS });
  s = await startStack({
    env: {
      YARD_EWS_JWKS_URL: idp.jwksUri, YARD_EWS_ISSUER: idp.issuer, YARD_EWS_PUBLIC_KEY_FILE: '',
      YARD_WORKERS: '1',
    },
  });
  // The same instance's data, read with Keycloak's role paths.
  kc = await s.startAnother({ YARD_EWS_ROLES_PATHS: 'realm_access.roles,resource_access.yard.roles' });
});
test.after(async () => {
  if (s) await s.stop();
  if (idp) await idp.stop();
});

async function me(token, url = s.yard.url) {
  const r = await fetch(url + '/api/v1/me', { headers: { authorization: 'Bearer ' + token } });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text, headers: r.headers };
}

const part = (t, i) => JSON.parse(Buffer.from(t.split('.')[i], 'base64url'));
const now = () => Math.floor(Date.now() / 1000);

// Claims any issuer sends, for tokens made here.
function base(over = {}) {
  return Object.assign({
    iss: idp.issuer, aud: 'yard', sub: 'u-' + crypto.randomBytes(4).toString('hex'),
    iat: now(), exp: now() + 600, jti: crypto.randomUUID(),
  }, over);
}

// jose: header exactly as given (alg and kid of key added).
async function joseSign(claims, key = rsa, header = { typ: 'JWT' }) {
  const k = await jose.importJWK(key, key.alg);
  return new jose.SignJWT(claims).setProtectedHeader(Object.assign({ alg: key.alg, kid: key.kid }, header))
    .sign(k);
}

function jwtSign(claims, key = rsa, header = {}) {
  const pem = crypto.createPrivateKey({ key, format: 'jwk' });
  return jsonwebtoken.sign(claims, pem, { algorithm: key.alg, keyid: key.kid, header });
}

test('the client credentials token of the EWS backend signs in and may upload', async () => {
  const t = await idp.clientToken('packages:upload');
  assert.deepStrictEqual(part(t, 0), { alg: 'RS256', typ: 'at+jwt', kid: 'rs-1' });
  assert.strictEqual(part(t, 1).scope, 'packages:upload');
  const r = await me(t);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.sub, 'ews');
  assert.strictEqual(r.json.name, 'ews', 'no name claim: sub is the name');
  assert.strictEqual(r.json.upload, true);
  assert.strictEqual(r.json.admin, false);
  // Without the scope, no upload.
  const t2 = await idp.clientToken('');
  assert.strictEqual(part(t2, 1).scope, undefined);
  const r2 = await me(t2);
  assert.strictEqual(r2.status, 200, r2.text);
  assert.strictEqual(r2.json.upload, false);
});

test('user tokens from the code flow carry name, e-mail and the admin role (RS256)', async () => {
  const ta = await idp.userToken('alice');
  assert.strictEqual(part(ta, 0).typ, 'at+jwt');
  let r = await me(ta);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.sub, 'alice');
  assert.strictEqual(r.json.name, 'Alice Example');
  assert.strictEqual(r.json.email, 'alice@example.test');
  assert.strictEqual(r.json.admin, true);
  assert.strictEqual(r.json.upload, false);
  r = await me(await idp.userToken('bob'));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.name, 'Bob Example');
  assert.strictEqual(r.json.admin, false);
});

test('ES256 access tokens after the provider restarts signing with its EC key', async () => {
  await idp.restart({ alg: 'ES256' });
  try {
    const ta = await idp.userToken('alice');
    assert.deepStrictEqual(part(ta, 0), { alg: 'ES256', typ: 'at+jwt', kid: 'es-1' });
    let r = await me(ta);
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(r.json.admin, true);
    const tc = await idp.clientToken();
    r = await me(tc);
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(r.json.upload, true);
  } finally {
    await idp.restart({ alg: 'RS256' });
  }
});

// As Keycloak 2x issues them: typ JWT, no name for a user without one,
// roles under realm_access and resource_access.<client>.
function keycloak(over = {}) {
  return base(Object.assign({
    aud: ['yard', 'account'], typ: 'Bearer', azp: 'yard-portal', sid: crypto.randomUUID(),
    scope: 'openid profile email', email_verified: false, preferred_username: 'kc.user',
    realm_access: { roles: ['offline_access', 'uma_authorization', 'default-roles-yard'] },
    resource_access: { account: { roles: ['manage-account', 'view-profile'] }, yard: { roles: ['yard-admin'] } },
  }, over));
}

test('a Keycloak-shaped token: preferred_username, roles from realm_access and resource_access', async () => {
  let r = await me(await joseSign(keycloak()), kc.url);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.name, 'kc.user');
  assert.strictEqual(r.json.admin, true, 'client role yard-admin');
  r = await me(await joseSign(keycloak({
    preferred_username: 'kc.realm', realm_access: { roles: ['yard-admin'] },
    resource_access: { account: { roles: ['view-profile'] } },
  })), kc.url);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.name, 'kc.realm');
  assert.strictEqual(r.json.admin, true, 'realm role yard-admin');
  r = await me(await joseSign(keycloak({ preferred_username: 'kc.plain', resource_access: {} })), kc.url);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.admin, false);
  // The other instance reads only "roles": the same token is no admin there.
  r = await me(await joseSign(keycloak({ preferred_username: 'kc.elsewhere' })));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.admin, false);
});

test('an Entra-shaped token: scp string, roles array, preferred_username', async () => {
  const t = jwtSign(base({
    ver: '2.0', tid: crypto.randomUUID(), oid: crypto.randomUUID(), azp: crypto.randomUUID(),
    preferred_username: 'erin@contoso.test', scp: 'User.Read packages:upload', roles: ['yard-admin'],
    nbf: now(), uti: 'x', rh: '0.A',
  }), ec);
  assert.deepStrictEqual(part(t, 0), { alg: 'ES256', typ: 'JWT', kid: 'es-1' });
  const r = await me(t);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.name, 'erin@contoso.test');
  assert.strictEqual(r.json.email, '');
  assert.strictEqual(r.json.upload, true);
  assert.strictEqual(r.json.admin, true);
});

test('typ absent, JWT, at+jwt, application/at+jwt, AT+JWT are accepted; JOSE is not', async () => {
  for (const [i, header] of [{}, { typ: 'JWT' }, { typ: 'at+jwt' }, { typ: 'application/at+jwt' },
    { typ: 'AT+JWT' }].entries()) {
    const t = await joseSign(base({ sub: `typ-${i}` }), i % 2 ? ec : rsa, header);
    assert.deepStrictEqual(Object.keys(part(t, 0)).includes('typ'), header.typ !== undefined);
    const r = await me(t);
    assert.strictEqual(r.status, 200, `${JSON.stringify(header)}: ${r.text}`);
    assert.strictEqual(r.json.sub, `typ-${i}`);
    // jsonwebtoken too, where it can say it.
    if (header.typ) {
      const r2 = await me(jwtSign(base({ sub: `typ-j${i}` }), rsa, header));
      assert.strictEqual(r2.status, 200, `${JSON.stringify(header)}: ${r2.text}`);
    }
  }
  for (const t of [await joseSign(base(), rsa, { typ: 'JOSE' }), jwtSign(base(), ec, { typ: 'JOSE' })]) {
    const r = await me(t);
    assert.strictEqual(r.status, 401, r.text);
    assert.strictEqual(r.json.error, 'invalid_token');
  }
});

test('scope as an array, roles as a string, 100 roles', async () => {
  let r = await me(jwtSign(base({ scope: ['openid', 'packages:upload'] })));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.upload, true);
  r = await me(jwtSign(base({ roles: 'yard-admin' })));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.admin, true);
  const many = Array.from({ length: 99 }, (_, i) => `group-${i}`).concat(['yard-admin']);
  r = await me(await joseSign(base({ roles: many })));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.admin, true);
  // Roles and scope of a wrong type are passed over, not refused.
  r = await me(jwtSign(base({ roles: { 'yard-admin': true }, scope: 42 })));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.admin, false);
  assert.strictEqual(r.json.upload, false);
});

test('a 300-byte Chinese name is cut on a character boundary; a 400-byte jti is accepted', async () => {
  const name = '中'.repeat(100);
  assert.strictEqual(Buffer.byteLength(name), 300);
  let r = await me(await joseSign(base({ name, email: 'zh@example.test' })));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.name, '中'.repeat(85));
  assert.strictEqual(Buffer.byteLength(r.json.name), 255);
  // One ASCII byte first: the cut now falls inside a character.
  r = await me(await joseSign(base({ name: 'a' + name })));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.name, 'a' + '中'.repeat(84));
  r = await me(jwtSign(base({ jti: 'j'.repeat(400) })));
  assert.strictEqual(r.status, 200, r.text);
  // A sub is never cut.
  r = await me(jwtSign(base({ sub: 's'.repeat(256) })));
  assert.strictEqual(r.status, 401, r.text);
});

test('a token signed by a key outside the provider\'s JWKS is refused', async () => {
  const stranger = jwk('RS256', 'rs-1');
  const r = await me(await joseSign(base(), stranger));
  assert.strictEqual(r.status, 401, r.text);
});

test('the provider restarts on the same port with another key list', async () => {
  const { port, issuer } = idp;
  const ec2 = jwk('ES256', 'es-2');
  await idp.restart({ keys: [ec2], alg: 'ES256' });
  try {
    assert.strictEqual(idp.port, port);
    assert.strictEqual(idp.issuer, issuer);
    const pub = (await idp.jwks()).keys;
    assert.deepStrictEqual(pub.map((k) => k.kid), ['es-2']);
    assert.strictEqual(pub[0].d, undefined, 'public halves only');
    const t = await idp.clientToken();
    assert.deepStrictEqual(part(t, 0), { alg: 'ES256', typ: 'at+jwt', kid: 'es-2' });
    assert.strictEqual(part(t, 1).iss, issuer);
  } finally {
    await idp.restart({ keys: [rsa, ec], alg: 'RS256' });
  }
  const r = await me(await idp.clientToken());
  assert.strictEqual(r.status, 200, r.text);
});

// The rotation an issuer does (docs/ews-integration.md, "Keys and
// rotation"): publish a new key beside the old, sign with the new, then
// withdraw the old.  A second instance with a 2 s JWKS timer and two
// workers: the old key's token, verified and cached before, is refused
// within the period once the provider stops publishing it.
test('a key rotation at the provider: the new key signs in, the withdrawn one stops within the refresh period', async () => {
  const rot = await s.startAnother({ YARD_EWS_JWKS_REFRESH: '2', YARD_WORKERS: '2' });
  const rs2 = jwk('RS256', 'rs-2');
  try {
    const old = await idp.clientToken('packages:upload');
    assert.strictEqual(part(old, 0).kid, 'rs-1');
    assert.strictEqual((await me(old, rot.url)).status, 200);
    // 1. Publish the new key beside the old; the old still signs.
    await idp.restart({ keys: [rsa, rs2, ec], alg: 'RS256' });
    // Wait out one refresh period so the instance holds rs-2 (the
    // procedure: publish before signing).
    await new Promise((r) => setTimeout(r, 3500));
    // 2. Sign with the new key, the old one still published.
    await idp.restart({ keys: [rs2, rsa, ec], alg: 'RS256' });
    const fresh = await idp.clientToken('packages:upload');
    assert.strictEqual(part(fresh, 0).kid, 'rs-2');
    let r = await me(fresh, rot.url);
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(r.json.upload, true);
    assert.strictEqual((await me(old, rot.url)).status, 200, 'the old key is still published');
    // 3. Withdraw the old key.
    await idp.restart({ keys: [rs2, ec], alg: 'RS256' });
    const t0 = Date.now();
    let refused = 0;
    while (Date.now() - t0 < 8000) {
      // Several connections, so that both workers answer.
      const rs = await Promise.all([0, 1, 2, 3].map(() => me(old, rot.url)));
      if (rs.every((x) => x.status === 401)) { refused = Date.now() - t0; break; }
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(refused > 0, 'the withdrawn key was still accepted after 8 s');
    assert.ok(refused <= 2000 + 2500, `refused after ${refused} ms, refresh 2 s`);
    r = await me(old, rot.url);
    assert.strictEqual(r.status, 401);
    assert.match(r.headers.get('www-authenticate') || '', /invalid_token/);
    r = await me(fresh, rot.url);
    assert.strictEqual(r.status, 200, r.text);
  } finally {
    await idp.restart({ keys: [rsa, ec], alg: 'RS256' });
  }
});

test('no worker died', () => {
  assert.deepStrictEqual(s.deaths(), []);
});
