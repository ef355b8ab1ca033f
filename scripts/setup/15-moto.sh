#!/usr/bin/env bash
# The moto server in a local virtualenv (.tools/moto), for the integration tests.
set -euo pipefail
source scripts/setup/lib.sh
req=scripts/setup/requirements-moto.txt
if stamp_ok venv-moto "$req" && [[ -x .tools/moto/bin/python ]]; then
  echo "    .tools/moto is up to date"
else
  echo "    creating .tools/moto from $req"
  make_venv .tools/moto "$req"
  stamp_write venv-moto "$req"
fi
.tools/moto/bin/moto_server --help > /dev/null && echo "    moto_server ok"
