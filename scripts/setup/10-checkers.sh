#!/usr/bin/env bash
# The Python checkers in a local virtualenv: .tools/checkers (cfn-lint, checkov). The compliance job
# needs only this step.
set -euo pipefail
source scripts/setup/lib.sh
req=scripts/setup/requirements-checkers.txt
if stamp_ok venv-checkers "$req" && [[ -x .tools/checkers/bin/python ]]; then
  echo "    .tools/checkers is up to date"
else
  echo "    creating .tools/checkers from $req"
  make_venv .tools/checkers "$req"
  stamp_write venv-checkers "$req"
fi
.tools/checkers/bin/cfn-lint --version
.tools/checkers/bin/checkov --version
