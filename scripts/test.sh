#!/bin/sh
# make test: every suite, then one line "N passed, N failed".
#   scripts/test.sh UNIT_BINARIES...     all suites
#   scripts/test.sh --only integration|e2e
# One PostgreSQL cluster serves the whole run (a database per test file);
# each file starts its own Redis and Yard servers on free loopback ports.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/stores.sh

only=""
if [ "${1:-}" = "--only" ]; then
	only=$2
	shift 2
fi
passed=0
failed=0
logdir=$(mktemp -d /tmp/yard-tests.XXXXXX)
chmod 755 "$logdir"
# Browser tests keep their screenshots under it (tests/lib/stack.js).
export YARD_TEST_LOGDIR=$logdir

count_cmocka() {
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

count_node() {
	p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$1" | tail -n 1)
	f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$1" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# A runner that crashed before counting is a failure too.
	[ -z "$p" ] && [ -z "$f" ] && failed=$((failed + 1))
}

run_node() {
	name=$1
	shift
	echo "== $name"
	# --test-force-exit: a file whose tests are all done ends even if a
	# helper left a timer or handle open (it once held CI for good).
	node --test --test-force-exit --test-reporter=tap "$@" \
	    >"$logdir/$name.log" 2>&1
	rc=$?
	grep -E '^not ok|^# (pass|fail)' "$logdir/$name.log" | sed 's/^/   /'
	if [ $rc -ne 0 ]; then
		grep -B2 -A30 '^not ok' "$logdir/$name.log" | head -n 120
	fi
	count_node "$logdir/$name.log"
}

if [ -z "$only" ]; then
	# The layer rules (docs/architecture.md): one counted check.
	echo "== check-layers"
	if scripts/check-layers.sh >"$logdir/check-layers.log" 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	sed 's/^/   /' "$logdir/check-layers.log"
	# House style of every C file (make format-check): one counted check.
	echo "== format-check"
	if make -s format-check >"$logdir/format-check.log" 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		grep -E '^[a-z][^:]*\.[ch]:' "$logdir/format-check.log" |
		    cut -d: -f1 | sort | uniq -c | sed 's/^/   /'
	fi
	# The agent's platform seam (agent/os.h): one counted check.
	echo "== check-agent-seam"
	if scripts/check-agent-seam.sh >"$logdir/check-agent-seam.log" 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	sed 's/^/   /' "$logdir/check-agent-seam.log"
	for t in "$@"; do
		name=$(basename "$t")
		echo "== $name"
		"$t" >"$logdir/$name.log" 2>&1
		grep -E '^\[  (PASSED|FAILED)' "$logdir/$name.log" | sed 's/^/   /'
		grep -E '^\[  FAILED  \] [a-z_]' "$logdir/$name.log" | sed 's/^/   /'
		count_cmocka "$logdir/$name.log"
		if ! grep -q '^\[  PASSED' "$logdir/$name.log"; then
			tail -n 20 "$logdir/$name.log"
			failed=$((failed + 1))
		fi
	done
	run_node dev-ews tools/dev-ews/test/
	run_node dev-apollo tools/dev-apollo/test/
fi

pgdir=$logdir/pg
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if pg_start "$pgdir" "$pgport"; then
	export YARD_TEST_PG_PORT=$pgport
	if [ -z "$only" ] || [ "$only" = integration ]; then
		run_node integration tests/integration/
	fi
	if [ -z "$only" ] || [ "$only" = e2e ]; then
		run_node e2e tests/e2e/
	fi
	pg_stop "$pgdir"
else
	echo "cannot start PostgreSQL"
	failed=$((failed + 1))
fi

echo "logs: $logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
