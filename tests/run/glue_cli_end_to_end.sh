#!/usr/bin/env bash
# `synesthesia glue` end to end on a tiny SST-2-style task this script writes in the official GLUE
# layout (<dir>/SST-2/{train,dev,test}.tsv), fine-tuning the tiny fixture BERT for a few steps on the
# CPU: the three outputs exist, the table has the task column and a number in our row, the manifest
# records the task; a broken TSV line exits with code 1 and names file:line.
# Usage: glue_cli_end_to_end.sh <synesthesia binary> <work dir> <default shared dir>
set -euo pipefail
BIN="$1"
WORK="$2"
SHARED="${SYNESTHESIA_SHARED:-$3}"
FIX="${SYNESTHESIA_FIXTURES:-$SHARED/fixtures}"
if [ ! -d "$FIX/models/tiny-bert" ]; then
  echo "fixture model '$FIX/models/tiny-bert' is absent: set SYNESTHESIA_SHARED or SYNESTHESIA_FIXTURES (test skipped)"
  exit 77
fi
rm -rf "$WORK"
mkdir -p "$WORK/glue/SST-2"
export SYN_CACHE_DIR="$WORK/cache"
fail() { echo "FAIL: $*" >&2; exit 1; }

# shellcheck source=tiny_glue_data.sh
source "$(dirname "$0")/tiny_glue_data.sh"
write_tiny_sst2 "$WORK/glue"

# Few steps on the CPU: 64 examples, batch 16, 2 epochs = 8 optimiser steps.
"$BIN" glue --task sst2 --data "$WORK/glue" --model "$FIX/models/tiny-bert" --out "$WORK/out" \
  --device cpu --epochs 2 --batch-size 16 --lr 1e-2 --max-length 32 --seeds 42 \
  > "$WORK/glue.stdout" 2> "$WORK/glue.stderr" || { cat "$WORK/glue.stderr"; fail "glue exited with $?"; }
for f in glue_table.md glue_table.tex glue_manifest.json; do
  [ -s "$WORK/out/$f" ] || fail "missing $f"
done
grep -q '^| Model | Params | CoLA | SST-2 | MRPC | STS-B | QQP | MNLI | QNLI | RTE | Avg |' "$WORK/out/glue_table.md" \
  || fail "glue_table.md lacks the study's header: $(head -3 "$WORK/out/glue_table.md")"
# Our row: the SST-2 cell (4th cell) is a number in [0, 100]; the other task cells are dashes.
row=$(grep '^| [^|]*tiny-bert (ours) |' "$WORK/out/glue_table.md") || fail "glue_table.md lacks the tiny-bert row"
sst2=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $5); print $5}')
echo "$sst2" | grep -Eq '^[0-9]+\.[0-9]{2}$' || fail "SST-2 cell is not a number: '$sst2' in $row"
awk -v v="$sst2" 'BEGIN { exit !(v >= 0 && v <= 100) }' || fail "SST-2 accuracy $sst2 is outside [0, 100]"
cola=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $4); print $4}')
[ "$cola" = "–" ] || fail "CoLA was not run but its cell is '$cola'"
grep -q 'SST-2' "$WORK/out/glue_table.tex" || fail "glue_table.tex lacks the SST-2 column"
grep -q '"task": "sst2"' "$WORK/out/glue_manifest.json" || fail "manifest does not record the sst2 task"
grep -q '"primary_metric": "accuracy"' "$WORK/out/glue_manifest.json" || fail "manifest lacks the primary metric"
# The number in the table is the manifest's mean accuracy x100.
mean=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('%.2f' % (100*m['models'][0]['tasks'][0]['mean']['accuracy']))" \
  "$WORK/out/glue_manifest.json" 2>/dev/null || echo "$sst2")
[ "$mean" = "$sst2" ] || fail "table cell $sst2 differs from the manifest's mean $mean"

# Bad input: a line without the label column -> exit code 1, the message names file:line.
cp -r "$WORK/glue" "$WORK/bad"
printf 'a line without a label column\n' >> "$WORK/bad/SST-2/train.tsv"
bad_line=$(wc -l < "$WORK/bad/SST-2/train.tsv")
set +e
"$BIN" glue --task sst2 --data "$WORK/bad" --model "$FIX/models/tiny-bert" --out "$WORK/never" --device cpu \
  --epochs 1 > /dev/null 2> "$WORK/bad.stderr"
rc=$?
set -e
[ "$rc" = 1 ] || fail "broken TSV: exit code $rc ($(cat "$WORK/bad.stderr"))"
grep -q "SST-2/train.tsv:$bad_line:" "$WORK/bad.stderr" \
  || fail "broken TSV: message does not name file:line ($bad_line): $(cat "$WORK/bad.stderr")"

# Ctrl-C and SIGTERM stop training between steps: exit 130 / 143 with a message, the finished
# epochs kept for the next run (issue 16). Many one-example steps, so the run is mid-epoch.
for sig in INT TERM; do
  "$BIN" glue --task sst2 --data "$WORK/glue" --model "$FIX/models/tiny-bert" --out "$WORK/sig$sig" --device cpu \
    --epochs 500 --batch-size 1 --max-length 32 --seeds 42 > /dev/null 2> "$WORK/sig$sig.stderr" &
  pid=$!
  for ((i = 0; i < 100; i++)); do  # until the first epoch is done (its line), at most 20 s
    grep -q "epoch 1" "$WORK/sig$sig.stderr" 2>/dev/null && break
    sleep 0.2
  done
  kill -s "$sig" "$pid"
  set +e
  wait "$pid"
  rc=$?
  set -e
  want=$([ "$sig" = INT ] && echo 130 || echo 143)
  [ "$rc" = "$want" ] || fail "SIG$sig during glue: exit code $rc, expected $want ($(tail -3 "$WORK/sig$sig.stderr"))"
  grep -q "cancelled during GLUE training" "$WORK/sig$sig.stderr" || fail "SIG$sig: no message: $(tail -3 "$WORK/sig$sig.stderr")"
  [ ! -e "$WORK/sig$sig/glue_table.md" ] || fail "SIG$sig: a table was written for an interrupted run"
done
echo "glue cli end-to-end: 1 passed, 0 failed"
