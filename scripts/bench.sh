#!/bin/sh
# make bench: measured side by side in one run, reported as ratios against
# the SPEC 13 budgets.  Loopback only, bounded in time.
#   B1 authenticated API read: GET /api/v1/me (token cache warm) vs a bare
#      Kore route (/healthz) on the same server, wrk, 3 interleaved rounds.
#   B2 cold token verification: our cached-key path vs libjwt's jwt_decode.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/stores.sh

dir=$(mktemp -d /tmp/yard-bench.XXXXXX)
chmod 755 "$dir"
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
yport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DURATION=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}

cleanup() {
	[ -n "${ypid:-}" ] && kill -- "-$ypid" 2>/dev/null
	redis_stop "$dir/redis" "$rport"
	pg_stop "$dir/pg"
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

pg_start "$dir/pg" "$pgport"
redis_start "$dir/redis" "$rport"
dev_key "$dir/keys"

YARD_LISTEN=127.0.0.1:$yport YARD_PUBLIC_URL=http://127.0.0.1:$yport \
YARD_PG_DSN="postgresql://yard@127.0.0.1:$pgport/yard" \
YARD_REDIS_URL="redis://127.0.0.1:$rport/0" \
YARD_EWS_PUBLIC_KEY_FILE=$dir/keys/public.pem YARD_RUN_DIR=$dir/run \
    setsid scripts/yard-server >"$dir/yard.log" 2>&1 &
ypid=$!
wait_http "http://127.0.0.1:$yport/healthz" 20 || { cat "$dir/yard.log"; exit 1; }

token=$(node -e '
const jwt = require("./tests/lib/jwt.js");
const key = require("crypto").createPrivateKey(require("fs").readFileSync(process.argv[1]));
process.stdout.write(jwt.sign({ alg: "RS256", typ: "JWT" },
    jwt.claims({ iss: "dev-ews", sub: "bench", exp: Math.floor(Date.now()/1000) + 3600 }), key));
' "$dir/keys/private.pem")
curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$yport/api/v1/me" >/dev/null

rps() {
	wrk -t1 -c64 -d"${DURATION}s" "$@" 2>/dev/null |
	    awk '/^Requests\/sec/ { print $2 }'
}

echo "B1: GET /api/v1/me (cache warm) vs bare /healthz, wrk -t1 -c64 -d${DURATION}s, $ROUNDS rounds"
ratios=""
for r in $(seq 1 "$ROUNDS"); do
	bare=$(rps "http://127.0.0.1:$yport/healthz")
	me=$(rps -H "Authorization: Bearer $token" "http://127.0.0.1:$yport/api/v1/me")
	ratio=$(awk -v a="$me" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')
	printf '  round %d: bare %s req/s, /api/v1/me %s req/s, ratio %s\n' \
	    "$r" "$bare" "$me" "$ratio"
	ratios="$ratios $ratio"
done
median=$(echo $ratios | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
verdict=$(awk -v m="$median" 'BEGIN { print (m >= 0.5) ? "within" : "OVER" }')
echo "  median ratio $median (budget >= 0.50): $verdict budget"

echo "B2: token verification per call (cold: signature + claims; libjwt re-parses the PEM)"
"$top/obj/bench/verify_bench" | sed 's/^/  /'

deaths=$(grep -c "died from sandbox violation" "$dir/yard.log" || true)
echo "workers killed by the sandbox during the bench: $deaths"
[ "$verdict" = within ] && [ "$deaths" -eq 0 ]
