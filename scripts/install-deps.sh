#!/usr/bin/env bash
# Installs the Debian 12 packages the workbench builds, tests and runs with.
# Idempotent: apt-get skips what is already installed.
#
#   scripts/install-deps.sh                  everything: engine, CLI, Qt workbench, tests (Xvfb), fuzzing
#   scripts/install-deps.sh --engine-only    engine + CLI + engine tests only (GPU servers): no Qt, no
#                                            QCustomPlot, no Xvfb, no clang; then build with
#                                            ./scripts/build.sh -DSYN_BUILD_UI=OFF
#   scripts/install-deps.sh --no-libtorch    without Debian's CPU-only libtorch, for a build against
#                                            PyTorch's bundled libtorch (-DTorch_DIR=..., see README)
#   scripts/install-deps.sh --print          list the packages (one a line) instead of installing them
# The same as variables: SYN_ENGINE_ONLY=1, SYN_NO_LIBTORCH=1.
set -euo pipefail
ENGINE_ONLY="${SYN_ENGINE_ONLY:-0}"
NO_LIBTORCH="${SYN_NO_LIBTORCH:-0}"
PRINT=0
for arg in "$@"; do
  case "$arg" in
    --engine-only) ENGINE_ONLY=1 ;;
    --no-libtorch) NO_LIBTORCH=1 ;;
    --print) PRINT=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

# The engine, the CLI and the engine's tests (GoogleTest; the hub test server is python3).
PKGS=(
  build-essential cmake ninja-build pkg-config git ccache
  libopenblas0-openmp libopenblas-dev
  libsentencepiece-dev libopencv-dev
  nlohmann-json3-dev libzip-dev libssl-dev libutf8proc-dev libpcre2-dev
  libcli11-dev libboost-math-dev libyaml-cpp-dev libcurl4-openssl-dev
  libgtest-dev
  python3
  # Distributed training: the Gloo headers libtorch's c10d ProcessGroupGloo is declared with.
  libgloo-dev
)
if [ "$NO_LIBTORCH" != 1 ]; then PKGS+=(libtorch-dev); fi
if [ "$ENGINE_ONLY" != 1 ]; then
  PKGS+=(
    # The workbench: Qt 6 (Widgets, Concurrent, Svg, PrintSupport, Test are in qt6-base-dev) and QCustomPlot.
    qt6-base-dev qt6-svg-dev libqt6svg6 libqcustomplot-dev libqcustomplot2.1-qt6
    qt6-qpa-plugins libgl1-mesa-dev
    # GUI tests under Xvfb, and the install test's .desktop check.
    xvfb xauth fonts-dejavu-core desktop-file-utils
    # scripts/fuzz.sh and scripts/check-sanitizers.sh (libFuzzer, ASan/UBSan runtimes).
    clang libclang-rt-14-dev
    # The cluster test: a one-node Slurm (slurmctld + slurmd) and munge, started by the test itself.
    slurm-wlm munge
  )
fi

if [ "$PRINT" = 1 ]; then printf '%s\n' "${PKGS[@]}"; exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${PKGS[@]}"
if [ "$ENGINE_ONLY" = 1 ]; then
  echo "Engine-only packages installed. Build without the workbench: ./scripts/build.sh -DSYN_BUILD_UI=OFF"
fi
