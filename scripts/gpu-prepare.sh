#!/usr/bin/env bash
# Prepares, on this Debian 12 machine, what one CUDA check on the lent GPU machine needs (DESIGN.md,
# last section): that machine has PyTorch 2.x with CUDA (its libtorch builds our engine) but no
# network, no Qt, and lacks libzip, PCRE2 headers, utf8proc and OpenCV. This script fills the
# git-ignored folder .gpu-carry/ with
#   debs/     the Debian 12 packages of those libraries (headers + runtime), unpacked there by gpu-check.sh
#   shared/   the reference files the check reads: fixtures, vocab, the CxC test split + captions,
#             bench/hf_reference.py (copied from $SYNESTHESIA_SHARED; they stay out of git)
# and prints the total size (the device tool carries at most 64 MiB). Then, with the device tool:
#   run  command: bash scripts/gpu-check.sh     carry: [".gpu-carry"]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SYNESTHESIA_SHARED:-$ROOT/../shared}"
CARRY="$ROOT/.gpu-carry"
rm -rf "$CARRY"
mkdir -p "$CARRY/debs" "$CARRY/shared/data/cxc" "$CARRY/shared/data/coco" "$CARRY/shared/bench"
# Only what the engine links that the GPU machine lacks; OpenCV without its optional codecs' deps.
PKGS=(libzip-dev libzip4 libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
      libutf8proc-dev libutf8proc2
      libopencv-core-dev libopencv-core406 libopencv-imgproc-dev libopencv-imgproc406
      libopencv-imgcodecs-dev libopencv-imgcodecs406)
(cd "$CARRY/debs" && apt-get download "${PKGS[@]}")
cp -r "$SHARED/fixtures" "$SHARED/vocab" "$CARRY/shared/"
cp "$SHARED/data/cxc/sts_test.csv" "$CARRY/shared/data/cxc/"
cp "$SHARED/data/coco/captions_karpathy_test.json" "$CARRY/shared/data/coco/"
cp "$SHARED/bench/hf_reference.py" "$CARRY/shared/bench/"
du -sh "$CARRY"/* "$CARRY"
size_mib=$(du -sm "$CARRY" | cut -f1)
if [ "$size_mib" -gt 64 ]; then
  echo "warning: .gpu-carry is ${size_mib} MiB, over the device tool's 64 MiB: trim fixtures/tokenizers (the case files)" >&2
fi
