#!/bin/sh
# make run: PostgreSQL, Redis, the development EWS and the Yard server on
# loopback, with state under var/.  Ctrl-C stops everything it started.
# A YARD_PG_DSN or YARD_REDIS_URL in the environment points the server at
# an existing store instead, and no local one is started.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/stores.sh

var=$top/var
mkdir -p "$var"
ews_listen=${EWS_LISTEN:-127.0.0.1:8090}
ews_url="http://$ews_listen"
yard_listen=${YARD_LISTEN:-127.0.0.1:8080}
export YARD_PUBLIC_URL=${YARD_PUBLIC_URL:-http://$yard_listen}
export YARD_EWS_ORIGINS=${YARD_EWS_ORIGINS:-$ews_url}
export YARD_EWS_LOGIN_URL=${YARD_EWS_LOGIN_URL:-$ews_url/login}

pids=""
started_pg=""
started_redis=""
cleanup() {
	trap - INT TERM EXIT
	echo "stopping..."
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "$started_redis" ] && redis_stop "$var/redis" 16379
	[ -n "$started_pg" ] && pg_stop "$var/pg"
	echo "stopped"
}
trap cleanup INT TERM EXIT

if [ -z "${YARD_PG_DSN:-}" ]; then
	pg_start "$var/pg" 15432
	started_pg=1
fi
if [ -z "${YARD_REDIS_URL:-}" ]; then
	redis_start "$var/redis" 16379
	started_redis=1
fi

dev_key "$var/dev-ews"
# EWS_TEST_MINT lets this script mint an admin token to enrol the local
# agent (the development EWS is a loopback test tool).
EWS_LISTEN=$ews_listen YARD_URL=$YARD_PUBLIC_URL EWS_KEY_DIR=$var/dev-ews \
    EWS_TEST_MINT=1 node tools/dev-ews/server.js >"$var/dev-ews.log" 2>&1 &
pids="$pids $!"

YARD_RUN_DIR=$var/run scripts/yard-server >"$var/yard.log" 2>&1 &
pids="$pids $!"

if ! wait_http "$YARD_PUBLIC_URL/healthz" 30; then
	echo "the Yard server did not start; see var/yard.log:" >&2
	tail -n 20 "$var/yard.log" >&2
	exit 1
fi
wait_http "$ews_url/login" 10 || { tail -n 20 "$var/dev-ews.log" >&2; exit 1; }

# A local agent, enrolled once (state in var/agent), like any other node.
# Its node policy: deploy directories under var/deploy, tasks as yard-task
# when we are root (scripts/install-deps.sh creates it), else as us.
mkdir -p "$var/deploy"
task_user=yard-task
[ "$(id -u)" -eq 0 ] || task_user=$(id -un)
cat >"$var/agent-policy.json" <<EOF
{"#": "the local agent of make run (scripts/run.sh writes this file)",
 "roots": ["$var/deploy"], "user": "$task_user"}
EOF
if [ ! -f "$var/agent/node.json" ]; then
	admin=$(curl -fsS -X POST -H 'content-type: application/json' \
	    -d '{"sub":"u-admin","name":"Ada Admin","roles":["yard-admin"]}' \
	    "$ews_url/api/mint" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
	enroll=$(curl -fsS -X POST -d "" -H "authorization: Bearer $admin" \
	    "$YARD_PUBLIC_URL/api/v1/enrollments" |
	    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
	YARD_AGENT_TOKEN=$enroll obj/yard-agent enroll --server \
	    "$YARD_PUBLIC_URL" --state-dir "$var/agent" \
	    --policy "$var/agent-policy.json" >/dev/null ||
	    { echo "enrolling the local agent failed" >&2; exit 1; }
fi
obj/yard-agent run -d --state-dir "$var/agent" \
    --policy "$var/agent-policy.json" >"$var/agent.log" 2>&1 &
pids="$pids $!"
echo "Yard is ready: $ews_url/"
wait
