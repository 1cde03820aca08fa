#!/usr/bin/env bash
# Set up (if needed), index the bundled sample archive, then answer: in Slack when tokens are set
# (SLACK_BOT_TOKEN + SLACK_APP_TOKEN, Socket Mode), else in the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
# the README's commands read ./config.toml: the demo starts one from the example (the sample archive's
# sources, with the site of its IBM story), so that what the README does next indexes the same way
if [ ! -f config.toml ]; then
  cp config.example.toml config.toml
  echo "Wrote config.toml (a copy of config.example.toml); the archivist commands read it."
fi
A=".venv/bin/archivist"
$A build
echo
$A stats
echo
if [ -n "${SLACK_BOT_TOKEN:-}" ] && [ -n "${SLACK_APP_TOKEN:-}" ]; then
  echo "Slack tokens found: serving in Socket Mode. Mention @Archivist in a channel it is in, or DM it."
  exec $A serve
fi
echo "No Slack tokens set (see README, 'Connect to Slack'): answering in the terminal."
echo
# a question and its follow-up (read with the first), then new conversations: a filter, a summary,
# and a question the archive has nothing on
printf '%s\n' "Why did IBM quit facial recognition?" \
              "Who wrote the letter to lawmakers?" \
              "new" \
              "crash since:2019-02" \
              "/summarize Iranian cargo plane" \
              "new" \
              "What is the best recipe for banana bread?" | $A chat
if [ -t 0 ]; then
  exec $A chat
fi
