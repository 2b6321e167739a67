#!/usr/bin/env bash
# The README's first command: build lakeshore and run `lakeshore demo`, the whole pipeline on
# this machine with nothing else installed (an in-process Kafka, the local filesystem, a
# simulated day of traffic). Arguments go to `lakeshore demo` (see `lakeshore demo --help`):
#
#   scripts/demo.sh            # about 20 s after the build; the data is removed at the end
#   scripts/demo.sh --keep     # keep the data and try the commands it prints
set -euo pipefail
LOG_TAG=demo
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
cd "$LAKESHORE_ROOT"

scripts/install-deps.sh build
log "building lakeshore (the first build takes about 10 minutes on 2 cores)"
cargo build --quiet --bin lakeshore
exec target/debug/lakeshore demo "$@"
