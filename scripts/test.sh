#!/usr/bin/env bash
# The project's test command: start real Kafka (tansu) and HDFS, run the
# whole workspace's tests against them, stop what this run started.
#
#   scripts/test.sh [cargo test args...]     e.g. scripts/test.sh -p lakeshore-sink -- --nocapture
#
# First use installs the services (about 12 min to build tansu; cached in
# $LAKESHORE_CACHE afterwards). With LAKESHORE_REQUIRE_SERVICES=1 tests that
# need a service fail, instead of skipping, when it is missing.
set -euo pipefail
LOG_TAG='test'
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

SCRIPTS=$LAKESHORE_ROOT/scripts

# Services already running (e.g. a developer's `services.sh up`) are left
# running; only the ones this run starts are stopped at the end.
started=()
for svc in kafka hdfs; do
  if ! "$SCRIPTS/$svc.sh" status >/dev/null 2>&1; then started+=("$svc"); fi
done

cleanup() {
  local rc=$? svc
  trap - EXIT INT TERM
  for svc in "${started[@]}"; do
    "$SCRIPTS/$svc.sh" stop || true
  done
  if [[ ${#started[@]} -eq 2 ]]; then rm -f -- "$LAKESHORE_RUN/env"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$SCRIPTS/install-deps.sh" test
"$SCRIPTS/services.sh" up
# shellcheck source=/dev/null
source "$LAKESHORE_RUN/env"
export LAKESHORE_REQUIRE_SERVICES=1
# DuckDB, which the daily report's numbers are compared with.
LAKESHORE_TEST_PYTHON=$("$SCRIPTS/install-pytools.sh")
export LAKESHORE_TEST_PYTHON
log "LAKESHORE_TEST_BROKERS=$LAKESHORE_TEST_BROKERS LAKESHORE_TEST_HDFS=$LAKESHORE_TEST_HDFS"
# --workspace would make cargo ignore a -p/--package given here.
scope=(--workspace)
for arg in "$@"; do
  case $arg in
    --) break ;;
    -p | -p* | --package | --package=*) scope=() ;;
  esac
done
log "cargo test ${scope[*]} --locked $*"
cargo test "${scope[@]}" --locked "$@"
