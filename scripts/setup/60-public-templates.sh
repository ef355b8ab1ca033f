#!/usr/bin/env bash
# Public CloudFormation templates that nobody here wrote, for the `cdk-s3-encryption check` tests:
# the AWS Quick Start and public templates that cfn-lint keeps as its own test fixtures, taken from
# the source distribution of the cfn-lint release the checkers' virtualenv pins (PyPI), checked
# against its sha256, into .tools/public-templates/ with cfn-lint's LICENSE (MIT No Attribution)
# and NOTICE. Nothing of it is committed here.
set -euo pipefail
source scripts/setup/lib.sh
VERSION=1.58.0
SHA256=ba02cd7f7e06c8bc160936051a03ec931af52943fcc9cc72ad2748caa0f2a103
dir=.tools/public-templates
if [[ -f $dir/VERSION && "$(cat $dir/VERSION)" == "$VERSION" ]]; then
  echo "    $dir (cfn-lint $VERSION) is up to date"
  exit 0
fi
grep -qx "cfn-lint==$VERSION" scripts/setup/requirements-checkers.txt \
  || { echo "    scripts/setup/requirements-checkers.txt pins another cfn-lint than $VERSION: update $0" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.tools/checkers/bin/pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
  -d "$tmp" "cfn-lint==$VERSION" 2>&1 | { grep -v '^$' || true; }
archive="$tmp/cfn_lint-$VERSION.tar.gz"
echo "$SHA256  $archive" | sha256sum --check --quiet - || { echo "    $archive: sha256 differs from the pinned one" >&2; exit 1; }
root=cfn_lint-$VERSION
tar -xzf "$archive" -C "$tmp" "$root/LICENSE" "$root/NOTICE" "$root/test/fixtures/templates/quickstart" "$root/test/fixtures/templates/public"
rm -rf "$dir"
mkdir -p "$dir"
cp "$tmp/$root/LICENSE" "$tmp/$root/NOTICE" "$dir/"
cp -r "$tmp/$root/test/fixtures/templates/quickstart" "$tmp/$root/test/fixtures/templates/public" "$dir/"
echo "$VERSION" > "$dir/VERSION"
echo "    $(find "$dir" -name '*.yaml' -o -name '*.json' | wc -l) templates from cfn-lint $VERSION's source distribution in $dir"
