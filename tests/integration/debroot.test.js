// Debian packages in a whole Debian 12 root (tests/lib/debroot.js: a
// throwaway mmdebstrap root, commands isolated in their own mount, PID and
// network namespaces, no systemd, policy-rc.d forbids services): the
// maintainer scripts run for real.  apt installs yard-server and yard-agent
// with their dependencies from the machine's mirror; postinst makes the
// accounts, directories and configuration key; configure runs twice;
// an upgrade keeps the admin's conffile edits (--force-confold), the key and
// the package store; remove and purge keep the data unless
// YARD_PURGE_DATA=1.  Needs root, mmdebstrap and the mirror; about a
// minute here, most of it making the root.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const debroot = require('../lib/debroot.js');

const TOP = path.resolve(__dirname, '..', '..');
const AGENT_V = fs.readFileSync(path.join(TOP, 'agent', 'agent.h'), 'utf8')
  .match(/AGENT_VERSION\s+"([^"]+)"/)[1];
const V1 = `${AGENT_V}-1`;
const V2 = `${AGENT_V}-2`;
const ARCH = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
const UPSTREAM_ENV_LINE = '# (yard-server 0.1.0-2: a changed default, for the upgrade test)';

const skip = process.getuid() !== 0 ? 'needs root' : false;
let tmp, d;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, Object.assign({ encoding: 'utf8', timeout: 300000 }, opts));
  assert.strictEqual(r.status, 0, `${cmd} ${args.join(' ')}: ${r.error || ''}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const deb = (pkg, v) => `/root/debs/${pkg}_${v}_${ARCH}.deb`;

// apt from the mirror: download with the network, then install without it
// (the maintainer scripts never see a network).
function apt(args, env = {}) {
  d.must(`apt-get install -y -qq --no-install-recommends --download-only ${args}`, { net: true });
  return d.must(`apt-get install -y --no-install-recommends ${args}`, { env });
}

// The root's accounts and groups, from its own files.
function account(name) {
  const l = fs.readFileSync(d.path('etc/passwd'), 'utf8').split('\n')
    .find((x) => x.startsWith(name + ':'));
  if (!l) return null;
  const [, , uid, gid, , home, shell] = l.split(':');
  return { uid: Number(uid), gid: Number(gid), home, shell };
}
function groupId(name) {
  const l = fs.readFileSync(d.path('etc/group'), 'utf8').split('\n')
    .find((x) => x.startsWith(name + ':'));
  return l ? Number(l.split(':')[2]) : null;
}

// Mode, owner and group of a path in the root.
function perm(p) {
  const st = fs.statSync(d.path(p));
  return { mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid, dir: st.isDirectory() };
}

function status(pkg) {
  const r = d.run(`dpkg-query -W -f='\${Status} \${Version}' ${pkg}`);
  return r.code === 0 ? r.out : 'unknown';
}

// The agent's unit is enabled the way systemctl enable does it (the
// root has no systemd: deb-systemd-helper makes the links).
const WANTS = 'etc/systemd/system/multi-user.target.wants';
// (lstat: the link's absolute target is in the root, not on the host)
function enabled(unit) {
  try {
    return fs.lstatSync(d.path(`${WANTS}/${unit}`)).isSymbolicLink();
  } catch {
    return false;
  }
}

const read = (p) => fs.readFileSync(d.path(p), 'utf8');
const exists = (p) => fs.existsSync(d.path(p));

// The state postinst is responsible for, to compare runs.
function snapshot() {
  const s = {};
  for (const p of ['var/lib/yard', 'var/lib/yard/run', 'var/lib/yard/packages',
    'etc/yard/yard.env', 'etc/yard/config.key', 'srv/yard']) s[p] = perm(p);
  s.key = read('etc/yard/config.key');
  s.passwd = read('etc/passwd');
  s.group = read('etc/group');
  return s;
}

test.before(() => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-debroot-debs-'));
  // Two versions from this tree; the second one's yard.env differs from
  // the first (repacked), so an admin's edit meets a changed conffile and
  // dpkg has to decide (here: --force-confold keeps the admin's).
  for (const v of [V1, V2]) {
    sh(path.join(TOP, 'scripts', 'build-deb.sh'), [path.join(tmp, v)],
      { env: Object.assign({}, process.env, { YARD_DEB_VERSION: v }) });
  }
  const srv2 = path.join(tmp, V2, `yard-server_${V2}_${ARCH}.deb`);
  const x = path.join(tmp, 'x');
  sh('dpkg-deb', ['-R', srv2, x]);
  fs.appendFileSync(path.join(x, 'etc/yard/yard.env'), UPSTREAM_ENV_LINE + '\n');
  sh('sh', ['-c', 'cd "$1" && find . -path ./DEBIAN -prune -o -type f -print | sed "s#^\\./##" | LC_ALL=C sort | xargs md5sum >DEBIAN/md5sums', 'sh', x]);
  sh('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', x, srv2]);
  fs.rmSync(x, { recursive: true });

  d = debroot.create();
  fs.mkdirSync(d.path('root/debs'));
  for (const v of [V1, V2]) {
    for (const f of fs.readdirSync(path.join(tmp, v))) {
      fs.copyFileSync(path.join(tmp, v, f), d.path(`root/debs/${f}`));
    }
  }
  d.must('apt-get update -qq', { net: true });
});

test.after(() => {
  try {
    if (d) d.destroy();
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the root: no systemd, no network, services forbidden', { skip }, () => {
  assert.ok(!exists('run/systemd/system'));
  assert.strictEqual(d.must('/usr/sbin/policy-rc.d yard-server start; echo $?').trim(), '101');
  // Only lo in the namespace; PID 1 is the namespace's own shell.
  const dev = d.must('cat /proc/net/dev');
  assert.deepStrictEqual(dev.split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim()), ['lo']);
  assert.match(d.must('cat /proc/1/cmdline'), /^\/bin\/sh\0-c\0/);
  assert.deepStrictEqual(d.leftovers(), { mounts: [], pids: [] });
  // A command left behind in the background, or killed on a timeout,
  // leaves no process and no mount.
  assert.strictEqual(d.must('sleep 300 >/dev/null 2>&1 & echo started'), 'started\n');
  assert.deepStrictEqual(d.leftovers(), { mounts: [], pids: [] });
  const r = d.run('sleep 300 & sleep 300', { timeout: 1500 });
  assert.strictEqual(r.code, -1);
  assert.deepStrictEqual(d.leftovers(), { mounts: [], pids: [] });
});

test('install: dependencies from the mirror, accounts, directories, key, conffiles', { skip }, () => {
  apt(`${deb('yard-server', V1)} ${deb('yard-agent', V1)}`);
  assert.strictEqual(status('yard-server'), `install ok installed ${V1}`);
  assert.strictEqual(status('yard-agent'), `install ok installed ${V1}`);
  for (const p of ['kore', 'postgresql-client', 'adduser']) {
    assert.match(status(p), /^install ok installed /, p);
  }
  // System accounts without a login shell, each with its own group.
  const yard = account('yard');
  const task = account('yard-task');
  for (const [n, a] of [['yard', yard], ['yard-task', task]]) {
    assert.ok(a, `no account ${n}`);
    assert.ok(a.uid > 0 && a.uid < 1000, `${n} uid ${a.uid} is not a system uid`);
    assert.match(a.shell, /^\/(usr\/)?sbin\/nologin$|^\/bin\/false$/, `${n} shell ${a.shell}`);
    assert.strictEqual(groupId(n), a.gid, `${n}'s group`);
  }
  assert.strictEqual(yard.home, '/var/lib/yard');
  for (const p of ['var/lib/yard', 'var/lib/yard/run', 'var/lib/yard/packages']) {
    assert.deepStrictEqual(perm(p), { mode: '750', uid: yard.uid, gid: yard.gid, dir: true }, p);
  }
  assert.deepStrictEqual(perm('etc/yard/yard.env'), { mode: '640', uid: 0, gid: yard.gid, dir: false });
  assert.deepStrictEqual(perm('etc/yard/config.key'), { mode: '640', uid: 0, gid: yard.gid, dir: false });
  assert.match(read('etc/yard/config.key'), /^[0-9a-f]{64}$/);
  assert.ok(!exists('etc/yard/config.key.new'));
  assert.deepStrictEqual(perm('srv/yard'), { mode: '755', uid: 0, gid: 0, dir: true });
  // The conffiles are in place and dpkg knows them as such.
  const conf = d.must("dpkg-query -W -f='${Conffiles}\\n' yard-server yard-agent");
  for (const c of ['/etc/yard/yard.env', '/etc/nginx/sites-available/yard',
    '/etc/logrotate.d/yard-server', '/etc/yard-agent/policy.json']) {
    assert.ok(exists(c), c);
    assert.match(conf, new RegExp(`^ ${c} [0-9a-f]{32}$`, 'm'), c);
  }
  assert.ok(exists('usr/lib/yard/yard.so'));
  assert.ok(exists('usr/sbin/yard-agent'));
  // The agent's unit is enabled, the server's not (settings first).
  assert.ok(enabled('yard-agent.service'));
  assert.ok(!enabled('yard-server.service'));
  // The installed commands run in the root (their libraries came along).
  assert.match(d.must('yard-agent --version'), new RegExp(AGENT_V.replace(/\./g, '\\.')));
  d.must('su -s /bin/sh -c "cat /etc/yard/config.key >/dev/null && touch /var/lib/yard/run/t && rm /var/lib/yard/run/t" yard');
  assert.deepStrictEqual(d.leftovers(), { mounts: [], pids: [] });
});

test('configure twice changes nothing and does not fail', { skip }, () => {
  const before = snapshot();
  for (let i = 0; i < 2; i++) {
    d.must(`/var/lib/dpkg/info/yard-server.postinst configure ${V1}`);
    d.must(`/var/lib/dpkg/info/yard-agent.postinst configure ${V1}`);
  }
  // Also as dpkg runs it again on a reinstall.
  d.must(`dpkg -i ${deb('yard-server', V1)} ${deb('yard-agent', V1)}`);
  assert.deepStrictEqual(snapshot(), before);
  assert.strictEqual(status('yard-server'), `install ok installed ${V1}`);
});

test('upgrade keeps the admin\'s conffile edits, the key and the package store', { skip }, () => {
  const key = read('etc/yard/config.key');
  const envEdited = read('etc/yard/yard.env') + 'YARD_PUBLIC_URL=https://yard.test.invalid\n';
  fs.writeFileSync(d.path('etc/yard/yard.env'), envEdited);
  const pol = JSON.parse(read('etc/yard-agent/policy.json'));
  pol.debrootTest = 'kept';
  const polEdited = JSON.stringify(pol, null, 2) + '\n';
  fs.writeFileSync(d.path('etc/yard-agent/policy.json'), polEdited);
  // The admin disables the agent (what `systemctl disable` does).
  fs.unlinkSync(d.path(`${WANTS}/yard-agent.service`));
  d.must('printf "package bytes" >/var/lib/yard/packages/app-1.0.zip && chown yard:yard /var/lib/yard/packages/app-1.0.zip');

  apt(`-o Dpkg::Options::=--force-confold ${deb('yard-server', V2)} ${deb('yard-agent', V2)}`);
  assert.strictEqual(status('yard-server'), `install ok installed ${V2}`);
  assert.strictEqual(status('yard-agent'), `install ok installed ${V2}`);
  assert.strictEqual(read('etc/yard/yard.env'), envEdited);
  assert.strictEqual(read('etc/yard-agent/policy.json'), polEdited);
  // The new default was offered beside it, not over it.
  assert.ok(read('etc/yard/yard.env.dpkg-dist').includes(UPSTREAM_ENV_LINE));
  const yard = account('yard');
  assert.deepStrictEqual(perm('etc/yard/yard.env'), { mode: '640', uid: 0, gid: yard.gid, dir: false });
  assert.strictEqual(read('etc/yard/config.key'), key);
  assert.strictEqual(read('var/lib/yard/packages/app-1.0.zip'), 'package bytes');
  for (const p of ['var/lib/yard/run', 'var/lib/yard/packages']) {
    assert.deepStrictEqual(perm(p), { mode: '750', uid: yard.uid, gid: yard.gid, dir: true }, p);
  }
  assert.ok(!enabled('yard-agent.service'), 'the upgrade enabled the agent the admin disabled');
});

test('yard-server: remove, purge keeps data and key; YARD_PURGE_DATA=1 removes them', { skip }, () => {
  const key = read('etc/yard/config.key');
  d.must('apt-get remove -y yard-server');
  assert.strictEqual(status('yard-server'), `deinstall ok config-files ${V2}`);
  assert.ok(!exists('usr/lib/yard/yard.so'));
  assert.ok(exists('etc/yard/yard.env'));
  assert.ok(exists('var/lib/yard/run'));

  d.must('apt-get purge -y yard-server');
  assert.doesNotMatch(status('yard-server'), /installed|config-files/);
  assert.ok(!exists('etc/yard/yard.env'));
  assert.ok(!exists('etc/yard/yard.env.dpkg-dist'));
  assert.ok(!exists('etc/nginx/sites-available/yard'));
  assert.ok(!exists('var/lib/yard/run'));
  assert.strictEqual(read('etc/yard/config.key'), key);
  assert.strictEqual(read('var/lib/yard/packages/app-1.0.zip'), 'package bytes');
  assert.ok(account('yard'), 'the yard account stays');

  // Installed again, the kept key is the key.
  apt(deb('yard-server', V2));
  assert.strictEqual(status('yard-server'), `install ok installed ${V2}`);
  assert.strictEqual(read('etc/yard/config.key'), key);
  assert.strictEqual(read('var/lib/yard/packages/app-1.0.zip'), 'package bytes');
  assert.deepStrictEqual(perm('etc/yard/yard.env').mode, '640');

  d.must('apt-get purge -y yard-server', { env: { YARD_PURGE_DATA: '1' } });
  assert.doesNotMatch(status('yard-server'), /installed|config-files/);
  assert.ok(!exists('var/lib/yard'));
  assert.ok(!exists('etc/yard'));
  assert.strictEqual(status('yard-agent'), `install ok installed ${V2}`);
});

test('yard-agent: purge keeps task logs and /srv/yard; YARD_PURGE_DATA=1 removes them', { skip }, () => {
  d.must('mkdir -p /var/lib/yard-agent/logs /srv/yard/app && echo cred >/var/lib/yard-agent/state.json && ' +
    'echo log >/var/lib/yard-agent/logs/app.log && echo prog >/srv/yard/app/run');
  // Removed and installed again, the agent stays disabled (the upgrade
  // test disabled it): remove keeps that choice, only purge forgets it.
  d.must('apt-get remove -y yard-agent');
  apt(deb('yard-agent', V2));
  assert.ok(!enabled('yard-agent.service'), 'remove and install enabled the agent the admin disabled');
  d.must('apt-get remove -y yard-agent');
  assert.strictEqual(status('yard-agent'), `deinstall ok config-files ${V2}`);
  assert.ok(!exists('usr/sbin/yard-agent'));
  assert.ok(exists('etc/yard-agent/policy.json'));

  d.must('apt-get purge -y yard-agent');
  assert.doesNotMatch(status('yard-agent'), /installed|config-files/);
  assert.ok(!exists('etc/yard-agent'));
  assert.ok(!exists('var/lib/yard-agent/state.json'), 'credentials go');
  assert.strictEqual(read('var/lib/yard-agent/logs/app.log'), 'log\n');
  assert.strictEqual(read('srv/yard/app/run'), 'prog\n');
  assert.ok(account('yard-task'), 'the yard-task account stays');

  apt(deb('yard-agent', V2));
  assert.strictEqual(status('yard-agent'), `install ok installed ${V2}`);
  assert.strictEqual(read('srv/yard/app/run'), 'prog\n');
  assert.ok(enabled('yard-agent.service'), 'after a purge the agent is new: enabled');
  d.must('apt-get purge -y yard-agent', { env: { YARD_PURGE_DATA: '1' } });
  assert.doesNotMatch(status('yard-agent'), /installed|config-files/);
  assert.ok(!exists('var/lib/yard-agent'));
  assert.ok(!exists('srv/yard'));
  assert.ok(!exists('etc/yard-agent'));
  // Purge leaves no enable link, mask or deb-systemd-helper state.
  assert.deepStrictEqual(d.must('find /etc/systemd /var/lib/systemd -name "*yard*"'), '');
});

test('nothing is left running or mounted; destroy removes the root', { skip }, () => {
  assert.deepStrictEqual(d.leftovers(), { mounts: [], pids: [] });
  const dir = d.dir;
  d.destroy();
  assert.ok(!fs.existsSync(dir));
  assert.deepStrictEqual(d.leftovers(), { mounts: [], pids: [] });
});
