// A throwaway Debian 12 root for package tests (needs root).
//
// create() makes one with `mmdebstrap --variant=apt bookworm` from this
// machine's own apt source (/etc/apt/sources.list.d/debian.sources; about
// a minute) and forbids starting services in it (usr/sbin/policy-rc.d exits
// 101; the root has no systemd, so no /run/systemd/system either).
//
// run(cmd) runs a shell command inside it, isolated from the host:
//
//   setpriv --pdeathsig KILL unshare --mount --pid --fork --kill-child --net
//     sh: mount proc on ROOT/proc and a devpts instance of its own on
//     ROOT/dev/pts (ptmx bound to ROOT/dev/ptmx), bring lo up,
//     chroot ROOT env -i ... sh -c CMD, unmount
//
// The command sees only loopback (no network) unless {net: true}: that is
// for apt-get update and downloading from the mirror only, so the
// maintainer scripts always run without a network.  /dev holds the device
// nodes mmdebstrap made (null, zero, full, random, urandom, tty, ...).
//
// Cleanup does not depend on the command behaving: the shell inside is the
// namespace's init, and when it exits the kernel kills every process left
// in the namespace and the private mount namespace (with its mounts)
// goes with them; unshare kills that init when it dies itself
// (--kill-child), and unshare dies with this node process (setpriv
// --pdeathsig) or on run()'s timeout.  destroy() still looks for any mount
// under the root and any process whose root directory is in it (there
// should be none: leftovers() tells the test), unmounts and kills them,
// and only then removes the tree (rm --one-file-system).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SOURCES = '/etc/apt/sources.list.d/debian.sources';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Mount points at or under dir, deepest first (host mount namespace).
function mountsUnder(dir) {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4])
    .filter(Boolean)
    .map((m) => m.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

// Processes whose root directory is dir or under it (chrooted into it).
function procsUnder(dir) {
  const pids = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let r;
    try { r = fs.readlinkSync(`/proc/${p}/root`); } catch { continue; }
    if (r === dir || r.startsWith(dir + '/')) pids.push(Number(p));
  }
  return pids;
}

// The inner script, run by sh as the new namespaces' init: $1 the root,
// $2 1 to bring up lo (net namespace), $3 the command, then env entries.
const INNER = `
set -u
r=$1 lo=$2 cmd=$3
shift 3
done=""
down() {
	for m in $done; do umount "$m" || rc=125; done
}
up() {
	m=$1
	shift
	mount "$@" "$m" && done="$m $done" || { down; exit 125; }
}
rc=0
up "$r/proc" -t proc proc
up "$r/dev/pts" -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts
up "$r/dev/ptmx" --bind "$r/dev/pts/ptmx"
if [ "$lo" = 1 ] && ! ip link set lo up; then down; exit 125; fi
chroot "$r" /usr/bin/env -i PATH=${PATH} HOME=/root LC_ALL=C.UTF-8 \\
    DEBIAN_FRONTEND=noninteractive "$@" /bin/sh -c "$cmd"
rc=$?
down
exit $rc
`;

// A session's init: the same mounts, lo up, then a reaper as PID 1 that
// holds the namespaces until close() (orphaned daemons are its children).
const SESSION = `
set -u
r=$1
mount -t proc proc "$r/proc" || exit 125
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts" || exit 125
mount --bind "$r/dev/pts/ptmx" "$r/dev/ptmx" || exit 125
ip link set lo up || exit 125
echo ready
exec perl -e 'while (1) { sleep 1 if wait() == -1 }'
`;

// A long-lived set of namespaces over the root (see DebRoot.session()).
class Session {
  constructor(d, child, pid) {
    this.d = d;
    this.child = child;     // setpriv/unshare, a child of this process
    this.pid = pid;         // the namespaces' init (host PID)
  }

  // Run cmd (sh -c) chrooted into the root, inside the session's
  // namespaces; what it starts in the background stays until close().
  // Background commands must not keep stdout/stderr open.
  run(cmd, opts = {}) {
    const env = Object.entries(opts.env || {}).map(([k, v]) => `${k}=${v}`);
    const r = spawnSync('nsenter', ['--target', String(this.pid), '--mount', '--pid', '--net', '--',
      'chroot', this.d.root, '/usr/bin/env', '-i', `PATH=${PATH}`, 'HOME=/root', 'LC_ALL=C.UTF-8',
      'DEBIAN_FRONTEND=noninteractive', ...env, '/bin/sh', '-c', cmd], {
      encoding: 'utf8', timeout: opts.timeout || 300000, killSignal: 'SIGKILL',
      maxBuffer: 64 << 20, env: { PATH },
    });
    if (r.error || r.signal) {
      const why = r.error ? r.error.message : `killed by ${r.signal}`;
      return { code: -1, out: r.stdout || '', err: `${why}\n${r.stderr || ''}` };
    }
    return { code: r.status === null ? -1 : r.status, out: r.stdout, err: r.stderr };
  }

  must(cmd, opts) {
    const r = this.run(cmd, opts);
    if (r.code !== 0) throw new Error(`debroot session: '${cmd}' exited ${r.code}\n${r.out}\n${r.err}`);
    return r.out;
  }

  // Run a host program (argv) in the session's network namespace only:
  // it reaches the root's loopback services.
  host(argv, opts = {}) {
    return spawnSync('nsenter', ['--target', String(this.pid), '--net', '--', ...argv],
      Object.assign({ encoding: 'utf8', timeout: 60000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, opts));
  }

  // End the namespaces: every process in them dies, the mounts go.
  close() {
    try { this.child.kill('SIGKILL'); } catch { /* gone */ }
    const until = Date.now() + 10000;
    while (procsUnder(this.d.root).length && Date.now() < until) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

class DebRoot {
  constructor(dir) {
    this.dir = dir;            // the temporary directory holding root/
    this.root = path.join(dir, 'root');
  }

  // Host path of a path inside the root.
  path(p) { return path.join(this.root, p); }

  // Run cmd (sh -c) inside the root; opts.env: more environment,
  // opts.net: keep the host's network, opts.timeout in ms.
  // Returns { code, out, err }.
  run(cmd, opts = {}) {
    const env = Object.entries(opts.env || {}).map(([k, v]) => `${k}=${v}`);
    const ns = ['--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private'];
    if (!opts.net) ns.push('--net');
    const r = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'unshare', ...ns,
      '/bin/sh', '-c', INNER, 'debroot', this.root, opts.net ? '0' : '1', cmd, ...env], {
      encoding: 'utf8', timeout: opts.timeout || 300000, killSignal: 'SIGKILL',
      maxBuffer: 64 << 20, env: { PATH },
    });
    if (r.error || r.signal) {
      // Killed (timeout): the namespace's init had SIGKILL from unshare's
      // death, but the kernel empties the namespace in the background.
      const until = Date.now() + 10000;
      while (procsUnder(this.root).length && Date.now() < until) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
      const why = r.error ? r.error.message : `killed by ${r.signal}`;
      return { code: -1, out: r.stdout || '', err: `${why}\n${r.stderr || ''}` };
    }
    return { code: r.status === null ? -1 : r.status, out: r.stdout, err: r.stderr };
  }

  // Like run() but throws with the output when the command fails.
  must(cmd, opts) {
    const r = this.run(cmd, opts);
    if (r.code !== 0) throw new Error(`debroot: '${cmd}' exited ${r.code}\n${r.out}\n${r.err}`);
    return r.out;
  }

  // A session: namespaces that outlive one command (services started by
  // one run() answer the next), closed by session.close().  Resolves
  // once the namespaces are up.
  session() {
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'unshare', '--mount', '--pid', '--fork',
      '--kill-child', '--propagation', 'private', '--net', '/bin/sh', '-c', SESSION, 'debroot', this.root],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH } });
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`debroot session: not up: ${err}`)); }, 20000);
      child.stderr.on('data', (b) => { err += b; });
      child.on('exit', (code) => { clearTimeout(t); reject(new Error(`debroot session: exited ${code}: ${err}`)); });
      child.stdout.on('data', (b) => {
        out += b;
        if (!out.includes('ready')) return;
        clearTimeout(t);
        child.removeAllListeners('exit');
        // unshare --fork: the init is unshare's one child.
        const kids = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
        if (kids.length !== 1 || !/^\d+$/.test(kids[0])) {
          child.kill('SIGKILL');
          reject(new Error(`debroot session: no init under ${child.pid}`));
          return;
        }
        child.stdout.resume();
        child.stderr.resume();
        resolve(new Session(this, child, Number(kids[0])));
      });
    });
  }

  // Mounts and processes left in the root (both empty between runs).
  leftovers() {
    return { mounts: mountsUnder(this.root), pids: procsUnder(this.root) };
  }

  // Kill, unmount, remove; safe to call twice and after a failed create().
  destroy() {
    if (!fs.existsSync(this.dir)) return;
    for (const pid of procsUnder(this.root)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const m of mountsUnder(this.root)) spawnSync('umount', ['-l', m]);
    const left = mountsUnder(this.root);
    if (left.length) throw new Error(`debroot: still mounted, not removing ${this.dir}: ${left.join(' ')}`);
    const r = spawnSync('rm', ['-rf', '--one-file-system', this.dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`debroot: rm ${this.dir}: ${r.stderr}`);
  }
}

// Make a Debian 12 root (mmdebstrap, ~1 min); sources: an apt sources file
// to take the mirror from.
function create(sources = SOURCES) {
  if (process.getuid() !== 0) throw new Error('debroot: needs root');
  if (!fs.existsSync(sources)) throw new Error(`debroot: no apt source ${sources}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yard-debroot-'));
  fs.chmodSync(dir, 0o755);
  const d = new DebRoot(dir);
  try {
    const r = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'mmdebstrap', '--quiet',
      '--variant=apt', '--aptopt=Acquire::Check-Valid-Until "false"',
      'bookworm', d.root, sources], { encoding: 'utf8', timeout: 600000, killSignal: 'SIGKILL' });
    if (r.status !== 0) {
      throw new Error(`debroot: mmdebstrap failed (${r.error ? r.error.message : r.status}): ${r.stderr}`);
    }
    for (const n of ['null', 'zero', 'urandom', 'random']) {
      if (!fs.statSync(d.path(`dev/${n}`)).isCharacterDevice()) {
        throw new Error(`debroot: /dev/${n} in the root is not a device`);
      }
    }
    // No service starts (invoke-rc.d asks this; deb-systemd-invoke too).
    fs.writeFileSync(d.path('usr/sbin/policy-rc.d'), '#!/bin/sh\n# debroot: no services\nexit 101\n', { mode: 0o755 });
    if (fs.existsSync(d.path('run/systemd/system'))) throw new Error('debroot: root has /run/systemd/system');
    return d;
  } catch (e) {
    d.destroy();
    throw e;
  }
}

module.exports = { create, DebRoot, Session };
