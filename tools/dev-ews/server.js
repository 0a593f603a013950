// Development EWS: a stand-in for the host enterprise portal (SPEC §10).
//
// TEST TOOL, NOT FOR PRODUCTION.  It signs in test users without passwords,
// issues RS256 tokens with its own key (JWKS at /.well-known/jwks.json),
// opens Yard's module pages in an iframe and answers their postMessage token
// requests (SPEC §3.2), and uploads packages with a service token (§3.5): the browser's
// tus-js-client talks to /tus/uploads here, which passes each request on to
// Yard with the service token.
//
// Node 20, built-in modules only.  `node tools/dev-ews/server.js` reads its
// settings from the environment (see docs/dev-ews.md); tests call start().
'use strict';
const http = require('node:http');
const https = require('node:https');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { URL, URLSearchParams } = require('node:url');
const pages = require('./pages.js');

const TOP = path.resolve(__dirname, '..', '..');
const DEFAULT_MODULES = 'start,tasks,nodes,logs,metrics,commands,packages,' +
  'notifications,permissions,users,alerts';
const UPLOAD_MAX = 1024 * 1024 * 1024;	// 1 GiB, as YARD_PACKAGE_MAX_BYTES
const FORM_MAX = 64 * 1024;		// login, settings, mint bodies
const SESSION_LIFE_MS = 12 * 3600 * 1000;
const QUERY_MAX = 500;
const TTL_MIN = 1;
const TTL_MAX = 86400;
const COOKIE = 'dev_ews_sid';

const USERS = [
  { sub: 'u-admin', name: 'Ada Admin', email: 'ada@example.test', roles: ['yard-admin'] },
  { sub: 'u-impl', name: 'Ivan Implementer', email: 'ivan@example.test', roles: ['implementer'] },
  { sub: 'u-viewer', name: 'Vera Viewer', email: 'vera@example.test', roles: [] },
];
const SUB_RE = /^[A-Za-z0-9._@:+-]{1,128}$/;

const STATIC = {
  '/portal.js': { file: 'portal.js', type: 'text/javascript; charset=utf-8' },
  '/upload.js': { file: 'upload.js', type: 'text/javascript; charset=utf-8' },
  '/portal.css': { file: 'portal.css', type: 'text/css; charset=utf-8' },
  // tus-js-client's browser build (npm, devDependencies; `make deps`).
  '/vendor/tus.min.js': {
    file: path.join('..', '..', 'node_modules', 'tus-js-client', 'dist', 'tus.min.js'),
    type: 'text/javascript; charset=utf-8', optional: true,
  },
};
// Request and answer headers the tus proxy passes on (lower case).
const TUS_REQ_HEADERS = ['tus-resumable', 'upload-length', 'upload-metadata', 'upload-offset',
  'upload-checksum', 'upload-defer-length', 'content-type', 'content-length'];
const TUS_ANS_HEADERS = ['tus-resumable', 'tus-version', 'tus-extension', 'tus-max-size',
  'tus-checksum-algorithm', 'upload-offset', 'upload-length', 'upload-expires', 'upload-metadata',
  'yard-upload-state', 'yard-package-id', 'content-type', 'cache-control', 'retry-after'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---- settings -------------------------------------------------------------

// "127.0.0.1:8090", "[::1]:0", "localhost:8090" or "8090" -> {host, port}.
// Only loopback addresses are accepted: this tool hands out tokens to anyone
// who can reach it.
function parseListen(s) {
  let host = '127.0.0.1';
  let port;
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(String(s).trim());
  if (!m) throw new Error(`EWS_LISTEN: expected host:port, got "${s}"`);
  if (m[1] || m[2]) host = m[1] || m[2];
  port = Number(m[3]);
  if (port > 65535) throw new Error(`EWS_LISTEN: bad port ${m[3]}`);
  if (!isLoopback(host)) throw new Error(`EWS_LISTEN: ${host} is not a loopback address (the dev EWS listens on loopback only)`);
  return { host, port };
}

function isLoopback(host) {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function parseTtl(v, what) {
  const n = typeof v === 'number' ? v : (/^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN);
  if (!Number.isInteger(n) || n < TTL_MIN || n > TTL_MAX) {
    throw new HttpError(400, `${what}: expected whole seconds ${TTL_MIN}..${TTL_MAX}`);
  }
  return n;
}

function parseModules(s) {
  const list = String(s).split(',').map((x) => x.trim()).filter(Boolean);
  for (const m of list) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(m)) throw new Error(`EWS_MODULES: bad module name "${m}"`);
  }
  if (list.length === 0) throw new Error('EWS_MODULES: empty');
  return [...new Set(list)];
}

// Settings from the environment, in the shape start() takes.
function optsFromEnv(env = process.env) {
  const o = {};
  if (env.EWS_LISTEN !== undefined) o.listen = env.EWS_LISTEN;
  if (env.YARD_URL !== undefined) o.yardUrl = env.YARD_URL;
  if (env.EWS_KEY_DIR !== undefined) o.keyDir = path.resolve(env.EWS_KEY_DIR);
  if (env.EWS_KID !== undefined) o.kid = env.EWS_KID;
  if (env.EWS_ISSUER !== undefined) o.issuer = env.EWS_ISSUER;
  if (env.EWS_AUDIENCE !== undefined) o.audience = env.EWS_AUDIENCE;
  if (env.EWS_TOKEN_TTL !== undefined) o.ttl = env.EWS_TOKEN_TTL;
  if (env.EWS_MODULES !== undefined) o.modules = env.EWS_MODULES;
  o.testMint = env.EWS_TEST_MINT === '1';
  return o;
}

function resolveConfig(opts = {}) {
  const listen = parseListen(opts.listen !== undefined ? opts.listen : '127.0.0.1:8090');
  let yard;
  try {
    yard = new URL(opts.yardUrl !== undefined ? opts.yardUrl : 'http://127.0.0.1:8080');
  } catch {
    throw new Error(`YARD_URL: not an absolute URL: "${opts.yardUrl}"`);
  }
  if (yard.protocol !== 'http:' && yard.protocol !== 'https:') throw new Error('YARD_URL: must be http or https');
  if (yard.username || yard.password || yard.search || yard.hash) {
    throw new Error('YARD_URL: give scheme://host[:port][/path] only');
  }
  let ttl;
  try {
    ttl = parseTtl(opts.ttl !== undefined ? opts.ttl : 600, 'EWS_TOKEN_TTL');
  } catch (e) {
    throw new Error(e.message);
  }
  const issuer = opts.issuer !== undefined ? String(opts.issuer) : 'dev-ews';
  const audience = opts.audience !== undefined ? String(opts.audience) : 'yard';
  if (!issuer) throw new Error('EWS_ISSUER: empty');
  if (!audience) throw new Error('EWS_AUDIENCE: empty');
  return {
    listen,
    yardBase: yard.href.replace(/\/+$/, ''),	// no trailing slash; may carry a path prefix
    yardOrigin: yard.origin,
    keyDir: opts.keyDir || path.join(TOP, 'var', 'dev-ews'),
    kid: opts.kid,				// undefined: derived; '': no kid
    issuer,
    audience,
    ttl,
    modules: Array.isArray(opts.modules) ? parseModules(opts.modules.join(','))
      : parseModules(opts.modules !== undefined ? opts.modules : DEFAULT_MODULES),
    testMint: Boolean(opts.testMint),
    log: opts.log === false ? () => {} : (typeof opts.log === 'function' ? opts.log : (s) => console.log(s)),
  };
}

// What is wrong with a frame query (from the portal's address), or null.
// Too long, or naming a token: a member called like one, a value shaped
// like a JWT.  Tokens never go into a URL; portal.js checks the query of
// a yard:location or yard:navigate message the same way.
function queryProblem(q) {
  if (q.length > QUERY_MAX) return `query: longer than ${QUERY_MAX} characters.`;
  for (const [k, v] of new URLSearchParams(q)) {
    if (/token|jwt|secret|password/i.test(k) || /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/.test(v))
      return `query: "${k.slice(0, 40)}" looks like a token; tokens never go into an address.`;
  }
  return null;
}

// ---- keys -----------------------------------------------------------------

// Load private.pem/public.pem from dir, generating a fresh RSA-2048 pair
// (private file 0600) when there is no private key yet.
function loadKeys(dir, log) {
  const privPath = path.join(dir, 'private.pem');
  const pubPath = path.join(dir, 'public.pem');
  let privateKey;
  if (!fs.existsSync(privPath)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
    // 'wx': never clobber a key another process wrote meanwhile.
    fs.writeFileSync(privPath, pem, { mode: 0o600, flag: 'wx' });
    fs.chmodSync(privPath, 0o600);
    // Read back: a key straight from the generate job can deadlock
    // Node 20 in a later JWK export.
    privateKey = crypto.createPrivateKey(pem);
    log(`dev-ews: generated a new RSA-2048 key in ${dir}`);
  } else {
    const st = fs.statSync(privPath);
    if ((st.mode & 0o077) !== 0) log(`dev-ews: warning: ${privPath} is readable by others (mode ${(st.mode & 0o777).toString(8)})`);
    privateKey = crypto.createPrivateKey(fs.readFileSync(privPath));
  }
  if (privateKey.asymmetricKeyType !== 'rsa' || privateKey.asymmetricKeyDetails.modulusLength < 2048) {
    throw new Error(`${privPath}: expected an RSA key of at least 2048 bits`);
  }
  const publicKey = crypto.createPublicKey(privateKey);
  const spkiPem = publicKey.export({ type: 'spki', format: 'pem' });
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  if (!fs.existsSync(pubPath)) {
    fs.writeFileSync(pubPath, spkiPem, { mode: 0o644 });
  } else {
    const have = crypto.createPublicKey(fs.readFileSync(pubPath)).export({ type: 'spki', format: 'der' });
    if (!have.equals(spkiDer)) {
      throw new Error(`${pubPath} does not match ${privPath}; delete public.pem to have it derived again`);
    }
  }
  return { privateKey, publicKey, spkiDer, dir };
}

// ---- tokens ---------------------------------------------------------------

function b64u(buf) {
  return Buffer.from(buf).toString('base64url');
}

function signJwt(header, claims, privateKey) {
  const input = b64u(JSON.stringify(header)) + '.' + b64u(JSON.stringify(claims));
  return input + '.' + b64u(crypto.sign('sha256', Buffer.from(input), privateKey));
}

// ---- small HTTP helpers ---------------------------------------------------

const BASE_HEADERS = {
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

function send(res, status, type, body, headers = {}) {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(String(body));
  res.writeHead(status, Object.assign({}, BASE_HEADERS, {
    'Content-Type': type,
    'Content-Length': buf.length,
  }, headers));
  res.end(buf);
}

function sendJson(res, status, obj, headers = {}) {
  send(res, status, 'application/json', JSON.stringify(obj) + '\n',
    Object.assign({ 'Cache-Control': 'no-store' }, headers));
}

function redirect(res, location, headers = {}) {
  res.writeHead(302, Object.assign({}, BASE_HEADERS, {
    Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0,
  }, headers));
  res.end();
}

function readBody(req, max) {
  return new Promise((resolve, reject) => {
    const len = Number(req.headers['content-length'] || 0);
    if (len > max) {
      reject(new HttpError(413, 'request body too large'));
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > max) {
        reject(new HttpError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function mediaType(req) {
  return String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
}

// A form or JSON body as a plain object of strings (form) or values (JSON).
async function readFormOrJson(req) {
  const type = mediaType(req);
  const text = await readBody(req, FORM_MAX);
  if (type === 'application/json') {
    let v;
    try {
      v = JSON.parse(text || 'null');
    } catch {
      throw new HttpError(400, 'body is not valid JSON');
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'expected a JSON object');
    return { json: true, data: v };
  }
  if (type === 'application/x-www-form-urlencoded') {
    return { json: false, data: Object.fromEntries(new URLSearchParams(text)) };
  }
  throw new HttpError(415, 'expected application/x-www-form-urlencoded or application/json');
}

function parseCookies(req) {
  const out = {};
  for (const part of String(req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

// ---- the server -----------------------------------------------------------

async function start(opts = {}) {
  const cfg = resolveConfig(opts);
  const keys = loadKeys(cfg.keyDir, cfg.log);
  const kid = cfg.kid !== undefined ? cfg.kid
    : crypto.createHash('sha256').update(keys.spkiDer).digest('hex').slice(0, 16);

  const jwk = keys.publicKey.export({ format: 'jwk' });
  const jwks = { keys: [Object.assign({ kty: 'RSA' }, kid ? { kid } : {},
    { use: 'sig', alg: 'RS256', n: jwk.n, e: jwk.e })] };

  // Dev settings, changed at run time from the portal or by tests.
  const settings = { refuse_refresh: false, on_expired: 'navigate', ttl: cfg.ttl };
  const sessions = new Map();	// id -> { user, expires }
  const statics = {};
  for (const [p, s] of Object.entries(STATIC)) {
    let body;
    try {
      body = fs.readFileSync(path.join(__dirname, s.file));
    } catch (e) {
      if (!s.optional) throw e;
      body = Buffer.from(`/* ${s.file} is missing: run make deps (npm ci). */\n` +
        'document.documentElement.dataset.tusMissing = "1";\n');
    }
    statics[p] = { type: s.type, body };
  }

  let ownOrigin = null;		// set once listening

  function mint(claims, header = {}) {
    return signJwt(Object.assign({ alg: 'RS256', typ: 'JWT' }, kid ? { kid } : {}, header,
      { alg: 'RS256' }), claims, keys.privateKey);
  }

  function baseClaims(ttl) {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: cfg.issuer, aud: cfg.audience, iat: now, nbf: now, exp: now + ttl,
      jti: crypto.randomUUID(),
    };
  }

  function userToken(user) {
    const c = Object.assign(baseClaims(settings.ttl), {
      sub: user.sub, name: user.name, email: user.email, roles: user.roles.slice(),
    });
    if (c.email === undefined) delete c.email;
    return { token: mint(c), exp: c.exp };
  }

  function serviceToken() {
    const c = Object.assign(baseClaims(settings.ttl), {
      sub: 'svc-ews', name: 'Development EWS upload service', roles: [], scope: 'packages:upload',
    });
    return mint(c);
  }

  function userFor(sub) {
    const known = USERS.find((u) => u.sub === sub);
    if (known) return known;
    if (!SUB_RE.test(sub)) throw new HttpError(400, 'user: expected 1-128 characters of A-Z a-z 0-9 . _ @ : + -');
    return { sub, name: sub, roles: [] };
  }

  function sessionOf(req) {
    const id = parseCookies(req)[COOKIE];
    if (!id) return null;
    const s = sessions.get(id);
    if (!s) return null;
    if (s.expires < Date.now()) {
      sessions.delete(id);
      return null;
    }
    return Object.assign({ id }, s);
  }

  function sessionCookie(id, maxAge) {
    return `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`;
  }

  // Where POST /login may send the browser: Yard (with a fragment token) or
  // back into this portal.  Anything else, including relative URLs, other
  // schemes, other ports and userinfo tricks, is refused.
  function checkRedirect(raw) {
    let u;
    try {
      u = new URL(raw);	// no base: relative references throw
    } catch {
      return null;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    if (u.username || u.password) return null;
    if (u.origin === cfg.yardOrigin) return { url: u, yard: true };
    if (u.origin === ownOrigin) return { url: u, yard: false };
    return null;
  }

  function portalUrlFor(req) {
    return ownOrigin + req.url;
  }

  // Loopback only, and only our own host names: stops DNS-rebinding pages
  // from talking to the token issuer.
  function hostOk(req) {
    const h = String(req.headers.host || '');
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    if (!m) return false;
    const name = m[1].replace(/^\[|\]$/g, '');
    return isLoopback(name) || name === cfg.listen.host;
  }

  // State-changing requests must come from our own pages (or from a
  // non-browser client, which sends neither Origin nor Sec-Fetch-Site).
  // Our pages are no-referrer, so browsers send "Origin: null" on their
  // form posts; Sec-Fetch-Site then tells same-origin from cross-site.
  function originOk(req) {
    const o = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (o !== undefined && o !== 'null') return o === ownOrigin || o === 'http://' + req.headers.host;
    if (site !== undefined) return site === 'same-origin' || site === 'none';
    return o === undefined;
  }

  function pageHeaders(extra = {}) {
    return Object.assign({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': [
        "default-src 'self'",
        `frame-src ${cfg.yardOrigin}`,
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        // Chromium applies form-action to the redirect after a POST too.
        `form-action 'self' ${cfg.yardOrigin}`,
        "frame-ancestors 'none'",
      ].join('; '),
      'X-Frame-Options': 'DENY',
    }, extra);
  }

  function sendPage(res, status, html, extra) {
    send(res, status, 'text/html; charset=utf-8', html, pageHeaders(extra));
  }

  function sendError(req, res, err) {
    const status = err.status || 500;
    if (status === 500) cfg.log(`dev-ews: error: ${err.stack || err}`);
    const msg = status === 500 ? 'internal error' : err.message;
    const wantsJson = String(req.url).startsWith('/api/') || mediaType(req) === 'application/json' ||
      /application\/json/.test(String(req.headers.accept || ''));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (wantsJson) sendJson(res, status, { error: msg });
    else sendPage(res, status, pages.errorPage(status, msg));
  }

  function pageContext(sess) {
    return { user: sess ? sess.user : null, modules: cfg.modules };
  }

  // ---- route handlers -----------------------------------------------------

  function getJwks(req, res) {
    sendJson(res, 200, jwks, { 'Cache-Control': 'no-cache' });
  }

  function getLogin(req, res, url) {
    const sess = sessionOf(req);
    const ru = url.searchParams.get('redirect_uri');
    if (ru !== null && ru !== '' && checkRedirect(ru) === null) {
      throw new HttpError(400, 'redirect_uri not allowed');
    }
    sendPage(res, 200, pages.loginPage(Object.assign(pageContext(sess), {
      redirectUri: ru || '', users: USERS, yardOrigin: cfg.yardOrigin,
      target: ru ? checkRedirect(ru) : null,
    })));
  }

  async function postLogin(req, res) {
    const { data } = await readFormOrJson(req);
    const sub = typeof data.user === 'string' ? data.user.trim() : '';
    if (!sub) throw new HttpError(400, 'user: required');
    const ru = typeof data.redirect_uri === 'string' ? data.redirect_uri : '';
    let target = null;
    if (ru !== '') {
      target = checkRedirect(ru);
      if (target === null) throw new HttpError(400, 'redirect_uri not allowed');
    }
    const user = userFor(sub);
    const old = sessionOf(req);
    if (old) sessions.delete(old.id);
    const id = crypto.randomBytes(32).toString('base64url');
    sessions.set(id, { user, expires: Date.now() + SESSION_LIFE_MS });
    const cookie = sessionCookie(id, SESSION_LIFE_MS / 1000);
    if (target === null) {
      redirect(res, '/', { 'Set-Cookie': cookie });
    } else if (target.yard) {
      const u = target.url;
      u.hash = 'access_token=' + userToken(user).token;
      redirect(res, u.href, { 'Set-Cookie': cookie });
    } else {
      const u = target.url;
      u.hash = '';
      redirect(res, u.href, { 'Set-Cookie': cookie });
    }
  }

  async function postLogout(req, res) {
    const sess = sessionOf(req);
    if (sess) sessions.delete(sess.id);
    redirect(res, '/login', { 'Set-Cookie': sessionCookie('', 0) });
  }

  function getPortal(req, res, url) {
    const sess = sessionOf(req);
    if (!sess) {
      redirect(res, '/login?redirect_uri=' + encodeURIComponent(portalUrlFor(req)));
      return;
    }
    const p = url.searchParams;
    const module = p.get('module') || (cfg.modules.includes('start') ? 'start' : cfg.modules[0]);
    const query = p.get('query') || '';
    const theme = p.get('theme');
    const lang = p.get('lang');
    const view = {
      module, query,
      theme: theme === 'light' || theme === 'dark' ? theme : '',
      lang: lang === 'zh-CN' || lang === 'en' ? lang : '',
    };
    let status = 200;
    let problem = null;
    if (!cfg.modules.includes(module)) {
      status = 404;
      problem = `Unknown module "${module}": not in EWS_MODULES.`;
    } else if (queryProblem(query)) {
      status = 400;
      problem = queryProblem(query);
    }
    const frameSrc = problem ? null : frameUrl(view);
    const config = {
      yardOrigin: cfg.yardOrigin, yardBase: cfg.yardBase, modules: cfg.modules,
      module, query, theme: view.theme, lang: view.lang,
      onExpired: settings.on_expired, queryMax: QUERY_MAX,
    };
    sendPage(res, status, pages.portalPage(Object.assign(pageContext(sess), {
      view, frameSrc, problem, config, settings, yardOrigin: cfg.yardOrigin,
      portalUrl: portalUrlFor(req),
    })));
  }

  // YARD_URL/ui/<module>?<query>&theme=..&lang=..; no token, ever.
  function frameUrl(view) {
    const q = new URLSearchParams(view.query);
    if (view.theme) q.set('theme', view.theme);
    if (view.lang) q.set('lang', view.lang);
    const s = q.toString();
    return `${cfg.yardBase}/ui/${encodeURIComponent(view.module)}${s ? '?' + s : ''}`;
  }

  function getToken(req, res) {
    const sess = sessionOf(req);
    if (!sess) {
      sendJson(res, 401, { error: 'no_session' });
      return;
    }
    if (settings.refuse_refresh) {
      sendJson(res, 403, { error: 'refused' });
      return;
    }
    sendJson(res, 200, userToken(sess.user));
  }

  function getSettings(req, res) {
    sendJson(res, 200, settings);
  }

  async function postSettings(req, res) {
    const { json, data } = await readFormOrJson(req);
    const next = Object.assign({}, settings);
    if (json) {
      if ('refuse_refresh' in data) {
        if (typeof data.refuse_refresh !== 'boolean') throw new HttpError(400, 'refuse_refresh: expected true or false');
        next.refuse_refresh = data.refuse_refresh;
      }
    } else {
      // An unchecked box is simply absent from a form.
      next.refuse_refresh = ['on', '1', 'true', 'yes'].includes(String(data.refuse_refresh || '').toLowerCase());
    }
    if (data.on_expired !== undefined) {
      if (data.on_expired !== 'navigate' && data.on_expired !== 'stay') {
        throw new HttpError(400, 'on_expired: expected navigate or stay');
      }
      next.on_expired = data.on_expired;
    }
    if (data.ttl !== undefined && data.ttl !== '') next.ttl = parseTtl(data.ttl, 'ttl');
    Object.assign(settings, next);
    cfg.log(`dev-ews: settings: refuse_refresh=${settings.refuse_refresh} on_expired=${settings.on_expired} ttl=${settings.ttl}s`);
    if (json) {
      sendJson(res, 200, settings);
      return;
    }
    const back = typeof data.back === 'string' && /^\/(?![/\\])/.test(data.back) ? data.back : '/';
    redirect(res, back);
  }

  // The tasks the signed-in user sees in Yard, for the upload form's target
  // picker (EWS knows its users; the upload itself uses the service token).
  async function yardTasks(user) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 5000);
    try {
      const r = await fetch(cfg.yardBase + '/api/v1/tasks?limit=200', {
        headers: { Authorization: 'Bearer ' + userToken(user).token }, signal: ctl.signal,
      });
      if (r.status !== 200) return { tasks: [], error: `Yard answered ${r.status} to GET /api/v1/tasks` };
      const j = await r.json();
      return { tasks: Array.isArray(j.items) ? j.items : [], error: null };
    } catch (e) {
      return { tasks: [], error: `could not reach Yard at ${cfg.yardBase}: ${e.cause?.code || e.message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async function getUpload(req, res, url) {
    const sess = sessionOf(req);
    if (!sess) {
      redirect(res, '/login?redirect_uri=' + encodeURIComponent(portalUrlFor(req)));
      return;
    }
    const { tasks, error } = await yardTasks(sess.user);
    sendPage(res, 200, pages.uploadPage(Object.assign(pageContext(sess), {
      yardBase: cfg.yardBase, max: UPLOAD_MAX, tasks, tasksError: error,
    })));
  }

  // The browser's tus client talks to /tus/uploads[/<id>] here; EWS's
  // backend passes each request on to YARD_URL/api/v1/uploads[/<id>] with
  // the service token (scope packages:upload), streaming bodies both ways,
  // and points Location back at itself.  The browser never holds a token
  // that can upload.
  function tusProxy(req, res, url) {
    const sess = sessionOf(req);
    if (!sess) throw new HttpError(401, 'sign in first');
    const rest = url.pathname.slice('/tus/uploads'.length);
    let id = '';
    if (rest !== '') {
      id = rest.slice(1);
      if (rest[0] !== '/' || !UUID_RE.test(id)) throw new HttpError(404, 'not found');
    }
    const allowed = id ? ['PATCH', 'HEAD', 'GET', 'DELETE', 'OPTIONS'] : ['POST', 'OPTIONS'];
    if (!allowed.includes(req.method)) {
      res.setHeader('Allow', allowed.join(', '));
      throw new HttpError(405, 'method not allowed');
    }
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method) && !originOk(req)) {
      throw new HttpError(403, 'cross-origin request refused');
    }
    const target = new URL(cfg.yardBase + '/api/v1/uploads' + (id ? '/' + id : ''));
    const headers = { Authorization: 'Bearer ' + serviceToken() };
    for (const h of TUS_REQ_HEADERS) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
    const lib = target.protocol === 'https:' ? https : http;
    let done = false;
    const up = lib.request(target, { method: req.method, headers }, (ans) => {
      const out = { 'Cache-Control': 'no-store' };
      for (const h of TUS_ANS_HEADERS) if (ans.headers[h] !== undefined) out[h] = ans.headers[h];
      const loc = ans.headers.location;
      if (loc) {
        const m = /\/api\/v1\/uploads\/([0-9a-f-]{36})$/.exec(loc);
        if (m) out.Location = '/tus/uploads/' + m[1];
      }
      if (req.method === 'POST' && ans.statusCode === 201) {
        cfg.log(`dev-ews: upload by ${sess.user.sub} created: ${out.Location || '(no location)'}`);
      }
      done = true;
      res.writeHead(ans.statusCode, out);
      ans.pipe(res);
    });
    up.on('error', (e) => {
      if (done) {
        res.destroy();
        return;
      }
      done = true;
      sendJson(res, 502, { error: 'bad_gateway', message: `could not reach Yard at ${target.origin}: ${e.code || e.message}` });
      req.resume();
    });
    req.on('aborted', () => up.destroy());
    req.pipe(up);
  }

  async function postMint(req, res) {
    if (mediaType(req) !== 'application/json') throw new HttpError(415, 'expected application/json');
    const { data } = await readFormOrJson(req);
    const ttl = data.ttl !== undefined ? parseTtl(data.ttl, 'ttl') : settings.ttl;
    const c = baseClaims(ttl);
    for (const k of ['sub', 'name', 'email', 'scope']) {
      if (data[k] !== undefined) {
        if (typeof data[k] !== 'string') throw new HttpError(400, `${k}: expected a string`);
        c[k] = data[k];
      }
    }
    if (data.roles !== undefined) {
      if (!Array.isArray(data.roles) || !data.roles.every((r) => typeof r === 'string')) {
        throw new HttpError(400, 'roles: expected an array of strings');
      }
      c.roles = data.roles;
    } else {
      c.roles = [];
    }
    for (const [name, over] of [['claims', c], ['header', null]]) {
      const v = data[name];
      if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) {
        throw new HttpError(400, `${name}: expected an object`);
      }
      if (over && v) {
        // null removes a claim (to test tokens without exp, sub, ...).
        for (const [k, x] of Object.entries(v)) {
          if (x === null) delete c[k];
          else c[k] = x;
        }
      }
    }
    const header = Object.assign({}, data.header || {});
    for (const [k, x] of Object.entries(header)) if (x === null) header[k] = undefined;
    const token = mint(c, header);
    sendJson(res, 200, { token, claims: c });
  }

  function getStatic(req, res, url) {
    const s = statics[url.pathname];
    send(res, 200, s.type, s.body, { 'Cache-Control': 'no-cache' });
  }

  // path -> { METHOD: handler }
  const routes = {
    '/.well-known/jwks.json': { GET: getJwks },
    '/login': { GET: getLogin, POST: postLogin },
    '/logout': { POST: postLogout },
    '/': { GET: getPortal },
    '/api/token': { GET: getToken },
    '/api/settings': { GET: getSettings, POST: postSettings },
    '/settings': { POST: postSettings },
    '/upload': { GET: getUpload },
  };
  for (const p of Object.keys(STATIC)) routes[p] = { GET: getStatic };
  if (cfg.testMint) routes['/api/mint'] = { POST: postMint };

  async function handle(req, res) {
    try {
      if (!hostOk(req)) throw new HttpError(400, 'unexpected Host header');
      let url;
      try {
        url = new URL(req.url, 'http://dev-ews.invalid');
      } catch {
        throw new HttpError(400, 'bad request target');
      }
      if (!req.url.startsWith('/')) throw new HttpError(400, 'bad request target');
      if (url.pathname === '/tus/uploads' || url.pathname.startsWith('/tus/uploads/')) {
        tusProxy(req, res, url);
        return;
      }
      const route = routes[url.pathname];
      if (!route) throw new HttpError(404, 'not found');
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const fn = route[method];
      if (!fn) {
        res.setHeader('Allow', Object.keys(route).join(', '));
        throw new HttpError(405, 'method not allowed');
      }
      if (method !== 'GET' && !originOk(req)) throw new HttpError(403, 'cross-origin request refused');
      await fn(req, res, url);
    } catch (e) {
      sendError(req, res, e);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res);
  });
  // Uploads may take long; keep other requests snappy.
  server.requestTimeout = 0;
  server.headersTimeout = 30000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.listen.port, cfg.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const hostPart = cfg.listen.host.includes(':') ? `[${cfg.listen.host}]` : cfg.listen.host;
  ownOrigin = `http://${hostPart}:${addr.port}`;

  // Sessions expire; sweep now and then so the map does not grow.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (s.expires < now) sessions.delete(id);
  }, 60000);
  sweep.unref();

  cfg.log(`dev-ews: TEST TOOL, not for production; issuer=${cfg.issuer} audience=${cfg.audience} ` +
    `ttl=${settings.ttl}s kid=${kid || '(none)'} yard=${cfg.yardBase} keys=${keys.dir} ` +
    `modules=${cfg.modules.join(',')} mint=${cfg.testMint ? 'on' : 'off'}`);
  cfg.log(`dev-ews listening on ${ownOrigin}`);

  return {
    url: ownOrigin,
    kid,
    issuer: cfg.issuer,
    audience: cfg.audience,
    yardOrigin: cfg.yardOrigin,
    publicKey: keys.publicKey,
    settings,
    close() {
      clearInterval(sweep);
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

module.exports = { start, optsFromEnv, parseListen, USERS };

if (require.main === module) {
  start(optsFromEnv()).then((ews) => {
    const stop = () => {
      ews.close().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }, (e) => {
    console.error(`dev-ews: ${e.message}`);
    process.exit(1);
  });
}
