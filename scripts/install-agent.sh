#!/bin/sh
# Install yard-agent on this machine: the binary, the systemd unit, the
# state directory (0700), the yard-task account tasks run as and the node
# policy /etc/yard-agent/policy.json (a commented default, never replacing
# one that exists); enrol when --server and --token are given, then
# enable and (re)start the service.
#
#   scripts/install-agent.sh [--binary PATH] [--server URL --token TOKEN]
#       [--state-dir DIR] [--prefix /usr/local] [--no-start]
#
# Idempotent: running it again upgrades the binary and restarts the agent
# (supervised programs keep running: the unit uses KillMode=process).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
binary="$top/obj/yard-agent"
prefix=/usr/local
state_dir=/var/lib/yard-agent
server=""
token="${YARD_AGENT_TOKEN:-}"
start=1

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--binary) binary=$2; shift 2 ;;
	--server) server=$2; shift 2 ;;
	--token) token=$2; shift 2 ;;
	--state-dir) state_dir=$2; shift 2 ;;
	--prefix) prefix=$2; shift 2 ;;
	--no-start) start=0; shift ;;
	-h|--help) usage ;;
	*) echo "install-agent: unknown option $1" >&2; usage ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "install-agent: run as root" >&2
	exit 1
fi
if [ ! -x "$binary" ]; then
	echo "install-agent: $binary not found: run make $binary first" >&2
	exit 1
fi
if { [ -n "$server" ] && [ -z "$token" ]; } ||
    { [ -z "$server" ] && [ -n "$token" ]; }; then
	echo "install-agent: --server and --token go together" >&2
	exit 2
fi

install -d -m 0755 "$prefix/bin"
# Replace atomically: a running agent keeps its old inode.
install -m 0755 "$binary" "$prefix/bin/yard-agent.new"
# Its stage program (builds releases; found next to the agent) first.
install -m 0755 "$binary-stage" "$prefix/bin/yard-agent-stage.new"
mv -f "$prefix/bin/yard-agent-stage.new" "$prefix/bin/yard-agent-stage"
# Its log relay (one beside each task; found next to the agent).
install -m 0755 "$binary-relay" "$prefix/bin/yard-agent-relay.new"
mv -f "$prefix/bin/yard-agent-relay.new" "$prefix/bin/yard-agent-relay"
mv -f "$prefix/bin/yard-agent.new" "$prefix/bin/yard-agent"
install -d -m 0700 "$state_dir"
chmod 0700 "$state_dir"

# Tasks run as an unprivileged account of their own (the node policy).
if ! getent passwd yard-task >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin yard-task
	echo "install-agent: created the yard-task account"
fi
install -d -m 0755 /etc/yard-agent
if [ ! -e /etc/yard-agent/policy.json ]; then
	install -m 0644 "$top/conf/yard-agent-policy.json" \
	    /etc/yard-agent/policy.json
	echo "install-agent: installed /etc/yard-agent/policy.json" \
	    "(deploy root /srv/yard, tasks as yard-task)"
fi
install -d -m 0755 /srv/yard

if [ -d /etc/systemd/system ]; then
	sed -e "s#/usr/local/bin/yard-agent#$prefix/bin/yard-agent#" \
	    -e "s#--state-dir /var/lib/yard-agent#--state-dir $state_dir#" \
	    "$top/conf/yard-agent.service" >/etc/systemd/system/yard-agent.service
	chmod 0644 /etc/systemd/system/yard-agent.service
fi
install -d -m 0755 /usr/share/doc/yard-agent
install -m 0644 "$top/agent/README.md" /usr/share/doc/yard-agent/README.md

if [ -n "$server" ]; then
	# The token goes through the environment, not the command line.
	YARD_AGENT_TOKEN=$token "$prefix/bin/yard-agent" enroll \
	    --server "$server" --state-dir "$state_dir" >/dev/null
	echo "install-agent: enrolled as node $("$prefix/bin/yard-agent" \
	    status --state-dir "$state_dir" | sed -n 's/^node id: //p')"
fi

if [ -d /run/systemd/system ] && [ -d /etc/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable yard-agent.service >/dev/null 2>&1
	if [ "$start" -eq 1 ]; then
		systemctl restart yard-agent.service
		echo "install-agent: yard-agent started (journalctl -u yard-agent)"
	fi
else
	echo "install-agent: no systemd here; start it with:"
	echo "  $prefix/bin/yard-agent run --state-dir $state_dir"
fi
