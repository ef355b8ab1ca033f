#!/usr/bin/env bash
# The SARIF 2.1.0 JSON schema (OASIS), against which the tests validate every SARIF file that
# `cdk-s3-encryption check` writes. The npm registry serves it inside Microsoft's SARIF Multitool
# package (MIT); only the schema file is kept, in .tools/sarif/, and both the package and the file
# are checked against pinned sha256 sums. Nothing of it is committed here.
set -euo pipefail
PACKAGE=@microsoft/sarif-multitool-linux@5.7.0
PACKAGE_SHA256=27d8e3e96dde578a23b7c45035b8d741fece5731e2700aa068015b8c44d1514e
SCHEMA_SHA256=1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c
dir=.tools/sarif
if [[ -f $dir/sarif-2.1.0.json ]] && echo "$SCHEMA_SHA256  $dir/sarif-2.1.0.json" | sha256sum --check --quiet - 2> /dev/null; then
  echo "    $dir/sarif-2.1.0.json is up to date"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PACKAGE" > /dev/null)
archive=$(ls "$tmp"/*.tgz)
echo "$PACKAGE_SHA256  $archive" | sha256sum --check --quiet - || { echo "    $archive: sha256 differs from the pinned one" >&2; exit 1; }
tar -xzf "$archive" -C "$tmp" package/sarif-2.1.0.json
echo "$SCHEMA_SHA256  $tmp/package/sarif-2.1.0.json" | sha256sum --check --quiet - || { echo "    sarif-2.1.0.json: sha256 differs from the pinned one" >&2; exit 1; }
mkdir -p "$dir"
cp "$tmp/package/sarif-2.1.0.json" "$dir/"
echo "    SARIF 2.1.0 schema from $PACKAGE in $dir"
