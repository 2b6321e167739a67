#!/usr/bin/env bash
# Run a real Kafka-protocol broker (tansu, SQLite storage) on 127.0.0.1 for
# the tests.
#
#   scripts/kafka.sh start [--fresh]            start (wiping all data first with --fresh)
#   scripts/kafka.sh stop                       stop; topics and records are kept
#   scripts/kafka.sh restart                    stop + start (data kept)
#   scripts/kafka.sh status                     exit 0 when running
#   scripts/kafka.sh reset                      stop and wipe all data
#   scripts/kafka.sh create-topic NAME PARTITIONS [KEY=VALUE...]
#   scripts/kafka.sh list-topics
#
# There is deliberately no delete-topic: tansu 0.6.0's DeleteTopics deletes
# every topic. Use fresh topic names, or `reset`.
set -euo pipefail
LOG_TAG=kafka
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PORT=$LAKESHORE_KAFKA_PORT
BROKER=tcp://127.0.0.1:$PORT
# tansu's working dir: it holds the (relative) SQLite database.
DATA_DIR=$LAKESHORE_RUN/kafka
PIDFILE=$DATA_DIR/tansu.pid
LOGFILE=$DATA_DIR/tansu.log
START_TIMEOUT=${LAKESHORE_KAFKA_START_TIMEOUT:-30}

require_installed() {
  if [[ ! -x $TANSU_BIN ]]; then
    "$LAKESHORE_ROOT/scripts/install-kafka.sh"
  fi
}

# tansu loads `.env` from its cwd *or any parent directory* (dotenv): an
# empty one in DATA_DIR keeps a stray .env in the clone or above from
# reconfiguring it.
ensure_dotenv() {
  mkdir -p -- "$DATA_DIR"
  if [[ ! -f $DATA_DIR/.env ]]; then
    echo '# empty on purpose: stops tansu reading a .env from a parent dir' >"$DATA_DIR/.env"
  fi
}

# tansu with a controlled environment: settings it would read from variables
# that we do not pass as flags are cleared; its log level is ours to choose.
TANSU=(env -u SCHEMA_REGISTRY -u OTEL_EXPORTER_OTLP_ENDPOINT
  "RUST_LOG=${LAKESHORE_KAFKA_RUST_LOG:-warn}" "$TANSU_BIN")

tansu() {
  ensure_dotenv
  (cd -- "$DATA_DIR" && exec "${TANSU[@]}" "$@")
}

do_start() {
  local fresh=${1:-} t0
  case $fresh in
    "") ;;
    --fresh) do_reset ;;
    *) die "unknown start option '$fresh' (only --fresh)" ;;
  esac
  if pidfile_pid "$PIDFILE" >/dev/null; then
    log "already running at $BROKER"
    return 0
  fi
  require_installed
  require_free_port "$PORT" "Kafka broker"
  t0=$(now_ms)
  ensure_dotenv
  log "starting tansu on $BROKER (data: $DATA_DIR)"
  # --listener-url always: the default listens on every interface.
  start_daemon "$DATA_DIR" "$LOGFILE" "$PIDFILE" \
    "${TANSU[@]}" broker \
    --listener-url "$BROKER" \
    --advertised-listener-url "$BROKER" \
    --storage-engine sqlite://tansu.db >/dev/null
  if ! wait_for_port "$PORT" "$START_TIMEOUT" "$PIDFILE"; then
    show_tail 40 "$LOGFILE"
    stop_pidfile tansu "$PIDFILE" 5
    die "tansu did not start"
  fi
  log "ready at $BROKER ($(($(now_ms) - t0)) ms)"
}

do_stop() {
  # On TERM tansu gives open connections up to 5 s to finish.
  stop_pidfile tansu "$PIDFILE" 10
}

do_reset() {
  do_stop
  log "wiping $DATA_DIR"
  rm -f -- "$DATA_DIR"/tansu.db "$DATA_DIR"/tansu.db-*
}

do_status() {
  local pid
  if pid=$(pidfile_pid "$PIDFILE"); then
    echo "Kafka $BROKER: tansu pid $pid"
  else
    echo "Kafka $BROKER: not running"
    return 1
  fi
}

require_running() {
  pidfile_pid "$PIDFILE" >/dev/null || die "broker not running (scripts/kafka.sh start)"
}

cmd=${1:-}
if [[ $# -gt 0 ]]; then shift; fi
case $cmd in
  start) do_start "${1:-}" ;;
  stop) do_stop ;;
  restart)
    do_stop
    do_start
    ;;
  status) do_status ;;
  reset) do_reset ;;
  create-topic)
    [[ $# -ge 2 ]] || die "usage: $0 create-topic NAME PARTITIONS [KEY=VALUE...]"
    require_running
    name=$1 partitions=$2
    shift 2
    args=()
    for kv in "$@"; do args+=(--config "$kv"); done
    tansu topic create "$name" --partitions "$partitions" --broker "$BROKER" "${args[@]}"
    ;;
  list-topics)
    require_running
    tansu topic list --broker "$BROKER"
    ;;
  *)
    echo "usage: $0 start [--fresh]|stop|restart|status|reset|create-topic NAME PARTITIONS [KEY=VALUE...]|list-topics" >&2
    exit 2
    ;;
esac
