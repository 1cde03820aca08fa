#!/usr/bin/env bash
# Create .venv and install Archivist with its test and bench extras. Safe to run again: it only
# reinstalls when pyproject.toml changed. torch is installed first, pinned to the CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.archivist-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing Archivist into .venv (first run: a few minutes; log in .venv/install.log)..."
  {
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet "torch==2.13.0"
    .venv/bin/python -m pip install --quiet -e ".[test,bench]"
  } > .venv/install.log 2>&1 || { cat .venv/install.log; echo "setup failed (log above)" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
