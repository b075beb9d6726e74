#!/bin/sh
# Makes a minimal Debian bookworm root file system with PostgreSQL 15 and
# imports it as the image localhost/urna-postgres-base:15, from the Debian
# mirror alone (no container registry needed). packaging/postgres/Containerfile
# then adds the entry point. Needs root, debootstrap and podman.
#
#   packaging/postgres/rootfs.sh [MIRROR]
set -eu
mirror=${1:-${DEBIAN_MIRROR:-http://deb.debian.org/debian}}
image=${URNA_PG_BASE:-localhost/urna-postgres-base:15}
root=$(mktemp -d /var/tmp/urna-pgroot.XXXXXX)
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include=postgresql-15 bookworm "$root" "$mirror"
# The package's post-install made a "main" cluster and its configuration:
# the image makes its own at first start, in its volume.
rm -rf "$root"/var/lib/postgresql/15/main "$root"/etc/postgresql/15/main
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
	"$root"/var/log/*.log "$root"/var/cache/debconf/*-old
tar -C "$root" --numeric-owner -cf - . | podman import \
	--change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'CMD ["/bin/sh"]' \
	--message "debootstrap bookworm + postgresql-15 from $mirror" \
	- "$image"
echo "imported $image"
