#!/usr/bin/env bash
# MinIO, built from the Go module proxy into .tools/minio/<version>/minio: the real S3-compatible server
# that enforces SSE-C (moto accepts SSE-C headers but does not check them).
set -euo pipefail
source scripts/setup/lib.sh
# Pinned pseudo-version (MinIO tags are not semver, so the proxy serves commits); builds with Go >= 1.24.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
dir=.tools/minio/$MINIO_VERSION
if [[ -x $dir/minio ]]; then
  echo "    $dir/minio is up to date"
else
  command -v go > /dev/null || { echo "    go is required to build MinIO (apt-get install golang or https://go.dev/dl)" >&2; exit 1; }
  echo "    building minio@$MINIO_VERSION with $(go version | cut -d' ' -f3) (takes a few minutes the first time)"
  mkdir -p "$dir"
  # CGO off gives a static binary and needs no C toolchain; an older local Go fetches the 1.24 toolchain from the module proxy.
  GOBIN=$PWD/$dir CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=${GOTOOLCHAIN:-auto} \
    go install -trimpath -ldflags='-s -w' "github.com/minio/minio@$MINIO_VERSION" 2>&1 | { grep -v '^go: downloading' || true; }
  [[ -x $dir/minio ]] || { echo "    building MinIO failed" >&2; exit 1; }
fi
# The tests find the binary through this file, so the pinned version lives only here.
echo "$PWD/$dir/minio" > .tools/minio/path
"$dir/minio" --version | sed -n '1s/^/    /p'
