#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running workbench: installs the Debian
# packages, builds, and starts the GUI (or, without a display, prints how to run the CLI).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh"
BUILD="${SYN_BUILD_DIR:-$ROOT/build}"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$BUILD/app/synesthesia-workbench" "$@"
fi
echo "No display found: the workbench GUI needs X11 or Wayland. The headless CLI is ready:"
echo "  $BUILD/app/synesthesia --help"
exec "$BUILD/app/synesthesia" device
