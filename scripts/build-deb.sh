#!/bin/sh
# Build the Debian packages yard-server and yard-agent from obj/ (make all
# first; `make deb` does both) into OUTDIR (default obj/deb):
#
#   scripts/build-deb.sh [OUTDIR]
#
# The version is the agent's (AGENT_VERSION in agent/agent.h) with the
# Debian revision 1, or YARD_DEB_VERSION when set (upgrade tests build two
# versions). The packages' layout and maintainer scripts: conf/deb/ and
# docs/operations.md, "Debian packages". Needs dpkg-dev (dpkg-shlibdeps
# computes the shared library dependencies).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/obj/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
obj=$top/obj
for f in yard.so yard-agent yard-agent-stage yard-agent-relay; do
	[ -f "$obj/$f" ] || { echo "build-deb: $obj/$f missing: run make" >&2; exit 1; }
done
version=${YARD_DEB_VERSION:-$(sed -n \
    's/^#define AGENT_VERSION[[:space:]]*"\(.*\)"/\1/p' "$top/agent/agent.h")-1}
case $version in
[0-9]*-[0-9]*) ;;
*) echo "build-deb: bad version '$version'" >&2; exit 1 ;;
esac
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shlibs:Depends of the given files (dpkg-shlibdeps wants a source tree).
shlibs() {
	mkdir -p "$work/src/debian"
	printf 'Source: yard\n\nPackage: yard\nArchitecture: any\n' \
	    >"$work/src/debian/control"
	(cd "$work/src" && dpkg-shlibdeps -O "$@" 2>/dev/null) |
	    sed -n 's/^shlibs:Depends=//p'
}

# docs: copyright and a compressed changelog, as Debian policy wants.
docs() {
	d=$1/usr/share/doc/$2
	install -d -m 0755 "$d"
	cat >"$d/copyright" <<EOT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: yard
Source: https://yard.example.invalid/

Files: *
Copyright: 2026 Yard authors
License: ISC
 Permission to use, copy, modify, and distribute this software for any
 purpose with or without fee is hereby granted, provided that the above
 copyright notice and this permission notice appear in all copies.
 .
 THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
EOT
	printf '%s (%s) stable; urgency=medium\n\n  * Built from the Yard repository.\n\n -- Yard authors <yard@example.invalid>  %s\n' \
	    "$2" "$version" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}")" |
	    gzip -9n >"$d/changelog.Debian.gz"
	chmod 0644 "$d/copyright" "$d/changelog.Debian.gz"
}

# DEBIAN/: control with version, size and Depends, scripts, md5sums.
control() {
	root=$1 pkg=$2 deps=$3
	install -d -m 0755 "$root/DEBIAN"
	size=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
	sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" \
	    -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$deps/" \
	    "$top/conf/deb/$pkg/control" >"$root/DEBIAN/control"
	for s in conffiles postinst prerm postrm; do
		[ -f "$top/conf/deb/$pkg/$s" ] || continue
		install -m 0755 "$top/conf/deb/$pkg/$s" "$root/DEBIAN/$s"
	done
	chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" 2>/dev/null ||
	    true
	(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print |
	    sed 's#^\./##' | LC_ALL=C sort | xargs -r md5sum) \
	    >"$root/DEBIAN/md5sums"
	chmod 0644 "$root/DEBIAN/md5sums"
	dpkg-deb --root-owner-group -Zxz --build "$root" \
	    "$out/${pkg}_${version}_$arch.deb" >/dev/null
	echo "$out/${pkg}_${version}_$arch.deb"
}

umask 022

# ---- yard-agent ------------------------------------------------------
r=$work/yard-agent
install -d "$r/usr/sbin" "$r/lib/systemd/system" "$r/etc/yard-agent"
for b in yard-agent yard-agent-stage yard-agent-relay; do
	install -m 0755 "$obj/$b" "$r/usr/sbin/$b"
	strip --strip-unneeded --remove-section=.comment \
	    --remove-section=.note "$r/usr/sbin/$b"
done
sed -e 's#/usr/local/bin/yard-agent#/usr/sbin/yard-agent#' \
    "$top/conf/yard-agent.service" >"$r/lib/systemd/system/yard-agent.service"
chmod 0644 "$r/lib/systemd/system/yard-agent.service"
install -m 0644 "$top/conf/yard-agent-policy.json" \
    "$r/etc/yard-agent/policy.json"
docs "$r" yard-agent
gzip -9n <"$top/agent/README.md" >"$r/usr/share/doc/yard-agent/README.md.gz"
agent_deb=$(control "$r" yard-agent "$(shlibs "$r/usr/sbin/yard-agent" \
    "$r/usr/sbin/yard-agent-stage" "$r/usr/sbin/yard-agent-relay")")
echo "$agent_deb"

# ---- yard-server -----------------------------------------------------
r=$work/yard-server
install -d "$r/usr/lib/yard" "$r/usr/share/yard/conf" \
    "$r/usr/share/yard/scripts" "$r/usr/share/yard/src/store/migrations" \
    "$r/usr/sbin" "$r/lib/systemd/system" "$r/etc/yard" \
    "$r/etc/nginx/sites-available"
install -m 0644 "$obj/yard.so" "$r/usr/lib/yard/yard.so"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$r/usr/lib/yard/yard.so"
install -m 0644 "$top/conf/yard.conf.in" "$r/usr/share/yard/conf/"
install -m 0644 "$top"/src/store/migrations/*.sql \
    "$r/usr/share/yard/src/store/migrations/"
(cd "$top" && find frontend-fragments -type f ! -name README.md) |
    while read -r f; do
	install -D -m 0644 "$top/$f" "$r/usr/share/yard/$f"
done
for s in yard-server yard-admin; do
	install -m 0755 "$top/scripts/$s" "$r/usr/share/yard/scripts/$s"
done
printf '#!/bin/sh\nexec /usr/share/yard/scripts/yard-server "$@"\n' \
    >"$r/usr/sbin/yard-server"
# yard-admin works on the server's database, package store and key: the
# unit's settings, unless the caller set YARD_PG_DSN.
cat >"$r/usr/sbin/yard-admin" <<'EOT'
#!/bin/sh
if [ -z "${YARD_PG_DSN+set}" ] && [ -r /etc/yard/yard.env ]; then
	set -a
	. /etc/yard/yard.env
	set +a
fi
exec /usr/share/yard/scripts/yard-admin "$@"
EOT
chmod 0755 "$r/usr/sbin/yard-server" "$r/usr/sbin/yard-admin"
install -m 0755 "$top/scripts/install-site.sh" \
    "$r/usr/share/yard/scripts/install-site.sh"
# The nginx site as shipped, for install-site.sh to fill in (the
# conffile in /etc/nginx may carry an admin's edits).
install -m 0644 "$top/conf/nginx-yard.conf" "$r/usr/share/yard/conf/"
install -m 0644 "$top/conf/yard.service" \
    "$r/lib/systemd/system/yard-server.service"
install -m 0644 "$top/conf/deb/yard-server/yard.env" "$r/etc/yard/yard.env"
install -m 0644 "$top/conf/nginx-yard.conf" \
    "$r/etc/nginx/sites-available/yard"
install -D -m 0644 "$top/conf/deb/yard-server/logrotate" \
    "$r/etc/logrotate.d/yard-server"
# The agent's package, offered to new nodes (GET /agent/v1/dist).
install -d "$r/usr/share/yard/dist"
install -m 0644 "$agent_deb" "$r/usr/share/yard/dist/"
docs "$r" yard-server
for f in configuration.md operations.md ews-integration.md; do
	gzip -9n <"$top/docs/$f" >"$r/usr/share/doc/yard-server/$f.gz"
done
control "$r" yard-server "$(shlibs "$r/usr/lib/yard/yard.so")"
