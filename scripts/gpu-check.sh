#!/usr/bin/env bash
# The CUDA check, run on the lent GPU machine from the repository root after scripts/gpu-prepare.sh
# (here) filled .gpu-carry/. One run does all of it, so that every figure comes from one machine:
#   1. builds the engine and CLI (no Qt) against the machine's PyTorch libtorch, C++11 ABI;
#   2. the parity suite on CUDA: float32 within 1e-4 of the transformers / taming goldens, bfloat16
#      within bf16 rounding (SYN_TEST_DEVICE=cuda; tests/models/test_model_parity.cpp says why);
#   3. the GUI-less compute path on cuda: embed, sts, generate with the tiny fixtures;
#   4. benchmarks beside ../shared/bench/hf_reference.py --sort --batch 1024 in the same run:
#      captions/s BERT-base and CLIP L/14 text in bf16, and GPT sampling of 100 celebahq-size faces.
# Results go to $OUT (the device tool's folder) or ./gpu-results. NOT YET RUN ON A GPU: no machine was
# lent to the sessions that wrote it; expect to fix paths on the first run.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CARRY="$ROOT/.gpu-carry"
OUT="${OUT:-$ROOT/gpu-results}"
mkdir -p "$OUT"
export SYNESTHESIA_SHARED="$CARRY/shared"
log() { echo "== $*" | tee -a "$OUT/summary.txt"; }

SYSROOT="$CARRY/sysroot"
mkdir -p "$SYSROOT"
for d in "$CARRY"/debs/*.deb; do dpkg -x "$d" "$SYSROOT"; done
MULTI=x86_64-linux-gnu
export PKG_CONFIG_SYSROOT_DIR="$SYSROOT"
export PKG_CONFIG_PATH="$SYSROOT/usr/lib/$MULTI/pkgconfig:$SYSROOT/usr/share/pkgconfig"
export LD_LIBRARY_PATH="$SYSROOT/usr/lib/$MULTI:${LD_LIBRARY_PATH:-}"
TORCH_PREFIX="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$OUT/summary.txt"

log "build (engine + CLI + tests + benchmarks, no Qt)"
cmake -S "$ROOT" -B "$ROOT/build-gpu" -DCMAKE_BUILD_TYPE=Release -DSYN_BUILD_UI=OFF \
  -DTorch_DIR="$TORCH_PREFIX/Torch" -DCMAKE_PREFIX_PATH="$SYSROOT/usr" \
  -DOpenCV_DIR="$SYSROOT/usr/lib/$MULTI/cmake/opencv4" > "$OUT/configure.log" 2>&1 || { tail -40 "$OUT/configure.log"; exit 1; }
cmake --build "$ROOT/build-gpu" -j"$(nproc)" > "$OUT/build.log" 2>&1 || { grep -m20 -B2 -A5 "error" "$OUT/build.log"; exit 1; }
BIN="$ROOT/build-gpu/app/synesthesia"
"$BIN" device | tee -a "$OUT/summary.txt"

log "parity on CUDA"
SYN_TEST_DEVICE=cuda "$ROOT/build-gpu/tests/test_model_parity" > "$OUT/parity_cuda.log" 2>&1
tail -5 "$OUT/parity_cuda.log" | tee -a "$OUT/summary.txt"
ctest --test-dir "$ROOT/build-gpu" -j8 > "$OUT/ctest.log" 2>&1
grep -E "tests passed|tests failed" "$OUT/ctest.log" | tee -a "$OUT/summary.txt"

log "compute path on cuda: embed, sts, generate"
F="$SYNESTHESIA_SHARED/fixtures/models"
export SYN_CACHE_DIR="$OUT/cache"
"$BIN" sts --cxc "$SYNESTHESIA_SHARED/data/cxc/sts_test.csv" --captions "$SYNESTHESIA_SHARED/data/coco/captions_karpathy_test.json" \
  --models lexical/jaccard "$F/tiny-bert" "$F/tiny-clip" "$F/tiny-roberta:random_pooler@0" --device cuda --max-pairs 2000 \
  --out "$OUT/sts_cuda" 2>&1 | tail -20 | tee -a "$OUT/summary.txt"

log "benchmarks: ours then hf_reference.py, same machine, same run"
for m in bert-base clip-l14; do
  "$ROOT/build-gpu/benchmarks/bench_encoder" "$SYNESTHESIA_SHARED/data/coco/captions_karpathy_test.json" \
    --device cuda --model "$m" --batch 1024 --dtype both 2>&1 | tee -a "$OUT/summary.txt"
done
"$ROOT/build-gpu/benchmarks/bench_gpt_sampling" --config celebahq --device cuda --dtype bfloat16 --images 100 --repeat 2 \
  2>&1 | tee -a "$OUT/summary.txt"
python3 "$SYNESTHESIA_SHARED/bench/hf_reference.py" --captions "$SYNESTHESIA_SHARED/data/coco/captions_karpathy_test.json" \
  --sort --batch 1024 --out "$OUT/hf_reference.json" 2>&1 | tail -20 | tee -a "$OUT/summary.txt"
log "done: $OUT/summary.txt"
