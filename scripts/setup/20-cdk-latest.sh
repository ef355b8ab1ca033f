#!/usr/bin/env bash
# The newest aws-cdk-lib (pinned in scripts/setup/cdk-latest/), into .tools/cdk-latest, beside the
# peer floor that the repository's node_modules hold: the unit suite runs against both.
set -euo pipefail
source scripts/setup/lib.sh
src=scripts/setup/cdk-latest
if stamp_ok cdk-latest "$src/package.json" "$src/package-lock.json" && [[ -d .tools/cdk-latest/node_modules/aws-cdk-lib ]]; then
  echo "    .tools/cdk-latest is up to date"
else
  rm -rf .tools/cdk-latest && mkdir -p .tools/cdk-latest
  cp "$src/package.json" "$src/package-lock.json" .tools/cdk-latest/
  (cd .tools/cdk-latest && npm ci --silent --no-audit --no-fund)
  stamp_write cdk-latest "$src/package.json" "$src/package-lock.json"
fi
echo "    aws-cdk-lib $(node -p "require('./.tools/cdk-latest/node_modules/aws-cdk-lib/package.json').version") in .tools/cdk-latest"
