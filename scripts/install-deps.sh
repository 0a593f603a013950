#!/bin/sh
# Install what Yard needs on Debian 12, only what is missing (idempotent).
set -eu
PKGS="kore libjwt-dev libhiredis-dev libjansson-dev libcurl4-openssl-dev
libpq-dev libarchive-dev libxml2-dev libcmocka-dev libssl-dev pkg-config
postgresql-15 postgresql-client-15 redis-server chromium wrk gcc make clang
cppcheck clang-format default-jdk-headless tomcat10 tomcat10-user fonts-wqy-microhei
dpkg-dev binutils lintian systemd logrotate mmdebstrap"
# postgresql-client-15 (psql, pg_dump, pg_restore) comes with postgresql-15;
# named because scripts/yard-admin backup and restore need them.
# mmdebstrap makes the throwaway Debian 12 root that
# tests/integration/debroot.test.js installs the packages into.
# make bench measures the agent against Zabbix's agent in the same run.
[ "${1:-}" = bench ] && PKGS="$PKGS zabbix-agent"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
# Node may come from another packaging that bundles npm: check commands.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	    --no-install-recommends $missing
	# tests/integration/webkinds.test.js runs Debian's Tomcat with a
	# CATALINA_BASE of its own; the system service the package enables
	# and starts (where systemd runs) would hold port 8080 for good:
	# stop it when we installed it just now.
	case " $missing " in
	*" tomcat10 "*)
		if [ -d /run/systemd/system ]; then
			$SUDO systemctl disable --now tomcat10.service ||
			    true
		fi
		;;
	esac
fi

# Browser tests drive Debian's chromium through playwright-core (npm); the
# development EWS's upload page serves tus-js-client, the development
# mail catcher is smtp-server, and the sign-in interop tests use real
# issuers and signers: oidc-provider, jose and jsonwebtoken; the page walk
# checks accessibility with axe-core (npm).  Chinese text in the browser
# tests' screenshots needs a CJK font: fonts-wqy-microhei (Debian).
cd "$(dirname "$0")/.."
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/smtp-server ] ||
    [ ! -d node_modules/tus-js-client ] || [ ! -d node_modules/oidc-provider ] ||
    [ ! -d node_modules/jose ] || [ ! -d node_modules/jsonwebtoken ] ||
    [ ! -d node_modules/axe-core ]; then
	echo "install-deps: npm ci"
	npm ci --no-audit --no-fund --loglevel=error
fi

# promtool checks what /metrics answers (tests/integration/metrics.test.js).
# Only that binary, from Debian's prometheus package, unpacked into .deps/
# (git-ignored): installing the package would start a Prometheus server.
if [ ! -x .deps/promtool ]; then
	echo "install-deps: promtool into .deps/"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # apt-get download fetches as _apt
	if ! (cd "$tmp" && apt-get download -qq prometheus); then
		$SUDO apt-get update -qq
		(cd "$tmp" && apt-get download -qq prometheus)
	fi
	dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
	mkdir -p .deps
	cp "$tmp/root/usr/bin/promtool" .deps/promtool.new
	mv .deps/promtool.new .deps/promtool
	rm -rf "$tmp"
fi

# Tasks run as the dedicated unprivileged account yard-task (the agent's
# node policy, agent/README.md); the integration tests rely on it.
if ! getent passwd yard-task >/dev/null 2>&1; then
	echo "install-deps: creating the yard-task account"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO useradd --system --no-create-home --shell /usr/sbin/nologin \
	    yard-task
fi
