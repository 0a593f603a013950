#!/bin/sh
# install-site.sh: a whole Yard site on one Debian 12 host, in one command.
#
#   install-site.sh --host NAME [--debs DIR] [--cert FILE --key FILE]
#       [--ews-issuer ISS] [--ews-audience AUD] [--ews-jwks-url URL]
#       [--ews-public-key FILE] [--ews-origins ORIGINS]
#       [--ews-login-url URL] [--ews-notify-url URL]
#       [--admin SUB] [--no-agent] [--offline]
#
# Installs yard-server and yard-agent from DIR (default: this script's
# directory, as in the site bundle `make site` makes) with PostgreSQL,
# Redis and nginx from Debian; makes the database role and database (a
# generated password in a libpq passfile), a Redis password (requirepass,
# the server reads it from a file), TLS for nginx (the given certificate,
# or a self-signed one made once), the server's settings in
# /etc/yard/yard.env; starts everything, enrols the local agent and prints
# the URL, the certificate's fingerprint and the EWS settings.
#
# Run it again with the same arguments and nothing changes (it says so);
# with other ones it changes only what they change; with newer packages in
# DIR it upgrades them (keeping the admin's edits of conffiles) and
# restarts the server, which migrates the database.  Every argument is
# checked before anything changes.  The EWS settings are needed on the
# first run (later runs keep what yard.env holds).  docs/operations.md,
# "One command for a whole site", says what it does and where it puts
# everything.
set -eu

prog=install-site
env_file=/etc/yard/yard.env
pgpass=/etc/yard/pgpass
redis_pass=/etc/yard/redis.password
redis_conf=/etc/redis/redis.conf
redis_yard=/etc/redis/yard.conf
tls_dir=/etc/yard/tls
ews_key=/etc/yard/ews-public.pem
notify_secret=/etc/yard/ews-notify.secret
site=/etc/nginx/sites-available/yard-site
listen=127.0.0.1:8080
agent_state=/var/lib/yard-agent

die() {
	echo "$prog: $*" >&2
	exit 1
}

say() {
	echo "$prog: $*"
}

changes=0
# changed WHAT: one change made.
changed() {
	changes=$((changes + 1))
	say "$*"
}

usage() {
	sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# ---- arguments, all checked before anything changes ----------------------
host='' debs='' cert='' key='' admin='' agent=1 offline=0
ews_issuer='' ews_audience='' ews_jwks='' ews_pubkey='' ews_origins='' ews_login=''
ews_notify=
while [ $# -gt 0 ]; do
	case $1 in
	--no-agent) agent=0; shift; continue ;;
	--offline) offline=1; shift; continue ;;
	-h | --help) usage ;;
	--*) [ $# -ge 2 ] || die "$1 needs a value" ;;
	*) echo "$prog: unknown argument: $1" >&2; usage ;;
	esac
	case $1 in
	--host) host=$2 ;;
	--debs) debs=$2 ;;
	--cert) cert=$2 ;;
	--key) key=$2 ;;
	--admin) admin=$2 ;;
	--ews-issuer) ews_issuer=$2 ;;
	--ews-audience) ews_audience=$2 ;;
	--ews-jwks-url) ews_jwks=$2 ;;
	--ews-public-key) ews_pubkey=$2 ;;
	--ews-origins) ews_origins=$2 ;;
	--ews-login-url) ews_login=$2 ;;
	--ews-notify-url) ews_notify=$2 ;;
	*) echo "$prog: unknown argument: $1" >&2; usage ;;
	esac
	shift 2
done

[ "$(id -u)" -eq 0 ] || die "run it as root"
[ -r /etc/os-release ] || die "no /etc/os-release: not a Debian system"
# shellcheck disable=SC1091
os_id=$(. /etc/os-release && echo "${ID:-}:${VERSION_ID:-}")
[ "$os_id" = debian:12 ] ||
    die "this is $os_id; the packages are built for Debian 12 (debian:12)"

[ -n "$host" ] || die "--host NAME is required: the name browsers and agents use for this server"
printf '%s' "$host" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$' &&
    [ ${#host} -le 253 ] ||
    die "--host '$host' is not a DNS name (letters, digits, '-' and '.', at most 253)"

# url_ok OPTION VALUE: an http(s) URL without spaces, quotes or shell
# characters (it goes into yard.env, which sh and systemd both read).
url_ok() {
	[ -z "$2" ] && return 0
	printf '%s' "$2" | grep -Eq '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/:@+=,-]*)?$' ||
	    die "$1 '$2' is not an http:// or https:// URL (no query, no spaces)"
}
url_ok --ews-jwks-url "$ews_jwks"
url_ok --ews-login-url "$ews_login"
url_ok --ews-notify-url "$ews_notify"
case $ews_issuer in
*[!A-Za-z0-9._~%/:@+=,-]*) die "--ews-issuer '$ews_issuer' holds a character Yard's settings file cannot (spaces, quotes, shell characters)" ;;
esac
case $ews_audience in
*[!A-Za-z0-9._~%/:@+=,-]*) die "--ews-audience '$ews_audience' holds a character Yard's settings file cannot" ;;
esac
# Origins: space or comma separated, each scheme://host[:port]; kept
# comma separated.
if [ -n "$ews_origins" ]; then
	o=
	for x in $(printf '%s' "$ews_origins" | tr ',' ' '); do
		printf '%s' "$x" | grep -Eq '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$' ||
		    die "--ews-origins: '$x' is not an origin (scheme://host[:port], no path)"
		o=${o:+$o,}$x
	done
	ews_origins=$o
fi
if [ -n "$ews_pubkey" ]; then
	[ -r "$ews_pubkey" ] || die "--ews-public-key: cannot read $ews_pubkey"
	grep -q -- '-----BEGIN PUBLIC KEY-----' "$ews_pubkey" ||
	    die "--ews-public-key: $ews_pubkey holds no PEM public key (BEGIN PUBLIC KEY)"
fi
if [ -n "$cert$key" ]; then
	[ -n "$cert" ] && [ -n "$key" ] || die "--cert and --key go together"
	[ -r "$cert" ] || die "--cert: cannot read $cert"
	[ -r "$key" ] || die "--key: cannot read $key"
	grep -q -- '-----BEGIN CERTIFICATE-----' "$cert" ||
	    die "--cert: $cert holds no PEM certificate"
	grep -q -- '-----BEGIN .*PRIVATE KEY-----' "$key" ||
	    die "--key: $key holds no PEM private key"
fi
if [ -n "$admin" ]; then
	[ ${#admin} -le 255 ] || die "--admin must be at most 255 characters"
	case $admin in
	*[[:cntrl:]]*) die "--admin must not hold control characters" ;;
	esac
fi

# The packages: exactly one of each in DIR.
if [ -z "$debs" ]; then
	debs=$(cd "$(dirname "$0")" && pwd)
fi
[ -d "$debs" ] || die "--debs: no directory $debs"
debs=$(cd "$debs" && pwd)
arch=$(dpkg --print-architecture)
one_deb() {
	_p=$1
	set -- "$debs/$_p"_*_"$arch".deb
	[ -e "$1" ] || die "no $_p package for $arch in $debs (give --debs DIR: make deb puts them in obj/deb)"
	[ $# -eq 1 ] || die "more than one $_p package in $debs: keep one version"
	printf '%s\n' "$1"
}
server_deb=$(one_deb yard-server)
agent_deb=$(one_deb yard-agent)
for f in "$server_deb" "$agent_deb"; do
	dpkg-deb --info "$f" >/dev/null 2>&1 || die "$f is not a Debian package"
done

# setting NAME: NAME's value in yard.env (the last uncommented line),
# empty when unset or when yard.env is missing.
setting() {
	[ -r "$env_file" ] || return 0
	sed -n "s/^$1=//p" "$env_file" | tail -n 1 | sed 's/^"\(.*\)"$/\1/'
}

# The EWS settings: given now, or already in yard.env.
missing=
[ -n "$ews_issuer$(setting YARD_EWS_ISSUER)" ] || missing="$missing --ews-issuer"
[ -n "$ews_origins$(setting YARD_EWS_ORIGINS)" ] || missing="$missing --ews-origins"
[ -n "$ews_login$(setting YARD_EWS_LOGIN_URL)" ] || missing="$missing --ews-login-url"
[ -n "$ews_jwks$ews_pubkey$(setting YARD_EWS_JWKS_URL)$(setting YARD_EWS_PUBLIC_KEY_FILE)" ] ||
    missing="$missing --ews-jwks-url|--ews-public-key"
[ -z "$missing" ] ||
    die "the EWS portal's settings are needed:$missing (ask the EWS team: docs/ews-integration.md)"

# ---- packages -------------------------------------------------------------
debian_pkgs="postgresql redis-server nginx openssl ca-certificates curl"

# installed PKG: its installed version, empty when not installed.
installed() {
	dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null |
	    sed -n 's/^install ok installed //p'
}

wanted=
for p in $debian_pkgs; do
	[ -n "$(installed "$p")" ] || wanted="$wanted $p"
done
for f in "$server_deb" "$agent_deb"; do
	p=$(dpkg-deb -f "$f" Package)
	v=$(dpkg-deb -f "$f" Version)
	iv=$(installed "$p")
	if [ -z "$iv" ] || dpkg --compare-versions "$iv" lt "$v"; then
		wanted="$wanted $p=$v"
	elif [ "$iv" != "$v" ]; then
		say "$p $iv is installed, newer than $v in $debs: kept"
	fi
done
upgraded=0
if [ -n "$wanted" ]; then
	if [ "$offline" -eq 0 ]; then
		apt-get update -qq || die "apt-get update failed"
	fi
	# Keep the admin's edits of conffiles; never start services here
	# (this script starts them once everything is configured).
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends -o Dpkg::Options::=--force-confold \
	    $debian_pkgs "$server_deb" "$agent_deb" ||
	    die "apt-get could not install:$wanted"
	changed "installed or upgraded:$wanted"
	upgraded=1
else
	say "packages: already installed"
fi

# The certificate and key match (openssl is there now).
if [ -n "$cert" ]; then
	a=$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null | sha256sum)
	b=$(openssl pkey -in "$key" -pubout 2>/dev/null | sha256sum)
	[ "$a" = "$b" ] && [ -n "$a" ] ||
	    die "--cert and --key do not belong together (or cannot be read by openssl)"
fi

# put FILE MODE OWNER: stdin into FILE when it differs; says so.
# Written beside it and renamed: never half a file.
put() {
	_t=$(mktemp "$1.XXXXXX")
	cat >"$_t"
	chmod "$2" "$_t"
	chown "$3" "$_t"
	if [ -f "$1" ] && cmp -s "$_t" "$1" &&
	    [ "$(stat -c '%a %U:%G' "$1")" = "$(stat -c '%a %U:%G' "$_t")" ]; then
		rm -f "$_t"
		return 1
	fi
	mv "$_t" "$1"
	changed "wrote $1"
	return 0
}

# secret FILE OWNER: FILE holds 32 random bytes as hex (made once).
secret() {
	if [ -s "$1" ]; then
		return 1
	fi
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$1.new")
	chown "$2" "$1.new"
	chmod 0640 "$1.new"
	mv "$1.new" "$1"
	changed "made the secret $1"
}

# ---- PostgreSQL -----------------------------------------------------------
cluster=$(pg_lsclusters -h 2>/dev/null | awk '$1 == 15 { print $1, $2, $3; exit }')
if [ -z "$cluster" ]; then
	pg_createcluster 15 main >/dev/null || die "pg_createcluster 15 main failed"
	changed "created the PostgreSQL cluster 15/main"
	cluster=$(pg_lsclusters -h | awk '$1 == 15 { print $1, $2, $3; exit }')
fi
set -- $cluster
pg_ver=$1 pg_name=$2 pg_port=$3
if ! pg_ctlcluster "$pg_ver" "$pg_name" status >/dev/null 2>&1; then
	pg_ctlcluster "$pg_ver" "$pg_name" start ||
	    die "PostgreSQL $pg_ver/$pg_name does not start: see /var/log/postgresql/"
	say "started PostgreSQL $pg_ver/$pg_name on port $pg_port"
fi
command -v systemctl >/dev/null && systemctl enable -q postgresql 2>/dev/null || true

pg_admin() {
	runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 \
	    -p "$pg_port" -d postgres "$@"
}
# The server's DSN has no password: libpq reads it from the passfile.
dsn="postgresql://yard@127.0.0.1:$pg_port/yard?connect_timeout=2"
yard_login() {
	PGPASSFILE=$pgpass psql -X -q -A -t -w -d "$dsn" -c 'SELECT 1' \
	    >/dev/null 2>&1
}
have_role=$(pg_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'yard'")
if [ "$have_role" != 1 ] || [ ! -s "$pgpass" ] || ! yard_login; then
	if [ -s "$pgpass" ]; then
		pw=$(awk -F: 'NR == 1 { print $5 }' "$pgpass")
	else
		pw=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
	fi
	case $pw in
	'' | *[!0-9a-f]*) die "$pgpass does not hold a password this script made: move it away" ;;
	esac
	# On stdin, never in a process's arguments.
	if [ "$have_role" = 1 ]; then
		echo "ALTER ROLE yard LOGIN PASSWORD '$pw'" | pg_admin >/dev/null
		changed "set the database role yard's password"
	else
		echo "CREATE ROLE yard LOGIN PASSWORD '$pw'" | pg_admin >/dev/null
		changed "created the database role yard"
	fi
	printf '127.0.0.1:%s:yard:yard:%s\n' "$pg_port" "$pw" |
	    put "$pgpass" 0600 yard:yard || true
	pw=
fi
if [ "$(pg_admin -c "SELECT 1 FROM pg_database WHERE datname = 'yard'")" != 1 ]; then
	pg_admin -c 'CREATE DATABASE yard OWNER yard' >/dev/null
	changed "created the database yard"
fi
yard_login || die "the role yard cannot sign in to the database yard with $pgpass (pg_hba.conf must allow scram-sha-256 on 127.0.0.1)"

# ---- Redis ----------------------------------------------------------------
secret "$redis_pass" root:yard || true
redis_changed=0
printf '# Made by install-site.sh: the password Yard reads from %s.\nrequirepass %s\n' \
    "$redis_pass" "$(cat "$redis_pass")" |
    put "$redis_yard" 0640 redis:redis && redis_changed=1
if ! grep -qx "include $redis_yard" "$redis_conf"; then
	printf '\n# Yard (install-site.sh)\ninclude %s\n' "$redis_yard" >>"$redis_conf"
	changed "included $redis_yard in $redis_conf"
	redis_changed=1
fi
systemctl enable -q redis-server
if [ "$redis_changed" -eq 1 ] || ! systemctl is-active -q redis-server; then
	systemctl restart redis-server
	say "started Redis"
fi
redis_port=$(awk '$1 == "port" { p = $2 } END { print p ? p : 6379 }' "$redis_conf")
i=0
until [ "$(REDISCLI_AUTH=$(cat "$redis_pass") redis-cli -h 127.0.0.1 \
    -p "$redis_port" ping 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	[ $i -le 50 ] || die "Redis does not answer on 127.0.0.1:$redis_port with the password in $redis_pass"
	sleep 0.2
done

# ---- TLS ------------------------------------------------------------------
install -d -m 0755 "$tls_dir"
crt=$tls_dir/site.crt
pem=$tls_dir/site.key
tls_changed=0
if [ -n "$cert" ]; then
	put "$crt" 0644 root:root <"$cert" && tls_changed=1
	put "$pem" 0600 root:root <"$key" && tls_changed=1
	rm -f "$tls_dir/self-signed"
	if [ -e /usr/local/share/ca-certificates/yard-site.crt ]; then
		rm -f /usr/local/share/ca-certificates/yard-site.crt
		update-ca-certificates --fresh >/dev/null 2>&1 || true
		changed "this host no longer trusts the self-signed certificate"
	fi
elif [ ! -s "$crt" ] || { [ -e "$tls_dir/self-signed" ] &&
    [ "$(cat "$tls_dir/self-signed")" != "$host" ]; }; then
	(umask 077 && openssl req -x509 -newkey rsa:3072 -sha256 -days 825 \
	    -nodes -subj "/CN=$host" -addext "subjectAltName=DNS:$host" \
	    -keyout "$pem.new" -out "$crt.new" 2>/dev/null) ||
	    die "openssl could not make a certificate"
	chmod 0644 "$crt.new"
	mv "$pem.new" "$pem"
	mv "$crt.new" "$crt"
	echo "$host" >"$tls_dir/self-signed"
	changed "made a self-signed certificate for $host (825 days)"
	tls_changed=1
fi
fingerprint=$(openssl x509 -in "$crt" -noout -fingerprint -sha256 | sed 's/^.*=//')
if [ -e "$tls_dir/self-signed" ]; then
	# This host trusts it (its agent, curl), as other servers will with
	# the enrolment line's CA option.
	if put /usr/local/share/ca-certificates/yard-site.crt 0644 root:root <"$crt"; then
		update-ca-certificates >/dev/null 2>&1 ||
		    die "update-ca-certificates failed"
	fi
fi

# ---- nginx ----------------------------------------------------------------
tmpl=/usr/share/yard/conf/nginx-yard.conf
[ -r "$tmpl" ] || die "$tmpl missing: is yard-server installed?"
# The shipped site with this host's name and certificate, Yard's address,
# and port 80 sent to 443.
site_new=$(mktemp)
echo "# Made by install-site.sh from $tmpl: its next run replaces edits." \
    >"$site_new"
sed -e "s|^\([[:space:]]*server_name\) .*;|\1 $host;|" \
    -e "s|^\([[:space:]]*ssl_certificate\) .*;|\1 $crt;|" \
    -e "s|^\([[:space:]]*ssl_certificate_key\) .*;|\1 $pem;|" \
    -e "s|^\([[:space:]]*proxy_pass\) .*;|\1 http://$listen;|" \
    "$tmpl" >>"$site_new"
for want in "server_name $host;" "ssl_certificate $crt;" \
    "ssl_certificate_key $pem;" "proxy_pass http://$listen;"; do
	grep -q "^[[:space:]]*$want" "$site_new" ||
	    { rm -f "$site_new"; die "$tmpl has no '${want%% *}' line to fill in"; }
done
printf '\nserver {\n\tlisten 80;\n\tserver_name %s;\n\treturn 301 https://$host$request_uri;\n}\n' \
    "$host" >>"$site_new"
nginx_changed=0
put "$site" 0644 root:root <"$site_new" && nginx_changed=1
rm -f "$site_new"
if [ "$(readlink /etc/nginx/sites-enabled/yard-site 2>/dev/null)" != "$site" ]; then
	ln -sf "$site" /etc/nginx/sites-enabled/yard-site
	changed "enabled the nginx site yard-site"
	nginx_changed=1
fi
[ "$tls_changed" -eq 0 ] || nginx_changed=1
nginx -t -q 2>/dev/null || { nginx -t; die "nginx refuses its configuration (above)"; }
systemctl enable -q nginx
if ! systemctl is-active -q nginx; then
	systemctl start nginx
	say "started nginx"
elif [ "$nginx_changed" -eq 1 ]; then
	systemctl reload nginx
	say "reloaded nginx"
fi

# ---- the server's settings ------------------------------------------------
env_changed=0
# set_env NAME VALUE: one NAME=VALUE line in yard.env (replacing the
# uncommented one, or added at the end); commented lines stay as they are.
set_env() {
	[ "$(setting "$1")" = "$2" ] && grep -q "^$1=" "$env_file" && return 0
	_t=$(mktemp "$env_file.XXXXXX")
	awk -v k="$1" -v v="$2" 'index($0, k "=") == 1 { if (!done) print k "=" v;
	    done = 1; next } { print } END { if (!done) print k "=" v }' \
	    "$env_file" >"$_t"
	chmod 0640 "$_t"
	chown root:yard "$_t"
	mv "$_t" "$env_file"
	changed "set $1 in $env_file"
	env_changed=1
}
set_env YARD_PUBLIC_URL "https://$host"
set_env YARD_LISTEN "$listen"
set_env YARD_PG_DSN "$dsn"
set_env PGPASSFILE "$pgpass"
set_env YARD_REDIS_URL "redis://127.0.0.1:$redis_port/0"
set_env YARD_REDIS_PASSWORD_FILE "$redis_pass"
[ -z "$ews_issuer" ] || set_env YARD_EWS_ISSUER "$ews_issuer"
[ -z "$ews_audience" ] || set_env YARD_EWS_AUDIENCE "$ews_audience"
[ -z "$ews_jwks" ] || set_env YARD_EWS_JWKS_URL "$ews_jwks"
[ -z "$ews_origins" ] || set_env YARD_EWS_ORIGINS "$ews_origins"
[ -z "$ews_login" ] || set_env YARD_EWS_LOGIN_URL "$ews_login"
if [ -n "$ews_pubkey" ]; then
	put "$ews_key" 0644 root:root <"$ews_pubkey" && env_changed=1
	set_env YARD_EWS_PUBLIC_KEY_FILE "$ews_key"
fi
if [ -n "$ews_notify" ]; then
	secret "$notify_secret" root:yard && env_changed=1
	set_env YARD_EWS_NOTIFY_SECRET_FILE "$notify_secret"
	set_env YARD_EWS_NOTIFY_URL "$ews_notify"
fi

# ---- the server -----------------------------------------------------------
systemctl enable -q yard-server
if [ "$env_changed" -eq 1 ] || [ "$upgraded" -eq 1 ] ||
    ! systemctl is-active -q yard-server; then
	systemctl restart yard-server
	say "started the Yard server"
fi
# Ready (it migrated the database), then through nginx with TLS.
i=0
until curl -fsS -o /dev/null "http://$listen/readyz" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 300 ] || die "the Yard server is not ready after 60 s: journalctl -u yard-server"
	sleep 0.2
done
curl -fsS -o /dev/null --resolve "$host:443:127.0.0.1" \
    --cacert "$crt" "https://$host/readyz" ||
    die "https://$host/ does not reach the server through nginx"

admin_cmd=/usr/sbin/yard-admin
if [ -n "$admin" ]; then
	out=$("$admin_cmd" make-admin "$admin") || die "could not make $admin an admin"
	case $out in
	*'nothing changed'*) say "$admin is an admin already" ;;
	*) changed "$(printf '%s' "$out" | sed 's/^yard-admin: //')" ;;
	esac
fi

# ---- the local agent ------------------------------------------------------
if [ "$agent" -eq 1 ]; then
	if [ ! -s "$agent_state/node.json" ]; then
		token=$("$admin_cmd" enroll-token --ttl 600) ||
		    die "could not make an enrolment token"
		YARD_AGENT_TOKEN=$token yard-agent enroll \
		    --server "https://$host" --state-dir "$agent_state" >/dev/null ||
		    die "the local agent could not enrol at https://$host (does $host resolve to this host?)"
		token=
		changed "enrolled the local agent"
		systemctl enable -q yard-agent
		systemctl restart yard-agent
	elif ! systemctl is-active -q yard-agent; then
		systemctl enable -q yard-agent
		systemctl restart yard-agent
		say "started the local agent"
	fi
fi

# ---- what to tell people --------------------------------------------------
ews_keys=$(setting YARD_EWS_JWKS_URL)
aud=$(setting YARD_EWS_AUDIENCE)
aud=${aud:-yard (the default)}
[ -n "$ews_keys" ] || ews_keys="public keys in $(setting YARD_EWS_PUBLIC_KEY_FILE)"
cat <<EOT

Yard is ready: https://$host/
TLS certificate SHA-256 fingerprint: $fingerprint
$( [ -e "$tls_dir/self-signed" ] && echo "  (self-signed: other servers trust $crt with the CA option of the Nodes page's line)")

For the EWS team (docs/ews-integration.md):
  Yard accepts tokens from issuer  $(setting YARD_EWS_ISSUER)
             with audience         $aud
             checked with          $ews_keys
  Pages may be framed by           $(setting YARD_EWS_ORIGINS)
  Expired sign-ins go to           $(setting YARD_EWS_LOGIN_URL)
  Menu entry (lands each user)     https://$host/ui/start
  Yard's origin (postMessage)      https://$host
  Notifications                    $(if [ -n "$(setting YARD_EWS_NOTIFY_URL)" ]; then echo "POST to $(setting YARD_EWS_NOTIFY_URL), HMAC key in $notify_secret"; else echo "off (--ews-notify-url URL)"; fi)

The first admin: give the user EWS's yard-admin role, or run
  yard-admin make-admin <their EWS sub>
EOT
if [ "$changes" -eq 0 ]; then
	say "nothing changed: the site was already as asked"
else
	say "$changes change(s) made"
fi
