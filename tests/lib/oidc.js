// A real OpenID Provider for tests: oidc-provider (panva) on a loopback
// port, issuing RFC 9068 JWT access tokens (typ at+jwt) for the resource
// Yard is (audience "yard").  Nothing here shapes the tokens by hand: they
// are what the provider issues.
//
//   const idp = await startIdp({ keys: [jwk('RS256', 'r1')] });
//   idp.issuer, idp.jwksUri
//   await idp.clientToken()             // client credentials, scope
//                                       // packages:upload
//   await idp.userToken('alice')        // authorization code + PKCE
//   await idp.restart({ keys: [...] })  // same port, another key list
//   await idp.stop()
//
// Users and their claims come from opts.accounts ({ id: { name, email,
// roles, ... } }); extraTokenClaims, the provider's documented hook for
// claims in JWT access tokens, copies them into the user's tokens.  The
// user signs in through the provider's development interactions (its login
// and consent pages), driven here as a browser would: the real code flow.
'use strict';
const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');

const RESOURCE = 'urn:yard';
const AUDIENCE = 'yard';
const UPLOAD = 'packages:upload';
const REDIRECT = 'http://127.0.0.1/cb';

// A private JWK for alg ('RS256', 'ES256', ...) with kid.
// The key is made as PEM and read back before its JWK is exported: an
// export straight from a freshly generated pair can deadlock Node 20
// (see tests/integration/jwks.test.js).
function jwk(alg, kid) {
  const pem = { privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' } };
  let pair;
  if (alg.startsWith('RS')) pair = crypto.generateKeyPairSync('rsa', Object.assign({ modulusLength: 2048 }, pem));
  else if (alg === 'ES256') pair = crypto.generateKeyPairSync('ec', Object.assign({ namedCurve: 'P-256' }, pem));
  else if (alg === 'ES384') pair = crypto.generateKeyPairSync('ec', Object.assign({ namedCurve: 'P-384' }, pem));
  else throw new Error(`oidc: no key type for ${alg}`);
  return Object.assign(crypto.createPrivateKey(pair.privateKey).export({ format: 'jwk' }), { kid, alg, use: 'sig' });
}

// The public half of a private JWK, as a JWKS would carry it.
function publicJwk(k) {
  const pub = crypto.createPublicKey({ key: k, format: 'jwk' }).export({ format: 'jwk' });
  return Object.assign(pub, { kid: k.kid, alg: k.alg, use: 'sig' });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A tiny cookie jar and manual redirects: enough for the provider's pages.
class Browser {
  constructor() { this.jar = new Map(); }

  cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  keep(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async go(url, init = {}) {
    const headers = Object.assign({ cookie: this.cookieHeader() }, init.headers || {});
    const res = await fetch(url, Object.assign({}, init, { headers, redirect: 'manual' }));
    this.keep(res);
    return res;
  }
}

// opts: keys (private JWKs with kid and alg; the first of each alg signs),
// alg (of access tokens; default the first key's), accounts, port (default
// a free one), ttl (access token seconds, default 600), clientScope
// (the EWS client's allowed scope, default packages:upload).
async function startIdp(opts = {}) {
  const { default: Provider, errors } = await import('oidc-provider');
  let cfg = Object.assign({ ttl: 600, accounts: {}, clientScope: UPLOAD }, opts);
  const port = cfg.port || await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const secret = crypto.randomBytes(24).toString('base64url');
  const cookieKeys = [crypto.randomBytes(32).toString('base64url')];
  let server = null;
  let provider = null;
  const sockets = new Set();

  function build() {
    const alg = cfg.alg || cfg.keys[0].alg;
    const p = new Provider(issuer, {
      jwks: { keys: cfg.keys },
      cookies: { keys: cookieKeys },
      scopes: ['openid', 'offline_access', UPLOAD],
      clientDefaults: {
        grant_types: ['authorization_code'], response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: alg,
      },
      ttl: {
        AccessToken: cfg.ttl, ClientCredentials: cfg.ttl, AuthorizationCode: 60,
        IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600,
      },
      clients: [
        // The EWS backend: a machine client.
        {
          client_id: 'ews', client_secret: secret, grant_types: ['client_credentials'],
          response_types: [], redirect_uris: [], scope: cfg.clientScope,
          token_endpoint_auth_method: 'client_secret_basic',
        },
        // A public client for people: code flow with PKCE.
        {
          client_id: 'portal', application_type: 'native', token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [REDIRECT],
        },
      ],
      pkce: { required: () => true },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (ctx, indicator) => {
            if (indicator !== RESOURCE) throw new errors.InvalidTarget();
            return {
              scope: UPLOAD, audience: AUDIENCE, accessTokenFormat: 'jwt',
              accessTokenTTL: cfg.ttl, jwt: { sign: { alg } },
            };
          },
        },
      },
      findAccount: (ctx, id) => ({
        accountId: id,
        claims: () => Object.assign({ sub: id }, cfg.accounts[id] || {}),
      }),
      extraTokenClaims: (ctx, token) => {
        if (!token.accountId) return undefined;
        return Object.assign({}, cfg.accounts[token.accountId] || {});
      },
    });
    p.proxy = false;
    // Quiet: a refused request is part of some tests.
    p.on('server_error', (ctx, err) => { process.stderr.write(`oidc: ${err.stack}\n`); });
    return p;
  }

  async function listen() {
    provider = build();
    const cb = provider.callback();
    // No kept-alive connections: a restart then strands no client.
    server = http.createServer((req, res) => { res.shouldKeepAlive = false; cb(req, res); });
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
  }

  async function close() {
    if (!server) return;
    const s = server;
    server = null;
    await new Promise((resolve) => {
      s.close(resolve);
      for (const c of sockets) c.destroy();
    });
  }

  async function tokenRequest(body, auth) {
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    if (auth) headers.authorization = 'Basic ' + Buffer.from(auth).toString('base64');
    const res = await fetch(`${issuer}/token`, { method: 'POST', headers, body: new URLSearchParams(body) });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`oidc: token endpoint ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }

  await listen();

  const idp = {
    issuer,
    port,
    jwksUri: `${issuer}/jwks`,
    get provider() { return provider; },

    // Client credentials for the EWS backend; scope as the client asks.
    async clientToken(scope = UPLOAD) {
      const body = { grant_type: 'client_credentials', resource: RESOURCE };
      if (scope) body.scope = scope;
      return (await tokenRequest(body, `ews:${secret}`)).access_token;
    },

    // The code flow for user id, through the provider's sign-in and
    // consent pages.  scope: what the portal asks for besides openid.
    async userToken(id, scope = '') {
      const b = new Browser();
      const verifier = crypto.randomBytes(32).toString('base64url');
      const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
      const state = crypto.randomBytes(8).toString('hex');
      const q = new URLSearchParams({
        client_id: 'portal', response_type: 'code', redirect_uri: REDIRECT,
        scope: ['openid', scope].filter(Boolean).join(' '), resource: RESOURCE, state,
        code_challenge: challenge, code_challenge_method: 'S256',
      });
      let url = `${issuer}/auth?${q}`;
      for (let step = 0; step < 12; step++) {
        const res = await b.go(url);
        if (res.status >= 300 && res.status < 400) {
          const loc = new URL(res.headers.get('location'), url);
          if (loc.href.startsWith(REDIRECT)) {
            const err = loc.searchParams.get('error');
            if (err) throw new Error(`oidc: authorization ${err}: ${loc.searchParams.get('error_description')}`);
            if (loc.searchParams.get('state') !== state) throw new Error('oidc: state mismatch');
            const tok = await tokenRequest({
              grant_type: 'authorization_code', code: loc.searchParams.get('code'),
              redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'portal', resource: RESOURCE,
            });
            return tok.access_token;
          }
          url = loc.href;
          continue;
        }
        const html = await res.text();
        if (res.status !== 200) throw new Error(`oidc: ${url}: ${res.status}: ${html.slice(0, 300)}`);
        // The login or consent page: submit it as its form does.
        const action = /<form[^>]*action="([^"]+)"/.exec(html);
        const prompt = /name="prompt" value="([^"]+)"/.exec(html);
        if (!action || !prompt) throw new Error(`oidc: unexpected page at ${url}`);
        const form = { prompt: prompt[1] };
        if (prompt[1] === 'login') Object.assign(form, { login: id, password: 'x' });
        const post = await b.go(new URL(action[1], url).href, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form),
        });
        if (post.status < 300 || post.status >= 400) {
          throw new Error(`oidc: submit ${prompt[1]}: ${post.status}: ${(await post.text()).slice(0, 300)}`);
        }
        url = new URL(post.headers.get('location'), url).href;
      }
      throw new Error('oidc: too many redirects');
    },

    // Stop and start again on the same port (so the same issuer and
    // jwks_uri) with changes: keys, alg, accounts, ttl.
    async restart(changes = {}) {
      await close();
      cfg = Object.assign({}, cfg, changes);
      await listen();
    },

    // The JWKS the provider publishes now.
    async jwks() {
      const res = await fetch(`${issuer}/jwks`);
      return res.json();
    },

    async stop() { await close(); },
  };
  return idp;
}

module.exports = { startIdp, jwk, publicJwk, RESOURCE, AUDIENCE };
