// Development Apollo config service: a stand-in for Apollo (docs/dev-apollo.md).
//
// TEST TOOL, NOT FOR PRODUCTION.  It keeps namespaces in memory and speaks
// the config service's client endpoints as Apollo documents them ("Other
// language client guide"):
//   GET /configs/{appId}/{cluster}/{namespace}?releaseKey=&ip=
//       200 {"appId","cluster","namespaceName","configurations","releaseKey"},
//       304 when releaseKey is the current one, 404 for an unknown namespace
//       (or one never released);
//   GET /configfiles/json/{appId}/{cluster}/{namespace}  the configurations;
//   GET /notifications/v2?appId=&cluster=&notifications=[{"namespaceName",
//       "notificationId"}]  held up to --hold-ms (60 s, as Apollo), 304 when
//       nothing changed, else 200 [{"namespaceName","notificationId",
//       "messages":{"details":{"app+cluster+ns":id}}}] at once when a given id
//       is older than the current one;
// and the OpenAPI calls that tests and `make run` use to change values:
//   PUT    /openapi/v1/envs/{env}/apps/{appId}/clusters/{cluster}/namespaces/{ns}/items/{key}
//          body {"key","value","dataChangeLastModifiedBy"}, ?createIfNotExists=true
//   DELETE the same path (?operator=)
//   POST   /openapi/v1/envs/{env}/apps/{appId}/clusters/{cluster}/namespaces/{ns}/releases
//          body {"releaseTitle","releasedBy"}: a new releaseKey and notification
//          id; held long-polls that watch the namespace answer at once.
// Test controls (never in Apollo): POST /dev/mode {"mode":"normal"|"error"|
// "silent"|"slow","slow_ms":n} makes the client endpoints answer normally,
// 500, never, or late; GET /dev/state counts the client requests.
//
// Node 20, built-in modules only.  `node tools/dev-apollo/server.js
// [--listen 127.0.0.1:8070] [--hold-ms 60000] [--demo]` (or APOLLO_LISTEN,
// APOLLO_HOLD_MS); --demo releases yard-demo/default/application with a
// few values; tests call start().
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { URL } = require('node:url');

const BODY_MAX = 1024 * 1024;
const NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;
const KEY_MAX = 1024;
const VALUE_MAX = 1024 * 1024;
const BANNER = 'dev-apollo: a development Apollo config service (TEST TOOL, not for production)';

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function isLoopback(host) {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

// "127.0.0.1:8070", "[::1]:0" or "8070" -> {host, port}; loopback only:
// anyone who reaches this tool can change every value.
function parseListen(s) {
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(String(s).trim());
  if (!m) throw new Error(`listen: expected host:port, got "${s}"`);
  const host = m[1] || m[2] || '127.0.0.1';
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`listen: bad port ${m[3]}`);
  if (!isLoopback(host)) throw new Error(`listen: ${host} is not a loopback address (dev-apollo listens on loopback only)`);
  return { host, port };
}

function parseHold(v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 600000) throw new Error(`hold-ms: expected 0..600000, got "${v}"`);
  return n;
}

function watchKey(app, cluster, ns) {
  return `${app}+${cluster}+${ns}`;
}

// Apollo names a properties namespace without ".properties".
function nsName(ns) {
  return ns.endsWith('.properties') ? ns.slice(0, -'.properties'.length) : ns;
}

function checkName(what, s) {
  if (!NAME_RE.test(s)) throw new HttpError(400, `${what}: expected 1-128 of [A-Za-z0-9._-], got "${String(s).slice(0, 40)}"`);
  return s;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > BODY_MAX) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req) {
  const s = await readBody(req);
  if (s === '') return {};
  try {
    const v = JSON.parse(s);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    throw new HttpError(400, `body: not a JSON object: ${e.message}`);
  }
}

async function start(opts = {}) {
  const listen = parseListen(opts.listen !== undefined ? opts.listen : '127.0.0.1:8070');
  let holdMs = parseHold(opts.holdMs !== undefined ? opts.holdMs : 60000);
  // key "app+cluster+ns" -> {app, cluster, ns, draft: Map, released: object|null,
  // releaseKey, notificationId, releases}
  const spaces = new Map();
  const waiters = new Set();	// held long-polls
  const sockets = new Set();
  let nextId = 1;		// notification ids, as Apollo's ReleaseMessage ids
  let mode = 'normal';
  let slowMs = 0;
  const counts = { configs: 0, configs304: 0, configfiles: 0, notifications: 0, notifications304: 0, openapi: 0 };

  function space(app, cluster, ns, create) {
    const k = watchKey(app, cluster, nsName(ns));
    let s = spaces.get(k);
    if (!s && create) {
      s = { app, cluster, ns: nsName(ns), draft: new Map(), released: null, releaseKey: null, notificationId: -1, releases: 0 };
      spaces.set(k, s);
    }
    return s;
  }

  function send(res, status, body, headers = {}) {
    const h = Object.assign({ 'X-Dev-Apollo': 'test tool' }, headers);
    if (body === undefined || status === 304) {
      res.writeHead(status, h);
      res.end();
      return;
    }
    const b = typeof body === 'string' ? body : JSON.stringify(body);
    h['Content-Type'] = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json;charset=UTF-8';
    h['Content-Length'] = Buffer.byteLength(b);
    res.writeHead(status, h);
    res.end(b);
  }

  // What a long-poll should answer now: the watched namespaces whose
  // notification id is newer than the client's, or null.
  function changes(app, cluster, list) {
    const out = [];
    for (const n of list) {
      const s = spaces.get(watchKey(app, cluster, nsName(n.namespaceName)));
      // Apollo answers when its id is newer than the client's.
      if (!s || s.notificationId <= n.notificationId) continue;
      out.push({
        namespaceName: n.namespaceName,
        notificationId: s.notificationId,
        messages: { details: { [watchKey(app, cluster, s.ns)]: s.notificationId } },
      });
    }
    return out.length > 0 ? out : null;
  }

  function wakeWaiters() {
    for (const w of [...waiters]) {
      const c = changes(w.app, w.cluster, w.list);
      if (c) w.finish(200, c);
    }
  }

  // The client endpoints, after the test controls had their say.
  function client(req, res, u, parts) {
    if (parts[0] === 'configs' && parts.length === 4) {
      counts.configs++;
      const [app, cluster, ns] = parts.slice(1).map(decodeURIComponent);
      const s = space(app, cluster, ns, false);
      if (!s || s.released === null) {
        send(res, 404, { status: 404, message: `Could not load config for namespace ${ns}`, exception: 'NotFoundException', note: BANNER });
        return;
      }
      if (u.searchParams.get('releaseKey') === s.releaseKey) {
        counts.configs304++;
        send(res, 304);
        return;
      }
      send(res, 200, { appId: s.app, cluster: s.cluster, namespaceName: s.ns, configurations: s.released, releaseKey: s.releaseKey });
      return;
    }
    if (parts[0] === 'configfiles' && parts[1] === 'json' && parts.length === 5) {
      counts.configfiles++;
      const [app, cluster, ns] = parts.slice(2).map(decodeURIComponent);
      const s = space(app, cluster, ns, false);
      if (!s || s.released === null) {
        send(res, 404, { status: 404, message: `Could not load config for namespace ${ns}`, note: BANNER });
        return;
      }
      send(res, 200, s.released);
      return;
    }
    if (parts[0] === 'notifications' && parts[1] === 'v2' && parts.length === 2) {
      counts.notifications++;
      const app = u.searchParams.get('appId');
      const cluster = u.searchParams.get('cluster');
      let list;
      try {
        if (!app || !cluster) throw new Error('appId and cluster are required');
        list = JSON.parse(u.searchParams.get('notifications') || '');
        if (!Array.isArray(list) || list.length === 0) throw new Error('not a non-empty array');
        for (const n of list) {
          if (!n || typeof n.namespaceName !== 'string' || !Number.isInteger(n.notificationId)) {
            throw new Error('each needs namespaceName and a whole notificationId');
          }
        }
      } catch (e) {
        send(res, 400, { status: 400, message: `Invalid format of notifications: ${e.message}`, note: BANNER });
        return;
      }
      const now = changes(app, cluster, list);
      if (now) {
        send(res, 200, now);
        return;
      }
      const w = { app, cluster, list, timer: null, done: false };
      w.finish = (status, body) => {
        if (w.done) return;
        w.done = true;
        waiters.delete(w);
        clearTimeout(w.timer);
        if (status === 304) counts.notifications304++;
        if (!res.destroyed) send(res, status, body);
      };
      w.timer = setTimeout(() => w.finish(304), holdMs);
      res.on('close', () => {
        w.done = true;
        waiters.delete(w);
        clearTimeout(w.timer);
      });
      waiters.add(w);
      return;
    }
    send(res, 404, { status: 404, message: 'no such endpoint', note: BANNER });
  }

  async function openapi(req, res, parts) {
    counts.openapi++;
    // openapi v1 envs E apps A clusters C namespaces N (items K | releases)
    if (parts.length < 10 || parts[1] !== 'v1' || parts[2] !== 'envs' || parts[4] !== 'apps' ||
        parts[6] !== 'clusters' || parts[8] !== 'namespaces') {
      throw new HttpError(404, 'no such OpenAPI endpoint');
    }
    const [app, cluster, ns] = [parts[5], parts[7], parts[9]].map(decodeURIComponent);
    checkName('appId', app);
    checkName('cluster', cluster);
    checkName('namespace', ns);
    const u = new URL(req.url, 'http://x');
    if (parts.length === 12 && parts[10] === 'items' && req.method === 'PUT') {
      const key = decodeURIComponent(parts[11]);
      const b = await readJson(req);
      if (b.key !== undefined && b.key !== key) throw new HttpError(400, 'key: differs from the path');
      if (typeof b.value !== 'string') throw new HttpError(400, 'value: expected a string');
      if (key === '' || key.length > KEY_MAX) throw new HttpError(400, 'key: empty or too long');
      if (Buffer.byteLength(b.value) > VALUE_MAX) throw new HttpError(400, 'value: too long');
      if (typeof b.dataChangeLastModifiedBy !== 'string' || b.dataChangeLastModifiedBy === '') {
        throw new HttpError(400, 'dataChangeLastModifiedBy: required');
      }
      const create = u.searchParams.get('createIfNotExists') === 'true';
      let s = space(app, cluster, ns, false);
      if ((!s || !s.draft.has(key)) && !create) throw new HttpError(404, `item ${key} not found (createIfNotExists not set)`);
      s = space(app, cluster, ns, true);
      s.draft.set(key, b.value);
      send(res, 200, { key, value: b.value, comment: b.comment || '', dataChangeLastModifiedBy: b.dataChangeLastModifiedBy });
      return;
    }
    if (parts.length === 12 && parts[10] === 'items' && req.method === 'DELETE') {
      const key = decodeURIComponent(parts[11]);
      const s = space(app, cluster, ns, false);
      if (!s || !s.draft.has(key)) throw new HttpError(404, `item ${key} not found`);
      s.draft.delete(key);
      send(res, 200);
      return;
    }
    if (parts.length === 11 && parts[10] === 'releases' && req.method === 'POST') {
      const b = await readJson(req);
      if (typeof b.releaseTitle !== 'string' || b.releaseTitle === '') throw new HttpError(400, 'releaseTitle: required');
      if (typeof b.releasedBy !== 'string' || b.releasedBy === '') throw new HttpError(400, 'releasedBy: required');
      const s = space(app, cluster, ns, true);
      s.released = Object.fromEntries([...s.draft.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
      s.releases++;
      s.releaseKey = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${crypto.randomBytes(8).toString('hex')}`;
      s.notificationId = nextId++;
      send(res, 200, {
        appId: s.app, clusterName: s.cluster, namespaceName: s.ns, name: b.releaseTitle,
        configurations: s.released, comment: b.releaseComment || '', releaseKey: s.releaseKey,
        notificationId: s.notificationId, dataChangeCreatedBy: b.releasedBy,
      });
      wakeWaiters();
      return;
    }
    throw new HttpError(404, 'no such OpenAPI endpoint');
  }

  async function control(req, res, parts) {
    if (parts[1] === 'state' && req.method === 'GET') {
      send(res, 200, { note: BANNER, mode, slow_ms: slowMs, hold_ms: holdMs, held: waiters.size, counts });
      return;
    }
    if (parts[1] === 'mode' && req.method === 'POST') {
      const b = await readJson(req);
      if (!['normal', 'error', 'silent', 'slow'].includes(b.mode)) {
        throw new HttpError(400, 'mode: expected normal, error, silent or slow');
      }
      if (b.slow_ms !== undefined && (!Number.isInteger(b.slow_ms) || b.slow_ms < 0 || b.slow_ms > 600000)) {
        throw new HttpError(400, 'slow_ms: expected 0..600000');
      }
      mode = b.mode;
      slowMs = b.slow_ms !== undefined ? b.slow_ms : slowMs;
      if (mode === 'error' || mode === 'silent') {
        // Held polls end with the outage: as Apollo going away would.
        for (const w of [...waiters]) w.finish(500, { status: 500, message: 'dev-apollo: simulated outage', note: BANNER });
      }
      send(res, 200, { mode, slow_ms: slowMs });
      return;
    }
    if (parts[1] === 'hold' && req.method === 'POST') {
      const b = await readJson(req);
      try {
        holdMs = parseHold(b.hold_ms);
      } catch (e) {
        throw new HttpError(400, e.message);
      }
      send(res, 200, { hold_ms: holdMs });
      return;
    }
    throw new HttpError(404, 'no such control');
  }

  async function handle(req, res) {
    const u = new URL(req.url, 'http://x');
    const parts = u.pathname.split('/').filter((p) => p !== '');
    try {
      if (parts.length === 0) {
        send(res, 200, `${BANNER}\n\nClient endpoints: /configs, /configfiles/json, /notifications/v2\n` +
          'OpenAPI: PUT/DELETE .../items/{key}, POST .../releases\nControls: POST /dev/mode, /dev/hold; GET /dev/state\n');
        return;
      }
      if (parts[0] === 'dev') {
        await control(req, res, parts);
        return;
      }
      if (parts[0] === 'openapi') {
        await openapi(req, res, parts);
        return;
      }
      if (req.method !== 'GET') throw new HttpError(405, 'GET only');
      if (mode === 'error') {
        send(res, 500, { status: 500, message: 'dev-apollo: simulated outage', note: BANNER });
        return;
      }
      if (mode === 'silent') return;	// the client's timeout ends it
      if (mode === 'slow' && slowMs > 0) {
        setTimeout(() => { if (!res.destroyed) client(req, res, u, parts); }, slowMs);
        return;
      }
      client(req, res, u, parts);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      send(res, status, { status, message: e.message, note: BANNER });
    }
  }

  // --demo (make run): one released namespace to follow at once.
  if (opts.demo) {
    const d = space('yard-demo', 'default', 'application', true);
    d.draft.set('greeting', 'Hello from dev-apollo & <Apollo> "quoted" ${not.expanded}');
    d.draft.set('db.url', 'jdbc:mysql://127.0.0.1:3306/demo?useSSL=false&characterEncoding=utf8');
    d.draft.set('zh.title', '配置中心示例');
    d.released = Object.fromEntries([...d.draft.entries()].sort());
    d.releaseKey = `demo-${crypto.randomBytes(8).toString('hex')}`;
    d.notificationId = nextId++;
    d.releases = 1;
  }

  const server = http.createServer((req, res) => { handle(req, res); });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, resolve);
  });
  const addr = server.address();
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;

  return {
    url,
    port: addr.port,
    counts,
    // Test helpers that do what the OpenAPI calls do, in-process.
    set(app, cluster, ns, key, value) {
      space(app, cluster, ns, true).draft.set(key, value);
    },
    setMode(m, ms) {
      mode = m;
      if (ms !== undefined) slowMs = ms;
    },
    close() {
      for (const w of [...waiters]) w.finish(304);
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

function optsFromArgs(argv, env = process.env) {
  const o = {};
  if (env.APOLLO_LISTEN !== undefined) o.listen = env.APOLLO_LISTEN;
  if (env.APOLLO_HOLD_MS !== undefined) o.holdMs = env.APOLLO_HOLD_MS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--listen' && v !== undefined) { o.listen = v; i++; }
    else if (a === '--hold-ms' && v !== undefined) { o.holdMs = v; i++; }
    else if (a === '--demo') o.demo = true;
    else throw new Error(`unknown argument "${a}" (use --listen host:port, --hold-ms n, --demo)`);
  }
  return o;
}

module.exports = { start, parseListen, optsFromArgs, BANNER };

if (require.main === module) {
  let opts;
  try {
    opts = optsFromArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`dev-apollo: ${e.message}`);
    process.exit(2);
  }
  start(opts).then((s) => {
    console.log(`${BANNER}\nlistening on ${s.url}`);
    const stop = () => s.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }).catch((e) => {
    console.error(`dev-apollo: ${e.message}`);
    process.exit(1);
  });
}
