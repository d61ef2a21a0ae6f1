#!/usr/bin/env bash
# The study's Table 3 (text-to-image probing) from a fresh install, on a CUDA machine:
#  1. fetches the eight encoders, taming's celebahq_transformer and the InceptionV3 weights (once;
#     needs internet); Multi-Modal CelebA-HQ must be placed by hand (`synesthesia fetch --data
#     mm-celeba-hq --list` prints where and how);
#  2. per encoder (and the random baseline) and seed: trains the prefix map on the train split
#     (resumable: rerun the script after an interruption), then generates one face per test face
#     from its first caption;
#  3. scores everything: CLIP-S (CLIP ViT-B/16), Inception Score on the real images, the ground-truth
#     pairs, per-encoder mean +- sd over seeds, grouped means and pooled t-tests -> results/table3/.
# Environment: SEEDS (default "0 1 2"), MAX_TEST (faces of the test split to generate for, default
# all 5,000), DEVICE (default cuda). Extra arguments go to every `train-mapping`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${SYN_BUILD_DIR:-$ROOT/build}"
BIN="$BUILD/app/synesthesia"
[ -x "$BIN" ] || "$ROOT/scripts/build.sh"
DATA="${SYNESTHESIA_DATA:-$HOME/.local/share/synesthesia}"
SEEDS="${SEEDS:-0 1 2}"
DEVICE="${DEVICE:-cuda}"
RUNS="$ROOT/results/table3-runs"
MODELS=(bert-base-cased bert-large-cased roberta-base roberta-large
        openai/clip-vit-base-patch32 openai/clip-vit-base-patch16
        openai/clip-vit-large-patch14 openai/clip-vit-large-patch14-336)

"$BIN" fetch "${MODELS[@]}" --data taming-celebahq,inception --data-dir "$DATA"
GENERATOR="$DATA/taming/2021-04-23T18-11-19_celebahq_transformer"
FACES="$DATA/mm-celeba-hq"
if [ ! -d "$FACES/text" ]; then "$BIN" fetch --data mm-celeba-hq --list --data-dir "$DATA"; exit 1; fi

folders=()
for encoder in "${MODELS[@]}" random; do
  for seed in $SEEDS; do
    name="$(echo "$encoder" | tr '/:' '__')-seed$seed"
    "$BIN" train-mapping --generator "$GENERATOR" --data "$FACES" --split train --encoder "$encoder" \
      --seed "$seed" --device "$DEVICE" --out "$RUNS/$name/mapping" "$@"
    if [ ! -f "$RUNS/$name/faces/images.jsonl" ]; then
      "$BIN" generate --generator "$GENERATOR" --mapping "$RUNS/$name/mapping/mapping.safetensors" \
        --data "$FACES" --split test --max-images "${MAX_TEST:-0}" --seeds "$seed" --device "$DEVICE" \
        --out "$RUNS/$name/faces"
    fi
    folders+=("$RUNS/$name/faces")
  done
done
"$BIN" score "${folders[@]}" --clip openai/clip-vit-base-patch16 \
  --inception-weights "$DATA/inception/weights-inception-2015-12-05-6726825d.pth" \
  --data "$FACES" --split test --device "$DEVICE" --out "$ROOT/results/table3"
