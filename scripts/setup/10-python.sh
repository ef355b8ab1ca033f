#!/usr/bin/env bash
# Python tools in local virtualenvs: .tools/checkers (cfn-lint, checkov), .tools/moto (moto server).
set -euo pipefail
source scripts/setup/lib.sh
for name in checkers moto; do
  req=scripts/setup/requirements-$name.txt
  if stamp_ok "venv-$name" "$req" && [[ -x .tools/$name/bin/python ]]; then
    echo "    .tools/$name is up to date"
    continue
  fi
  echo "    creating .tools/$name from $req"
  make_venv ".tools/$name" "$req"
  stamp_write "venv-$name" "$req"
done
.tools/checkers/bin/cfn-lint --version
.tools/checkers/bin/checkov --version
.tools/moto/bin/moto_server --help > /dev/null && echo "    moto_server ok"
