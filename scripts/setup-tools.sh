#!/usr/bin/env bash
# Installs every non-npm tool the test suite and the compliance job need into .tools/.
# Each step under scripts/setup/ is idempotent and skips itself when its inputs are unchanged,
# so this runs at the start of every `npx projen test` and `npx projen compliance`.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools
for step in scripts/setup/[0-9]*.sh; do
  echo "==> setup: ${step#scripts/setup/}"
  start=$(date +%s)
  bash "$step"
  echo "    done in $(( $(date +%s) - start ))s"
done
