#!/bin/sh
# Entry point of the local PostgreSQL image (Containerfile beside this file).
# Runs as root only to prepare the data directory and read the password
# secret (which may be root-owned, mode 0600), then runs PostgreSQL as the
# postgres user. On an empty data directory it makes the cluster with the
# superuser POSTGRES_USER, that user's password and the database POSTGRES_DB,
# and lets clients on the network in with a password (scram-sha-256) only.
# As in the official image, connections on the Unix socket, which only
# processes inside the container reach, need no password (`podman exec`).
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}

as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi

mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
		[ -r "$POSTGRES_PASSWORD_FILE" ] || { echo "entrypoint: cannot read POSTGRES_PASSWORD_FILE $POSTGRES_PASSWORD_FILE" >&2; exit 1; }
		pw=$(cat "$POSTGRES_PASSWORD_FILE")
	elif [ -n "${POSTGRES_PASSWORD:-}" ]; then
		pw=$POSTGRES_PASSWORD
	else
		echo "entrypoint: set POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD): the database would have no password" >&2
		exit 1
	fi
	[ -n "$pw" ] || { echo "entrypoint: the PostgreSQL password is empty" >&2; exit 1; }
	pwfile=$(mktemp)
	printf '%s\n' "$pw" >"$pwfile"
	chown postgres "$pwfile"
	as_postgres initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" \
		--encoding=UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null
	rm -f "$pwfile"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	if [ "$db" != postgres ]; then
		# Single-user mode: no server, no network, no authentication needed.
		printf 'CREATE DATABASE "%s" OWNER "%s"\n' "$db" "$user" |
			as_postgres postgres --single -D "$PGDATA" postgres >/dev/null
	fi
	echo "entrypoint: made the cluster in $PGDATA (user $user, database $db)"
fi

shift || true
exec setpriv --reuid=postgres --regid=postgres --init-groups \
	postgres -D "$PGDATA" -c listen_addresses='*' "$@"
