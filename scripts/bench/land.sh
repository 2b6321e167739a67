#!/usr/bin/env bash
# Landing benchmark: `lakeshore land` next to a bare rdkafka consumer, same broker, same
# data, one run; optionally `lakeshore stream chunk-counts` reading the same topic (case
# `stream`). See docs/benchmarks.md for what it measures and the latest figures.
#
#   scripts/bench/land.sh                              quick check: ~0.2 GB, 3 interleaved rounds
#   scripts/bench/land.sh --gb 1                       the documented landing benchmark (~1 GB)
#   scripts/bench/land.sh --gb 1 --only bare1,stream   the documented streaming benchmark
#
# Options:
#   --gb G            size of the data set in GB of JSON values (default 0.2); each size has
#                     its own topic, produced once and reused by later runs
#   --runs N          interleaved rounds (default 3); medians are reported
#   --partitions P    partitions of the bench topic (default 16; part of the topic's name)
#   --only LIST       comma-separated subset of: bare1,bare2,local1,local2,hdfs1,hdfs2,stream
#                     (default all but stream; N = consumers of the bare reader / tasks.max
#                     of the sink; stream = `lakeshore stream chunk-counts`, one consumer,
#                     compared with bare1)
#   --fetch-wait-ms M fetch.wait.max.ms of every consumer (default 10; "default" = each
#                     tool's own: librdkafka's 500 for bare and land, 100 for stream).
#                     tansu 0.6.0 sleeps up to that long before answering *every* fetch,
#                     even one with data, which caps any consumer at ~5 MiB per
#                     max-wait/2; see docs/benchmarks.md
#   --land-set K=V    an extra `--set K=V` for the landing cases (repeatable; experiments)
#   --no-build        skip `cargo build --release --bin lakeshore --examples`
#   --keep-services   leave the broker and HDFS running at the end
#   --keep-output     keep the landed files and the stream case's output (r<N>-stream.jsonl
#                     in the results dir; default: verified, then deleted)
#
# Environment (defaults keep it away from the test services):
#   LAKESHORE_RUN=/tmp/bench-services  LAKESHORE_KAFKA_PORT=39092  LAKESHORE_HDFS_PORT=39000
#   LAKESHORE_BENCH_OUT=target/bench/land-<UTC time>   logs and results.tsv
#   LAKESHORE_BENCH_METRICS_PORT=39464                 /metrics of the sink or job under test
#   LAKESHORE_LOG                                      passed to lakeshore (debug only for diagnosis)
#
# What one measurement is: wall time from process start to exit (GNU time's %e), peak RSS
# (%M), user+sys CPU. The bare consumer exits once it has read every record up to the high
# watermarks. The sink is started on a fresh name (new group, empty store dir), polled on
# /metrics until it has consumed every record, then sent SIGTERM, which commits the rest
# (flush.size=1000 leaves a partial file per partition) and exits; its wall time ends there.
# Every landed output is checked: per partition the committed files' offset ranges are
# contiguous from the first offset, their record count is the topic's, and their total size
# is exactly the produced value bytes plus one newline per record (local disk: lines
# counted too).
# The stream case is measured the same way: `lakeshore stream chunk-counts --start-from
# earliest` on a fresh group and an empty checkpoint dir, writing its window counts to a
# local JSON-lines file, polled on /metrics until lakeshore_stream_records_total +
# lakeshore_stream_bad_records_total reaches the topic's record count, then SIGTERM; wall
# time at exit. Checked: the job read every record and rejected none, its output is
# non-empty well-formed JSON lines without duplicate (window, company) rows, and its counts
# add up to at most the records read (windows still open at SIGTERM are not written).
set -euo pipefail
LOG_TAG=bench

export LAKESHORE_RUN=${LAKESHORE_RUN:-/tmp/bench-services}
export LAKESHORE_KAFKA_PORT=${LAKESHORE_KAFKA_PORT:-39092}
export LAKESHORE_HDFS_PORT=${LAKESHORE_HDFS_PORT:-39000}
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

GB=0.2 RUNS=3 PARTITIONS=16 ONLY=bare1,bare2,local1,local2,hdfs1,hdfs2 FETCH_WAIT_MS=10
BUILD=1 KEEP_SERVICES=0 KEEP_OUTPUT=0 EXTRA_LAND_SET=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --gb) GB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --partitions) PARTITIONS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --fetch-wait-ms) FETCH_WAIT_MS=$2; shift 2 ;;
    --land-set) EXTRA_LAND_SET+=(--set "$2"); shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep-services) KEEP_SERVICES=1; shift ;;
    --keep-output) KEEP_OUTPUT=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
done
[[ $GB =~ ^[0-9]*\.?[0-9]+$ ]] || die "--gb: expected a number, got $GB"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs: expected a positive integer"
[[ $PARTITIONS =~ ^[1-9][0-9]*$ ]] || die "--partitions: expected a positive integer"
# The same consumer setting for both sides.
BARE_X=() LAND_SET=() STREAM_X=()
if [[ $FETCH_WAIT_MS != default ]]; then
  [[ $FETCH_WAIT_MS =~ ^[0-9]+$ ]] || die "--fetch-wait-ms: expected milliseconds or 'default'"
  BARE_X=(-X "fetch.wait.max.ms=$FETCH_WAIT_MS")
  LAND_SET=(--set "consumer.override.fetch.wait.max.ms=$FETCH_WAIT_MS")
  STREAM_X=(--kafka-option "fetch.wait.max.ms=$FETCH_WAIT_MS")
fi
IFS=, read -r -a only_list <<<"$ONLY"
for c in "${only_list[@]}"; do
  case $c in
    bare1 | bare2 | local1 | local2 | hdfs1 | hdfs2 | stream) ;;
    *) die "--only: unknown case '$c' (bare1, bare2, local1, local2, hdfs1, hdfs2, stream)" ;;
  esac
done

cd -- "$LAKESHORE_ROOT"
BIN=$LAKESHORE_ROOT/target/release
CONFIG=$LAKESHORE_ROOT/connect/config/hdfs-sink-connector.properties
BROKERS=127.0.0.1:$LAKESHORE_KAFKA_PORT
HDFS_URL=hdfs://127.0.0.1:$LAKESHORE_HDFS_PORT
METRICS_PORT=${LAKESHORE_BENCH_METRICS_PORT:-39464}
OUT=${LAKESHORE_BENCH_OUT:-$LAKESHORE_ROOT/target/bench/land-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p -- "$OUT"
RESULTS=$OUT/results.tsv
BYTES_WANTED=$(awk -v g="$GB" 'BEGIN { printf "%d", g * 1e9 }')
TOPIC=bench.embeddings.ready.$(tr . _ <<<"$GB")gb.p$PARTITIONS
TOPICS_DIR=$(sed -n 's/^topics\.dir=//p' "$CONFIG")
TOPICS_DIR=${TOPICS_DIR:-topics}
TOPICS_DIR=${TOPICS_DIR#/}

# --- prerequisites ------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  apt_install time
fi
command -v curl >/dev/null || apt_install curl
if [[ ,$ONLY, == *,stream,* ]]; then
  command -v python3 >/dev/null || apt_install python3
fi

if ((BUILD)); then
  log "cargo build --release --bin lakeshore --examples"
  cargo build --release --bin lakeshore --examples
fi
# What is measured: the tree as built now (others may commit while the benchmark runs).
BUILT_AT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src connect crates Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes')"
for b in lakeshore examples/bench_produce examples/bare_consume; do
  [[ -x $BIN/$b ]] || die "$BIN/$b missing: run without --no-build"
done
if [[ ,$ONLY, == *,stream,* ]]; then
  "$BIN/lakeshore" stream chunk-counts --help >/dev/null 2>&1 ||
    die "$BIN/lakeshore has no working 'stream chunk-counts': run without --no-build, or leave stream out"
fi

STARTED_SERVICES=0
cleanup() {
  local rc=$?
  if [[ -n ${SINK_PID:-} ]] && kill -0 "$SINK_PID" 2>/dev/null; then
    kill -TERM "$SINK_PID" 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  if ((STARTED_SERVICES && !KEEP_SERVICES)); then
    "$LAKESHORE_ROOT/scripts/services.sh" down || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if "$LAKESHORE_ROOT/scripts/services.sh" status >/dev/null 2>&1; then
  log "services already running in $LAKESHORE_RUN: using them (not stopping them at the end)"
else
  STARTED_SERVICES=1
  "$LAKESHORE_ROOT/scripts/services.sh" up
fi
TANSU_PID=$(pidfile_pid "$LAKESHORE_RUN/kafka/tansu.pid")
NN_PID=$(pidfile_pid "$LAKESHORE_RUN/hdfs/namenode.pid")
DN_PID=$(pidfile_pid "$LAKESHORE_RUN/hdfs/datanode.pid")

# CPU seconds (user+sys) a process has used so far.
cpu_s() {
  local stat rest f
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  rest=${stat##*) }
  read -r -a f <<<"$rest"
  awk -v u="${f[11]}" -v s="${f[12]}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (u + s) / hz }'
}

# --- the data set -------------------------------------------------------------
STATE=$LAKESHORE_RUN/bench/$TOPIC.produced
mkdir -p -- "$(dirname -- "$STATE")"
log "data set: topic $TOPIC, ~$GB GB of embeddings.ready records"
produce_out=$("$BIN/examples/bench_produce" --brokers "$BROKERS" --topic "$TOPIC" \
  --partitions "$PARTITIONS" --bytes "$BYTES_WANTED" --day 2026-11-21 --if-empty | tee -a "$OUT/produce.log")
case $produce_out in
  produced*)
    printf '%s\n' "$produce_out" >"$STATE"
    log "$produce_out"
    ;;
  existing*)
    log "topic already holds the data set ($produce_out): not producing again"
    [[ -f $STATE ]] || die "$TOPIC holds records but $STATE is missing: use another --gb or scripts/kafka.sh reset"
    ;;
  *) die "bench_produce said: $produce_out" ;;
esac
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"; }
RECORDS=$(field records "$(cat "$STATE")")
BYTES=$(field bytes "$(cat "$STATE")")
[[ -n $RECORDS && -n $BYTES ]] || die "cannot read $STATE"
log "expecting $RECORDS records, $BYTES value bytes"

# --- measurements -------------------------------------------------------------
printf 'round\tcase\twall_s\tmb_s\trecords_s\tpeak_rss_mb\tcpu_s\tbroker_cpu_s\thdfs_cpu_s\tconsumed_s\n' >"$RESULTS"

# record ROUND CASE WALL RSS_KB CPU BROKER_CPU HDFS_CPU CONSUMED
record() {
  awk -v r="$1" -v c="$2" -v w="$3" -v rss="$4" -v cpu="$5" -v bc="$6" -v hc="$7" -v cs="$8" \
    -v bytes="$BYTES" -v n="$RECORDS" 'BEGIN {
      printf "%s\t%s\t%.2f\t%.1f\t%.0f\t%.1f\t%s\t%s\t%s\t%s\n", r, c, w, bytes / 1e6 / w, n / w, rss / 1024, cpu, bc, hc, cs
    }' >>"$RESULTS"
  tail -n 1 "$RESULTS" | awk -F'\t' '{ printf "  %-7s wall %6ss  %7s MB/s  rss %6s MB  cpu %6ss  broker cpu %6ss\n", $2, $3, $4, $6, $7, $8 }' >&2
}

# run_bare ROUND CONSUMERS
run_bare() {
  local round=$1 consumers=$2 tag=$OUT/r$1-bare$2 b0 line
  b0=$(cpu_s "$TANSU_PID")
  /usr/bin/time -f '%e %M %U %S' -o "$tag.time" \
    "$BIN/examples/bare_consume" --brokers "$BROKERS" --topic "$TOPIC" --consumers "$consumers" "${BARE_X[@]}" >"$tag.out" 2>"$tag.err" ||
    { show_tail 20 "$tag.err"; die "bare consumer failed"; }
  line=$(cat "$tag.out")
  [[ $(field records "$line") == "$RECORDS" ]] || die "bare consumer read $(field records "$line") records, expected $RECORDS"
  [[ $(field bytes "$line") == "$BYTES" ]] || die "bare consumer read $(field bytes "$line") bytes, expected $BYTES"
  local wall rss u s
  read -r wall rss u s <"$tag.time"
  record "$round" "bare$consumers" "$wall" "$rss" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')" \
    "$(awk -v a="$b0" -v b="$(cpu_s "$TANSU_PID")" 'BEGIN{printf "%.2f", b-a}')" - -
}

metric() {
  curl -s --max-time 1 "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null |
    awk -v k="$1" '$1 == k { print $2 }' || true
}

# Checks committed files listed as "SIZE PATH" lines on stdin: contiguous offset ranges per
# partition, RECORDS in total, size == BYTES + RECORDS. Prints "files=N".
check_listing() {
  awk -v topic="$TOPIC" -v want_n="$RECORDS" -v want_b="$BYTES" '
    {
      size = $1; path = $2
      if (path ~ /\/\+tmp\//) next
      n = split(path, parts, "/"); name = parts[n]
      if (index(name, topic "+") != 1 || name !~ /\.json$/) next
      sub(/\.json$/, "", name)
      m = split(substr(name, length(topic) + 2), f, "+")
      if (m != 3) { print "bad file name " path > "/dev/stderr"; bad = 1; next }
      files++; bytes += size; recs += f[3] - f[2] + 1
      print f[1], f[2] + 0, f[3] + 0 | "sort -n -k1,1 -k2,2 > " ENVIRON["CHECK_TMP"]
    }
    END {
      close("sort -n -k1,1 -k2,2 > " ENVIRON["CHECK_TMP"])
      while ((getline line < ENVIRON["CHECK_TMP"]) > 0) {
        split(line, r, " ")
        if (r[1] in next_off && r[2] != next_off[r[1]]) {
          printf "partition %s: file starts at %s, expected %s (gap or overlap)\n", r[1], r[2], next_off[r[1]] > "/dev/stderr"; bad = 1
        }
        next_off[r[1]] = r[3] + 1
      }
      if (recs != want_n) { printf "committed files hold %d records, expected %d\n", recs, want_n > "/dev/stderr"; bad = 1 }
      if (bytes != want_b + want_n) { printf "committed files hold %d bytes, expected %d\n", bytes, want_b + want_n > "/dev/stderr"; bad = 1 }
      printf "files=%d\n", files
      exit bad
    }'
}

verify_local() {
  local dir=$1 lines
  export CHECK_TMP=$OUT/check.tmp
  find "$dir/$TOPICS_DIR/$TOPIC" -type f -name '*.json' -printf '%s %p\n' | check_listing >/dev/null ||
    return 1
  lines=$(find "$dir/$TOPICS_DIR/$TOPIC" -type f -name '*.json' -not -path '*/+tmp/*' -print0 |
    xargs -0 cat | wc -l)
  [[ $lines == "$RECORDS" ]] || { log "$lines lines landed, expected $RECORDS"; return 1; }
}

verify_hdfs() {
  local root=$1 round=$2
  export CHECK_TMP=$OUT/check.tmp
  "$LAKESHORE_ROOT/scripts/hdfs.sh" dfs -ls -R "$root/$TOPICS_DIR/$TOPIC" 2>/dev/null |
    awk '$1 ~ /^-/ { print $5, $8 }' | check_listing >/dev/null || return 1
  if [[ $round == 1 ]]; then
    local lines
    lines=$("$LAKESHORE_ROOT/scripts/hdfs.sh" dfs -cat "$root/$TOPICS_DIR/$TOPIC/*/*/*/*/*.json" 2>/dev/null | wc -l)
    [[ $lines == "$RECORDS" ]] || { log "$lines lines read back from HDFS, expected $RECORDS"; return 1; }
  fi
}

# run_land ROUND CASE STORE TASKS
run_land() {
  local round=$1 case=$2 store=$3 ntasks=$4
  local tag=$OUT/r$round-$case id url root
  id=$(date +%s%N | tail -c 10)-$round-$case
  case $store in
    local) root=/tmp/bench-land-$id; url=file://$root ;;
    hdfs) root=/bench-$id; url=$HDFS_URL$root ;;
  esac
  port_open "$METRICS_PORT" && die "metrics port $METRICS_PORT is busy (LAKESHORE_BENCH_METRICS_PORT)"
  local b0 h0=0 t0 consumed_s=- n
  b0=$(cpu_s "$TANSU_PID")
  if [[ $store == hdfs ]]; then h0=$(awk -v a="$(cpu_s "$NN_PID")" -v b="$(cpu_s "$DN_PID")" 'BEGIN{print a+b}'); fi
  t0=$(now_ms)
  /usr/bin/time -f '%e %M %U %S' -o "$tag.time" \
    "$BIN/lakeshore" land --config "$CONFIG" --brokers "$BROKERS" \
    --set "hdfs.url=$url" --set "topics=$TOPIC" --set "name=bench-$id" \
    --set flush.size=1000 --set rotate.interval.ms=600000 --set "tasks.max=$ntasks" "${LAND_SET[@]}" "${EXTRA_LAND_SET[@]}" \
    --metrics-addr "127.0.0.1:$METRICS_PORT" 2>"$tag.log" &
  local time_pid=$!
  # The sink is GNU time's child: that is the process to signal.
  SINK_PID=
  for ((i = 0; i < 100; i++)); do
    SINK_PID=$(awk '{print $1}' "/proc/$time_pid/task/$time_pid/children" 2>/dev/null) || true
    [[ -n $SINK_PID ]] && break
    sleep 0.02
  done
  [[ -n $SINK_PID ]] || die "sink did not start"
  local deadline=$((SECONDS + 1800))
  while :; do
    n=$(metric lakeshore_land_records_consumed_total)
    if [[ -n $n && $n -ge $RECORDS ]]; then
      consumed_s=$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN{printf "%.2f", (b-a)/1000}')
      break
    fi
    kill -0 "$SINK_PID" 2>/dev/null || { show_tail 30 "$tag.log"; die "sink exited early ($case, round $round)"; }
    ((SECONDS < deadline)) || { show_tail 30 "$tag.log"; die "sink did not consume everything in 30 min"; }
    sleep 0.05
  done
  kill -TERM "$SINK_PID"
  wait "$time_pid" || { show_tail 30 "$tag.log"; die "sink failed ($case, round $round)"; }
  SINK_PID=
  local bc hc=-
  bc=$(awk -v a="$b0" -v b="$(cpu_s "$TANSU_PID")" 'BEGIN{printf "%.2f", b-a}')
  if [[ $store == hdfs ]]; then
    hc=$(awk -v a="$h0" -v b="$(cpu_s "$NN_PID")" -v c="$(cpu_s "$DN_PID")" 'BEGIN{printf "%.2f", b+c-a}')
  fi
  local committed
  committed=$(grep -o 'lakeshore_land_records_committed_total=[0-9]*' "$tag.log" | tail -n 1 | cut -d= -f2)
  [[ $committed == "$RECORDS" ]] || { show_tail 30 "$tag.log"; die "sink committed ${committed:-0} records, expected $RECORDS ($case, round $round)"; }
  case $store in
    local) verify_local "$root" || die "incomplete landing in $root ($case, round $round)" ;;
    hdfs) verify_hdfs "$root" "$round" || die "incomplete landing in $HDFS_URL$root ($case, round $round)" ;;
  esac
  if ((!KEEP_OUTPUT)); then
    case $store in
      local) rm -rf -- "$root" ;;
      hdfs) "$LAKESHORE_ROOT/scripts/hdfs.sh" dfs -rm -r -f -skipTrash "$root" >/dev/null 2>&1 || true ;;
    esac
  fi
  local wall rss u s
  read -r wall rss u s <"$tag.time"
  record "$round" "$case" "$wall" "$rss" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')" "$bc" "$hc" "$consumed_s"
}

# Checks the stream case's output (JSON lines of window counts) against what the job read:
# well-formed rows, no (window, company) twice, counts adding up to at most the records read.
# Prints "rows=N counted=C".
check_stream_output() {
  python3 - "$@" <<'EOF'
import collections, json, re, sys
path, records = sys.argv[1], int(sys.argv[2])
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
rows, counted, bad, keys = 0, 0, [], collections.Counter()
with open(path) as f:
    for n, line in enumerate(f, 1):
        try:
            r = json.loads(line)
            if not (isinstance(r, dict)
                    and set(r) == {"window_start", "window_end", "company_id", "chunk_count"}
                    and ts.match(r["window_start"]) and ts.match(r["window_end"])
                    and isinstance(r["company_id"], str) and isinstance(r["chunk_count"], int)
                    and r["chunk_count"] > 0):
                raise ValueError("unexpected fields or formats")
        except (ValueError, TypeError) as e:
            bad.append("line %d: %s: %s" % (n, e, line.strip()[:120]))
            continue
        rows += 1
        counted += r["chunk_count"]
        keys[(r["window_start"], r["company_id"])] += 1
problems = []
if rows == 0:
    problems.append("no window counts in %s" % path)
if bad:
    problems.append("%d malformed lines, e.g. %s" % (len(bad), bad[0]))
dups = sum(k - 1 for k in keys.values() if k > 1)
if dups:
    problems.append("%d duplicate (window, company) rows" % dups)
if counted > records:
    problems.append("counts add up to %d, more than the %d records read" % (counted, records))
for p in problems:
    print(p, file=sys.stderr)
print("rows=%d counted=%d" % (rows, counted))
sys.exit(1 if problems else 0)
EOF
}

# run_stream ROUND: `lakeshore stream chunk-counts` from the beginning of the topic, on a
# fresh group and checkpoint dir, until /metrics says every record was read; then SIGTERM.
run_stream() {
  local round=$1 case=stream
  local tag=$OUT/r$round-$case id dir
  id=$(date +%s%N | tail -c 10)-$round-$case
  dir=/tmp/bench-stream-$id
  mkdir -p -- "$dir/ckpt"
  port_open "$METRICS_PORT" && die "metrics port $METRICS_PORT is busy (LAKESHORE_BENCH_METRICS_PORT)"
  local b0 t0 consumed_s=- n bad late
  b0=$(cpu_s "$TANSU_PID")
  t0=$(now_ms)
  /usr/bin/time -f '%e %M %U %S' -o "$tag.time" \
    "$BIN/lakeshore" stream chunk-counts --brokers "$BROKERS" --input-topic "$TOPIC" \
    --start-from earliest --group "bench-stream-$id" --checkpoint-dir "file://$dir/ckpt" \
    --output-file "$dir/out.jsonl" "${STREAM_X[@]}" \
    --metrics-addr "127.0.0.1:$METRICS_PORT" 2>"$tag.log" &
  local time_pid=$!
  # The job is GNU time's child: that is the process to signal.
  SINK_PID=
  for ((i = 0; i < 100; i++)); do
    SINK_PID=$(awk '{print $1}' "/proc/$time_pid/task/$time_pid/children" 2>/dev/null) || true
    [[ -n $SINK_PID ]] && break
    sleep 0.02
  done
  [[ -n $SINK_PID ]] || die "stream job did not start"
  local deadline=$((SECONDS + 1800))
  while :; do
    n=$(metric lakeshore_stream_records_total)
    bad=$(metric lakeshore_stream_bad_records_total)
    if [[ -n $n && -n $bad ]] && ((n + bad >= RECORDS)); then
      consumed_s=$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN{printf "%.2f", (b-a)/1000}')
      late=$(metric lakeshore_stream_late_records_total)
      break
    fi
    kill -0 "$SINK_PID" 2>/dev/null || { show_tail 30 "$tag.log"; die "stream job exited early (round $round)"; }
    ((SECONDS < deadline)) || { show_tail 30 "$tag.log"; die "stream job did not read everything in 30 min"; }
    sleep 0.05
  done
  kill -TERM "$SINK_PID"
  wait "$time_pid" || { show_tail 30 "$tag.log"; die "stream job failed (round $round)"; }
  SINK_PID=
  local bc checked
  bc=$(awk -v a="$b0" -v b="$(cpu_s "$TANSU_PID")" 'BEGIN{printf "%.2f", b-a}')
  ((bad == 0)) || { show_tail 30 "$tag.log"; die "stream job rejected $bad records as undecodable (round $round)"; }
  ((n == RECORDS)) || die "stream job read $n records, the topic has $RECORDS (round $round)"
  checked=$(check_stream_output "$dir/out.jsonl" "$n") ||
    { show_tail 30 "$tag.log"; die "bad stream output $dir/out.jsonl (round $round)"; }
  log "stream output: $checked of $n records read (the rest in windows still open at SIGTERM), late=${late:--}"
  if ((KEEP_OUTPUT)); then
    cp -- "$dir/out.jsonl" "$tag.jsonl"
  fi
  rm -rf -- "$dir"
  local wall rss u s
  read -r wall rss u s <"$tag.time"
  record "$round" "$case" "$wall" "$rss" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')" "$bc" - "$consumed_s"
}

wanted() { [[ ,$ONLY, == *",$1,"* ]]; }

log "measuring: $RUNS rounds of [$ONLY], results in $RESULTS"
for ((round = 1; round <= RUNS; round++)); do
  log "round $round/$RUNS"
  if wanted bare1; then run_bare "$round" 1; fi
  if wanted bare2; then run_bare "$round" 2; fi
  if wanted local1; then run_land "$round" local1 local 1; fi
  if wanted local2; then run_land "$round" local2 local 2; fi
  if wanted hdfs1; then run_land "$round" hdfs1 hdfs 1; fi
  if wanted hdfs2; then run_land "$round" hdfs2 hdfs 2; fi
  if wanted stream; then run_stream "$round"; fi
done

# --- report -------------------------------------------------------------------
{
  echo
  echo "Lakeshore $BUILT_AT, $(date -u +%Y-%m-%dT%H:%MZ), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "Landing benchmark: $RECORDS records, $(awk -v b="$BYTES" 'BEGIN{printf "%.2f", b/1e9}') GB of values, topic $TOPIC ($(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GB RAM), medians of $RUNS rounds, fetch.wait.max.ms=$FETCH_WAIT_MS"
  echo
  echo "| case | wall s | MB/s | records/s | peak RSS MB | CPU s | broker CPU s | HDFS CPU s | all consumed at s | vs bare |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' 'NR > 1 { vals[$2] = vals[$2] " " $3 "," $4 "," $5 "," $6 "," $7 "," $8 "," $9 "," $10; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
    function median(list, col,    n, a, i, j, t, v, parts) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) { split(a[i], parts, ","); v[i] = parts[col] }
      if (v[1] == "-") return "-"
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
      return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
      for (i = 1; i <= k; i++) {
        c = order[i]
        mb = median(vals[c], 2)
        # local2 and hdfs2 (tasks.max=2) against bare2 (two consumers), and so on; stream
        # (one consumer) against bare1.
        n = substr(c, length(c)); base = ("bare" n in vals) ? "bare" n : "bare1"
        bare = (base in vals) ? median(vals[base], 2) : 0
        ratio = (bare > 0 && c !~ /^bare/) ? sprintf("%.0f%% of %s", 100 * mb / bare, base) : "-"
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c, median(vals[c], 1), mb, median(vals[c], 3), median(vals[c], 4), median(vals[c], 5), median(vals[c], 6), median(vals[c], 7), median(vals[c], 8), ratio
      }
    }' "$RESULTS"
  echo
  echo "Bars: landing MB/s >= 80% of bare; sink peak RSS < 150 MB; stream MB/s >= 80% of bare1. Raw rows: $RESULTS"
} | tee "$OUT/report.md"
