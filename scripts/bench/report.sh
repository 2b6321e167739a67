#!/usr/bin/env bash
# Batch-report benchmark: `lakeshore report daily-chunks` beside DuckDB, Polars (Python) and the
# PySpark EMR step it replaces, over the same landed day of JSON files, interleaved rounds.
#
#   scripts/bench/report.sh                          quick check: ~0.2 GB, 3 interleaved rounds
#   scripts/bench/report.sh --gb 2                   the documented benchmark (~2 GB)
#   scripts/bench/report.sh --only duckdb,polars     without lakeshore (e.g. not built yet)
#
# Options:
#   --gb G            size of the landed day in GB (default 0.2); each size is generated once
#                     (scripts/bench/gen_landing.py: 4 partitions, 20 companies, seed 7, day
#                     2026-11-21) into $LAKESHORE_BENCH_DATA/landing-<G>gb/ and reused (the
#                     same data sets as scripts/bench/stream.sh)
#   --runs N          interleaved rounds (default 3); medians are reported
#   --only LIST       comma-separated subset of: lakeshore,duckdb,polars,pyspark
#                     (default: all four)
#   --parallelism P   DuckDB and Polars threads, Spark's local[P] (default 2)
#   --readers R       pass --readers R to lakeshore (default: its own default, CPUs at most 4)
#   --no-build        skip `cargo build --release --bin lakeshore`
#
# Environment:
#   LAKESHORE_BENCH_DATA=$LAKESHORE_CACHE/bench-data     generated data sets (default
#                                                        ~/.cache/lakeshore/bench-data)
#   LAKESHORE_REPORT_VENV=$LAKESHORE_CACHE/report-venv   Python venv with duckdb, polars,
#                                                        pyarrow (and pyspark for that case),
#                                                        created (pip, pinned) when missing
#   LAKESHORE_BENCH_PYTHON=python3                       Python 3.9-3.12 for that venv
#   LAKESHORE_BENCH_OUT=target/bench/report-<UTC time>   outputs, logs, results.tsv, report.md
#
# The cases (all read DAY = <data>/embeddings.ready/year=2026/month=11/day=21/hour=*/*.json,
# count records per (company_id, document_id) and write
# <out>/daily_chunk_count/date=2026-11-21/*.parquet (company_id string, document_id string,
# total_chunks int64) + _SUCCESS, each run into a fresh <out>):
#   lakeshore  target/release/lakeshore report daily-chunks --landing file://<data>
#              --output file://<out> --date 2026-11-21 (sorted, one part file)
#   duckdb     scripts/bench/report_duckdb.py: read_ndjson with explicit columns company_id,
#              document_id; GROUP BY, count(*), ORDER BY; COPY ... TO (FORMAT parquet)
#   polars     scripts/bench/report_polars.py: scan_ndjson with a schema of the two columns,
#              group_by + len, sort, write_parquet (snappy)
#   pyspark    scripts/bench/report_pyspark.py: the EMR step unchanged (spark.read.json of the
#              day's hour directories with schema inference, groupBy().count(), renamed,
#              write.mode("overwrite").parquet), local[P], needs Java 8/11/17 (`java`)
#
# What one measurement is: wall time from process start to exit (GNU time's %e), CPU
# user+sys of the process and every child it waited for (%U + %S; the PySpark script stops
# and reaps its JVM before exiting), peak RSS of the whole process tree (sum over the tree,
# sampled every 100 ms; at least GNU time's %M, the largest single process). The page cache
# holds the data set before each run (cat of every file). MB/s = input bytes / wall time.
# Every report is checked (scripts/bench/report_compare.py): the same multiset of
# (company_id, document_id, total_chunks) rows for every case and round, the Parquet types
# above, no duplicate keys, counts adding up to the number of records, and sorted rows for
# every case but pyspark (the EMR step does not sort). Any difference fails the run.
set -euo pipefail
LOG_TAG=bench

# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

GB=0.2 RUNS=3 ONLY=lakeshore,duckdb,polars,pyspark PARALLELISM=2 READERS='' BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --gb) GB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --parallelism) PARALLELISM=$2; shift 2 ;;
    --readers) READERS=$2; shift 2 ;;
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
[[ -z $READERS || $READERS =~ ^[1-9][0-9]*$ ]] || die "--readers: expected a positive integer"
CASES=()
IFS=, read -r -a only_list <<<"$ONLY"
for c in "${only_list[@]}"; do
  case $c in
    lakeshore | duckdb | polars | pyspark) CASES+=("$c") ;;
    *) die "--only: unknown case '$c' (lakeshore, duckdb, polars, pyspark)" ;;
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
VENV=${LAKESHORE_REPORT_VENV:-$LAKESHORE_CACHE/report-venv}
[[ $VENV == /* ]] || VENV=$PWD/$VENV
PYTHON=${LAKESHORE_BENCH_PYTHON:-python3}
# Versions verified on this setup (Python 3.11.7, OpenJDK 17.0.15). pyspark is a ~317 MB
# sdist (pure Python, built locally) and is only installed when the pyspark case runs.
PY_PINS="duckdb==2.0.0 polars==2.1.0 pyarrow==26.0.1"
SPARK_PIN="pyspark==3.5.9"
OUT=${LAKESHORE_BENCH_OUT:-$LAKESHORE_ROOT/target/bench/report-$(date -u +%Y%m%dT%H%M%SZ)}
[[ $OUT == /* ]] || OUT=$PWD/$OUT
mkdir -p -- "$OUT"
trap 'rmdir -- "$OUT" 2>/dev/null || true' EXIT # nothing measured: no empty result dir
RESULTS=$OUT/results.tsv

# --- prerequisites ------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  apt_install time
fi
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (LAKESHORE_BENCH_PYTHON)"
if wanted pyspark; then
  command -v java >/dev/null || die "PySpark needs Java 8, 11 or 17 on PATH (java not found); or leave it out (--only lakeshore,duckdb,polars)"
fi

BUILT_AT=-
if wanted lakeshore; then
  if ((BUILD)); then
    log "cargo build --release --bin lakeshore"
    cargo build --release --bin lakeshore ||
      die "cargo build failed: fix the build, or leave lakeshore out (--only duckdb,polars,pyspark)"
  fi
  [[ -x $BIN/lakeshore ]] || die "$BIN/lakeshore missing: run without --no-build, or leave it out (--only duckdb,polars,pyspark)"
  "$BIN/lakeshore" report daily-chunks --help >/dev/null 2>&1 ||
    die "$BIN/lakeshore has no working 'report daily-chunks': leave it out (--only duckdb,polars,pyspark)"
  # What is measured: the tree as built now (others may commit while the benchmark runs).
  BUILT_AT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src jobs crates Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes')"
  if [[ $BIN/lakeshore -ot Cargo.lock ]] || [[ -n $(find src jobs crates -name '*.rs' -newer "$BIN/lakeshore" -print -quit 2>/dev/null) ]]; then
    log "warning: $BIN/lakeshore is older than the sources (--no-build): measuring that older binary"
    BUILT_AT+=" (binary older than the sources)"
  fi
fi

# The venv: the base pins (every Python case and the comparison need pyarrow), plus pyspark
# when that case runs. Recreated when the base pins change; pyspark added when missing.
setup_venv() {
  if [[ ! -f $VENV/.lakeshore-pins || $(cat "$VENV/.lakeshore-pins") != "$PY_PINS" ]]; then
    "$PYTHON" -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 12))' ||
      die "pyspark 3.5 needs Python 3.9-3.12; $PYTHON is $("$PYTHON" -V 2>&1) (set LAKESHORE_BENCH_PYTHON)"
    if [[ -e $VENV ]]; then
      [[ -f $VENV/pyvenv.cfg ]] || die "$VENV exists and is not a venv (LAKESHORE_REPORT_VENV)"
      rm -rf -- "$VENV"
    fi
    log "creating $VENV: pip install $PY_PINS"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
    # shellcheck disable=SC2086 # PY_PINS is a list of requirements
    "$VENV/bin/pip" install -q --disable-pip-version-check --prefer-binary $PY_PINS ||
      die "pip install $PY_PINS failed (see above)"
    printf '%s\n' "$PY_PINS" >"$VENV/.lakeshore-pins"
  fi
  if wanted pyspark && [[ ! -f $VENV/.lakeshore-spark-pin || $(cat "$VENV/.lakeshore-spark-pin") != "$SPARK_PIN" ]]; then
    log "pip install $SPARK_PIN into $VENV (a ~317 MB sdist, ~1 min)"
    "$VENV/bin/pip" install -q --disable-pip-version-check --prefer-binary "$SPARK_PIN" ||
      die "pip install $SPARK_PIN failed (see above); leave it out (--only lakeshore,duckdb,polars)"
    printf '%s\n' "$SPARK_PIN" >"$VENV/.lakeshore-spark-pin"
  fi
  "$VENV/bin/pip" freeze --disable-pip-version-check >"$VENV/.lakeshore-freeze"
}
with_lock "$LAKESHORE_CACHE/report-venv.lock" setup_venv
cp -- "$VENV/.lakeshore-freeze" "$OUT/pip-freeze.txt"
VPY=$VENV/bin/python

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

# Rows in the Parquet files of a report directory (from the footers).
report_rows() {
  "$VPY" -c '
import os, sys
import pyarrow.parquet as pq
d = sys.argv[1]
print(sum(pq.ParquetFile(os.path.join(d, n)).metadata.num_rows for n in os.listdir(d)
          if n.endswith(".parquet") and not n.startswith(("_", "."))))' "$1"
}

printf 'round\tcase\twall_s\tmb_s\tpeak_rss_mb\tmax_proc_rss_mb\tcpu_s\trows\tjob_s\n' >"$RESULTS"

# run_case ROUND CASE
run_case() {
  local round=$1 case=$2 tag=$OUT/r$1-$2 cmd=()
  local report=$tag.report/daily_chunk_count/date=$DATE
  case $case in
    lakeshore)
      cmd=("$BIN/lakeshore" report daily-chunks --landing "file://$LANDING" --output "file://$tag.report" --date "$DATE")
      if [[ -n $READERS ]]; then cmd+=(--readers "$READERS"); fi ;;
    duckdb)
      cmd=("$VPY" "$BENCH/report_duckdb.py" --landing "file://$LANDING" --date "$DATE"
        --output "$tag.report" --threads "$PARALLELISM") ;;
    polars)
      cmd=("$VPY" "$BENCH/report_polars.py" --landing "file://$LANDING" --date "$DATE"
        --output "$tag.report" --threads "$PARALLELISM") ;;
    pyspark)
      cmd=("$VPY" "$BENCH/report_pyspark.py" --landing "file://$LANDING" --date "$DATE"
        --output "$tag.report" --master "local[$PARALLELISM]") ;;
  esac
  rm -rf -- "$tag.report"
  warm_cache
  printf '%q ' "${cmd[@]}" >"$tag.cmd"
  echo >>"$tag.cmd"
  /usr/bin/time -f '%e %M %U %S' -o "$tag.time" "${cmd[@]}" >"$tag.out" 2>"$tag.log" &
  local time_pid=$! peak_kb rc=0
  peak_kb=$(tree_rss_sampler "$time_pid")
  wait "$time_pid" || rc=$?
  if ((rc != 0)); then
    show_tail 30 "$tag.log"
    die "$case failed (exit $rc, round $round): $(cat "$tag.cmd")"
  fi
  [[ -f $report/_SUCCESS ]] || { show_tail 30 "$tag.log"; die "$case wrote no $report/_SUCCESS (round $round)"; }
  local wall rss u s rows job=-
  read -r wall rss u s <"$tag.time"
  rows=$(report_rows "$report")
  if [[ $case == pyspark ]]; then
    job=$(sed -n 's/.* job \([0-9.]*\) s,.*/\1/p' "$tag.out" | tail -n 1)
    job=${job:--}
  fi
  awk -v r="$round" -v c="$case" -v w="$wall" -v rss="$rss" -v tree="$peak_kb" -v u="$u" -v s="$s" \
    -v bytes="$BYTES" -v rows="$rows" -v job="$job" 'BEGIN {
      if (w < 0.01) w = 0.01
      peak = (tree > rss) ? tree : rss
      printf "%s\t%s\t%.2f\t%.1f\t%.1f\t%.1f\t%.2f\t%d\t%s\n", r, c, w, bytes / 1e6 / w, peak / 1024, rss / 1024, u + s, rows, job
    }' >>"$RESULTS"
  tail -n 1 "$RESULTS" | awk -F'\t' '{ printf "  %-10s wall %7ss  %7s MB/s  peak rss %7s MB  cpu %7ss  %s rows%s\n", $2, $3, $4, $5, $7, $8, ($9 == "-" ? "" : "  (spark job " $9 "s)") }' >&2
}

# --- measurements -------------------------------------------------------------
log "measuring: $RUNS rounds of [${CASES[*]}], results in $RESULTS"
for ((round = 1; round <= RUNS; round++)); do
  log "round $round/$RUNS"
  for c in "${CASES[@]}"; do
    run_case "$round" "$c"
  done
done

# The first report listed is the reference: DuckDB's when it ran, else the first case's.
REF=${CASES[0]}
if wanted duckdb; then REF=duckdb; fi
log "comparing reports (every case and round against r1-$REF)"
reports=("r1-$REF=$OUT/r1-$REF.report/daily_chunk_count/date=$DATE")
for ((round = 1; round <= RUNS; round++)); do
  for c in "${CASES[@]}"; do
    [[ $round-$c == "1-$REF" ]] || reports+=("r$round-$c=$OUT/r$round-$c.report/daily_chunk_count/date=$DATE")
  done
done
"$VPY" "$BENCH/report_compare.py" --records "$RECORDS" --sorted lakeshore,duckdb,polars "${reports[@]}" \
  2>&1 | tee "$OUT/compare.txt" >&2 ||
  die "reports differ (details above and in $OUT/compare.txt)"

# --- report -------------------------------------------------------------------
VERSIONS="python $("$VPY" -c 'import platform; print(platform.python_version())')"
VERSIONS+=", $(grep -E '^(duckdb|polars|pyarrow|pyspark)==' "$OUT/pip-freeze.txt" | sed 's/==/ /' | paste -sd, - | sed 's/,/, /g')"
if wanted lakeshore; then
  VERSIONS+=", lakeshore with polars crate $(awk '/^name = "polars"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
fi
if wanted pyspark; then
  VERSIONS+=", $(java -version 2>&1 | head -n 1)"
fi
{
  echo
  echo "Lakeshore $BUILT_AT, $(date -u +%Y-%m-%dT%H:%MZ), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "Daily chunk report benchmark: $RECORDS records, $(awk -v b="$BYTES" 'BEGIN{printf "%.2f", b/1e9}') GB in $FILES landed files ($LANDING), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GB RAM, parallelism $PARALLELISM${READERS:+, lakeshore --readers $READERS}, medians of $RUNS rounds, page cache warm"
  echo "$VERSIONS"
  echo
  echo "| case | wall s | MB/s | vs duckdb | peak RSS MB (min-max) | CPU s | Spark job s |"
  echo "|---|---|---|---|---|---|---|"
  awk -F'\t' 'NR > 1 { vals[$2] = vals[$2] " " $3 "," $4 "," $5 "," $7 "," $9; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
    function stat(list, col, which,    n, a, i, j, t, v, parts) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) { split(a[i], parts, ","); v[i] = parts[col] + 0 }
      if (parts[col] == "-") return "-"
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      if (which == "min") return v[1]
      if (which == "max") return v[n]
      return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
      base = ("duckdb" in vals) ? stat(vals["duckdb"], 2) : 0
      for (i = 1; i <= k; i++) {
        c = order[i]; mb = stat(vals[c], 2)
        ratio = base > 0 ? sprintf("%.2fx", mb / base) : "-"
        printf "| %s | %.2f | %.1f | %s | %.0f (%.0f-%.0f) | %.2f | %s |\n", c, stat(vals[c], 1), mb, ratio,
          stat(vals[c], 3), stat(vals[c], 3, "min"), stat(vals[c], 3, "max"), stat(vals[c], 4), stat(vals[c], 5)
      }
      if (("lakeshore" in vals) && base > 0) {
        ratio = stat(vals["lakeshore"], 2) / base; peak = stat(vals["lakeshore"], 3, "max")
        printf "\nBar (lakeshore >= 2x DuckDB MB/s, peak RSS < 300 MB in every round, same rows): %s (%.2fx, max peak RSS %.0f MB, rows identical)\n",
          (ratio >= 2 && peak < 300) ? "MET" : "NOT MET", ratio, peak
      }
    }' "$RESULTS"
  echo
  echo "vs duckdb = MB/s relative to DuckDB's (above 1 = faster). Peak RSS = whole process tree"
  echo "(PySpark: Python and its JVM). Spark job s = read + count + write inside the session; the"
  echo "rest of PySpark's wall time is starting and stopping the JVM and the session."
  echo "Reports identical across cases and rounds ($(report_rows "$OUT/r1-$REF.report/daily_chunk_count/date=$DATE") rows, $RECORDS chunks). Raw rows: $RESULTS"
} | tee "$OUT/report.md"
