#!/usr/bin/env bash
# CTest install_deps_modes (issue 16): scripts/install-deps.sh --print in its modes.
#   full: the engine, Qt 6 + QCustomPlot, Xvfb, desktop-file-utils; --engine-only (and
#   SYN_ENGINE_ONLY=1): the engine's packages with no Qt, QCustomPlot, Xvfb or clang; --no-libtorch
#   drops only libtorch-dev; no mode lists packages nothing uses (gmock, google-benchmark); every
#   package is one apt knows (when apt-cache is there); an unknown option is a usage error (2).
set -uo pipefail
SCRIPT="$1"
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }
full="$(bash "$SCRIPT" --print)" || fail "--print failed"
engine="$(bash "$SCRIPT" --engine-only --print)" || fail "--engine-only --print failed"
engine_env="$(SYN_ENGINE_ONLY=1 bash "$SCRIPT" --print)" || fail "SYN_ENGINE_ONLY=1 --print failed"
no_torch="$(bash "$SCRIPT" --no-libtorch --print)" || fail "--no-libtorch --print failed"
echo "full: $(tr '\n' ' ' <<<"$full")"
echo "engine-only: $(tr '\n' ' ' <<<"$engine")"
[ "$engine" = "$engine_env" ] || fail "SYN_ENGINE_ONLY=1 lists other packages than --engine-only"

for p in qt6-base-dev qt6-svg-dev libqcustomplot-dev xvfb desktop-file-utils libtorch-dev libgtest-dev libsentencepiece-dev; do
  grep -qx "$p" <<<"$full" || fail "the full list lacks $p"
done
for p in libtorch-dev libgtest-dev libsentencepiece-dev libopencv-dev libcurl4-openssl-dev cmake; do
  grep -qx "$p" <<<"$engine" || fail "the engine-only list lacks $p"
done
bad="$(grep -E '^(qt6-|libqt6|libqcustomplot|xvfb|xauth|clang|libclang|desktop-file-utils|libgl1)' <<<"$engine")"
[ -z "$bad" ] || fail "the engine-only list has GUI/test-display/fuzz packages: $(tr '\n' ' ' <<<"$bad")"
unused="$(grep -E '^(libgmock-dev|libbenchmark-dev|googletest)$' <<<"$full")"
[ -z "$unused" ] || fail "packages nothing uses are listed: $unused"
[ "$(grep -vx libtorch-dev <<<"$full")" = "$no_torch" ] || fail "--no-libtorch should drop exactly libtorch-dev"

bash "$SCRIPT" --no-such-option >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "an unknown option exits $rc, not 2"

codename="$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")"
if [ "$codename" != bookworm ]; then
  # The names are Debian 12's (libclang-rt-14-dev, ...); scripts/check-torch2.sh runs this in Debian 13.
  echo "note: not Debian 12 ('$codename'): package names not checked against this archive"
elif command -v apt-cache >/dev/null 2>&1; then
  # One call (apt-cache show succeeds when any name is known, so compare the names it shows).
  # shellcheck disable=SC2086
  known="$(apt-cache show --no-all-versions $full 2>/dev/null | sed -n 's/^Package: //p' | sort -u)"
  for p in $full; do grep -qx "$p" <<<"$known" || fail "apt does not know the package $p"; done
else
  echo "note: no apt-cache: package names not checked against the archive"
fi
[ $FAILED -eq 0 ] && echo "install_deps_modes: passed"
exit $FAILED
