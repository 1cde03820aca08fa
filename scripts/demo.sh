#!/usr/bin/env bash
# Set up (if needed), index the bundled sample archive and answer questions about it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
A=".venv/bin/archivist --config config.example.toml"
$A build
echo
$A stats
for q in "Why did IBM quit facial recognition?" "What happened to the ferry?" "Who won the election in Zimbabwe?"; do
  echo
  $A ask "$q"
done
