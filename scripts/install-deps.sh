#!/usr/bin/env bash
# System packages Lakeshore needs, installed with apt when missing:
#
#   scripts/install-deps.sh build    # to build: pkg-config and OpenSSL headers (librdkafka's TLS)
#   scripts/install-deps.sh test     # to build and test: also Chromium (the status page test)
#
# Used by scripts/demo.sh, scripts/test.sh and .ci/run; harmless to run again.
set -euo pipefail
LOG_TAG=deps
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

what=${1:-build}
case $what in
  build | test) ;;
  *) die "usage: scripts/install-deps.sh build|test (got '$what')" ;;
esac

# rdkafka is built with TLS so ssl.* / SASL_SSL settings work; it links the system OpenSSL.
if ! pkg-config --exists openssl 2>/dev/null; then
  apt_install pkg-config libssl-dev
fi
if [[ $what == test ]] && ! command -v chromium >/dev/null; then
  # Debian's Chromium: tests load the status page in it, headless.
  apt_install chromium
fi
