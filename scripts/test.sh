#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# real servers from Debian's packages (never a downloaded browser): Chromium for the browser tests,
# PostgreSQL (initdb, pg_ctl; each test run starts its own in a temp folder) for the shared-state tests
need=()
command -v chromium >/dev/null && command -v chromedriver >/dev/null || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian's ${need[*]} for the tests..."
  # another apt (an unattended upgrade) may hold the dpkg lock for a while: wait for it, not fail
  APT="env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600"
  [ "$(id -u)" = 0 ] || APT="sudo $APT"
  { $APT install -y -q "${need[@]}" || { $APT update -q && $APT install -y -q "${need[@]}"; }; } \
    > /tmp/archivist-apt.log 2>&1 || { cat /tmp/archivist-apt.log; echo "could not install ${need[*]}" >&2; exit 1; }
fi
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
