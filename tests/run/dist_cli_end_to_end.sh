#!/usr/bin/env bash
# `synesthesia launch --nproc 2 -- train-mapping ...` end to end with the tiny fixtures (tiny-taming,
# tiny-bert on an 8-face Multi-Modal CelebA-HQ layout this script writes): both ranks embed the
# captions through the one shared embedding cache at once, train with a global batch of 4, and only
# rank 0 writes the checkpoint, state and losses (and prints); a resumed finished run trains nothing;
# the random baseline trains too; a batch smaller than the world is a clear error from every rank.
# (Loss equality with one process is test_distributed's: the mapping's dropout differs per rank.)
# Usage: dist_cli_end_to_end.sh <synesthesia binary> <work dir> <default shared dir>
set -euo pipefail
BIN="$1"
WORK="$2"
SHARED="${SYNESTHESIA_SHARED:-$3}"
FIX="${SYNESTHESIA_FIXTURES:-$SHARED/fixtures}"
if [ ! -d "$FIX/models/tiny-taming" ]; then
  echo "fixture model '$FIX/models/tiny-taming' is absent: set SYNESTHESIA_SHARED or SYNESTHESIA_FIXTURES (test skipped)"
  exit 77
fi
rm -rf "$WORK"
mkdir -p "$WORK/faces/images" "$WORK/faces/text"
export SYN_CACHE_DIR="$WORK/cache" SYN_DIST_TIMEOUT=60
fail() { echo "FAIL: $*" >&2; exit 1; }

for i in 0 1 2 3 4 5 6 7; do
  cp "$FIX/models/tiny-clip/image$(( i % 2 )).png" "$WORK/faces/images/$i.png"
  printf 'a face number %d with %s hair\nthe person %d is %s\n' "$i" "$([ $((i % 2)) = 0 ] && echo blond || echo black)" \
    "$i" "$([ $((i % 3)) = 0 ] && echo smiling || echo serious)" > "$WORK/faces/text/$i.txt"
done
seq 0 7 > "$WORK/faces/train.txt"

TRAIN=(train-mapping --generator "$FIX/models/tiny-taming" --data "$WORK/faces" --batch-size 4 --epochs 2 --lr 0.005
       --device cpu)
"$BIN" launch --nproc 2 -- "${TRAIN[@]}" --encoder "$FIX/models/tiny-bert" --out "$WORK/mapping" \
  > "$WORK/train.out" 2> "$WORK/train.log" || { cat "$WORK/train.log"; fail "launch train-mapping exited with $?"; }
[ -f "$WORK/mapping/mapping.safetensors" ] || fail "no checkpoint"
[ "$(wc -l < "$WORK/mapping/losses.csv")" = 5 ] || { cat "$WORK/mapping/losses.csv"; fail "expected 4 steps in losses.csv"; }
grep -q '"finished": true' "$WORK/mapping/state.json" || fail "state.json is not finished"
[ "$(wc -l < "$WORK/train.out")" = 1 ] || { cat "$WORK/train.out"; fail "expected one checkpoint line (rank 0's)"; }
[ "$(grep -c '^epoch 2: loss' "$WORK/train.log")" = 1 ] || { cat "$WORK/train.log"; fail "expected rank 0's epoch lines only"; }
ls "$WORK/mapping" | grep -v -E '^(mapping\.safetensors|optimizer\.pt|state\.json|losses\.csv)$' \
  && fail "unexpected files in the output folder"

# Again: finished, so resumed by every rank without training.
"$BIN" launch --nproc 2 -- "${TRAIN[@]}" --encoder "$FIX/models/tiny-bert" --out "$WORK/mapping" \
  > /dev/null 2> "$WORK/train2.log" || { cat "$WORK/train2.log"; fail "second launch"; }
grep -q "resuming from epoch 2" "$WORK/train2.log" || { cat "$WORK/train2.log"; fail "the finished run was not resumed"; }

# The random baseline (its N(0, 1) vectors drawn for the whole global batch on every rank).
"$BIN" launch --nproc 2 -- "${TRAIN[@]}" --encoder random --random-dim 16 --out "$WORK/random" \
  > /dev/null 2> "$WORK/random.log" || { cat "$WORK/random.log"; fail "launch train-mapping --encoder random"; }
[ "$(wc -l < "$WORK/random/losses.csv")" = 5 ] || fail "expected 4 steps of the random baseline"

# A global batch of 1 cannot be shared by 3 processes.
if "$BIN" launch --nproc 3 -- train-mapping --generator "$FIX/models/tiny-taming" --data "$WORK/faces" --batch-size 2 \
     --epochs 1 --device cpu --encoder random --random-dim 16 --out "$WORK/small" 2> "$WORK/small.log"; then
  fail "a batch smaller than the world size was accepted"
fi
grep -q "the batch size 2 is smaller than the world size 3" "$WORK/small.log" || { cat "$WORK/small.log"; fail "unclear error"; }
grep -q "launch: failed: rank " "$WORK/small.log" || { cat "$WORK/small.log"; fail "the launcher did not name the rank"; }
echo "distributed CLI end to end: OK"
