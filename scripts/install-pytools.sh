#!/usr/bin/env bash
# Installs the Python tools the tests compare Lakeshore with (DuckDB), in a venv cached in
# $LAKESHORE_CACHE/py-tools; prints the venv's python. Idempotent: a second run is instant.
#
#   scripts/install-pytools.sh
set -euo pipefail
LOG_TAG=pytools
# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

DUCKDB_VERSION=2.0.0
VENV=$LAKESHORE_CACHE/py-tools
if ! "$VENV/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  log "installing duckdb==$DUCKDB_VERSION into $VENV"
  rm -rf -- "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION" >&2
fi
echo "$VENV/bin/python"
