// Debian packages (make deb): yard-server and yard-agent build, lintian finds
// no error, every shared library the binaries need is a Depends, the
// conffiles and maintainer scripts are there and sh-clean, the units pass
// systemd-analyze verify, and the packaged trees work: the server from the
// package's own script, module, pages and migrations serves the API and a
// page; the packaged agent enrols and comes online. Installing into a
// whole Debian root (maintainer scripts run) is debroot.test.js's.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, waitFor, TOP } = require('../lib/stack.js');

let out, root, debs, s;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, Object.assign({ encoding: 'utf8', timeout: 120000 }, opts));
  return { code: r.status, out: r.stdout || '', err: r.stderr || '' };
}

test.before(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-deb-'));
  const r = run(path.join(TOP, 'scripts', 'build-deb.sh'), [out]);
  assert.strictEqual(r.code, 0, r.err);
  debs = r.out.trim().split('\n');
  root = path.join(out, 'root');
  for (const d of debs) execFileSync('dpkg-deb', ['-x', d, root]);
});
test.after(async () => {
  if (s) await s.stop();
  if (out) fs.rmSync(out, { recursive: true, force: true });
});

const field = (deb, f) => execFileSync('dpkg-deb', ['-f', deb, f], { encoding: 'utf8' }).trim();
const debOf = (pkg) => debs.find((d) => path.basename(d).startsWith(pkg + '_'));

test('two packages, named and versioned as the agent, lintian without errors', () => {
  assert.deepStrictEqual(debs.map((d) => path.basename(d).split('_')[0]).sort(), ['yard-agent', 'yard-server']);
  const v = fs.readFileSync(path.join(TOP, 'agent', 'agent.h'), 'utf8').match(/AGENT_VERSION\s+"([^"]+)"/)[1];
  for (const d of debs) assert.strictEqual(field(d, 'Version'), `${v}-1`);
  const l = run('lintian', ['--fail-on', 'error', ...debs]);
  assert.strictEqual(l.code, 0, l.out + l.err);
  assert.doesNotMatch(l.out, /^E: /m, l.out);
});

test('every shared library the binaries load is a Depends', () => {
  for (const [pkg, bins] of [['yard-server', ['usr/lib/yard/yard.so']],
    ['yard-agent', ['usr/sbin/yard-agent', 'usr/sbin/yard-agent-stage', 'usr/sbin/yard-agent-relay']]]) {
    const deps = field(debOf(pkg), 'Depends').split(',').map((x) => x.trim().split(/[\s(]/)[0]);
    for (const b of bins) {
      const needed = execFileSync('objdump', ['-p', path.join(root, b)], { encoding: 'utf8' })
        .split('\n').map((l) => l.match(/^\s+NEEDED\s+(\S+)/)).filter(Boolean).map((m) => m[1]);
      assert.ok(needed.length > 0, b);
      for (const lib of needed) {
        // The package that holds the library on this (the build) machine.
        const where = run('dpkg', ['-S', `*/${lib}`]).out.split('\n')[0].split(':')[0];
        assert.ok(where, `${lib} belongs to no package`);
        assert.ok(deps.includes(where), `${b} needs ${lib} (${where}), not in Depends: ${deps.join(', ')}`);
      }
    }
  }
  assert.match(field(debOf('yard-server'), 'Depends'), /\bkore\b/);
  assert.match(field(debOf('yard-server'), 'Depends'), /postgresql-client/);
});

test('conffiles, maintainer scripts and units', () => {
  const ctl = (d, f) => execFileSync('sh', ['-c', `dpkg-deb --ctrl-tarfile "${d}" | tar -xO ./${f}`], { encoding: 'utf8' });
  assert.deepStrictEqual(ctl(debOf('yard-server'), 'conffiles').trim().split('\n'),
    ['/etc/yard/yard.env', '/etc/nginx/sites-available/yard', '/etc/logrotate.d/yard-server']);
  // The access log's rotation reads as logrotate wants it.
  const lr = path.join(root, 'etc/logrotate.d/yard-server');
  assert.match(fs.readFileSync(lr, 'utf8'), /^\/var\/lib\/yard\/run\/access\.log \{$/m);
  // (the yard account exists where the package is installed, not here)
  const lr2 = path.join(out, 'logrotate.conf');
  fs.writeFileSync(lr2, fs.readFileSync(lr, 'utf8').replace(/^\tsu yard yard$/m, '\tsu root root'));
  assert.notStrictEqual(fs.readFileSync(lr2, 'utf8'), fs.readFileSync(lr, 'utf8'));
  const d = run('logrotate', ['-d', '-s', path.join(out, 'lr.state'), lr2]);
  assert.strictEqual(d.code, 0, d.err);
  assert.doesNotMatch(d.err, /error/i, d.err);
  assert.deepStrictEqual(ctl(debOf('yard-agent'), 'conffiles').trim().split('\n'), ['/etc/yard-agent/policy.json']);
  for (const d of debs) {
    for (const sc of ['postinst', 'prerm', 'postrm']) {
      const text = ctl(d, sc);
      assert.match(text, /^#!\/bin\/sh\n/, `${d} ${sc}`);
      const n = run('sh', ['-n'], { input: text });
      assert.strictEqual(n.code, 0, `${path.basename(d)} ${sc}: ${n.err}`);
    }
  }
  // The configuration key: named by the settings, made once by postinst
  // as the server reads it (64 hex characters), never replaced.
  assert.match(fs.readFileSync(path.join(root, 'etc/yard/yard.env'), 'utf8'), /^YARD_CONFIG_KEY_FILE=\/etc\/yard\/config\.key$/m);
  const post = ctl(debOf('yard-server'), 'postinst');
  const made = post.match(/\(umask 077 &&\n\s*(od [^\n]*\\)\n/);
  assert.ok(made && /if \[ ! -e \/etc\/yard\/config\.key \]/.test(post), post);
  const key = run('sh', ['-c', made[1].replace(/\s*\\$/, '')]).out;
  assert.match(key, /^[0-9a-f]{64}$/);
  // Purge keeps data unless asked; the agent's keeps task logs.
  assert.match(ctl(debOf('yard-agent'), 'postrm'), /YARD_PURGE_DATA/);
  assert.match(ctl(debOf('yard-server'), 'postrm'), /YARD_PURGE_DATA/);
  // The units: what they run is in the package, and systemd accepts them.
  const agentUnit = fs.readFileSync(path.join(root, 'lib/systemd/system/yard-agent.service'), 'utf8');
  assert.match(agentUnit, /^ExecStart=\/usr\/sbin\/yard-agent run /m);
  assert.match(agentUnit, /^KillMode=process$/m);
  assert.match(agentUnit, /^Delegate=yes$/m);
  const serverUnit = fs.readFileSync(path.join(root, 'lib/systemd/system/yard-server.service'), 'utf8');
  for (const p of [serverUnit.match(/^ExecStart=(\S+)/m)[1], serverUnit.match(/YARD_MODULE=(\S+)/m)[1],
    agentUnit.match(/^ExecStart=(\S+)/m)[1]]) {
    assert.ok(fs.existsSync(path.join(root, p)), p);
  }
  const v = run('systemd-analyze', ['verify', '--root', root,
    '/lib/systemd/system/yard-agent.service', '/lib/systemd/system/yard-server.service']);
  // The root holds our packages only: systemd's targets and the host's
  // own tools (/bin/kill) are not there; what concerns our files counts.
  const ours = (v.out + v.err).split('\n').filter((l) => /yard/.test(l) &&
    !/\.target not found|Command \/bin\/kill /.test(l));
  assert.deepStrictEqual(ours, [], v.out + v.err);
});

test('the packaged server serves the API and the pages from its own tree', async () => {
  const share = path.join(root, 'usr/share/yard');
  s = await startStack({
    serverCmd: path.join(share, 'scripts', 'yard-server'),
    env: { YARD_HOME: share, YARD_MODULE: path.join(root, 'usr/lib/yard/yard.so'), YARD_HEARTBEAT_INTERVAL: '1' },
  });
  const admin = s.adminToken();
  const me = await s.api('GET', '/api/v1/me', { token: admin });
  assert.strictEqual(me.status, 200, me.text);
  const page = await fetch(s.yard.url + '/ui/tasks');
  assert.strictEqual(page.status, 200);
  assert.match(await page.text(), /bridge\.js/);
  const js = await fetch(s.yard.url + '/ui/static/shared/bridge.js');
  assert.strictEqual(js.status, 200);
  // Every migration of the checkout was applied from the package.
  const want = fs.readdirSync(path.join(TOP, 'src/store/migrations')).filter((f) => f.endsWith('.sql')).length;
  assert.strictEqual(Number(s.sql('SELECT count(*) FROM schema_migrations')), want);

  // The packaged agent, its stage program next to it.
  const agent = await s.agent('deb', s.yard.url, null, { binary: path.join(root, 'usr/sbin/yard-agent') });
  await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${agent.nodeId}`, { token: admin })).json.status === 'online',
    20000, 'the packaged agent online');
  const ver = run(path.join(root, 'usr/sbin/yard-agent'), ['version']);
  assert.strictEqual(ver.code, 0, ver.err);
  assert.match(ver.out, /^yard-agent \d+\.\d+\.\d+ /);
  assert.deepStrictEqual(s.deaths(), []);
});

test('the server offers the agent package it ships, with its SHA-256; nothing else', async () => {
  const deb = debOf('yard-agent');
  const bytes = fs.readFileSync(deb);
  const sha = require('node:crypto').createHash('sha256').update(bytes).digest('hex');
  const name = path.basename(deb);
  let r = await fetch(s.yard.url + '/agent/v1/dist');
  assert.strictEqual(r.status, 200);
  const list = await r.json();
  assert.deepStrictEqual(list.items.map((x) => [x.name, x.sha256, x.size, x.arch]),
    [[name, sha, bytes.length, field(deb, 'Architecture')]]);
  assert.strictEqual(list.items[0].version, field(deb, 'Version'));
  assert.strictEqual(list.items[0].url, `${s.yard.url}/agent/v1/dist/${name}`);
  // No credential needed: a new server has none yet.
  r = await fetch(list.items[0].url);
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.headers.get('content-type'), 'application/vnd.debian.binary-package');
  assert.ok(Buffer.from(await r.arrayBuffer()).equals(bytes));
  r = await fetch(list.items[0].url + '.sha256');
  assert.strictEqual(await r.text(), `${sha}  ${name}\n`);
  for (const bad of ['/agent/v1/dist/yard-agent_9.9.9-1_amd64.deb', '/agent/v1/dist/..', '/agent/v1/dist/%2e%2e%2fyard.conf',
    '/agent/v1/dist/../../etc/passwd', `/agent/v1/dist/${name}.sha256.sha256`, '/agent/v1/dist/yard.so']) {
    r = await fetch(s.yard.url + bad);
    assert.strictEqual(r.status, 404, bad);
    await r.arrayBuffer();
  }
  r = await fetch(list.items[0].url, { method: 'POST' });
  assert.strictEqual(r.status, 405);
});

test('the one line an enrolment gives installs the downloaded, checked package and the agent comes online', async () => {
  const admin = s.adminToken();
  const e = await s.api('POST', '/api/v1/enrollments', { token: admin });
  assert.strictEqual(e.status, 201, e.text);
  assert.strictEqual(e.json.install.length, 1);
  const line = e.json.install[0].command;
  assert.ok(line.includes(e.json.install[0].sha256) && line.includes(e.json.install[0].url), line);
  assert.ok(line.includes(`YARD_AGENT_TOKEN='${e.json.token}' yard-agent enroll --server '${s.yard.url}'`), line);
  assert.ok(!/--token/.test(line), 'the token stays out of the process list');

  // Run it as it is, with the host's paths moved into a scratch root and
  // apt-get and systemctl played by scripts: apt-get unpacks the .deb
  // there, systemctl starts the unpacked agent.
  const t = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-line-'));
  const fake = path.join(t, 'bin');
  const r2 = path.join(t, 'root');
  const state = path.join(t, 'state');
  fs.mkdirSync(fake);
  fs.writeFileSync(path.join(fake, 'apt-get'), `#!/bin/sh\n[ "$1 $2" = "install -y" ] || exit 9\ndpkg-deb -x "$3" "${r2}"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(fake, 'systemctl'), `#!/bin/sh\n[ "$1 $2" = "restart yard-agent" ] || exit 9\n` +
    `"${r2}/usr/sbin/yard-agent" run -d --state-dir "${state}" >"${t}/agent.log" 2>&1 &\necho $! >"${t}/agent.pid"\n`, { mode: 0o755 });
  const moved = line.replaceAll('/var/lib/yard-agent', state).replaceAll('/tmp/yard-agent.deb', path.join(t, 'yard-agent.deb'));
  let pid = null;
  try {
    const r = run('sh', ['-c', moved], { env: Object.assign({}, process.env, { PATH: `${fake}:${r2}/usr/sbin:${process.env.PATH}` }) });
    assert.strictEqual(r.code, 0, r.out + r.err);
    pid = Number(fs.readFileSync(path.join(t, 'agent.pid'), 'utf8'));
    const nodeId = Number(JSON.parse(fs.readFileSync(path.join(state, 'node.json'), 'utf8')).node_id);
    await waitFor(async () => (await s.api('GET', `/api/v1/nodes/${nodeId}`, { token: admin })).json.status === 'online',
      20000, 'the agent installed by the line online');
    // A package changed on the way is refused before anything is installed.
    fs.rmSync(r2, { recursive: true, force: true });
    const e2 = await s.api('POST', '/api/v1/enrollments', { token: admin });
    const bad = e2.json.install[0].command.replace(e2.json.install[0].sha256, '0'.repeat(64))
      .replaceAll('/var/lib/yard-agent', path.join(t, 'state2')).replaceAll('/tmp/yard-agent.deb', path.join(t, 'yard-agent.deb'));
    const r3 = run('sh', ['-c', bad], { env: Object.assign({}, process.env, { PATH: `${fake}:${process.env.PATH}` }) });
    assert.notStrictEqual(r3.code, 0);
    assert.ok(!fs.existsSync(r2), 'nothing installed');
    assert.ok(!fs.existsSync(path.join(t, 'state2')), 'not enrolled');
  } finally {
    if (pid) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    fs.rmSync(t, { recursive: true, force: true });
  }
});
