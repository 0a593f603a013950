// One command for a whole site (scripts/install-site.sh), for real, in a
// throwaway Debian 12 root (tests/lib/debroot.js) with namespaces of its
// own that live across commands (a session: its own loopback, so nginx
// on 443 and PostgreSQL on 5432 are the root's).  The root has no
// systemd: tests/lib/systemctl-shim.sh stands in for systemctl and runs
// each unit's own commands from the unit files the packages ship.
//
// The packages of this tree (version N, and N+1 = N with one more schema
// migration) and the script are copied in; apt installs PostgreSQL,
// Redis, nginx and the dependencies from the machine's mirror (downloaded
// first with the network; the script itself runs without one).  Then:
// bad arguments change nothing; the site comes up behind TLS (a page and
// the API through nginx, the printed fingerprint is the served one, no
// password in yard.env or any command line, Redis refuses no-password
// clients, the local agent online); a second run changes nothing; the
// Nodes page's one line installs and enrols an agent on a "new server"
// (the local agent purged first); an upgrade to N+1 keeps every row and
// runs its migration; backup, wipe, restore brings the same rows back.
// Needs root, mmdebstrap and the mirror; about three minutes.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const debroot = require('../lib/debroot.js');
const jwt = require('../lib/jwt.js');

const TOP = path.resolve(__dirname, '..', '..');
const AGENT_V = fs.readFileSync(path.join(TOP, 'agent', 'agent.h'), 'utf8')
  .match(/AGENT_VERSION\s+"([^"]+)"/)[1];
const V1 = `${AGENT_V}-1`;
const V2 = `${AGENT_V}-2`;
const ARCH = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
const HOST = 'yard.test';
const ISS = 'https://ews.test';
const PROBE = '999_site_upgrade_probe.sql';

const skip = process.getuid() !== 0 ? 'needs root' : false;
let tmp, d, s, keys;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, Object.assign({ encoding: 'utf8', timeout: 300000 }, opts));
  assert.strictEqual(r.status, 0, `${cmd} ${args.join(' ')}: ${r.error || ''}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const read = (p) => fs.readFileSync(d.path(p), 'utf8');
const exists = (p) => fs.existsSync(d.path(p));

const SITE_ARGS = `--host ${HOST} --offline --ews-issuer ${ISS} --ews-public-key /root/ews.pem ` +
  `--ews-origins ${ISS} --ews-login-url ${ISS}/login --admin u-admin`;

function site(dir, args = SITE_ARGS) {
  return s.run(`sh /root/${dir}/install-site.sh ${args}`, { timeout: 600000 });
}

function token(sub = 'u-admin') {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign({ alg: 'RS256', typ: 'JWT' }, {
    iss: ISS, aud: 'yard', sub, name: 'Site Admin', iat: now, nbf: now, exp: now + 600,
  }, keys.rsa.privateKey);
}

// A request to the site through nginx over TLS, from the root's network;
// the certificate checked against the site's own.  The token goes in a
// header file, never on a command line.
function api(method, p, body, opts = {}) {
  const hdr = path.join(tmp, 'hdr');
  fs.writeFileSync(hdr, `Authorization: Bearer ${token(opts.sub)}\nContent-Type: application/json\n`, { mode: 0o600 });
  const argv = ['curl', '-sS', '--max-time', '30', '--cacert', d.path('etc/yard/tls/site.crt'),
    '--resolve', `${HOST}:443:127.0.0.1`, '-H', `@${hdr}`, '-X', method, '-w', '\n%{http_code}'];
  if (body !== undefined) argv.push('--data-binary', JSON.stringify(body));
  argv.push(`https://${HOST}${p}`);
  const r = s.host(argv);
  fs.rmSync(hdr);
  assert.strictEqual(r.status, 0, `curl ${method} ${p}: ${r.stderr}`);
  const i = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, i);
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: Number(r.stdout.slice(i + 1)), text, json };
}

async function until(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

// The rows a user sees, comparable across an upgrade or a restore.
function rows() {
  const nodes = api('GET', '/api/v1/nodes').json.items.map((n) => ({ id: n.id, name: n.name, hostname: n.hostname }));
  const tasks = api('GET', '/api/v1/tasks').json.items.map((t) => ({ id: t.id, name: t.name, node_id: t.node_id, spec: t.spec }));
  const users = api('GET', '/api/v1/users').json.items.map((u) => ({ id: u.id, sub: u.sub, admin: u.admin }));
  return { nodes, tasks, users };
}

function psql(sql) {
  return s.must(`runuser -u postgres -- psql -X -q -A -t -d yard -c "${sql}"`).trim();
}

test.before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-site-'));
  fs.chmodSync(tmp, 0o700);
  for (const v of [V1, V2]) {
    sh(path.join(TOP, 'scripts', 'build-deb.sh'), [path.join(tmp, v)],
      { env: Object.assign({}, process.env, { YARD_DEB_VERSION: v }) });
  }
  // N+1 ships one more migration: the upgrade must run it on N's data.
  const srv2 = path.join(tmp, V2, `yard-server_${V2}_${ARCH}.deb`);
  const x = path.join(tmp, 'x');
  sh('dpkg-deb', ['-R', srv2, x]);
  fs.writeFileSync(path.join(x, 'usr/share/yard/src/store/migrations', PROBE),
    "CREATE TABLE site_upgrade_probe (note text NOT NULL);\nINSERT INTO site_upgrade_probe SELECT 'nodes ' || count(*) FROM nodes;\n");
  sh('sh', ['-c', 'cd "$1" && find . -path ./DEBIAN -prune -o -type f -print | sed "s#^\\./##" | LC_ALL=C sort | xargs md5sum >DEBIAN/md5sums', 'sh', x]);
  sh('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', x, srv2]);
  fs.rmSync(x, { recursive: true });

  keys = jwt.keys();
  d = debroot.create();
  for (const v of [V1, V2]) {
    const dir = d.path(`root/${v === V1 ? 'n1' : 'n2'}`);
    fs.mkdirSync(dir);
    for (const f of fs.readdirSync(path.join(tmp, v))) fs.copyFileSync(path.join(tmp, v, f), path.join(dir, f));
    fs.copyFileSync(path.join(TOP, 'scripts', 'install-site.sh'), path.join(dir, 'install-site.sh'));
  }
  fs.writeFileSync(d.path('root/ews.pem'), keys.rsaPem);
  fs.copyFileSync(path.join(TOP, 'tests', 'lib', 'systemctl-shim.sh'), d.path('usr/local/bin/systemctl'));
  fs.chmodSync(d.path('usr/local/bin/systemctl'), 0o755);
  // As on an installed system: localhost, and the site's name here.
  fs.writeFileSync(d.path('etc/hosts'), `127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.0.1 ${HOST}\n`);
  // Everything apt will need, downloaded now: the script runs offline.
  d.must('apt-get update -qq', { net: true });
  d.must(`apt-get install -y -qq --no-install-recommends --download-only postgresql redis-server nginx openssl ca-certificates curl ./root/n1/yard-server_${V1}_${ARCH}.deb ./root/n1/yard-agent_${V1}_${ARCH}.deb`,
    { net: true, timeout: 600000 });
  s = await d.session();
});

test.after(() => {
  try {
    if (s) s.close();
    if (d) d.destroy();
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('bad arguments: a clear error, nothing installed or written', { skip }, () => {
  const cases = [
    ['--offline', /--host NAME is required/],
    [`--host 'bad name' --offline`, /--host 'bad name' is not a DNS name/],
    [`--host ${HOST} --offline`, /EWS portal's settings are needed: --ews-issuer --ews-origins --ews-login-url --ews-jwks-url\|--ews-public-key/],
    [`${SITE_ARGS} --ews-origins https://ews.test/path`, /--ews-origins: 'https:\/\/ews.test\/path' is not an origin/],
    [`${SITE_ARGS} --ews-login-url 'https://x/?a=1&b=2'`, /--ews-login-url .* is not an http/],
    [`${SITE_ARGS} --cert /root/ews.pem`, /--cert and --key go together/],
    [`${SITE_ARGS} --ews-public-key /etc/hostname`, /holds no PEM public key/],
    [`${SITE_ARGS} --debs /nonexistent`, /--debs: no directory/],
    [`${SITE_ARGS} --debs /root`, /no yard-server package/],
    [`${SITE_ARGS} --bogus x`, /unknown argument: --bogus/],
  ];
  for (const [args, re] of cases) {
    const r = site('n1', args);
    assert.notStrictEqual(r.code, 0, args);
    assert.match(r.err, re, args);
  }
  assert.ok(!exists('etc/yard'), 'wrote /etc/yard');
  assert.doesNotMatch(s.run('dpkg-query -W -f="${Status}" postgresql').out, /installed/);
});

test('one command: a site behind TLS, its agent online', { skip, timeout: 900000 }, async () => {
  const r = site('n1');
  assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
  assert.match(r.out, new RegExp(`Yard is ready: https://${HOST.replace('.', '\\.')}/`));
  assert.match(r.out, /enrolled the local agent/);
  assert.match(r.out, /user u-admin created as an admin/);
  assert.match(r.out, /Menu entry \(lands each user\) +https:\/\/yard\.test\/ui\/start/);
  assert.match(r.out, /Pages may be framed by +https:\/\/ews\.test/);
  for (const p of ['yard-server', 'yard-agent']) {
    assert.match(s.must(`dpkg-query -W -f='\${Status} \${Version}' ${p}`), new RegExp(`^install ok installed ${V1}$`));
  }

  // The fingerprint printed is the certificate nginx serves.
  const printed = r.out.match(/SHA-256 fingerprint: ([0-9A-F:]{95})/)[1];
  const served = s.host(['sh', '-c', `openssl s_client -connect 127.0.0.1:443 -servername ${HOST} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`]);
  assert.strictEqual(served.stdout.trim().replace(/^.*=/, ''), printed);

  // A page and the API through nginx over TLS; port 80 sends to 443.
  const page = s.host(['curl', '-sS', '--cacert', d.path('etc/yard/tls/site.crt'), '--resolve', `${HOST}:443:127.0.0.1`,
    '-w', '\n%{http_code}', `https://${HOST}/ui/tasks`]);
  assert.match(page.stdout, /<html[\s\S]*\n200$/);
  const redirect = s.host(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--resolve', `${HOST}:80:127.0.0.1`, `http://${HOST}/ui/tasks`]);
  assert.strictEqual(redirect.stdout, `301 https://${HOST}/ui/tasks`);
  const me = api('GET', '/api/v1/me');
  assert.strictEqual(me.status, 200, me.text);
  assert.strictEqual(me.json.admin, true);
  const node = await until('the local agent online', () => {
    const n = api('GET', '/api/v1/nodes').json.items;
    return n.length === 1 && n[0].status === 'online' && n[0];
  });
  assert.ok(node.name);

  // Secrets: in files of their own, never in yard.env or a command line.
  const env = read('etc/yard/yard.env');
  const pgpw = read('etc/yard/pgpass').trim().split(':')[4];
  const redispw = read('etc/yard/redis.password');
  assert.match(pgpw, /^[0-9a-f]{48}$/);
  assert.match(redispw, /^[0-9a-f]{64}$/);
  assert.match(env, /^YARD_PG_DSN=postgresql:\/\/yard@127\.0\.0\.1:5432\/yard\?connect_timeout=2$/m);
  assert.match(env, /^PGPASSFILE=\/etc\/yard\/pgpass$/m);
  assert.match(env, /^YARD_REDIS_PASSWORD_FILE=\/etc\/yard\/redis\.password$/m);
  assert.match(env, /^YARD_PUBLIC_URL=https:\/\/yard\.test$/m);
  assert.ok(!env.includes(pgpw) && !env.includes(redispw));
  const cmdlines = s.must('cat /proc/[0-9]*/cmdline | tr "\\0" " "');
  assert.ok(!cmdlines.includes(pgpw) && !cmdlines.includes(redispw), 'a password on a command line');
  const st = fs.statSync(d.path('etc/yard/pgpass'));
  assert.strictEqual((st.mode & 0o777).toString(8), '600');
  assert.match(s.run('redis-cli -h 127.0.0.1 ping').out, /NOAUTH/);
});

test('a second run changes nothing and says so', { skip, timeout: 600000 }, () => {
  const files = ['etc/yard/yard.env', 'etc/yard/pgpass', 'etc/yard/redis.password', 'etc/redis/yard.conf',
    'etc/nginx/sites-available/yard-site', 'etc/yard/tls/site.crt', 'etc/yard/tls/site.key', 'etc/yard/config.key'];
  const before = files.map(read);
  const pid = read('run/shim/yard-server.service.pid');
  const r = site('n1');
  assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
  assert.match(r.out, /nothing changed: the site was already as asked/);
  assert.doesNotMatch(r.out, /^install-site: (wrote|set|made|created|enrolled|installed)/m);
  assert.deepStrictEqual(files.map(read), before);
  assert.strictEqual(read('run/shim/yard-server.service.pid'), pid, 'the server was restarted');
});

test('the Nodes page\'s one line installs and enrols an agent on a new server', { skip, timeout: 600000 }, async () => {
  const first = api('GET', '/api/v1/nodes').json.items[0];
  // This host becomes a new server: no agent, no agent state.
  s.must('systemctl stop yard-agent && apt-get purge -y -q yard-agent', { env: { YARD_PURGE_DATA: '1' } });
  assert.ok(!exists('usr/sbin/yard-agent') && !exists('var/lib/yard-agent/node.json'));
  const e = api('POST', '/api/v1/enrollments', {});
  assert.strictEqual(e.status, 201, e.text);
  assert.strictEqual(e.json.install.length, 1);
  const inst = e.json.install[0];
  assert.strictEqual(inst.arch, ARCH);
  assert.match(inst.url, new RegExp(`^https://${HOST.replace('.', '\\.')}/agent/v1/dist/yard-agent_${V1}_${ARCH}\\.deb$`));
  // As the page writes it with the internal CA option.
  const line = "install -m 0644 '/etc/yard/tls/site.crt' /usr/local/share/ca-certificates/yard-ca.crt && " +
    `update-ca-certificates && ${inst.command}`;
  const r = s.run(line, { timeout: 300000 });
  assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
  assert.match(s.must("dpkg-query -W -f='${Status} ${Version}' yard-agent"), new RegExp(`^install ok installed ${V1}$`));
  const fresh = await until('the new agent online', () => {
    const n = api('GET', '/api/v1/nodes').json.items;
    return n.length === 2 && n.find((x) => x.id !== first.id && x.status === 'online');
  });
  // Same host name, so the server named it apart.
  assert.strictEqual(fresh.hostname, first.hostname);
  assert.notStrictEqual(fresh.name, first.name);
});

test('upgrade to N+1 keeps every row and runs its migration', { skip, timeout: 600000 }, async () => {
  const online = api('GET', '/api/v1/nodes').json.items.find((n) => n.status === 'online');
  const t = api('POST', '/api/v1/tasks', { node_id: online.id, name: 'billing', spec: {
    kind: 'console', deploy_dir: '/srv/yard/billing', console: { command: '/bin/sleep', args: ['3600'] },
  } });
  assert.strictEqual(t.status, 201, t.text);
  const before = rows();
  assert.strictEqual(before.tasks.length, 1);

  const r = site('n2');
  assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
  assert.match(r.out, new RegExp(`installed or upgraded: yard-server=${V2} yard-agent=${V2}`));
  assert.match(r.out, /started the Yard server/);
  for (const p of ['yard-server', 'yard-agent']) {
    assert.match(s.must(`dpkg-query -W -f='\${Status} \${Version}' ${p}`), new RegExp(`^install ok installed ${V2}$`));
  }
  assert.strictEqual(psql(`SELECT count(*) FROM schema_migrations WHERE name = '${PROBE}'`), '1');
  assert.strictEqual(psql('SELECT note FROM site_upgrade_probe'), 'nodes 2');
  assert.deepStrictEqual(rows(), before);
  await until('the agent online after the upgrade', () =>
    api('GET', '/api/v1/nodes').json.items.some((n) => n.id === online.id && n.status === 'online'));
  const again = site('n2');
  assert.match(again.out, /nothing changed/);
});

test('backup, wipe, restore brings the same rows back', { skip, timeout: 600000 }, async () => {
  const before = rows();
  const audit = psql('SELECT count(*) FROM audit');
  s.must('yard-admin backup --with-key /root/site.yardbak');
  s.must('systemctl stop yard-server');
  // The wipe: an empty database, an empty package store.
  s.must('runuser -u postgres -- dropdb yard && runuser -u postgres -- createdb -O yard yard && rm -rf /var/lib/yard/packages/*');
  assert.strictEqual(psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), '0');
  const r = s.run('yard-admin restore /root/site.yardbak');
  assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
  s.must('systemctl start yard-server');
  await until('the server ready', () => s.run('curl -fsS http://127.0.0.1:8080/readyz').code === 0);
  assert.deepStrictEqual(rows(), before);
  assert.strictEqual(psql('SELECT count(*) FROM audit'), audit);
  assert.strictEqual(psql('SELECT note FROM site_upgrade_probe'), 'nodes 2');
});

test('nothing is left running or mounted once the session ends', { skip }, () => {
  s.close();
  s = null;
  assert.deepStrictEqual(d.leftovers(), { mounts: [], pids: [] });
  const dir = d.dir;
  d.destroy();
  d = null;
  assert.ok(!fs.existsSync(dir));
});
