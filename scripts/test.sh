#!/usr/bin/env bash
# Builds (incrementally) and runs the whole test suite through CTest. Tests read the reference
# fixtures from $SYNESTHESIA_SHARED (default: ../shared beside the repository).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${SYN_BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/build.sh"
export SYNESTHESIA_SHARED="${SYNESTHESIA_SHARED:-$ROOT/../shared}"
if [ ! -d "$SYNESTHESIA_SHARED" ]; then
  echo "warning: $SYNESTHESIA_SHARED not found; tests that need the reference fixtures will be skipped" >&2
fi
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" "$@"
