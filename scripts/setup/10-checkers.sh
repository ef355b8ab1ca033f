#!/usr/bin/env bash
# The Python checkers in a local virtualenv: .tools/checkers (cfn-lint, checkov). The compliance job
# needs only this step.
set -euo pipefail
source scripts/setup/lib.sh
ensure_venv checkers
.tools/checkers/bin/cfn-lint --version
.tools/checkers/bin/checkov --version
