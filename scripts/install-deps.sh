#!/usr/bin/env bash
# Installs every Debian 12 package the workbench builds, tests and runs with.
# Idempotent: apt-get skips what is already installed.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS=(
  build-essential cmake ninja-build pkg-config git ccache
  libtorch-dev libopenblas0-openmp libopenblas-dev
  qt6-base-dev qt6-svg-dev libqt6svg6 libqcustomplot-dev libqcustomplot2.1-qt6
  qt6-qpa-plugins libgl1-mesa-dev
  libsentencepiece-dev libopencv-dev
  nlohmann-json3-dev libzip-dev libssl-dev libutf8proc-dev libpcre2-dev
  libcli11-dev libboost-math-dev libyaml-cpp-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  python3
  xvfb xauth fonts-dejavu-core
)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${PKGS[@]}"
