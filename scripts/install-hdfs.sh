#!/usr/bin/env bash
# Install a minimal Hadoop 2.7.3 (NameNode + DataNode) into the cache.
#
# No Hadoop in Debian and no Maven Central here, but the pyspark 2.4.8 sdist
# on PyPI carries the unshaded Hadoop 2.7.3 jars: we take 28 of them, add a
# stub for the one missing Jersey class and empty webapps dirs. Idempotent:
# a marker written last says the install is complete.
set -euo pipefail
LOG_TAG=install-hdfs
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PYSPARK_VERSION=2.4.8
# Bump when the recipe below changes, so old installs are redone.
RECIPE="hadoop-2.7.3 from pyspark-$PYSPARK_VERSION sdist, recipe 1"
MARKER=$LAKESHORE_HADOOP/.complete

# Exactly the jars a NameNode and a DataNode need (see shared/REAL-SERVICES.md).
JARS=(
  hadoop-hdfs-2.7.3.jar
  hadoop-common-2.7.3.jar
  hadoop-auth-2.7.3.jar
  hadoop-annotations-2.7.3.jar
  hadoop-mapreduce-client-core-2.7.3.jar
  guava-14.0.1.jar
  protobuf-java-2.5.0.jar
  htrace-core-3.1.0-incubating.jar
  jetty-6.1.26.jar
  jetty-util-6.1.26.jar
  javax.servlet-api-3.1.0.jar
  javax.ws.rs-api-2.0.1.jar
  netty-all-4.1.47.Final.jar
  xercesImpl-2.9.1.jar
  jackson-core-asl-1.9.13.jar
  jackson-mapper-asl-1.9.13.jar
  log4j-1.2.17.jar
  apache-log4j-extras-1.2.17.jar
  slf4j-api-1.7.16.jar
  slf4j-log4j12-1.7.16.jar
  jcl-over-slf4j-1.7.16.jar
  commons-cli-1.2.jar
  commons-codec-1.10.jar
  commons-collections-3.2.2.jar
  commons-configuration-1.6.jar
  commons-io-2.4.jar
  commons-lang-2.6.jar
  commons-logging-1.1.3.jar
)

installed() {
  [[ -f $MARKER && $(cat -- "$MARKER") == "$RECIPE" ]]
}

ensure_java() {
  if command -v java >/dev/null && command -v javac >/dev/null && command -v jar >/dev/null; then
    return 0
  fi
  log "java/javac missing: installing a JDK"
  apt_install openjdk-17-jdk-headless
  command -v javac >/dev/null || die "javac still missing after installing openjdk-17-jdk-headless"
}

WORK=
cleanup() {
  if [[ -n $WORK ]]; then rm -rf -- "$WORK"; fi
}

install() {
  if installed; then
    log "already installed in $LAKESHORE_HADOOP"
    return 0
  fi
  local t0 venv sdist out
  t0=$(now_ms)
  ensure_java

  # pyspark's setup.py needs setuptools (and no pypandoc when build
  # isolation is off), so download from a venv that has them.
  venv=$LAKESHORE_CACHE/pip-venv
  if [[ ! -x $venv/bin/pip ]]; then
    log "creating venv $venv"
    rm -rf -- "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (apt-get install python3-venv?)"
  fi
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  "$venv/bin/pip" install -q setuptools wheel

  WORK=$(mktemp -d "$LAKESHORE_CACHE/hadoop-install.XXXXXX")
  trap cleanup EXIT
  log "downloading the pyspark $PYSPARK_VERSION sdist"
  "$venv/bin/pip" download -q --no-deps --no-build-isolation --no-binary :all: \
    -d "$WORK/dl" "pyspark==$PYSPARK_VERSION"
  sdist=$WORK/dl/pyspark-$PYSPARK_VERSION.tar.gz
  [[ -f $sdist ]] || die "pip did not produce $sdist"

  log "extracting ${#JARS[@]} jars"
  mkdir -p "$WORK/src"
  tar -xzf "$sdist" -C "$WORK/src" "${JARS[@]/#/pyspark-$PYSPARK_VERSION/deps/jars/}"
  out=$WORK/hadoop
  mkdir -p "$out"
  mv -- "$WORK/src/pyspark-$PYSPARK_VERSION/deps/jars" "$out/jars"
  local n
  n=$(find "$out/jars" -name '*.jar' | wc -l)
  [[ $n -eq ${#JARS[@]} ]] || die "expected ${#JARS[@]} jars, got $n"

  log "compiling the Jersey ServletContainer stub"
  mkdir -p "$WORK/classes" "$out/stub"
  javac -cp "$out/jars/javax.servlet-api-3.1.0.jar" -d "$WORK/classes" \
    "$LAKESHORE_ROOT/scripts/hdfs/ServletContainer.java"
  [[ -f $WORK/classes/com/sun/jersey/spi/container/servlet/ServletContainer.class ]] || die "stub did not compile"
  jar cf "$out/stub/jersey-servlet-stub.jar" -C "$WORK/classes" .

  # HttpServer2 looks the web apps up as classpath resources: empty dirs do.
  mkdir -p "$out/web/webapps/hdfs" "$out/web/webapps/datanode" "$out/web/webapps/secondary"

  rm -rf -- "$LAKESHORE_HADOOP"
  mv -- "$out" "$LAKESHORE_HADOOP"
  printf '%s\n' "$RECIPE" >"$MARKER" # last: marks the install complete
  log "installed in $LAKESHORE_HADOOP ($(($(now_ms) - t0)) ms)"
}

mkdir -p -- "$LAKESHORE_CACHE"
if installed && command -v java >/dev/null; then
  log "already installed in $LAKESHORE_HADOOP"
  exit 0
fi
with_lock "$LAKESHORE_CACHE/hdfs-install.lock" install
