#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# the browser tests drive Debian's Chromium (never a downloaded browser)
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "Installing Debian's chromium and chromium-driver for the browser tests..."
  APT="env DEBIAN_FRONTEND=noninteractive apt-get"
  [ "$(id -u)" = 0 ] || APT="sudo $APT"
  { $APT install -y -q chromium chromium-driver || { $APT update -q && $APT install -y -q chromium chromium-driver; }; } \
    > /tmp/archivist-apt.log 2>&1 || { cat /tmp/archivist-apt.log; echo "could not install chromium" >&2; exit 1; }
fi
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
