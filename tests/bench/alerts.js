// make bench B13: one alert evaluation (yard_alert_eval(), the leader's
// "alert-eval" duty) over a fleet: NODES nodes online with TASKS_PER tasks
// each running, SAMPLES minutes of task and node metrics at 10 s, a
// command history of COMMANDS finished commands (older than the grace) and
// a few in flight, the nine shipped rules; a tenth of the tasks above the
// CPU rule's threshold. Timed in one psql session, side by side with a
// plain read of the same inputs (each task's and node's latest sample);
// the first evaluation opens and fires the events, the next ones move
// nothing; then the notifier's round that queues their messages.
// Usage: node alerts.js [NODES] [TASKS_PER] [COMMANDS]
// Prints "read …", "eval …" lines and "ratio: eval/period X" (the period
// is YARD_ALERT_EVAL's default, 10 s).
'use strict';
const { execFileSync } = require('node:child_process');
const { startStack } = require('../lib/stack.js');

const NODES = Number(process.argv[2] || 2000);
const PER = Number(process.argv[3] || 5);
const COMMANDS = Number(process.argv[4] || 200000);
const SAMPLES = 30; // 5 minutes at 10 s
const USERS = 5000; // the first NODES / 2 with operate on a node with a hot task
const ROUNDS = 5;
const PERIOD_MS = 10000;

function timed(s, sql, rounds) {
  const script = '\\timing on\n' + Array(rounds).fill(sql).join('\n') + '\n';
  const out = execFileSync('psql', ['-h', '127.0.0.1', '-p', String(s.pgPort), '-U', 'postgres',
    '-d', s.db, '-qAt', '-v', 'ON_ERROR_STOP=1', '-f', '-'], { input: script, encoding: 'utf8',
    maxBuffer: 1 << 24 });
  return [...out.matchAll(/^Time: ([0-9.]+) ms/gm)].map((m) => Number(m[1]));
}

const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main() {
  // The duties stay out of the way: evaluation once an hour, the sweep
  // would mark the seeded nodes offline after 15 s (an hour here too).
  const s = await startStack({ env: { YARD_ALERT_EVAL: '3600', YARD_NODE_OFFLINE_AFTER: '3600',
    YARD_NODE_LOST_AFTER: '7200' } });
  try {
    const t0 = Date.now();
    s.sql(`
      INSERT INTO nodes (name, hostname, status, last_seen, status_changed_at, facts)
      SELECT 'bn-' || g, 'bn-' || g || '.local', 'online', now(), now(),
        '{"disks":[{"path":"/","total":100000000000,"free":50000000000}]}'
      FROM generate_series(1, ${NODES}) g;
      INSERT INTO tasks (node_id, name, kind, state, health_fails, started_at)
      SELECT n.id, 'bt-' || n.id || '-' || g, 'console', 'running', 0, now() - interval '1 hour'
      FROM nodes n, generate_series(1, ${PER}) g WHERE n.name LIKE 'bn-%';
      INSERT INTO task_metrics (task_id, at, cpu, rss, threads, fds)
      SELECT t.id, now() - make_interval(secs => 10 * g),
        CASE WHEN t.id % 10 = 0 THEN 150 ELSE 5 END, 100 << 20, 4, 10
      FROM tasks t, generate_series(0, ${SAMPLES - 1}) g WHERE t.name LIKE 'bt-%';
      INSERT INTO node_metrics (node_id, at, cpu, mem_used, mem_total, load1)
      SELECT n.id, now() - make_interval(secs => 10 * g), 20, 4::bigint << 30, 16::bigint << 30, 0.5
      FROM nodes n, generate_series(0, ${SAMPLES - 1}) g WHERE n.name LIKE 'bn-%';
      INSERT INTO commands (type, node_id, task_id, state, issued_at, finished_at, deadline)
      SELECT 'restart', t.node_id, t.id, 'succeeded', now() - interval '2 days',
        now() - interval '2 days', now() - interval '2 days'
      FROM (SELECT id, node_id, row_number() OVER () AS k FROM tasks WHERE name LIKE 'bt-%') t,
        generate_series(1, ${Math.ceil(COMMANDS / (NODES * PER))}) g
      WHERE (t.k - 1) * ${Math.ceil(COMMANDS / (NODES * PER))} + g <= ${COMMANDS};
      INSERT INTO commands (type, node_id, task_id, state, deadline)
      SELECT 'restart', node_id, id, 'running', now() + interval '1 hour'
      FROM tasks WHERE name LIKE 'bt-%' AND id % 500 = 1;
      INSERT INTO users (sub, email)
      SELECT 'bu-' || g, 'bu-' || g || '@example.test' FROM generate_series(1, ${USERS}) g;
      INSERT INTO grants (user_id, node_id, level)
      SELECT u.id, n.id, 'operate' FROM users u JOIN nodes n
        ON n.name = 'bn-' || (2 * substr(u.sub, 4)::int)
      WHERE u.sub LIKE 'bu-%';
      ANALYZE;`);
    const nt = Number(s.sql(`SELECT count(*) FROM tasks WHERE name LIKE 'bt-%'`));
    console.log(`fleet: ${NODES} nodes, ${nt} tasks, ${nt * SAMPLES} task samples, ` +
      `${COMMANDS} past commands; seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const read = timed(s, `SELECT count(*), sum(m.cpu) FROM tasks t CROSS JOIN LATERAL
      (SELECT cpu FROM task_metrics x WHERE x.task_id = t.id ORDER BY x.at DESC LIMIT 1) m;
      SELECT count(*), sum(m.mem_used) FROM nodes n CROSS JOIN LATERAL
      (SELECT mem_used FROM node_metrics x WHERE x.node_id = n.id ORDER BY x.at DESC LIMIT 1) m;`,
    ROUNDS);
    // Two statements per round: add their times.
    const reads = [];
    for (let i = 0; i + 1 < read.length; i += 2) reads.push(read[i] + read[i + 1]);
    // The CPU rule fires at once: the first run opens and fires.
    s.sql(`UPDATE alert_rules SET for_seconds = 0 WHERE kind = 'task_cpu'`);
    const first = timed(s, 'SELECT yard_alert_eval(7200, 60);', 1)[0];
    const evals = timed(s, 'SELECT yard_alert_eval(7200, 60);', ROUNDS);
    const open = s.sql(`SELECT count(*) FROM alert_events WHERE state <> 'resolved'`);
    // The notifier's round after them: every firing event, grouped per
    // node, to the users with operate on it.
    const notify = timed(s, 'SELECT yard_alert_notify(0, 14400);', 1)[0];
    const notices = s.sql(`SELECT count(*) FROM alert_notices`) + ' notices of ' +
      s.sql(`SELECT count(*) FROM alert_events WHERE state = 'firing'`) + ' firing events';
    const msgs = s.sql(`SELECT count(*) FROM outbox WHERE kind LIKE 'alert.%'`) + ' outbox, ' +
      s.sql(`SELECT count(*) FROM notifications WHERE kind LIKE 'alert.%'`) + ' inbox';
    const r = med(evals) / PERIOD_MS;

    console.log(`read of the latest samples: median ${med(reads).toFixed(1)} ms`);
    console.log(`eval, first (opens ${open} events): ${first.toFixed(1)} ms`);
    console.log(`eval, steady: median ${med(evals).toFixed(1)} ms, max ${Math.max(...evals).toFixed(1)} ms ` +
      `(${(med(evals) / med(reads)).toFixed(1)}x the read)`);
    console.log(`notify, first round: ${notify.toFixed(1)} ms for ${notices} (${msgs}; ${USERS} users)`);
    console.log(`ratio: eval/period ${r.toFixed(3)}`);
  } finally {
    await s.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
