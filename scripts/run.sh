#!/bin/sh
# make run: PostgreSQL, Redis, the development EWS and the Yard server on
# loopback, with state under var/.  Ctrl-C stops everything it started.
# A YARD_PG_DSN or YARD_REDIS_URL in the environment points the server at
# an existing store instead, and no local one is started (a
# YARD_REDIS_PASSWORD_FILE goes with YARD_REDIS_URL only).  A YARD_EWS_ISSUER
# other than dev-ews means a real EWS: no development EWS is started (set
# its keys, origins and login URL too, see docs/configuration.md).
# YARD_VAR_DIR moves the state directory (default var/).  Without
# YARD_SMTP_URL, mail goes to the development mail catcher (tools/dev-mail,
# listed at http://127.0.0.1:8025/).  Without YARD_APOLLO_URL, the
# development Apollo (tools/dev-apollo) answers on 127.0.0.1:8070.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/stores.sh

var=${YARD_VAR_DIR:-$top/var}
mkdir -p "$var"
var=$(cd "$var" && pwd)
dev_ews=1
[ "${YARD_EWS_ISSUER:-dev-ews}" = dev-ews ] || dev_ews=""
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
	# The local Redis has no password: one would only be refused.
	if [ -n "${YARD_REDIS_PASSWORD_FILE:-}" ]; then
		echo "run.sh: YARD_REDIS_PASSWORD_FILE needs YARD_REDIS_URL" \
		    "(the Redis make run starts has no password)" >&2
		exit 1
	fi
	redis_start "$var/redis" 16379
	started_redis=1
fi

if [ -n "$dev_ews" ]; then
	dev_key "$var/dev-ews"
	EWS_LISTEN=$ews_listen YARD_URL=$YARD_PUBLIC_URL EWS_KEY_DIR=$var/dev-ews \
	    node tools/dev-ews/server.js >"$var/dev-ews.log" 2>&1 &
	pids="$pids $!"
	# The server's default key file is the development EWS's.
	export YARD_EWS_PUBLIC_KEY_FILE="${YARD_EWS_PUBLIC_KEY_FILE:-$var/dev-ews/public.pem}"
fi

if [ -z "${YARD_SMTP_URL:-}" ]; then
	mkdir -p "$var/dev-mail"
	[ -f "$var/dev-mail/password" ] ||
	    (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' \
	    >"$var/dev-mail/password")
	node tools/dev-mail/server.js --dir "$var/dev-mail" --user yard \
	    --password-file "$var/dev-mail/password" \
	    >"$var/dev-mail.log" 2>&1 &
	pids="$pids $!"
	wait_http "http://127.0.0.1:8025/mails" 10 ||
	    { tail -n 20 "$var/dev-mail.log" >&2; exit 1; }
	export YARD_SMTP_URL=smtp://127.0.0.1:2587 YARD_SMTP_USER=yard
	export YARD_SMTP_PASSWORD_FILE="$var/dev-mail/password"
	export YARD_SMTP_FROM="Yard <yard@dev.localhost>"
	export YARD_SMTP_CA_FILE="$var/dev-mail/cert.pem"
fi

# Without YARD_APOLLO_URL, the development Apollo (tools/dev-apollo, a
# test tool) on loopback, with yard-demo/default/application released.
if [ -z "${YARD_APOLLO_URL:-}" ]; then
	node tools/dev-apollo/server.js --listen 127.0.0.1:8070 --demo \
	    >"$var/dev-apollo.log" 2>&1 &
	pids="$pids $!"
	wait_http "http://127.0.0.1:8070/" 10 ||
	    { tail -n 20 "$var/dev-apollo.log" >&2; exit 1; }
	export YARD_APOLLO_URL=http://127.0.0.1:8070
fi

YARD_RUN_DIR=$var/run scripts/yard-server >"$var/yard.log" 2>&1 &
pids="$pids $!"

if ! wait_http "$YARD_PUBLIC_URL/healthz" 30; then
	echo "the Yard server did not start; see $var/yard.log:" >&2
	tail -n 20 "$var/yard.log" >&2
	exit 1
fi
if [ -n "$dev_ews" ]; then
	wait_http "$ews_url/login" 10 ||
	    { tail -n 20 "$var/dev-ews.log" >&2; exit 1; }
fi

# A local agent, enrolled once (state in $var/agent), like any other node.
# Its node policy: deploy directories under var/deploy, tasks as yard-task
# when we are root (scripts/install-deps.sh creates it), else as us.
mkdir -p "$var/deploy"
task_user=yard-task
[ "$(id -u)" -eq 0 ] || task_user=$(id -un)
cat >"$var/agent-policy.json" <<EOF
{"#": "the local agent of make run (scripts/run.sh writes this file)",
 "roots": ["$var/deploy"], "user": "$task_user"}
EOF
# The token comes straight from the database (scripts/yard-admin), so this
# works whatever EWS signs users in; it only lives in this variable.
if [ ! -f "$var/agent/node.json" ]; then
	enroll=$(scripts/yard-admin enroll-token --ttl 600) &&
	    YARD_AGENT_TOKEN=$enroll obj/yard-agent enroll --server \
	    "$YARD_PUBLIC_URL" --state-dir "$var/agent" \
	    --policy "$var/agent-policy.json" >/dev/null ||
	    { echo "enrolling the local agent failed" >&2; exit 1; }
	enroll=""
fi
obj/yard-agent run -d --state-dir "$var/agent" \
    --policy "$var/agent-policy.json" >"$var/agent.log" 2>&1 &
pids="$pids $!"
if [ -n "$dev_ews" ]; then
	echo "Yard is ready: $ews_url/"
else
	echo "Yard is ready: $YARD_PUBLIC_URL/ (sign in through your EWS)"
fi
wait
