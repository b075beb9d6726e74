#!/bin/sh
# Builds the node image from the repository root, without pulling anything:
# the static binary (make static), the host's CA bundle, then the FROM
# scratch image of packaging/Dockerfile.
#
#   packaging/build.sh [TAG]          # default urna:dev
#   ENGINE=docker packaging/build.sh  # default podman
set -eu
cd "$(dirname "$0")/.."
tag=${1:-urna:dev}
engine=${ENGINE:-podman}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

make static
[ -s "$ca" ] || { echo "build.sh: no CA bundle at $ca (install ca-certificates or set CA_BUNDLE)" >&2; exit 1; }
cp "$ca" bin/ca-certificates.crt
version=$(git describe --tags --always --dirty 2>/dev/null || echo devel)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
"$engine" build -f packaging/Dockerfile \
	--build-arg VERSION="$version" --build-arg COMMIT="$commit" -t "$tag" .
echo "built $tag ($version)"
