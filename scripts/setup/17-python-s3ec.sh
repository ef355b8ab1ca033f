#!/usr/bin/env bash
# The Amazon S3 Encryption Client for Python in a local virtualenv (.tools/python-s3ec), for the interop tests.
set -euo pipefail
source scripts/setup/lib.sh
ensure_venv python-s3ec
.tools/python-s3ec/bin/python -c 'import importlib.metadata, s3_encryption; print("    amazon-s3-encryption-client-python", importlib.metadata.version("amazon-s3-encryption-client-python"), "ok")'
