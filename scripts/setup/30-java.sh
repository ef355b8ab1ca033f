#!/usr/bin/env bash
# The Amazon S3 Encryption Client for Java (4.x, plus the SDK v1 client for the legacy format) and small CLIs
# over them (.tools/java), for the interop tests.
# Dependencies resolve into a project-local Maven repository (.tools/m2) so CI can cache one folder.
set -euo pipefail
source scripts/setup/lib.sh
pom=test/interop/java/pom.xml
srcdir=test/interop/java/src/main/java/dev/cdks3encryption/interop
src=($srcdir/S3ecCli.java $srcdir/LegacyV1Cli.java)
out=.tools/java
if stamp_ok java "$pom" "${src[@]}" scripts/setup/30-java.sh && [[ -f $out/classes/dev/cdks3encryption/interop/S3ecCli.class ]]; then
  echo "    $out is up to date"
else
  for tool in mvn javac; do
    command -v $tool > /dev/null || { echo "    $tool is required (apt-get install maven openjdk-17-jdk-headless)" >&2; exit 1; }
  done
  echo "    resolving the S3 Encryption Client for Java and its dependencies into .tools/m2"
  rm -rf "$out"
  mkdir -p "$out/lib" "$out/classes"
  # A pinned plugin version keeps the resolution reproducible across Maven releases.
  mvn -B -q -Dstyle.color=never -f "$pom" -Dmaven.repo.local="$PWD/.tools/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$PWD/$out/lib" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
  echo "    compiling the interop CLI with $(javac -version 2>&1)"
  javac -nowarn --release 11 -cp "$out/lib/*" -d "$out/classes" "${src[@]}"
  stamp_write java "$pom" "${src[@]}" scripts/setup/30-java.sh
fi
# The test helper runs `java -cp "$(cat .tools/java/classpath)" dev.cdks3encryption.interop.S3ecCli`.
echo "$PWD/$out/classes:$PWD/$out/lib/*" > "$out/classpath"
echo "    $(ls "$out/lib" | grep -m1 amazon-s3-encryption-client-java)"
