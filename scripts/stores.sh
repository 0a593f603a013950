# Shell functions to run throw-away PostgreSQL and Redis servers on
# loopback under a directory of ours.  Sourced by run.sh and bench.sh.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# as_pg CMD...: PostgreSQL refuses to run as root, so root runs it as the
# postgres user (the Debian package creates it).
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start DIR PORT: initdb on first use, start, create role and db "yard".
pg_start() {
	_p=$2
	mkdir -p "$1"
	_d=$(cd "$1" && pwd)
	[ "$(id -u)" -eq 0 ] && chown postgres "$_d"
	if [ ! -f "$_d/data/PG_VERSION" ]; then
		as_pg "$PG_BIN/initdb" -D "$_d/data" -A trust -U postgres \
		    --no-sync -E UTF8 >"$_d/initdb.log" 2>&1 ||
		    { cat "$_d/initdb.log" >&2; return 1; }
	fi
	# Already running (an earlier make run that was not stopped): reuse.
	if ! as_pg "$PG_BIN/pg_ctl" -D "$_d/data" status >/dev/null 2>&1; then
		as_pg "$PG_BIN/pg_ctl" -D "$_d/data" -l "$_d/postgres.log" -w \
		    -o "-p $_p -k $_d -c listen_addresses=127.0.0.1 -c fsync=off" \
		    start >/dev/null ||
		    { tail -n 20 "$_d/postgres.log" >&2; return 1; }
	fi
	as_pg psql -h 127.0.0.1 -p "$_p" -U postgres -qAt -c \
	    "SELECT 1 FROM pg_roles WHERE rolname = 'yard'" | grep -q 1 ||
	    as_pg psql -h 127.0.0.1 -p "$_p" -U postgres -q -c \
	    "CREATE ROLE yard LOGIN" >/dev/null
	as_pg psql -h 127.0.0.1 -p "$_p" -U postgres -qAt -c \
	    "SELECT 1 FROM pg_database WHERE datname = 'yard'" | grep -q 1 ||
	    as_pg psql -h 127.0.0.1 -p "$_p" -U postgres -q -c \
	    "CREATE DATABASE yard OWNER yard" >/dev/null
}

pg_stop() {
	as_pg "$PG_BIN/pg_ctl" -D "$1/data" -m fast stop >/dev/null 2>&1 || true
}

# redis_start DIR PORT
redis_start() {
	mkdir -p "$1"
	_r=$(cd "$1" && pwd)
	redis-cli -p "$2" ping >/dev/null 2>&1 && return 0
	redis-server --port "$2" --bind 127.0.0.1 --dir "$_r" --save '' \
	    --appendonly no --daemonize yes --pidfile "$_r/redis.pid" \
	    --logfile "$_r/redis.log" >/dev/null
	_i=0
	until redis-cli -p "$2" ping >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && { echo "redis did not start" >&2; return 1; }
		sleep 0.1
	done
}

redis_stop() {
	redis-cli -p "$2" shutdown nosave >/dev/null 2>&1 || true
}

# dev_key DIR: the development EWS's RSA key pair.
dev_key() {
	mkdir -p "$1"
	if [ ! -f "$1/private.pem" ]; then
		(umask 077 && openssl genpkey -algorithm RSA \
		    -pkeyopt rsa_keygen_bits:2048 -out "$1/private.pem" 2>/dev/null)
		openssl pkey -in "$1/private.pem" -pubout -out "$1/public.pem"
	fi
}

# wait_http URL SECONDS
wait_http() {
	_i=0
	until curl -fsS -o /dev/null "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}
