#!/bin/sh
# systemctl for a test root without systemd (tests/lib/debroot.js): it
# runs a unit's own commands from its unit file, so that what a package
# ships is what runs.  Installed as /usr/local/bin/systemctl in the root.
#
#   systemctl [-q|--quiet] [--now] [--system] VERB UNIT...
#   VERB: start stop restart try-restart reload reload-or-restart
#         enable disable is-active is-enabled daemon-reload
#
# From the unit file (/etc/systemd/system, then /lib/systemd/system;
# NAME@INSTANCE.service from NAME@.service with %i/%I): User=, Group=,
# Environment=, EnvironmentFile= (a leading '-': optional),
# RuntimeDirectory=, StateDirectory=, Type= (forking: ExecStart
# daemonizes itself; anything else: run in the background, its output in
# /var/log/shim/UNIT.log), PIDFile=, ExecStartPre=, ExecStart=,
# ExecReload= ($MAINPID), ExecStop= (else SIGTERM to the process
# group).  Prefixes '-', '@', '+', '!' of commands are dropped.  Nothing
# else (sandboxing, cgroups, Restart=) is done: this checks that the
# commands run, not systemd.  `enable` makes the multi-user.target.wants
# link as systemctl does.
set -eu

run=/run/shim
log=/var/log/shim
mkdir -p "$run" "$log"

# Options anywhere, as systemctl takes them.
quiet=0
now=0
verb=
units=
for a in "$@"; do
	case $a in
	-q | --quiet) quiet=1 ;;
	--now) now=1 ;;
	--system | --no-reload | --no-block) ;;
	-*) echo "systemctl (shim): unknown option $a" >&2; exit 2 ;;
	*) if [ -z "$verb" ]; then verb=$a; else units="$units $a"; fi ;;
	esac
done
[ -n "$verb" ] || { echo "systemctl (shim): no verb" >&2; exit 2; }
# shellcheck disable=SC2086
set -- $units

# unit_file UNIT: the unit's file and its instance (for %i).
unit_file() {
	u=$1
	case $u in
	*.*) ;;
	*) u=$u.service ;;
	esac
	inst=
	tmpl=$u
	case $u in
	*@?*.service)
		inst=${u#*@}
		inst=${inst%.service}
		tmpl=${u%%@*}@.service
		;;
	esac
	for d in /etc/systemd/system /lib/systemd/system; do
		for f in "$d/$u" "$d/$tmpl"; do
			[ -f "$f" ] && { echo "$f $inst"; return 0; }
		done
	done
	return 1
}

# key FILE NAME INSTANCE: the values of NAME= in [Service], one per line,
# with %i/%I replaced.
key() {
	awk -v k="$2" -v i="$3" '
	/^\[/ { s = ($0 == "[Service]") ; next }
	s && index($0, k "=") == 1 {
		v = substr($0, length(k) + 2)
		gsub(/%[iI]/, i, v)
		print v
	}' "$1"
}

unit_name() {
	case $1 in
	*.*) echo "$1" ;;
	*) echo "$1.service" ;;
	esac
}

# mainpid UNIT: its running main process (no locals in sh: _m* names).
mainpid() {
	_mn=$(unit_name "$1")
	_mf=$(cat "$run/$_mn.pidfile" 2>/dev/null || echo "$run/$_mn.pid")
	_mp=$(cat "$_mf" 2>/dev/null || true)
	case $_mp in
	'' | *[!0-9]*) return 1 ;;
	esac
	kill -0 "$_mp" 2>/dev/null || return 1
	# A zombie is not running.
	[ "$(awk '{ print $3 }' "/proc/$_mp/stat" 2>/dev/null)" != Z ] || return 1
	echo "$_mp"
}

is_active() {
	mainpid "$1" >/dev/null
}

# env_script FILE INSTANCE: shell lines that set the unit's environment.
env_script() {
	key "$1" Environment "$2" | while read -r e; do
		for x in $e; do
			printf 'export %s\n' "$x"
		done
	done
	key "$1" EnvironmentFile "$2" | while read -r e; do
		case $e in
		-*) printf 'if [ -r %s ]; then set -a; . %s; set +a; fi\n' "${e#-}" "${e#-}" ;;
		*) printf 'set -a; . %s; set +a\n' "$e" ;;
		esac
	done
}

# as_user FILE INSTANCE: the command prefix that runs as the unit's user.
as_user() {
	u=$(key "$1" User "$2" | tail -n 1)
	g=$(key "$1" Group "$2" | tail -n 1)
	[ -n "$u" ] || return 0
	g=${g:-$(id -gn "$u")}
	echo "setpriv --reuid=$u --regid=$g --init-groups"
}

strip_prefix() {
	sed 's/^[-@+!]*//'
}

start() {
	uf=$(unit_file "$1") || { echo "systemctl (shim): no unit $1" >&2; exit 5; }
	set -- $uf ""
	f=$1 inst=$2 n=$(basename "$f")
	[ -z "$inst" ] || n=${n%@.service}@$inst.service
	is_active "$n" && return 0
	user=$(key "$f" User "$inst" | tail -n 1)
	for d in $(key "$f" RuntimeDirectory "$inst"); do
		install -d -m 0755 ${user:+-o "$user"} "/run/$d"
	done
	for d in $(key "$f" StateDirectory "$inst"); do
		install -d -m 0700 ${user:+-o "$user"} "/var/lib/$d"
	done
	envs=$(env_script "$f" "$inst")
	pre=$(as_user "$f" "$inst")
	key "$f" ExecStartPre "$inst" | strip_prefix | while read -r c; do
		sh -c "$envs
exec $pre $c" </dev/null >>"$log/$n.log" 2>&1 ||
		    { echo "systemctl (shim): $n: ExecStartPre failed: $c" >&2; exit 1; }
	done
	c=$(key "$f" ExecStart "$inst" | strip_prefix | tail -n 1)
	type=$(key "$f" Type "$inst" | tail -n 1)
	rm -f "$run/$n.pid" "$run/$n.pidfile"
	if [ "$type" = forking ]; then
		sh -c "$envs
exec $pre $c" </dev/null >>"$log/$n.log" 2>&1 ||
		    { echo "systemctl (shim): $n: ExecStart failed (see $log/$n.log)" >&2; exit 1; }
		pf=$(key "$f" PIDFile "$inst" | tail -n 1)
		[ -n "$pf" ] && echo "$pf" >"$run/$n.pidfile"
	else
		setsid sh -c "$envs
exec $pre $c" </dev/null >>"$log/$n.log" 2>&1 &
		echo $! >"$run/$n.pid"
		sleep 0.2
		is_active "$n" ||
		    { echo "systemctl (shim): $n exited at once (see $log/$n.log)" >&2; exit 1; }
	fi
}

stop() {
	uf=$(unit_file "$1") || { echo "systemctl (shim): no unit $1" >&2; exit 5; }
	set -- $uf ""
	f=$1 inst=$2 n=$(basename "$f")
	[ -z "$inst" ] || n=${n%@.service}@$inst.service
	p=$(mainpid "$n") || return 0
	c=$(key "$f" ExecStop "$inst" | strip_prefix | tail -n 1)
	if [ -n "$c" ]; then
		MAINPID=$p sh -c "$(env_script "$f" "$inst")
exec $c" </dev/null >>"$log/$n.log" 2>&1 || true
	else
		kill -TERM "$p" 2>/dev/null || true
	fi
	i=0
	while kill -0 "$p" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 150 ]; then
			kill -KILL "$p" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	rm -f "$run/$n.pid" "$run/$n.pidfile"
}

reload() {
	uf=$(unit_file "$1") || { echo "systemctl (shim): no unit $1" >&2; exit 5; }
	set -- $uf ""
	f=$1 inst=$2 n=$(basename "$f")
	p=$(mainpid "$n") || { echo "systemctl (shim): $n is not active" >&2; exit 1; }
	c=$(key "$f" ExecReload "$inst" | strip_prefix | tail -n 1)
	[ -n "$c" ] || { echo "systemctl (shim): $n has no ExecReload" >&2; exit 1; }
	c=$(printf '%s' "$c" | sed "s/\$MAINPID/$p/g")
	sh -c "$(env_script "$f" "$inst")
exec $c" </dev/null >>"$log/$n.log" 2>&1
}

wants=/etc/systemd/system/multi-user.target.wants
rc=0
case $verb in
daemon-reload) exit 0 ;;
esac
for u in "$@"; do
	case $verb in
	start) start "$u" ;;
	stop) stop "$u" ;;
	restart) stop "$u"; start "$u" ;;
	try-restart) if is_active "$u"; then stop "$u"; start "$u"; fi ;;
	reload) reload "$u" ;;
	reload-or-restart) if is_active "$u"; then reload "$u"; else start "$u"; fi ;;
	enable)
		uf=$(unit_file "$u") || { echo "systemctl (shim): no unit $u" >&2; exit 5; }
		set -- $uf ""
		mkdir -p "$wants"
		ln -sf "$1" "$wants/$(unit_name "$u")"
		[ "$now" -eq 0 ] || start "$u"
		;;
	disable)
		rm -f "$wants/$(unit_name "$u")"
		[ "$now" -eq 0 ] || stop "$u"
		;;
	is-active)
		if is_active "$u"; then
			[ "$quiet" -eq 1 ] || echo active
		else
			[ "$quiet" -eq 1 ] || echo inactive
			rc=3
		fi
		;;
	is-enabled)
		if [ -e "$wants/$(unit_name "$u")" ]; then
			[ "$quiet" -eq 1 ] || echo enabled
		else
			[ "$quiet" -eq 1 ] || echo disabled
			rc=1
		fi
		;;
	*) echo "systemctl (shim): verb $verb not supported" >&2; exit 2 ;;
	esac
done
exit $rc
