#!/usr/bin/env bash
# The README's first command: run the landing sink on embedded defaults and show its result,
# then the chunk-count job over the same topic (bounded) and its windows.
#
#   scripts/demo.sh
#
# Starts a real Kafka-protocol broker (tansu; installed on first use, ~12 min, cached in
# $LAKESHORE_CACHE), produces a sample of the three topics, runs `lakeshore land` with the
# users' connector file verbatim — pointed at the local filesystem instead of HDFS — stops it
# with SIGTERM, shows what landed, and stops the broker. Data stays in target/demo/lake.
set -euo pipefail
LOG_TAG=demo
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
cd "$LAKESHORE_ROOT"

export LAKESHORE_RUN=$LAKESHORE_ROOT/target/demo/services
export LAKESHORE_KAFKA_PORT=${LAKESHORE_DEMO_KAFKA_PORT:-19192}
BROKERS=127.0.0.1:$LAKESHORE_KAFKA_PORT
LAKE=$LAKESHORE_ROOT/target/demo/lake

log "building lakeshore and the sample producer"
cargo build --quiet --bin lakeshore --example sample_events
scripts/install-kafka.sh
scripts/kafka.sh start --fresh
land_pid=""
cleanup() {
  local rc=$?
  if [[ -n $land_pid ]] && kill -0 "$land_pid" 2>/dev/null; then kill -TERM "$land_pid"; wait "$land_pid" || true; fi
  scripts/kafka.sh stop || true
  exit "$rc"
}
trap cleanup EXIT

for topic in documents.raw chunks.processed embeddings.ready; do
  scripts/kafka.sh create-topic "$topic" 3
done
produced=$(target/debug/examples/sample_events "$BROKERS" 30)
log "$produced"
expected=$(grep -o '=[0-9]*' <<<"$produced" | tr -d = | awk '{s+=$1} END {print s}')

rm -rf -- "$LAKE"
log "lakeshore land --config connect/config/hdfs-sink-connector.properties (verbatim) --set hdfs.url=file://$LAKE"
target/debug/lakeshore land --config connect/config/hdfs-sink-connector.properties \
  --brokers "$BROKERS" \
  --set "hdfs.url=file://$LAKE" \
  --set rotate.interval.ms=2000 \
  --set timestamp.extractor=Record \
  2> target/demo/land.log &
land_pid=$!

# Wait until every produced record is committed (count landed lines), at most a minute.
landed=0
for _ in $(seq 1 60); do
  landed=$({ find "$LAKE/atenex/kafka-landing" -name '*.json' -not -path '*/+tmp/*' -exec cat {} + 2>/dev/null || true; } | wc -l)
  [[ $landed -ge $expected ]] && break
  sleep 1
done
log "landed $landed of $expected records; stopping the sink with SIGTERM"
kill -TERM "$land_pid"
wait "$land_pid"
land_pid=""

echo
echo "== What landed (Confluent's layout, under $LAKE) =="
(cd "$LAKE" && find atenex/kafka-landing -name '*.json' -not -path '*/+tmp/*' | sort | head -12)
echo "   ... $(find "$LAKE/atenex/kafka-landing" -name '*.json' -not -path '*/+tmp/*' | wc -l) files in all;"
echo "   the commit log (exactly-once state) is in $LAKE/atenex/kafka-connect/logs"
echo
echo "== Records per topic =="
for topic in documents.raw chunks.processed embeddings.ready; do
  n=$(find "$LAKE/atenex/kafka-landing/$topic" -name '*.json' -exec cat {} + | wc -l)
  printf '  %-18s %6d\n' "$topic" "$n"
done
echo
echo "== One landed line of documents.raw =="
find "$LAKE/atenex/kafka-landing/documents.raw" -name '*.json' | sort | head -1 | xargs head -1
echo
echo "== Completeness markers (hours every partition has passed) =="
find "$LAKE/atenex/kafka-landing" -name _COMPLETE | sort | sed "s|$LAKE/||" | head -10
echo
echo "== The sink's closing log line =="
grep 'landing sink stopped' target/demo/land.log | tail -1
echo
echo "== Chunk counts per company per minute (lakeshore stream chunk-counts, bounded over the whole topic) =="
target/debug/lakeshore stream chunk-counts --brokers "$BROKERS" \
  --from 2000-01-01 --to 2100-01-01 --output-file target/demo/chunk-counts.jsonl \
  2> target/demo/stream.log
head -5 target/demo/chunk-counts.jsonl | sed 's/^/  /'
windows=$(wc -l < target/demo/chunk-counts.jsonl)
counted=$(grep -o '"chunk_count":[0-9]*' target/demo/chunk-counts.jsonl | cut -d: -f2 | awk '{s+=$1} END {print s+0}')
late=$(grep -o 'late=[0-9]*' target/demo/stream.log | tail -1 | cut -d= -f2)
echo "  ... $windows windows counting $counted embeddings.ready records (target/demo/chunk-counts.jsonl);"
echo "  ${late:-0} records were more than 5 s behind the watermark (the sample's timestamps are"
echo "  shuffled over three hours) and were dropped as late, as Flink would: see docs/streaming.md"
echo
echo "Next: run it again (it resumes from the commit log in atenex/kafka-connect/logs and lands nothing twice),"
echo "      stream the counts continuously: target/debug/lakeshore stream chunk-counts --help,"
echo "      read docs/landing.md and docs/streaming.md, or run the tests: scripts/test.sh"
