#!/usr/bin/env bash
# .ci/pg.sh: make a local PostgreSQL server available for the store tests.
#
# Installs PostgreSQL from Debian's packages when it is missing, starts the
# cluster, creates the role urna (password urna, CREATEDB) and the database
# urna_test, and prints one line for the caller to eval:
#
#   eval "$(bash .ci/pg.sh)"    # sets URNA_TEST_POSTGRES
#
# Idempotent: safe to run when everything is already installed and running.
# Must run as root (it uses apt-get and su to the postgres user). Everything
# except the final export line goes to stderr so the eval stays clean.
set -euo pipefail

log() { printf 'pg.sh: %s\n' "$*" >&2; }

PGUSER_NAME=urna
PGPASS=urna
PGDB=urna_test
PGPORT_WANT=${URNA_PG_PORT:-5432}

if [ "$(id -u)" -ne 0 ]; then
	log "must run as root"
	exit 1
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
	log "installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	aptlog=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; } >"$aptlog" 2>&1; then
		cat "$aptlog" >&2
		rm -f "$aptlog"
		log "apt-get failed"
		exit 1
	fi
	rm -f "$aptlog"
fi

# The newest installed major version; Debian 12 ships 15.
ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if [ -z "$ver" ]; then
	log "no PostgreSQL version found under /usr/lib/postgresql"
	exit 1
fi

# A package install creates the "main" cluster; a machine where it was
# dropped (or a container where the post-install step was skipped) needs one.
if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main"' | grep -q .; then
	log "creating cluster $ver/main"
	pg_createcluster "$ver" main -p "$PGPORT_WANT" >&2
fi

port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
status=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $4}')
if [ "$status" != "online" ]; then
	log "starting cluster $ver/main on port $port"
	# pg_ctlcluster works without systemd (containers, CI); `service` may not.
	pg_ctlcluster "$ver" main start >&2
fi

# Wait until the server accepts connections.
for _ in $(seq 1 60); do
	if su postgres -c "pg_isready -q -p $port" 2>/dev/null; then
		break
	fi
	sleep 0.5
done
if ! su postgres -c "pg_isready -q -p $port"; then
	log "server on port $port did not become ready"
	exit 1
fi

psql_su() { su postgres -c "psql -v ON_ERROR_STOP=1 -q -X -p $port $*"; }

if [ "$(psql_su "-tAc \"SELECT 1 FROM pg_roles WHERE rolname='$PGUSER_NAME'\"")" != "1" ]; then
	log "creating role $PGUSER_NAME"
	psql_su "-c \"CREATE ROLE $PGUSER_NAME LOGIN CREATEDB PASSWORD '$PGPASS'\"" >&2
else
	# Keep the documented password and privileges even if someone changed them.
	psql_su "-c \"ALTER ROLE $PGUSER_NAME LOGIN CREATEDB PASSWORD '$PGPASS'\"" >&2
fi

if [ "$(psql_su "-tAc \"SELECT 1 FROM pg_database WHERE datname='$PGDB'\"")" != "1" ]; then
	log "creating database $PGDB"
	psql_su "-c \"CREATE DATABASE $PGDB OWNER $PGUSER_NAME\"" >&2
fi

url="postgres://$PGUSER_NAME:$PGPASS@127.0.0.1:$port/$PGDB?sslmode=disable"
# Password authentication over TCP on 127.0.0.1 is Debian's default
# (scram-sha-256 in pg_hba.conf); check it really works before handing out the URL.
if ! PGPASSWORD=$PGPASS psql -X -q -h 127.0.0.1 -p "$port" -U "$PGUSER_NAME" -d "$PGDB" -tAc 'SELECT 1' >/dev/null; then
	log "cannot connect as $PGUSER_NAME over TCP; check pg_hba.conf"
	exit 1
fi
log "ready: $url"
printf "export URNA_TEST_POSTGRES='%s'\n" "$url"
