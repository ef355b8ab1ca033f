#!/usr/bin/env bash
# Installs the non-npm tools the test suite and the compliance job need into .tools/.
# Each step under scripts/setup/ is idempotent and skips itself when its inputs are unchanged,
# so this runs at the start of every `npx projen test` and `npx projen compliance`.
# Usage: setup-tools.sh [STEP...]   (a step is a file name under scripts/setup/ without .sh,
# e.g. 10-checkers; with none, every step runs)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools
steps=()
if [[ $# -eq 0 ]]; then
  steps=(scripts/setup/[0-9]*.sh)
else
  for name in "$@"; do
    step=scripts/setup/${name%.sh}.sh
    [[ -f $step ]] || { echo "setup-tools: no step $name (steps: $(cd scripts/setup && ls [0-9]*.sh | tr '\n' ' '))" >&2; exit 2; }
    steps+=("$step")
  done
fi
for step in "${steps[@]}"; do
  echo "==> setup: ${step#scripts/setup/}"
  start=$(date +%s)
  bash "$step"
  echo "    done in $(( $(date +%s) - start ))s"
done
