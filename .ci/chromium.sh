#!/usr/bin/env bash
# Install Debian's Chromium if it is missing (idempotent, quiet).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
fi
chromium --version
