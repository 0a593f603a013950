// Package retention (YARD_PACKAGE_RETENTION_DAYS) against the real server:
// the package-retention duty deletes packages older than the retention
// that no command names and that are not their target's newest, and worker
// 1 removes the stored files no row names any more (old enough; a young
// file is kept). Ages are set back with SQL and utimes (docs/packages.md,
// "Retention").
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, waitFor } = require('../lib/stack.js');

let s, node, task, task2;
const P = {};

const sumOf = (name) => crypto.createHash('sha256').update('retention-' + name).digest('hex');

function file(name, ageSeconds) {
  const sum = sumOf(name);
  const dir = path.join(s.env.YARD_PACKAGE_DIR, 'sha256', sum.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  const f = path.join(dir, sum);
  fs.writeFileSync(f, 'PK' + name);
  const t = Date.now() / 1000 - ageSeconds;
  fs.utimesSync(f, t, t);
  return { sum, file: f };
}

function pkg(name, target, days) {
  // The file young until its row exists: the file sweep removes an old
  // file that no row names, and may run between the two.
  const p = file(name, 0);
  const tgt = target === null ? 'NULL, NULL' : target.task ? `${target.task}, NULL` : `NULL, ${target.node}`;
  p.id = Number(s.sql(`INSERT INTO packages (sha256, name, task_id, node_id, size, entries, manifest, created_at)
    VALUES ('${p.sum}', '${name}', ${tgt}, 4, 1, '[]', now() - make_interval(days => ${days})) RETURNING id`).split('\n')[0]);
  const t = Date.now() / 1000 - 7200;
  fs.utimesSync(p.file, t, t);
  P[name] = p;
  return p;
}

const rows = () => s.sql(`SELECT name FROM packages WHERE name LIKE 'r-%' ORDER BY name`).split('\n').filter(Boolean);

test.before(async () => {
  s = await startStack({ env: { YARD_UPLOAD_EXPIRE: '4', YARD_PACKAGE_RETENTION_DAYS: '3' } });
  node = Number(s.sql(`INSERT INTO nodes (name, hostname) VALUES ('ret-node', 'ret.local') RETURNING id`).split('\n')[0]);
  task = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${node}, 'ret-web', 'tomcat') RETURNING id`).split('\n')[0]);
  task2 = Number(s.sql(`INSERT INTO tasks (node_id, name, kind) VALUES (${node}, 'ret-job', 'console') RETURNING id`).split('\n')[0]);
});
test.after(async () => { if (s) await s.stop(); });

test('old unreferenced packages go, with their files; the rest stay', async () => {
  // Before: everything is young (created now), so the duty keeps them all.
  pkg('r-young-only', { task: task2 }, 0);
  await new Promise((r) => setTimeout(r, 5000));
  assert.deepStrictEqual(rows(), ['r-young-only']);

  // The references first: the duty runs every few seconds and may run
  // between any two of these statements.
  s.sql(`INSERT INTO releases (task_id, n, sha256, state, deployed_at) VALUES (${task}, 1,
    '${sumOf('r-g-released')}', 'kept', now() - interval '9 days')`);
  s.sql(`INSERT INTO commands (type, node_id, payload, deadline, state) VALUES ('deploy', ${node},
    '{"package":{"sha256":"${sumOf('r-b-named')}"}}', now() - interval '5 days', 'succeeded')`);
  pkg('r-a-old', { task }, 10);		// old, a newer one of the task exists: goes
  pkg('r-b-named', { task }, 8);	// old but a command names it: stays
  pkg('r-c-new', { task }, 0);		// young: stays
  pkg('r-d-only', { node }, 10);	// old but its target's newest: stays
  pkg('r-e-none-old', null, 10);	// no target, a newer untargeted one: goes
  pkg('r-f-none-new', null, 9);		// no target, the newest such: stays (old)
  pkg('r-g-released', { task }, 9);	// old but a release of the task was made from it: stays
  const orphanOld = file('orphan-old', 7200);		// no row, old: removed
  const orphanYoung = file('orphan-young', 60);		// no row, young: kept (a check may be storing it)

  await waitFor(() => !rows().includes('r-a-old') && !rows().includes('r-e-none-old'), 20000, 'retention duty');
  assert.deepStrictEqual(rows(), ['r-b-named', 'r-c-new', 'r-d-only', 'r-f-none-new', 'r-g-released', 'r-young-only']);
  await waitFor(() => !fs.existsSync(P['r-a-old'].file) && !fs.existsSync(P['r-e-none-old'].file) &&
    !fs.existsSync(orphanOld.file), 20000, 'file sweep');
  for (const n of ['r-b-named', 'r-c-new', 'r-d-only', 'r-f-none-new', 'r-g-released', 'r-young-only'])
    assert.ok(fs.existsSync(P[n].file), n + ' file kept');
  assert.ok(fs.existsSync(orphanYoung.file), 'young orphan kept');
  assert.ok(Number(s.sql(`SELECT runs FROM duty_runs WHERE duty = 'package-retention'`)) >= 1);
});
