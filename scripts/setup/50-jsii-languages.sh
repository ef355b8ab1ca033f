#!/usr/bin/env bash
# Tools for test/integ/jsii-languages.test.ts: the Python CDK venv for examples/python (.tools/python-example)
# and the Java cdk-nag 3 artifact made resolvable in .tools/m2 for jsii-pacmak's Maven build.
set -euo pipefail
source scripts/setup/lib.sh

ensure_venv python-example

# The generated pom asks for cdknag [3.0.2,4.0.0), but Maven Central's maven-metadata.xml for cdknag does not
# list the 3.x releases, so the range finds nothing; installing the pinned release locally records it in
# maven-metadata-local.xml, which Maven reads for ranges too.
CDK_NAG_JAVA=3.0.2
m2=$PWD/.tools/m2
meta=$m2/io/github/cdklabs/cdknag/maven-metadata-local.xml
if [[ -f $meta ]] && grep -q "<version>$CDK_NAG_JAVA</version>" "$meta"; then
  echo "    cdknag $CDK_NAG_JAVA is installed in .tools/m2"
else
  command -v mvn > /dev/null || { echo "    mvn is required (apt-get install maven openjdk-17-jdk-headless)" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mvn_q() { mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$m2" "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; }
  for kind in jar pom; do
    mvn_q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
      -Dartifact=io.github.cdklabs:cdknag:$CDK_NAG_JAVA:$kind -DoutputDirectory="$tmp"
  done
  mvn_q org.apache.maven.plugins:maven-install-plugin:3.1.1:install-file \
    -Dfile="$tmp/cdknag-$CDK_NAG_JAVA.jar" -DpomFile="$tmp/cdknag-$CDK_NAG_JAVA.pom"
  grep -q "<version>$CDK_NAG_JAVA</version>" "$meta" || { echo "    installing cdknag $CDK_NAG_JAVA into .tools/m2 failed" >&2; exit 1; }
  echo "    installed cdknag $CDK_NAG_JAVA into .tools/m2"
fi

command -v go > /dev/null || { echo "    go is required for the Go bindings (apt-get install golang or https://go.dev/dl)" >&2; exit 1; }
# Reads the installed version without importing aws_cdk, which would start a Node.js jsii kernel.
.tools/python-example/bin/python -c 'import importlib.metadata as m; print("    python-example: aws-cdk-lib", m.version("aws-cdk-lib"))'
