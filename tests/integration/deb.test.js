// Debian packages (make deb): yard-server and yard-agent build, lintian finds
// no error, every shared library the binaries need is a Depends, the
// conffiles and maintainer scripts are there and sh-clean, the units pass
// systemd-analyze verify, and the packaged trees work: the server from the
// package's own script, module, pages and migrations serves the API and a
// page; the packaged agent enrols and comes online. Installing into a
// whole Debian root (maintainer scripts, systemd) is not covered here.
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
    ['yard-agent', ['usr/sbin/yard-agent', 'usr/sbin/yard-agent-stage']]]) {
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
    ['/etc/yard/yard.env', '/etc/nginx/sites-available/yard']);
  assert.deepStrictEqual(ctl(debOf('yard-agent'), 'conffiles').trim().split('\n'), ['/etc/yard-agent/policy.json']);
  for (const d of debs) {
    for (const sc of ['postinst', 'prerm', 'postrm']) {
      const text = ctl(d, sc);
      assert.match(text, /^#!\/bin\/sh\n/, `${d} ${sc}`);
      const n = run('sh', ['-n'], { input: text });
      assert.strictEqual(n.code, 0, `${path.basename(d)} ${sc}: ${n.err}`);
    }
  }
  // Purge keeps data unless asked; the agent's keeps task logs.
  assert.match(ctl(debOf('yard-agent'), 'postrm'), /YARD_PURGE_DATA/);
  assert.match(ctl(debOf('yard-server'), 'postrm'), /YARD_PURGE_DATA/);
  // The units: what they run is in the package, and systemd accepts them.
  const agentUnit = fs.readFileSync(path.join(root, 'lib/systemd/system/yard-agent.service'), 'utf8');
  assert.match(agentUnit, /^ExecStart=\/usr\/sbin\/yard-agent run /m);
  assert.match(agentUnit, /^KillMode=process$/m);
  assert.match(agentUnit, /^Delegate=yes$/m);
  // An agent not enrolled yet is not started (and not restarted forever).
  assert.match(agentUnit, /^ConditionPathExists=\/var\/lib\/yard-agent\/node\.json$/m);
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
