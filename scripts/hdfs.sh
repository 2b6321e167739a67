#!/usr/bin/env bash
# Run a real single-node HDFS 2.7.3 (one NameNode, one DataNode) on
# 127.0.0.1 for the tests.
#
#   scripts/hdfs.sh start [--fresh]  format once (or again with --fresh), start, wait until ready
#   scripts/hdfs.sh stop             stop both JVMs; the data is kept
#   scripts/hdfs.sh restart          stop + start (data kept)
#   scripts/hdfs.sh status           exit 0 when both run
#   scripts/hdfs.sh reset            stop and wipe all HDFS data
#   scripts/hdfs.sh dfs ARGS...      Hadoop's own client, e.g. `dfs -ls -R /`
#   scripts/hdfs.sh dfsadmin ARGS... Hadoop's admin client, e.g. `dfsadmin -safemode enter`
#   scripts/hdfs.sh classpath        the Java classpath, for other Hadoop tools
set -euo pipefail
LOG_TAG=hdfs
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PORT=$LAKESHORE_HDFS_PORT
URL=hdfs://127.0.0.1:$PORT
HDFS_RUN=$LAKESHORE_RUN/hdfs
CONF=$HDFS_RUN/conf
NAME_DIR=$HDFS_RUN/name
DATA_DIR=$HDFS_RUN/data
TMP_DIR=$HDFS_RUN/tmp
LOGS=$HDFS_RUN/logs
NN_PID=$HDFS_RUN/namenode.pid
DN_PID=$HDFS_RUN/datanode.pid
NN_LOG=$LOGS/namenode.log
DN_LOG=$LOGS/datanode.log
START_TIMEOUT=${LAKESHORE_HDFS_START_TIMEOUT:-60}

# The conf dir comes first so our *-site.xml and log4j.properties win;
# web/ holds the empty webapps/* dirs the HTTP servers look up.
classpath() {
  printf '%s' "$CONF:$LAKESHORE_HADOOP/jars/*:$LAKESHORE_HADOOP/stub/jersey-servlet-stub.jar:$LAKESHORE_HADOOP/web"
}

# Small heaps and the serial GC: two JVMs on a 2-core test machine.
JAVA_OPTS=(
  -Xmx384m -XX:+UseSerialGC
  -Djava.net.preferIPv4Stack=true
  "-Dhadoop.log.dir=$LOGS"
)

require_installed() {
  if [[ ! -f $LAKESHORE_HADOOP/.complete ]] || ! command -v java >/dev/null; then
    "$LAKESHORE_ROOT/scripts/install-hdfs.sh"
  fi
}

# Write the configuration. Every address is on 127.0.0.1, and all but the
# NameNode RPC port are ephemeral (:0), so nothing listens on another
# interface and two clusters (e.g. two clones) never collide except on PORT.
write_conf() {
  mkdir -p -- "$CONF" "$LOGS" "$TMP_DIR"
  prop() { printf '  <property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }
  {
    echo '<?xml version="1.0"?>'
    echo '<!-- Written by scripts/hdfs.sh; edits are overwritten at start. -->'
    echo '<configuration>'
    prop fs.defaultFS "$URL"
    prop hadoop.tmp.dir "$TMP_DIR"
    echo '</configuration>'
  } >"$CONF/core-site.xml"
  {
    echo '<?xml version="1.0"?>'
    echo '<!-- Written by scripts/hdfs.sh; edits are overwritten at start. -->'
    echo '<configuration>'
    prop dfs.namenode.rpc-address "127.0.0.1:$PORT"
    local key
    for key in \
      dfs.namenode.http-address dfs.namenode.https-address \
      dfs.namenode.secondary.http-address dfs.namenode.secondary.https-address \
      dfs.namenode.backup.address dfs.namenode.backup.http-address \
      dfs.datanode.address dfs.datanode.http.address \
      dfs.datanode.ipc.address dfs.datanode.https.address \
      dfs.journalnode.rpc-address dfs.journalnode.http-address dfs.journalnode.https-address; do
      prop "$key" 127.0.0.1:0
    done
    prop dfs.namenode.name.dir "file://$NAME_DIR"
    prop dfs.datanode.data.dir "file://$DATA_DIR"
    prop dfs.namenode.checkpoint.dir "file://$HDFS_RUN/namesecondary"
    prop dfs.replication 1
    prop dfs.permissions.enabled true
    prop dfs.namenode.datanode.registration.ip-hostname-check false
    prop dfs.datanode.hostname 127.0.0.1
    prop dfs.client.use.datanode.hostname false
    prop dfs.namenode.safemode.extension 0
    prop dfs.namenode.fs-limits.min-block-size 0
    echo '</configuration>'
  } >"$CONF/hdfs-site.xml"
  # No log4j.properties ships in the jars: log to stderr (the daemons' log
  # file), INFO unless -Dhadoop.root.logger says otherwise.
  cat >"$CONF/log4j.properties" <<'EOF'
hadoop.root.logger=INFO,console
log4j.rootLogger=${hadoop.root.logger}
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
EOF
}

hadoop_java() {
  java "${JAVA_OPTS[@]}" -cp "$(classpath)" "$@"
}

formatted() {
  [[ -f $NAME_DIR/current/VERSION ]]
}

format() {
  log "formatting the NameNode in $NAME_DIR"
  rm -rf -- "$NAME_DIR" "$DATA_DIR"
  if ! hadoop_java org.apache.hadoop.hdfs.server.namenode.NameNode -format -nonInteractive -force \
    >"$LOGS/format.log" 2>&1 || ! formatted; then
    show_tail 40 "$LOGS/format.log"
    die "format failed"
  fi
}

running() {
  pidfile_pid "$NN_PID" >/dev/null && pidfile_pid "$DN_PID" >/dev/null
}

fail_start() {
  log "$1"
  show_tail 60 "$NN_LOG" "$DN_LOG"
  do_stop
  exit 1
}

do_start() {
  local fresh=${1:-} t0
  case $fresh in
    "") ;;
    --fresh) do_reset ;;
    *) die "unknown start option '$fresh' (only --fresh)" ;;
  esac
  if running; then
    log "already running at $URL"
    return 0
  fi
  require_installed
  # A half-running cluster (one JVM died) is restarted as a whole.
  do_stop >/dev/null 2>&1
  require_free_port "$PORT" "HDFS NameNode"
  t0=$(now_ms)
  write_conf
  formatted || format

  # Both JVMs start together (their ~4 s start-ups overlap); the DataNode
  # retries its connection to the NameNode every second until it is up.
  log "starting NameNode on 127.0.0.1:$PORT and DataNode"
  start_daemon "$HDFS_RUN" "$NN_LOG" "$NN_PID" \
    java "${JAVA_OPTS[@]}" -Dproc_namenode -cp "$(classpath)" \
    org.apache.hadoop.hdfs.server.namenode.NameNode >/dev/null
  start_daemon "$HDFS_RUN" "$DN_LOG" "$DN_PID" \
    java "${JAVA_OPTS[@]}" -Dproc_datanode -cp "$(classpath)" \
    org.apache.hadoop.hdfs.server.datanode.DataNode >/dev/null
  wait_for_port "$PORT" "$START_TIMEOUT" "$NN_PID" || fail_start "NameNode did not come up"
  # Before its first block report the NameNode knows no DataNode (writes
  # fail) and, with existing data, is still in safe mode (extension 0 makes
  # it leave as soon as the report is in).
  wait_for_log_line "$DN_LOG" "Successfully sent block report" "$START_TIMEOUT" "$DN_PID" ||
    fail_start "DataNode did not report to the NameNode"
  pidfile_pid "$NN_PID" >/dev/null || fail_start "NameNode died"
  log "ready at $URL ($(($(now_ms) - t0)) ms)"
}

do_stop() {
  # DataNode first, so it does not spin on a vanished NameNode.
  stop_pidfile DataNode "$DN_PID" 15
  stop_pidfile NameNode "$NN_PID" 15
}

do_reset() {
  do_stop
  log "wiping $NAME_DIR, $DATA_DIR, $TMP_DIR"
  rm -rf -- "$NAME_DIR" "$DATA_DIR" "$TMP_DIR" "$HDFS_RUN/namesecondary"
}

do_status() {
  local nn dn
  nn=$(pidfile_pid "$NN_PID") || nn=
  dn=$(pidfile_pid "$DN_PID") || dn=
  echo "HDFS $URL: NameNode ${nn:+pid }${nn:-not running}, DataNode ${dn:+pid }${dn:-not running}"
  [[ -n $nn && -n $dn ]]
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
  classpath)
    require_installed
    write_conf
    classpath
    echo
    ;;
  dfs)
    require_installed
    write_conf
    hadoop_java -Dhadoop.root.logger=WARN,console org.apache.hadoop.fs.FsShell -fs "$URL" "$@"
    ;;
  dfsadmin)
    require_installed
    write_conf
    hadoop_java -Dhadoop.root.logger=WARN,console org.apache.hadoop.hdfs.tools.DFSAdmin -fs "$URL" "$@"
    ;;
  *)
    echo "usage: $0 start [--fresh]|stop|restart|status|reset|classpath|dfs ARGS...|dfsadmin ARGS..." >&2
    exit 2
    ;;
esac
