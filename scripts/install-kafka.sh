#!/usr/bin/env bash
# Install tansu (a Kafka-protocol broker written in Rust) into the cache.
#
# Built from crates.io with its SQLite engine (`libsql`): the default feature
# set has no storage engine, and the in-memory one loses track of offsets.
# About 12 minutes cold on 2 cores, so the install lives outside the clone
# and is skipped when present.
set -euo pipefail
LOG_TAG=install-kafka
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

INSTALL_LOG=$LAKESHORE_CACHE/tansu-install.log

# Another `cargo install` into the same root (started by hand, or by a run
# that did not take our lock) must finish first: two would clobber each other.
wait_for_other_install() {
  local waited=0
  while pgrep -f -- "cargo install tansu .*--root $TANSU_HOME" >/dev/null; do
    if ((waited % 60 == 0)); then
      log "another 'cargo install tansu' into $TANSU_HOME is running; waiting (${waited}s)"
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

install() {
  wait_for_other_install
  if [[ -x $TANSU_BIN ]]; then
    log "already installed: $TANSU_BIN"
    return 0
  fi
  command -v cargo >/dev/null || die "cargo not found (install Rust with rustup)"
  local t0 rc=0
  t0=$(now_ms)
  log "cargo install tansu $TANSU_VERSION --features libsql (about 12 min cold on 2 cores); log: $INSTALL_LOG"
  # Signs of life once a minute, without flooding the output with cargo's.
  (
    n=0
    while sleep 1; do
      ((++n % 60 == 0)) || continue
      log "still building ($((($(now_ms) - t0) / 1000))s, $(grep -c '^ *Compiling' "$INSTALL_LOG" || true) crates compiled)"
    done
  ) &
  # A global, not a local: the EXIT trap runs after install() has returned, where a local
  # is unset (and `set -u` would turn the trap into a failure of the whole install).
  HEARTBEAT=$!
  trap 'kill "${HEARTBEAT:-}" 2>/dev/null || true' EXIT
  # A CARGO_TARGET_DIR from the caller would mix tansu's build into theirs.
  env -u CARGO_TARGET_DIR cargo install tansu --version "$TANSU_VERSION" --locked \
    --features libsql --root "$TANSU_HOME" >"$INSTALL_LOG" 2>&1 </dev/null || rc=$?
  kill "$HEARTBEAT" 2>/dev/null || true
  trap - EXIT
  if [[ $rc -ne 0 || ! -x $TANSU_BIN ]]; then
    show_tail 40 "$INSTALL_LOG"
    die "cargo install tansu failed (exit $rc)"
  fi
  log "installed $TANSU_BIN ($((($(now_ms) - t0) / 1000))s)"
}

mkdir -p -- "$LAKESHORE_CACHE"
if [[ -x $TANSU_BIN ]] && ! pgrep -f -- "cargo install tansu .*--root $TANSU_HOME" >/dev/null; then
  log "already installed: $TANSU_BIN"
  exit 0
fi
with_lock "$LAKESHORE_CACHE/tansu-install.lock" install
