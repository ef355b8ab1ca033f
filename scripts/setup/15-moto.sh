#!/usr/bin/env bash
# The moto server in a local virtualenv (.tools/moto), for the integration tests.
set -euo pipefail
source scripts/setup/lib.sh
ensure_venv moto
.tools/moto/bin/moto_server --help > /dev/null && echo "    moto_server ok"
