#!/usr/bin/env bash
# Streaming-job benchmark: `lakeshore stream chunk-counts` beside the PyFlink job it replaces
# and DuckDB, over the same bounded day of landed JSON files, interleaved rounds.
#
#   scripts/bench/stream.sh                         quick check: ~0.2 GB, 3 interleaved rounds
#   scripts/bench/stream.sh --gb 2                  the documented benchmark (~2 GB)
#   scripts/bench/stream.sh --only pyflink,duckdb   without lakeshore (e.g. not built yet)
#
# Options:
#   --gb G            size of the landed day in GB (default 0.2); each size is generated once
#                     (scripts/bench/gen_landing.py: 4 partitions, 20 companies, seed 7, day
#                     2026-11-21) into $LAKESHORE_BENCH_DATA/landing-<G>gb/ and reused
#   --runs N          interleaved rounds (default 3); medians are reported
#   --only LIST       comma-separated subset of: lakeshore,pyflink,pyflink-streaming,duckdb
#                     (default lakeshore,pyflink,duckdb)
#   --parallelism P   PyFlink parallelism and DuckDB threads (default 2)
#   --no-build        skip `cargo build --release --bin lakeshore`
#
# Environment:
#   LAKESHORE_BENCH_DATA=$LAKESHORE_CACHE/bench-data   generated data sets (default
#                                                      ~/.cache/lakeshore/bench-data)
#   LAKESHORE_BENCH_VENV=$LAKESHORE_CACHE/bench-venv   Python venv with apache-flink and duckdb,
#                                                      created (pip) when missing
#   LAKESHORE_BENCH_PYTHON=python3                     Python 3.9-3.12 for that venv
#   LAKESHORE_BENCH_OUT=target/bench/stream-<UTC time> outputs, logs, results.tsv, report.md
#
# The cases (all read DAY = <data>/embeddings.ready/year=2026/month=11/day=21/hour=*/*.json and
# write JSON lines {"window_start","window_end","company_id","chunk_count"}: per company, per
# 1-minute tumbling event-time window on kafka_timestamp, UTC):
#   lakeshore          target/release/lakeshore stream chunk-counts --landing file://<data>
#                      --date 2026-11-21 --output-file <out>
#   pyflink            scripts/bench/pyflink_chunk_counts.py: Table API, filesystem source with
#                      the json format, 5 s bounded-out-of-orderness watermark, TUMBLE 1 min,
#                      COUNT(*), local mini-cluster, BATCH runtime mode (see below)
#   pyflink-streaming  the same job in STREAMING runtime mode, watermarks held to end of input
#   duckdb             scripts/bench/duckdb_chunk_counts.py: read_ndjson of the two columns,
#                      integer division of kafka_timestamp, GROUP BY
# Why PyFlink runs in BATCH mode: on landed files, Flink's streaming file source reads whole
# files one after another per reader, and its watermark (max timestamp seen - 5 s) passes the
# other Kafka partitions' files of the same hour before they are read, so periodic watermarks
# drop most records as late (0.2 GB: 614-842 of 9568 counted). BATCH mode (no late data) and
# STREAMING with the watermark held back are exact. See pyflink_chunk_counts.py.
#
# What one measurement is: wall time from process start to exit (GNU time's %e), CPU
# user+sys of the process and every child it waited for (%U + %S; the PyFlink script stops
# and reaps its JVM before exiting), peak RSS of the whole process tree (sum over the tree,
# sampled every 100 ms; at least GNU time's %M, the largest single process). The page cache
# holds the data set before each run (cat of every file). MB/s = input bytes / wall time.
# Every output is checked: the multiset of (window_start, window_end, company_id, chunk_count)
# rows is the same for every case and round, and the counts add up to the number of records.
set -euo pipefail
LOG_TAG=bench

# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

GB=0.2 RUNS=3 ONLY=lakeshore,pyflink,duckdb PARALLELISM=2 BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --gb) GB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --parallelism) PARALLELISM=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
done
[[ $GB =~ ^[0-9]*\.?[0-9]+$ ]] || die "--gb: expected a number, got $GB"
GB=$(awk -v g="$GB" 'BEGIN { printf "%g", g }') # 2.0 and 2 share one data set
awk -v g="$GB" 'BEGIN { exit !(g > 0) }' || die "--gb: expected a positive number"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs: expected a positive integer"
[[ $PARALLELISM =~ ^[1-9][0-9]*$ ]] || die "--parallelism: expected a positive integer"
CASES=()
IFS=, read -r -a only_list <<<"$ONLY"
for c in "${only_list[@]}"; do
  case $c in
    lakeshore | pyflink | pyflink-streaming | duckdb) CASES+=("$c") ;;
    *) die "--only: unknown case '$c' (lakeshore, pyflink, pyflink-streaming, duckdb)" ;;
  esac
done
((${#CASES[@]} > 0)) || die "--only: nothing to run"
wanted() { [[ ,$ONLY, == *",$1,"* ]]; }

cd -- "$LAKESHORE_ROOT"
BIN=$LAKESHORE_ROOT/target/release
BENCH=$LAKESHORE_ROOT/scripts/bench
DATE=2026-11-21
DATA_ROOT=${LAKESHORE_BENCH_DATA:-$LAKESHORE_CACHE/bench-data}
[[ $DATA_ROOT == /* ]] || DATA_ROOT=$PWD/$DATA_ROOT
LANDING=$DATA_ROOT/landing-${GB}gb
DAY_DIR=$LANDING/embeddings.ready/year=${DATE:0:4}/month=${DATE:5:2}/day=${DATE:8:2}
VENV=${LAKESHORE_BENCH_VENV:-$LAKESHORE_CACHE/bench-venv}
[[ $VENV == /* ]] || VENV=$PWD/$VENV
PYTHON=${LAKESHORE_BENCH_PYTHON:-python3}
# Versions verified on this setup (Python 3.11, OpenJDK 17): pip install --prefer-binary
# builds three small pure-Python sdists (crcmod, dill, docopt) and takes ~1 min.
PY_PINS="apache-flink==2.3.0 duckdb==2.0.0"
OUT=${LAKESHORE_BENCH_OUT:-$LAKESHORE_ROOT/target/bench/stream-$(date -u +%Y%m%dT%H%M%SZ)}
[[ $OUT == /* ]] || OUT=$PWD/$OUT
mkdir -p -- "$OUT"
trap 'rmdir -- "$OUT" 2>/dev/null || true' EXIT # nothing measured: no empty result dir
RESULTS=$OUT/results.tsv

# --- prerequisites ------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  apt_install time
fi
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (LAKESHORE_BENCH_PYTHON)"
if wanted pyflink || wanted pyflink-streaming; then
  command -v java >/dev/null || die "PyFlink needs Java 11 or 17 on PATH (java not found)"
fi

BUILT_AT=-
if wanted lakeshore; then
  if ((BUILD)); then
    log "cargo build --release --bin lakeshore"
    cargo build --release --bin lakeshore ||
      die "cargo build failed: fix the build, or leave lakeshore out (--only pyflink,duckdb)"
  fi
  [[ -x $BIN/lakeshore ]] || die "$BIN/lakeshore missing: run without --no-build, or leave it out (--only pyflink,duckdb)"
  "$BIN/lakeshore" stream chunk-counts --help >/dev/null 2>&1 ||
    die "$BIN/lakeshore has no working 'stream chunk-counts' yet: leave it out (--only pyflink,duckdb)"
  # What is measured: the tree as built now (others may commit while the benchmark runs).
  BUILT_AT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src jobs crates Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes')"
fi

setup_venv() {
  if [[ -f $VENV/.lakeshore-pins && $(cat "$VENV/.lakeshore-pins") == "$PY_PINS" ]]; then
    return 0
  fi
  "$PYTHON" -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 12))' ||
    die "apache-flink 2.3.0 needs Python 3.9-3.12; $PYTHON is $("$PYTHON" -V 2>&1) (set LAKESHORE_BENCH_PYTHON)"
  if [[ -e $VENV ]]; then
    [[ -f $VENV/pyvenv.cfg ]] || die "$VENV exists and is not a venv (LAKESHORE_BENCH_VENV)"
    rm -rf -- "$VENV"
  fi
  log "creating $VENV: pip install $PY_PINS"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
  # shellcheck disable=SC2086 # PY_PINS is a list of requirements
  "$VENV/bin/pip" install -q --disable-pip-version-check --prefer-binary $PY_PINS ||
    die "pip install $PY_PINS failed (see above)"
  "$VENV/bin/pip" freeze --disable-pip-version-check >"$VENV/.lakeshore-freeze"
  printf '%s\n' "$PY_PINS" >"$VENV/.lakeshore-pins"
}
if wanted pyflink || wanted pyflink-streaming || wanted duckdb; then
  with_lock "$LAKESHORE_CACHE/bench-venv.lock" setup_venv
  cp -- "$VENV/.lakeshore-freeze" "$OUT/pip-freeze.txt" 2>/dev/null || true
fi

# --- the data set -------------------------------------------------------------
generate() {
  if [[ -f $LANDING/_manifest.json ]]; then
    return 0
  fi
  [[ ! -e $LANDING ]] || die "$LANDING exists without _manifest.json (incomplete): remove it"
  mkdir -p -- "$DATA_ROOT"
  log "generating ~$GB GB of landed records into $LANDING"
  "$PYTHON" "$BENCH/gen_landing.py" --out "$LANDING" --gb "$GB" --date "$DATE" \
    --partitions 4 --companies 20 --seed 7 >/dev/null
}
with_lock "$DATA_ROOT/landing-${GB}gb.lock" generate
read -r RECORDS BYTES FILES < <("$PYTHON" -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(m["records"], m["bytes"], m["files"])' "$LANDING/_manifest.json")
[[ ${FILES:-} =~ ^[0-9]+$ ]] || die "cannot read $LANDING/_manifest.json"
ON_DISK=$(find "$DAY_DIR" -type f -name '*.json' -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%d %d", n, b }')
[[ $ON_DISK == "$FILES $BYTES" ]] || die "$LANDING: found $ON_DISK (files bytes) on disk, manifest says $FILES $BYTES: remove it to regenerate"
log "data set: $LANDING ($RECORDS records, $BYTES bytes, $FILES files)"

# --- measurement helpers --------------------------------------------------------
warm_cache() {
  find "$DAY_DIR" -type f -name '*.json' -print0 | xargs -0 cat >/dev/null
}

# Samples the process tree under PID every 100 ms until PID exits; prints the peak sum of
# RSS in kB.
tree_rss_sampler() {
  "$PYTHON" - "$1" <<'EOF'
import os, sys, time
root = int(sys.argv[1])
page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
def tree(pid):
    out = [pid]
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                for c in f.read().split():
                    out += tree(int(c))
    except OSError:
        pass
    return out
peak = 0
while os.path.exists("/proc/%d" % root):
    total = 0
    for p in tree(root):
        try:
            with open("/proc/%d/statm" % p) as f:
                total += int(f.read().split()[1]) * page_kb
        except (OSError, IndexError, ValueError):
            pass
    peak = max(peak, total)
    time.sleep(0.1)
print(peak)
EOF
}

# Seconds the Flink job ran (job RUNNING -> FINISHED in the JVM's log), or -.
flink_job_s() {
  cat -- "$1"/*.log 2>/dev/null | awk '
    / Job .* switched from state CREATED to RUNNING/ { a = $2 }
    / Job .* switched from state RUNNING to FINISHED/ { b = $2 }
    END {
      if (a == "" || b == "") { print "-"; exit }
      split(a, x, /[:,]/); split(b, y, /[:,]/)
      d = (y[1] * 3600 + y[2] * 60 + y[3] + y[4] / 1000) - (x[1] * 3600 + x[2] * 60 + x[3] + x[4] / 1000)
      printf "%.2f\n", d < 0 ? d + 86400 : d
    }'
}

printf 'round\tcase\twall_s\tmb_s\tpeak_rss_mb\tmax_proc_rss_mb\tcpu_s\trows\tjob_s\n' >"$RESULTS"

# run_case ROUND CASE
run_case() {
  local round=$1 case=$2 tag=$OUT/r$1-$2 cmd=()
  case $case in
    lakeshore)
      cmd=("$BIN/lakeshore" stream chunk-counts --landing "file://$LANDING" --date "$DATE" --output-file "$tag.jsonl") ;;
    pyflink)
      cmd=("$VENV/bin/python" "$BENCH/pyflink_chunk_counts.py" --landing "file://$LANDING" --date "$DATE"
        --output-file "$tag.jsonl" --parallelism "$PARALLELISM" --mode batch) ;;
    pyflink-streaming)
      cmd=("$VENV/bin/python" "$BENCH/pyflink_chunk_counts.py" --landing "file://$LANDING" --date "$DATE"
        --output-file "$tag.jsonl" --parallelism "$PARALLELISM" --mode streaming) ;;
    duckdb)
      cmd=("$VENV/bin/python" "$BENCH/duckdb_chunk_counts.py" --landing "file://$LANDING" --date "$DATE"
        --output-file "$tag.jsonl" --threads "$PARALLELISM") ;;
  esac
  rm -f -- "$tag.jsonl"
  warm_cache
  printf '%q ' "${cmd[@]}" >"$tag.cmd"
  echo >>"$tag.cmd"
  # PyFlink writes its JVM log here instead of into the venv.
  FLINK_LOG_DIR=$tag.flink-log /usr/bin/time -f '%e %M %U %S' -o "$tag.time" "${cmd[@]}" >"$tag.out" 2>"$tag.log" &
  local time_pid=$! peak_kb rc=0
  peak_kb=$(tree_rss_sampler "$time_pid")
  wait "$time_pid" || rc=$?
  if ((rc != 0)); then
    show_tail 30 "$tag.log"
    die "$case failed (exit $rc, round $round): $(cat "$tag.cmd")"
  fi
  [[ -s $tag.jsonl ]] || { show_tail 30 "$tag.log"; die "$case wrote no $tag.jsonl (round $round)"; }
  local wall rss u s rows job=-
  read -r wall rss u s <"$tag.time"
  rows=$(wc -l <"$tag.jsonl")
  if [[ $case == pyflink* ]]; then job=$(flink_job_s "$tag.flink-log"); fi
  awk -v r="$round" -v c="$case" -v w="$wall" -v rss="$rss" -v tree="$peak_kb" -v u="$u" -v s="$s" \
    -v bytes="$BYTES" -v rows="$rows" -v job="$job" 'BEGIN {
      if (w < 0.01) w = 0.01
      peak = (tree > rss) ? tree : rss
      printf "%s\t%s\t%.2f\t%.1f\t%.1f\t%.1f\t%.2f\t%d\t%s\n", r, c, w, bytes / 1e6 / w, peak / 1024, rss / 1024, u + s, rows, job
    }' >>"$RESULTS"
  tail -n 1 "$RESULTS" | awk -F'\t' '{ printf "  %-17s wall %7ss  %7s MB/s  peak rss %7s MB  cpu %7ss  %s rows%s\n", $2, $3, $4, $5, $7, $8, ($9 == "-" ? "" : "  (flink job " $9 "s)") }' >&2
}

# Compares the outputs given as CASE=FILE arguments: the same multiset of rows everywhere,
# well-formed rows, counts adding up to RECORDS. Prints a summary; fails on any difference.
compare_outputs() {
  "$PYTHON" - "$RECORDS" "$@" <<'EOF'
import collections, json, re, sys
records = int(sys.argv[1])
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
def load(path):
    rows, bad = collections.Counter(), []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                r = json.loads(line)
                row = (r["window_start"], r["window_end"], r["company_id"], r["chunk_count"])
                if not (ts.match(row[0]) and ts.match(row[1]) and isinstance(row[3], int) and row[3] > 0
                        and isinstance(row[2], str) and len(r) == 4):
                    raise ValueError("unexpected fields or formats")
            except (ValueError, KeyError, TypeError) as e:
                bad.append("line %d: %s: %s" % (n, e, line.strip()[:120]))
                continue
            rows[row] += 1
    return rows, bad
failed = False
ref_name = ref = None
for arg in sys.argv[2:]:
    name, path = arg.split("=", 1)
    rows, bad = load(path)
    total = sum(r[3] * k for r, k in rows.items())
    dups = sum(k - 1 for k in collections.Counter(r[:3] for r in rows.elements()).values())
    problems = []
    if bad:
        problems.append("%d malformed rows, e.g. %s" % (len(bad), bad[0]))
    if dups:
        problems.append("%d duplicate (window, company) rows" % dups)
    if total != records:
        problems.append("counts add up to %d, the data set has %d records (%+d)" % (total, records, total - records))
    if ref is None:
        ref_name, ref = name, rows
    elif rows != ref:
        only_ref, only_this = ref - rows, rows - ref
        keys_ref = {r[:3]: r[3] for r in only_ref.elements()}
        keys_this = {r[:3]: r[3] for r in only_this.elements()}
        changed = sorted(set(keys_ref) & set(keys_this))
        problems.append("differs from %s: %d rows only in %s, %d rows only here, %d windows with other counts"
                        % (ref_name, sum(only_ref.values()), ref_name, sum(only_this.values()), len(changed)))
        for k in changed[:5]:
            problems.append("  %s %s: %s has %d, here %d" % (k[0], k[2], ref_name, keys_ref[k], keys_this[k]))
        for r in sorted(set(keys_ref) - set(keys_this))[:3]:
            problems.append("  only in %s: %s %s count %d" % (ref_name, r[0], r[2], keys_ref[r]))
        for r in sorted(set(keys_this) - set(keys_ref))[:3]:
            problems.append("  only here: %s %s count %d" % (r[0], r[2], keys_this[r]))
    status = "FAIL" if problems else "ok"
    print("  %-22s %s: %d rows, %d chunks" % (name, status, sum(rows.values()), total), file=sys.stderr)
    for p in problems:
        print("      " + p, file=sys.stderr)
    failed |= bool(problems)
sys.exit(1 if failed else 0)
EOF
}

# --- measurements -------------------------------------------------------------
log "measuring: $RUNS rounds of [${CASES[*]}], results in $RESULTS"
for ((round = 1; round <= RUNS; round++)); do
  log "round $round/$RUNS"
  for c in "${CASES[@]}"; do
    run_case "$round" "$c"
  done
done

# The first output listed is the reference: DuckDB's when it ran (a batch engine sees every
# record), else the first case's.
REF=${CASES[0]}
if wanted duckdb; then REF=duckdb; fi
log "comparing outputs (every case and round against r1-$REF)"
outputs=("r1-$REF=$OUT/r1-$REF.jsonl")
for ((round = 1; round <= RUNS; round++)); do
  for c in "${CASES[@]}"; do
    [[ $round-$c == "1-$REF" ]] || outputs+=("r$round-$c=$OUT/r$round-$c.jsonl")
  done
done
compare_outputs "${outputs[@]}" 2>&1 | tee "$OUT/compare.txt" >&2 ||
  die "outputs differ (details above and in $OUT/compare.txt)"

# --- report -------------------------------------------------------------------
VERSIONS="python $("$PYTHON" -c 'import platform; print(platform.python_version())')"
if [[ -f $OUT/pip-freeze.txt ]]; then
  VERSIONS+=", $(grep -E '^(apache-flink|duckdb)==' "$OUT/pip-freeze.txt" | tr '\n' ' ' | sed 's/ $//; s/ /, /g')"
fi
if wanted pyflink || wanted pyflink-streaming; then
  VERSIONS+=", $(java -version 2>&1 | head -n 1)"
fi
{
  echo
  echo "Lakeshore $BUILT_AT, $(date -u +%Y-%m-%dT%H:%MZ), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "Streaming chunk-counts benchmark: $RECORDS records, $(awk -v b="$BYTES" 'BEGIN{printf "%.2f", b/1e9}') GB in $FILES landed files ($LANDING), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GB RAM, parallelism $PARALLELISM, medians of $RUNS rounds, page cache warm"
  echo "$VERSIONS"
  echo
  echo "| case | wall s | MB/s | vs duckdb | peak RSS MB | CPU s | Flink job s |"
  echo "|---|---|---|---|---|---|---|"
  awk -F'\t' 'NR > 1 { vals[$2] = vals[$2] " " $3 "," $4 "," $5 "," $7 "," $9; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
    function median(list, col,    n, a, i, j, t, v, parts) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) { split(a[i], parts, ","); v[i] = parts[col] + 0 }
      if (parts[col] == "-") return "-"
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
      base = ("duckdb" in vals) ? median(vals["duckdb"], 2) : 0
      for (i = 1; i <= k; i++) {
        c = order[i]; mb = median(vals[c], 2)
        ratio = base > 0 ? sprintf("%.2fx", mb / base) : "-"
        printf "| %s | %.2f | %.1f | %s | %.0f | %.1f | %s |\n", c, median(vals[c], 1), mb, ratio, median(vals[c], 3), median(vals[c], 4), median(vals[c], 5)
      }
    }' "$RESULTS"
  echo
  echo "vs duckdb = MB/s relative to DuckDB's (above 1 = faster). Peak RSS = whole process tree."
  echo "Flink job s = the job's run time in the JVM (RUNNING to FINISHED in its log); the rest of"
  echo "PyFlink's wall time is starting the JVM and mini-cluster, planning, and teardown."
  echo "Outputs identical across cases and rounds ($(wc -l <"$OUT/r1-$REF.jsonl") rows). Raw rows: $RESULTS"
} | tee "$OUT/report.md"
