#!/usr/bin/env bash
# The study's Table 2 from a fresh install: fetches the eight encoders into the Hugging Face cache
# and the CxC + MS-COCO caption data (once; needs internet), then runs STS-L / STS-V with the
# lexical baselines beside them. Without internet the fetch step says exactly which files to place
# where by hand. Extra arguments go to `synesthesia sts` (e.g. --device cuda --dtype bfloat16,
# --pooling mean, or a model's own pooling as roberta-base:random_pooler@0). Results: results/table2/
# ($SYN_RESULTS_DIR). Exit status 3: the tables were written but some model failed (named in them).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${SYN_BUILD_DIR:-$ROOT/build}"
BIN="$BUILD/app/synesthesia"
[ -x "$BIN" ] || "$ROOT/scripts/build.sh"
DATA="${SYNESTHESIA_DATA:-$HOME/.local/share/synesthesia}"
OUT="${SYN_RESULTS_DIR:-$ROOT/results/table2}"
MODELS=(bert-base-cased bert-large-cased roberta-base roberta-large
        openai/clip-vit-base-patch32 openai/clip-vit-base-patch16
        openai/clip-vit-large-patch14 openai/clip-vit-large-patch14-336)

"$BIN" fetch "${MODELS[@]}" --data cxc,coco-captions --data-dir "$DATA"
"$BIN" sts --cxc "$DATA/cxc/sts_test.csv" --captions "$DATA/coco/annotations/captions_val2014.json" \
  --models lexical/jaccard lexical/tfidf "${MODELS[@]}" --out "$OUT" "$@"
