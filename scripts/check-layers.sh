#!/bin/sh
# The layer rules of docs/architecture.md ("Layers") that a grep can check:
# a file under src/api/ holds no SQL (SELECT, INSERT INTO, UPDATE ... SET,
# DELETE FROM inside a string literal) and includes none of the store's
# internals (the database and Redis drivers, store/ headers other than
# store/store.h); and no layer includes a layer above it: src/store/
# nothing of src/core/, src/api/ or app.h; src/core/ nothing of src/api/
# or app.h; src/auth/, src/agentproto/ and src/pkg/ none of those nor the
# store (rule: uphill).
#
# scripts/check-layers.allow lists what still breaks a rule today, one
# "file rule" per line (rule: sql or include); the store move empties it.
# This fails on a break that is not listed, and on a listed one that is
# gone (delete the line), so the list only shrinks.
set -u
cd "$(dirname "$0")/.." || exit 1
allow=scripts/check-layers.allow
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sql='"[^"]*(SELECT |INSERT INTO |DELETE FROM |UPDATE [A-Za-z_]+( [A-Za-z_]+)? SET )'
internals='[<"](kore/pgsql\.h|libpq-fe\.h|hiredis/|store/)'
for f in src/api/*.c src/api/*.h; do
	[ -f "$f" ] || continue
	grep -Eq "$sql" "$f" && echo "$f sql"
	grep -E '^[[:space:]]*#[[:space:]]*include' "$f" | grep -E "$internals" |
	    grep -vq '"store/store\.h"' && echo "$f include"
done >"$tmp/found0"
uphill() {
	for f in $1; do
		[ -f "$f" ] || continue
		grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		    grep -Eq "\"($2)" && echo "$f uphill"
	done
}
{
	cat "$tmp/found0"
	uphill "src/store/*.c src/store/*.h" 'core/|api/|app\.h'
	uphill "src/core/*.c src/core/*.h" 'api/|app\.h'
	uphill "src/auth/*.c src/auth/*.h src/agentproto/*.c src/agentproto/*.h \
	    src/pkg/*.c src/pkg/*.h" 'core/|api/|store/|app\.h'
} | sort -u >"$tmp/found"
grep -Ev '^[[:space:]]*(#|$)' "$allow" | sort -u >"$tmp/listed"

rc=0
comm -23 "$tmp/found" "$tmp/listed" >"$tmp/new"
comm -13 "$tmp/found" "$tmp/listed" >"$tmp/gone"
while read -r f rule; do
	if [ "$rule" = uphill ]; then
		echo "check-layers: $f includes a layer above its own (docs/architecture.md, Layers)"
	else
		echo "check-layers: $f breaks the rule '$rule' (docs/architecture.md, Layers): move it under src/store/"
	fi
	rc=1
done <"$tmp/new"
while read -r f rule; do
	echo "check-layers: $f no longer breaks '$rule': delete its line from $allow"
	rc=1
done <"$tmp/gone"
[ $rc -eq 0 ] && echo "check-layers: ok, $(wc -l <"$tmp/listed") listed exceptions left"
exit $rc
