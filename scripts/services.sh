#!/usr/bin/env bash
# Bring the real test services (Kafka via tansu, HDFS 2.7.3) up or down.
#
#   scripts/services.sh up      install what is missing, start both, write the env file
#   scripts/services.sh down    stop both (data kept; see kafka.sh/hdfs.sh reset)
#   scripts/services.sh status  exit 0 when both run
#   scripts/services.sh env     print the env file, for `eval "$(scripts/services.sh env)"`
#
# The env file ($LAKESHORE_RUN/env) tells the tests where the services are.
set -euo pipefail
LOG_TAG=services
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

SCRIPTS=$LAKESHORE_ROOT/scripts
ENV_FILE=$LAKESHORE_RUN/env

install_all() {
  local hdfs_pid rc=0
  # The HDFS install is mostly a download: overlap it with tansu's build.
  "$SCRIPTS/install-hdfs.sh" &
  hdfs_pid=$!
  "$SCRIPTS/install-kafka.sh" || rc=$?
  wait "$hdfs_pid" || rc=$?
  [[ $rc -eq 0 ]] || die "install failed"
}

do_up() {
  local t0
  t0=$(now_ms)
  install_all
  "$SCRIPTS/kafka.sh" start
  "$SCRIPTS/hdfs.sh" start
  mkdir -p -- "$LAKESHORE_RUN"
  {
    echo "# Written by scripts/services.sh up; removed by down."
    echo "export LAKESHORE_TEST_BROKERS=127.0.0.1:$LAKESHORE_KAFKA_PORT"
    echo "export LAKESHORE_TEST_HDFS=hdfs://127.0.0.1:$LAKESHORE_HDFS_PORT"
    # So that a test (or a shell) that restarts a service finds the same one.
    echo "export LAKESHORE_RUN=$(printf '%q' "$LAKESHORE_RUN")"
    echo "export LAKESHORE_KAFKA_PORT=$LAKESHORE_KAFKA_PORT"
    echo "export LAKESHORE_HDFS_PORT=$LAKESHORE_HDFS_PORT"
  } >"$ENV_FILE.tmp"
  mv -f -- "$ENV_FILE.tmp" "$ENV_FILE"
  log "up in $(($(now_ms) - t0)) ms; env: $ENV_FILE"
}

do_down() {
  local rc=0
  rm -f -- "$ENV_FILE"
  "$SCRIPTS/kafka.sh" stop || rc=$?
  "$SCRIPTS/hdfs.sh" stop || rc=$?
  return "$rc"
}

do_status() {
  local rc=0
  "$SCRIPTS/kafka.sh" status || rc=$?
  "$SCRIPTS/hdfs.sh" status || rc=$?
  return "$rc"
}

case ${1:-} in
  up) do_up ;;
  down) do_down ;;
  status) do_status ;;
  env)
    [[ -f $ENV_FILE ]] || die "no $ENV_FILE: run scripts/services.sh up"
    cat -- "$ENV_FILE"
    ;;
  *)
    echo "usage: $0 up|down|status|env" >&2
    exit 2
    ;;
esac
