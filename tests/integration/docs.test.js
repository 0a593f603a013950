// The documentation and the code agree (a static check: no server).
//  1. Every YARD_* setting the code reads is documented where its reader's
//     settings are: the server's in the table of docs/configuration.md,
//     with the default and range of src/settings.c; the launch scripts' in
//     that page; the agent's (and scripts/install-agent.sh's) in
//     agent/README.md, docs/agent-protocol.md or docs/operations.md; the
//     Debian packages' and scripts/build-deb.sh's in docs/operations.md; a
//     development tool's in its docs/<tool>.md.  Every YARD_* a document or
//     a file of conf/ names is read by something.  Variables only tests
//     read are listed in INTERNAL with the reason they need no docs.
//  2. Every route of conf/yard.conf.in is documented, with each method its
//     handler accepts, in docs/api.md (docs/agent-protocol.md for
//     /agent/v1/), and every `METHOD /path` those pages give has a route
//     whose handler accepts that method; a /api/v1/ or /agent/v1/ path
//     named in any document has a route.  A handler's methods are those
//     its body names: one that serves several paths (the configuration's
//     versions, import and export) is checked as a whole, not per path.
//  3. Every relative link of the documents points to a file (and heading)
//     inside the repository, every repository path they name exists, and
//     none names a file outside it.
// Each failure lists every mismatch, one per line.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const top = path.join(__dirname, '..', '..');
const read = (p) => fs.readFileSync(path.join(top, p), 'utf8');
const exists = (p) => fs.existsSync(path.join(top, p));
// Repository files under dir whose name matches re (no node_modules).
const files = (dir, re) => {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(path.join(top, d), { withFileTypes: true })) {
      const p = path.posix.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(p);
      } else if (re.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
};
const fail = (title, list) => assert.deepStrictEqual(list, [], `${title}:\n  ${list.join('\n  ')}`);

// The documents: docs/ (with any translations below it), the top README
// and the agent's README, which docs/configuration.md sends readers to.
const DOCS = [...files('docs', /\.md$/), 'README.md', 'agent/README.md'];
const AGENT_DOCS = ['agent/README.md', 'docs/agent-protocol.md', 'docs/operations.md'];

/* ---------------------------------------------------------------- settings */

// Read by tests and benchmarks only, never by a server, script or agent a
// user runs: they need no entry in the settings documentation.
const INTERNAL = {
  YARD_TEST_PG_PORT: 'scripts/test.sh tells the test stack (tests/lib/stack.js) the port of the PostgreSQL it started',
  YARD_TEST_LOGDIR: 'scripts/test.sh tells browser tests where to keep their screenshots',
  YARD_TEST_KEEP: 'the test stack keeps its temporary directory for inspection (operations.md uses it in the seccomp audit)',
  YARD_BENCH_TOKEN: 'scripts/bench.sh hands its admin JWT to the load generators in tests/bench',
};

const YARD = /\bYARD_[A-Z0-9_]*[A-Z0-9]\b/g;
const stripShellComments = (t) => t.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
const shellReads = (t) => [...stripShellComments(t).matchAll(/\$\{?(YARD_[A-Z0-9_]+)/g)].map((m) => m[1]);
const jsReads = (t) => [...t.matchAll(/\benv(?:\.|\[['"])(YARD_[A-Z0-9_]+)/g)].map((m) => m[1]);
const cGetenv = (t) => [...t.matchAll(/getenv\(\s*"(YARD_[A-Z0-9_]+)"/g)].map((m) => m[1]);

// Every reader of YARD_* variables: name -> [{ who, docs }], where docs
// are the pages that must name it (null: test-only, must be INTERNAL).
function readers() {
  const r = new Map();
  const add = (name, who, docs) => {
    if (!r.has(name)) r.set(name, []);
    r.get(name).push({ who, docs });
  };
  // The server: its settings table, and anything src/ reads itself.
  const table = [...read('src/settings.c').matchAll(/^\s*\{\s*"(YARD_[A-Z0-9_]+)",\s*SET_/gm)].map((m) => m[1]);
  for (const n of table) add(n, 'src/settings.c (settings table)', ['docs/configuration.md#table']);
  for (const f of files('src', /\.[ch]$/)) for (const n of cGetenv(read(f))) add(n, f, ['docs/configuration.md']);
  // The scripts: what they read from their environment.
  const scriptDocs = {
    'scripts/yard-server': ['docs/configuration.md'],
    'scripts/run.sh': ['docs/configuration.md'],
    'scripts/yard-admin': ['docs/configuration.md'],
    'scripts/install-agent.sh': AGENT_DOCS,
    'scripts/build-deb.sh': ['docs/operations.md'],
  };
  // The Debian packages' maintainer scripts (conf/deb/) are documented
  // with the packages, in docs/operations.md.
  for (const f of [...files('scripts', /./), ...files('conf', /./)]) {
    const t = read(f);
    if (!/^#!.*\bsh\b/.test(t) && !f.endsWith('.sh')) continue;
    const docs = scriptDocs[f] || (f.startsWith('conf/deb/') ? ['docs/operations.md'] : null);
    for (const n of shellReads(t)) add(n, f, docs);
  }
  // The agent: every YARD_ string it has (names it reads, and the mark it
  // puts in its tasks' environment, which operators see).
  for (const f of files('agent', /\.[ch]$/))
    for (const m of read(f).matchAll(/"(YARD_[A-Z0-9_]+)"/g)) add(m[1], f, AGENT_DOCS);
  // The development tools: tools/<tool>/ is documented in docs/<tool>.md.
  for (const f of files('tools', /\.js$/)) {
    const tool = f.split('/')[1];
    for (const n of jsReads(read(f))) add(n, f, [`docs/${tool}.md`]);
  }
  // Tests and benchmarks (s.env is a test stack's server environment, not
  // a read of the test's own).
  for (const f of files('tests', /\.(js|c|sh)$/)) {
    const t = read(f);
    const names = f.endsWith('.c') ? cGetenv(t) : f.endsWith('.sh') ? shellReads(t) : jsReads(t.replace(/\bs\.env\./g, 'x.'));
    for (const n of names) add(n, f, null);
  }
  return { r, table };
}

// The YARD_ names a document gives; for docs/configuration.md also those
// with a row in its settings table.
const docNames = (p) => new Set(read(p).match(YARD) || []);
const tableRows = () => new Set([...read('docs/configuration.md').matchAll(/^\| `(YARD_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
const names = (p) => (p === 'docs/configuration.md#table' ? tableRows() : exists(p) ? docNames(p) : new Set());

test('the settings parser is not blind', () => {
  const { r, table } = readers();
  assert.ok(table.length >= 60 && table.includes('YARD_LISTEN') && table.includes('YARD_TOKEN_CACHE_SLOTS'), table.join(' '));
  assert.ok(tableRows().has('YARD_PG_DSN'));
  for (const n of ['YARD_SETTINGS_FILE', 'YARD_RUN_DIR', 'YARD_PURGE_DATA', 'YARD_VAR_DIR', 'YARD_AGENT_TOKEN', 'YARD_AGENT_STATE_DIR', 'YARD_URL', 'YARD_TEST_PG_PORT'])
    assert.ok(r.has(n), `${n} not found among the readers`);
  assert.deepStrictEqual(shellReads('# ${YARD_NO}\nx=${YARD_A:-1} "$YARD_B" YARD_C=2'), ['YARD_A', 'YARD_B']);
});

test('every YARD_* setting the code reads is documented', () => {
  const { r } = readers();
  const bad = [];
  for (const [n, rs] of [...r].sort()) {
    for (const { who, docs } of rs) {
      if (docs === null) {
        if (!(n in INTERNAL) && !DOCS.some((d) => docNames(d).has(n)))
          bad.push(`${n} (read by ${who}) is in no document and not listed as INTERNAL in this test`);
      } else if (!(n in INTERNAL) && !docs.some((d) => names(d).has(n))) {
        const where = docs.map((d) => (d.endsWith('#table') ? 'the table of docs/configuration.md' : d)).join(' or ');
        bad.push(`${n} (read by ${who}) is not documented in ${where}`);
      }
    }
  }
  fail('settings read but not documented', bad);
});

test('every YARD_* setting the documents name is read by the code', () => {
  const { r, table } = readers();
  const known = [...r.keys()];
  const bad = [];
  for (const n of Object.keys(INTERNAL))
    if (!r.has(n)) bad.push(`INTERNAL lists ${n}, which nothing reads`);
  // The shipped settings files and units set only what something reads.
  for (const f of files('conf', /./))
    for (const n of new Set(read(f).match(YARD) || [])) if (!r.has(n)) bad.push(`${f}: ${n} is read by nothing`);
  for (const n of tableRows())
    if (!table.includes(n)) bad.push(`docs/configuration.md: table row ${n} is not in the server's settings table (src/settings.c)`);
  for (const d of DOCS) {
    const t = read(d);
    for (const n of docNames(d)) if (!r.has(n)) bad.push(`${d}: ${n} is read by nothing`);
    // A family (`YARD_WORKER_*`) must name some.
    for (const m of t.matchAll(/\b(YARD_[A-Z0-9_]*)\*/g))
      if (!known.some((k) => k.startsWith(m[1]))) bad.push(`${d}: ${m[1]}* names no setting`);
  }
  fail('settings documented but not read', [...new Set(bad)]);
});

// The server's settings table: name, type, default, bounds.
const UNITS = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
// A bound in src/settings.c: 30, or INT64_C(256) << 20.
const cNumber = (e) => {
  const m = /^\s*(?:INT64_C\((\d+)\)|(\d+))\s*(?:<<\s*(\d+))?\s*$/.exec(e);
  if (!m) throw new Error(`src/settings.c: cannot read the bound ${e}`);
  return Number(m[1] || m[2]) * 2 ** Number(m[3] || 0);
};
function settingDefs() {
  const h = read('src/settings.h');
  const macro = (n) => {
    const m = new RegExp(`#define ${n}\\s*\\\\?\\s*"([^"]*)"`).exec(h);
    return m ? m[1] : undefined;
  };
  const re = /^\s*\{\s*"(YARD_[A-Z0-9_]+)",\s*(SET_INT|SET_STR),\s*S\(\w+\),\s*("([^"]*)"|[A-Z_]+),\s*([^,]+),\s*([^,]+),/gm;
  return [...read('src/settings.c').matchAll(re)].map((m) => ({
    name: m[1],
    int: m[2] === 'SET_INT',
    def: m[4] !== undefined ? m[4] : macro(m[3]),
    min: cNumber(m[5]),
    max: cNumber(m[6]),
  }));
}

// docs/configuration.md's table: name -> { meaning, def }.
function settingRows() {
  const rows = new Map();
  for (const m of read('docs/configuration.md').matchAll(/^\| `(YARD_[A-Z0-9_]+)` \| (.*) \| (.*?) \|$/gm))
    rows.set(m[1], { meaning: m[2], def: m[3] });
  return rows;
}

// The range a row's meaning gives: (0-600), (64 KiB-256 MiB), (1,024-…).
function docRange(meaning) {
  const n = '(\\d[\\d,]*)(?:\\s*(B|KiB|MiB|GiB|TiB))?';
  const m = new RegExp(`(?:^|[(\\s])${n}\\s*-\\s*${n}(?=[;),]|$)`).exec(meaning);
  if (!m) return null;
  const v = (d, u) => Number(d.replace(/,/g, '')) * (u ? UNITS[u] : 1);
  return [v(m[1], m[2]), v(m[3], m[4])];
}

test('the documented defaults and ranges are the code\'s', () => {
  const defs = settingDefs();
  assert.strictEqual(defs.length, readers().table.length, 'settingDefs() missed table rows');
  assert.deepStrictEqual(docRange('bytes (64 KiB-256 MiB); more'), [65536, 268435456]);
  const rows = settingRows();
  const bad = [];
  for (const d of defs) {
    const row = rows.get(d.name);
    if (!row) continue; // reported by the test above
    if (d.int) {
      // The default is the first thing in its cell: `30`, `1073741824`.
      const m = /^`(-?\d+)`/.exec(row.def);
      if (!m || m[1] !== d.def) bad.push(`${d.name}: default is ${d.def} in src/settings.c, docs/configuration.md says ${row.def}`);
      // The bounds (a value outside stops the start): (MIN-MAX); a 0/1
      // switch says what `0` and `1` do instead.
      const r = docRange(row.meaning);
      if (d.min === 0 && d.max === 1) {
        if (!/`0`/.test(row.meaning) || !/`1`/.test(row.meaning)) bad.push(`${d.name}: docs/configuration.md does not say what \`0\` and \`1\` do`);
      } else if (!r) bad.push(`${d.name}: docs/configuration.md gives no range; src/settings.c takes ${d.min}-${d.max}`);
      else if (r[0] !== d.min || r[1] !== d.max)
        bad.push(`${d.name}: range is ${d.min}-${d.max} in src/settings.c, docs/configuration.md says ${r[0]}-${r[1]}`);
    } else if (d.def && d.def !== '.' && !row.def.includes(`\`${d.def}\``)) {
      // "." (YARD_HOME) is documented as "the checkout" (scripts/yard-server
      // sets it); an empty default is "none" or what the code puts instead.
      bad.push(`${d.name}: default is "${d.def}" in src/settings.c, docs/configuration.md says ${row.def}`);
    }
  }
  fail('defaults and ranges that differ', bad);
});

/* --------------------------------------------------------------- endpoints */

const METHODS = 'GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS';
// Routes that are not endpoints: a JSON 404 for anything else under them.
const INTERNAL_ROUTES = {
  '^/agent/.*$': 'any other /agent/ path answers a JSON 404',
  '^/api/.*$': 'any other /api/ path answers a JSON 404',
};

// Expand a Kore route (a literal path, or a ^...$ regex built from
// literals, [class]{n,m} and (a|b)? groups) to path shapes, each
// variable part being {}.
function expand(re) {
  let i = 0;
  const seq = () => {
    let alts = [''];
    const alternatives = [];
    const append = (parts) => {
      const next = [];
      for (const a of alts) for (const p of parts) next.push(a + p);
      alts = next;
    };
    while (i < re.length && re[i] !== ')') {
      const c = re[i];
      if (c === '|') {
        alternatives.push(...alts);
        alts = [''];
        i++;
      } else if (c === '(') {
        i++;
        const inner = seq();
        if (re[i] !== ')') throw new Error(`unbalanced ( in ${re}`);
        i++;
        if (re[i] === '?') {
          i++;
          inner.push('');
        }
        append(inner);
      } else if (c === '[' || c === '.') {
        if (c === '[') i = re.indexOf(']', i) + 1;
        else i++;
        if (re[i] === '{') i = re.indexOf('}', i) + 1;
        else if ('*+?'.includes(re[i])) i++;
        else throw new Error(`unquantified class in ${re}`);
        append(['{}']);
      } else if (c === '^' || c === '$') {
        i++;
      } else if (c === '\\') {
        append([re[i + 1]]);
        i += 2;
      } else if ('?*+{'.includes(c)) {
        throw new Error(`quantifier after a literal in ${re} at ${i}`);
      } else {
        append([c]);
        i++;
      }
    }
    return [...alternatives, ...alts];
  };
  const out = seq();
  if (i !== re.length) throw new Error(`unbalanced ) in ${re}`);
  return out;
}

// Each handler's accepted methods: the HTTP_METHOD_* its body names
// (null: it does not look at the method, so any is served).
function handlerMethods() {
  const h = new Map();
  for (const f of files('src', /\.c$/)) {
    for (const m of read(f).matchAll(/^(api_[a-z0-9_]+)\(struct http_request \*req\)\n\{\n([\s\S]*?)\n\}/gm)) {
      const ms = [...new Set([...m[2].matchAll(/HTTP_METHOD_([A-Z]+)/g)].map((x) => x[1]))];
      h.set(m[1], { file: f, methods: ms.length ? ms : null });
    }
  }
  return h;
}

function routes() {
  const hm = handlerMethods();
  const out = [];
  for (const m of read('conf/yard.conf.in').matchAll(/^\s*route\s+(\S+)\s+(\S+)\s*$/gm)) {
    const [, re, handler] = m;
    if (re in INTERNAL_ROUTES) continue;
    const h = hm.get(handler);
    out.push({ re, handler, shapes: expand(re), methods: h ? h.methods : undefined });
  }
  return out;
}

// A documented path as a shape: no query, placeholders ({id}, <sha256>,
// ID) as {}; the Pages table of api.md gives paths under /api/v1 short.
function docShape(p) {
  p = p.replace(/[?#].*$/, '').replace(/\/$/, '');
  if (!/^\/(api|agent|ui|healthz|readyz|metrics)\b/.test(p)) p = `/api/v1${p}`;
  return p.split('/').map((s) => (/^(\{[^}]*\}|<[^>]*>|[A-Z][A-Z0-9_]*)$/.test(s) ? '{}' : s)).join('/');
}

// `METHOD /path` in backquotes, or in a heading, of one document.
function documented(doc) {
  const out = [];
  const t = read(doc);
  const re = new RegExp(`\`(${METHODS}) (/[^\`\\s]*(?: \\{[^}\`]*\\})?)[^\`]*\`|^#+ (${METHODS}) (/\\S*)`, 'gm');
  for (const m of t.matchAll(re)) {
    const method = m[1] || m[3];
    let p = (m[2] || m[4]).replace(/ \{.*$/, '');
    const line = t.slice(0, m.index).split('\n').length;
    out.push({ method, path: p, shape: docShape(p), where: `${doc}:${line}` });
  }
  return out;
}

const accepts = (r, method) => r.methods === null || r.methods.includes(method);
const docFor = (shape) => (shape.startsWith('/agent/') ? 'docs/agent-protocol.md' : 'docs/api.md');

test('the route parser is not blind', () => {
  assert.deepStrictEqual(expand('^/a/[0-9]{1,9}/c(/v(/[0-9]{1,9}(/r)?)?|/i)?$').sort(),
    ['/a/{}/c', '/a/{}/c/i', '/a/{}/c/v', '/a/{}/c/v/{}', '/a/{}/c/v/{}/r']);
  assert.strictEqual(docShape('/api/v1/tasks/{id}/logs?file=&lines=200'), '/api/v1/tasks/{}/logs');
  assert.strictEqual(docShape('/packages/{p}/diff?task_id={id}'), '/api/v1/packages/{}/diff');
  const rs = routes();
  assert.ok(rs.length >= 50, `${rs.length} routes`);
  const cfg = rs.find((r) => r.handler === 'api_task_config');
  assert.deepStrictEqual(cfg.methods.sort(), ['GET', 'POST', 'PUT']);
  assert.strictEqual(cfg.shapes.length, 6);
  assert.strictEqual(rs.find((r) => r.handler === 'api_health_get').methods, null);
  assert.ok(documented('docs/api.md').length >= 60);
});

test('every route is documented with each method its handler accepts', () => {
  const bad = [];
  const byDoc = { 'docs/api.md': documented('docs/api.md'), 'docs/agent-protocol.md': documented('docs/agent-protocol.md') };
  for (const r of routes()) {
    if (r.methods === undefined) {
      bad.push(`route ${r.re}: handler ${r.handler} not found in src/`);
      continue;
    }
    const doc = docFor(r.shapes[0]);
    const ds = byDoc[doc].filter((d) => r.shapes.includes(d.shape));
    for (const s of r.shapes) {
      // HEAD is GET without the body (RFC 9110): a documented GET covers it.
      if (!ds.some((d) => d.shape === s && accepts(r, d.method)))
        bad.push(`${(r.methods || ['any method']).join('|')} ${s} (route ${r.re} -> ${r.handler}) is not documented in ${doc}`);
    }
    for (const m of ds.length ? r.methods || [] : []) {
      if (m === 'HEAD' && r.methods.includes('GET')) continue;
      if (!ds.some((d) => d.method === m))
        bad.push(`${m} ${r.shapes.join(', ')} (${r.handler} accepts ${m}) is not documented in ${doc}`);
    }
  }
  fail('routes missing from the documentation', bad);
});

test('every documented endpoint has a route that accepts its method', () => {
  const rs = routes();
  const bad = [];
  for (const doc of ['docs/api.md', 'docs/agent-protocol.md']) {
    for (const d of documented(doc)) {
      const r = rs.filter((x) => x.shapes.includes(d.shape));
      if (r.length === 0) bad.push(`${d.where}: ${d.method} ${d.path}: no route (shape ${d.shape})`);
      else if (!r.some((x) => x.methods !== undefined && accepts(x, d.method)))
        bad.push(`${d.where}: ${d.method} ${d.path}: ${r.map((x) => `${x.handler} accepts only ${x.methods.join(', ')}`).join('; ')}`);
    }
  }
  // Anywhere else, a /api/v1/ or /agent/v1/ path named must exist.
  for (const doc of DOCS.filter((d) => !['docs/api.md', 'docs/agent-protocol.md'].includes(d))) {
    const t = read(doc);
    for (const m of t.matchAll(new RegExp(`\`(?:(${METHODS}) )?(/(?:api|agent)/v1/[^\`\\s…]*)[^\`]*\``, 'g'))) {
      if (/…|\.\.\./.test(m[0]) || m[2].endsWith('/v1/')) continue;
      const shape = docShape(m[2]);
      const r = rs.filter((x) => x.shapes.includes(shape));
      const line = t.slice(0, m.index).split('\n').length;
      if (r.length === 0) bad.push(`${doc}:${line}: ${m[0]}: no route (shape ${shape})`);
      else if (m[1] && !r.some((x) => accepts(x, m[1]))) bad.push(`${doc}:${line}: ${m[0]}: ${r[0].handler} does not accept ${m[1]}`);
    }
  }
  fail('documented endpoints without a route', [...new Set(bad)]);
});

/* ------------------------------------------------------------------- links */

// GitHub's heading anchors: lower case, punctuation dropped, spaces to -,
// a repeated heading gets -1, -2, ...
function anchors(doc) {
  const seen = new Map();
  const out = new Set();
  let fence = false;
  for (const l of read(doc).split('\n')) {
    if (/^```/.test(l)) fence = !fence;
    const m = !fence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!m) continue;
    const base = m[1].replace(/`/g, '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) || 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

const inside = (p) => !path.relative(top, p).startsWith('..') && !path.isAbsolute(path.relative(top, p));

test('every relative link points to a file and heading in the repository', () => {
  const bad = [];
  for (const doc of DOCS) {
    const t = read(doc).replace(/^```[\s\S]*?^```/gm, '');
    const links = [...t.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g), ...t.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]);
    for (const l of links) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(l)) continue; // http:, mailto:
      const [file, hash] = l.split('#');
      const abs = file ? path.resolve(top, path.dirname(doc), file) : path.join(top, doc);
      const rel = path.relative(top, abs);
      if (!inside(abs)) bad.push(`${doc}: (${l}) leaves the repository`);
      else if (!fs.existsSync(abs)) bad.push(`${doc}: (${l}): ${rel} does not exist`);
      else if (hash && rel.endsWith('.md') && !anchors(rel).has(hash)) bad.push(`${doc}: (${l}): ${rel} has no heading #${hash}`);
    }
  }
  fail('broken links', bad);
});

// Top-level directories whose files the documents name by path.
const TREES = ['src', 'agent', 'scripts', 'conf', 'docs', 'tests', 'tools', 'frontend-fragments'];

// conf/<name>.xml, .properties and .yml in the documents are files of a
// task's tree (the examples of docs/config.md); the repository's conf/
// has none.
const TASK_EXAMPLE = /^conf\/[^/]+\.(xml|properties|ya?ml)$/;

test('every repository path the documents name exists, and none is outside it', () => {
  const bad = [];
  assert.deepStrictEqual(files('conf', /./).filter((f) => TASK_EXAMPLE.test(f)), [], 'conf/ now has files like the task examples: rename them');
  const re = new RegExp(`(?<![\\w./~-])((?:${TREES.join('|')})/[A-Za-z0-9_./-]*)`, 'g');
  for (const doc of DOCS) {
    const lines = read(doc).split('\n');
    lines.forEach((l, i) => {
      const where = `${doc}:${i + 1}`;
      for (const m of l.matchAll(re)) {
        const p = m[1].replace(/[.]+$/, '');
        // A path that goes on with a placeholder or a glob is a pattern.
        const next = l[m.index + m[0].length] || '';
        if ('<{*…'.includes(next) && next !== '') continue;
        if (TASK_EXAMPLE.test(p)) continue;
        if (!exists(p)) bad.push(`${where}: ${p} does not exist`);
      }
      if (/\bSPEC\b/.test(l)) bad.push(`${where}: cites SPEC, which is not in the repository`);
      if (/(^|[\s(`'"])\.\.\/shared\b|\/work\/|STYLE\.md/.test(l)) bad.push(`${where}: names a file outside the repository`);
    });
  }
  fail('paths that do not exist', bad);
});
