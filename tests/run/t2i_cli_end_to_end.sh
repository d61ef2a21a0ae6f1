#!/usr/bin/env bash
# The text-to-image probe on the command line with the tiny fixtures: captions from CelebA-style
# attributes (`captions-from-attributes`), a Multi-Modal CelebA-HQ layout this script writes (faces =
# tiny-clip's two test PNGs, one corrupt file), `train-mapping` with tiny-bert on tiny-taming for a
# few steps, an interrupted-then-resumed run, `generate` twice with the same seed (same files),
# `score` with tiny-clip, and bad input exiting 1 with a message naming the problem.
# Usage: t2i_cli_end_to_end.sh <synesthesia binary> <work dir> <default shared dir>
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
mkdir -p "$WORK/faces/images"
export SYN_CACHE_DIR="$WORK/cache"
fail() { echo "FAIL: $*" >&2; exit 1; }

# CelebA attribute annotations for 9 faces (a subset of the 40 attributes).
{
  echo 9
  echo "Male Smiling Blond_Hair Eyeglasses Wearing_Hat"
  for i in 0 1 2 3 4 5 6 7 8; do
    m=$(( i % 2 ? 1 : -1 )); s=$(( i % 3 ? 1 : -1 )); b=$(( i % 4 ? -1 : 1 ))
    echo "$i.jpg $m $s $b -1 $(( i == 4 ? 1 : -1 ))"
  done
} > "$WORK/attributes.txt"
"$BIN" captions-from-attributes --attributes "$WORK/attributes.txt" --out "$WORK/faces" --per-image 3 --seed 1 \
  || fail "captions-from-attributes"
[ "$(ls "$WORK/faces/text" | wc -l)" = 9 ] || fail "expected 9 caption files"
[ "$(wc -l < "$WORK/faces/text/0.txt")" = 3 ] || fail "expected 3 captions per face"
for i in 0 1 2 3 4 5 6 7; do cp "$FIX/models/tiny-clip/image$(( i % 2 )).png" "$WORK/faces/images/$i.png"; done
echo "not an image" > "$WORK/faces/images/8.png"
seq 0 8 > "$WORK/faces/train.txt"

TRAIN=(train-mapping --generator "$FIX/models/tiny-taming" --data "$WORK/faces" --encoder "$FIX/models/tiny-bert"
       --batch-size 4 --epochs 3 --lr 0.005 --device cpu)
"$BIN" "${TRAIN[@]}" --out "$WORK/mapping" 2> "$WORK/train.log" > "$WORK/train.out" || { cat "$WORK/train.log"; fail "train-mapping"; }
grep -q "1 unreadable images" "$WORK/train.log" || { cat "$WORK/train.log"; fail "the corrupt face was not counted"; }
[ -f "$WORK/mapping/mapping.safetensors" ] || fail "no checkpoint"
[ "$(wc -l < "$WORK/mapping/losses.csv")" = 7 ] || fail "expected 6 steps in losses.csv"
# The same run again: already finished, resumed without training.
"$BIN" "${TRAIN[@]}" --out "$WORK/mapping" 2> "$WORK/train2.log" > /dev/null || fail "second train-mapping"
grep -q "resuming from epoch 3" "$WORK/train2.log" || { cat "$WORK/train2.log"; fail "the finished run was not resumed"; }

GEN=(generate --generator "$FIX/models/tiny-taming" --mapping "$WORK/mapping/mapping.safetensors" --seeds 1,2
     --prompt "a smiling man with blond hair" --prompt "a woman wearing a hat" --top-k 20 --device cpu)
"$BIN" "${GEN[@]}" --out "$WORK/gen1" 2> "$WORK/gen1.log" || { cat "$WORK/gen1.log"; fail "generate"; }
"$BIN" "${GEN[@]}" --out "$WORK/gen2" 2> "$WORK/gen2.log" || fail "generate again"
[ "$(ls "$WORK/gen1"/*.png | wc -l)" = 4 ] || fail "expected 4 PNGs"
[ "$(wc -l < "$WORK/gen1/images.jsonl")" = 4 ] || fail "expected 4 manifest lines"
for f in "$WORK"/gen1/*.png; do cmp -s "$f" "$WORK/gen2/$(basename "$f")" || fail "same seed, different image: $f"; done
cmp -s "$WORK/gen1/p0_seed1.png" "$WORK/gen1/p0_seed2.png" && fail "seeds 1 and 2 gave the same image"
# Sharded (issue 15): 3 prompts x 2 seeds in batches of 1 over 3 shards, merged, are the unsharded
# run's PNGs and images.jsonl byte for byte; a missing shard is refused by name.
GEN3=("${GEN[@]}" --prompt "an old man with glasses" --batch 1)
"$BIN" "${GEN3[@]}" --out "$WORK/gen-whole" 2> /dev/null || fail "unsharded generate"
for i in 0 1 2; do
  "$BIN" "${GEN3[@]}" --shard "$i/3" --out "$WORK/gen-shard$i" 2> "$WORK/gen-shard$i.log" \
    || { cat "$WORK/gen-shard$i.log"; fail "generate --shard $i/3"; }
  [ "$(wc -l < "$WORK/gen-shard$i/images.jsonl")" = 2 ] || fail "shard $i/3 should hold 2 of the 6 faces"
done
"$BIN" merge "$WORK/gen-shard2" "$WORK/gen-shard0" "$WORK/gen-shard1" --out "$WORK/gen-merged" 2> "$WORK/gen-merge.log" \
  || { cat "$WORK/gen-merge.log"; fail "merge of generate shards"; }
for f in "$WORK"/gen-whole/*.png "$WORK/gen-whole/images.jsonl"; do
  cmp -s "$f" "$WORK/gen-merged/$(basename "$f")" || fail "merged shards differ from the unsharded run: $(basename "$f")"
done
[ "$(ls "$WORK"/gen-merged/*.png | wc -l)" = 6 ] || fail "the merged folder should hold 6 faces"
if "$BIN" merge "$WORK/gen-shard0" "$WORK/gen-shard1" --out "$WORK/gen-short" 2> "$WORK/gen-short.log"; then
  fail "a merge of 2 of 3 shards was accepted"
fi
grep -q "2 folders given for a run of 3 shards" "$WORK/gen-short.log" || fail "merge message: $(cat "$WORK/gen-short.log")"
[ ! -e "$WORK/gen-short" ] || fail "a refused merge left a folder"
# Prompts from the data set: one caption of each of the first 3 faces.
"$BIN" generate --generator "$FIX/models/tiny-taming" --mapping "$WORK/mapping/mapping.safetensors" --data "$WORK/faces" \
  --split train --max-images 3 --device cpu --out "$WORK/gen3" 2> "$WORK/gen3.log" || { cat "$WORK/gen3.log"; fail "generate --data"; }
[ "$(wc -l < "$WORK/gen3/images.jsonl")" = 3 ] || fail "expected 3 images from --data"
grep -q "$(head -1 "$WORK/faces/text/0.txt")" "$WORK/gen3/images.jsonl" || fail "the first face's caption is not a prompt"

"$BIN" score --clip "$FIX/models/tiny-clip" "$WORK/gen1" --device cpu --out "$WORK/score" \
  > "$WORK/score.md" 2> "$WORK/score.log" || { cat "$WORK/score.log"; fail "score"; }
[ -f "$WORK/score/table3.md" ] || fail "no table3.md"
grep -qi "not computed" "$WORK/score/table3.md" || fail "IS without weights must say 'not computed'"
# score --shard (issue 15): 10 faces (one corrupt) in batches of 2 over 3 shards, shard 0 also the
# ground-truth row; merged, table3.* and score_manifest.json are the unsharded run's byte for byte.
cp -r "$WORK/gen1" "$WORK/gen-bad"
echo "not a png" > "$WORK/gen-bad/p1_seed2.png"
SCORE=(score --clip "$FIX/models/tiny-clip" "$WORK/gen-whole" "$WORK/gen-bad" --device cpu --batch 2
       --data "$WORK/faces" --split train --max-gt-images 4)
"$BIN" "${SCORE[@]}" --out "$WORK/score-whole" > /dev/null 2> "$WORK/score-whole.log" \
  || { cat "$WORK/score-whole.log"; fail "unsharded score"; }
for i in 0 1 2; do
  "$BIN" "${SCORE[@]}" --shard "$i/3" --out "$WORK/score-shard$i" > /dev/null 2> "$WORK/score-shard$i.log" \
    || { cat "$WORK/score-shard$i.log"; fail "score --shard $i/3"; }
done
grep -q "shard 0/3: 4 of 10 images" "$WORK/score-shard0.log" || fail "shard 0/3 should hold batches 0 and 3: $(cat "$WORK/score-shard0.log")"
"$BIN" merge "$WORK/score-shard2" "$WORK/score-shard0" "$WORK/score-shard1" --out "$WORK/score-merged" \
  2> "$WORK/score-merge.log" || { cat "$WORK/score-merge.log"; fail "merge of score shards"; }
for f in table3.md table3.tex table3.csv score_manifest.json; do
  cmp "$WORK/score-whole/$f" "$WORK/score-merged/$f" || fail "merged score shards differ from the unsharded run: $f"
done
grep -q '"reason"' "$WORK/score-merged/score_manifest.json" || fail "the corrupt face is not named as skipped"
grep -q '"ground_truth"' "$WORK/score-merged/score_manifest.json" || fail "no ground truth in the merged manifest"
[ -f "$WORK/score-merged/score_timing.json" ] || fail "no score_timing.json"
refused() {  # refused <name> <expected message> <merge arguments...>
  local name="$1" msg="$2"; shift 2
  if "$BIN" merge "$@" --out "$WORK/score-$name" 2> "$WORK/score-$name.log"; then fail "merge ($name) was accepted"; fi
  grep -q -- "$msg" "$WORK/score-$name.log" || fail "merge ($name) message: $(cat "$WORK/score-$name.log")"
  [ ! -e "$WORK/score-$name" ] || fail "a refused merge ($name) left a folder"
}
S0="$WORK/score-shard0"; S1="$WORK/score-shard1"; S2="$WORK/score-shard2"
refused missing "2 folders given for a run of 3 shards" "$S0" "$S1"
refused twice "given twice" "$S0" "$S1" "$S1"
refused notshard "not a \`score --shard\` output folder" "$S0" "$S1" "$WORK/gen1"
"$BIN" "${SCORE[@]}" --kind hessel --shard 2/3 --out "$WORK/score-hessel2" > /dev/null 2>&1 || fail "score --kind hessel --shard"
refused settings "setting 'kind'" "$S0" "$S1" "$WORK/score-hessel2"
# The same folders listing other faces: another image list.
cp "$WORK/gen-bad/images.jsonl" "$WORK/gen-bad.jsonl.orig"
sed -i 's/a woman wearing a hat/a woman wearing a cap/' "$WORK/gen-bad/images.jsonl"
"$BIN" "${SCORE[@]}" --shard 2/3 --out "$WORK/score-other2" > /dev/null 2>&1 || fail "score --shard over other prompts"
cp "$WORK/gen-bad.jsonl.orig" "$WORK/gen-bad/images.jsonl"
refused images "image_list_sha256" "$S0" "$S1" "$WORK/score-other2"
# Shards claiming 10^14 images are refused by the values they hold, under a 1 GiB address-space limit.
for i in 0 1 2; do
  cp -r "$WORK/score-shard$i" "$WORK/score-huge$i"
  sed -i 's/"images_total": 10,/"images_total": 100000000000000,/' "$WORK/score-huge$i/score_shard.json"
done
grep -q '"images_total": 100000000000000' "$WORK/score-huge0/score_shard.json" || fail "the test did not edit images_total"
( ulimit -v 1048576; refused huge "hold 10 images, but their run had 100000000000000" \
    "$WORK/score-huge0" "$WORK/score-huge1" "$WORK/score-huge2" ) || fail "the 10^14 shard"
if "$BIN" "${SCORE[@]}" --shard 3/3 --out "$WORK/score-bad-shard" 2> "$WORK/score-bad-shard.log"; then
  fail "--shard 3/3 was accepted"
fi
grep -q "expected i/n" "$WORK/score-bad-shard.log" || fail "--shard 3/3 message: $(cat "$WORK/score-bad-shard.log")"

# Bad input: a mapping checkpoint that is not one, a missing data folder.
printf '\x08\x00\x00\x00\x00\x00\x00\x00{}      ' > "$WORK/plain.safetensors"
if "$BIN" generate --generator "$FIX/models/tiny-taming" --mapping "$WORK/plain.safetensors" --prompt x --device cpu \
     --out "$WORK/bad" 2> "$WORK/bad.log"; then fail "a non-mapping checkpoint was accepted"; fi
grep -q "metadata key 'encoder'" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "unclear error for a bad checkpoint"; }
if "$BIN" train-mapping --generator "$FIX/models/tiny-taming" --data "$WORK/nowhere" --encoder random --out "$WORK/x" \
     --device cpu 2> "$WORK/bad2.log"; then fail "a missing data folder was accepted"; fi
grep -q "nowhere" "$WORK/bad2.log" || { cat "$WORK/bad2.log"; fail "the error does not name the folder"; }
echo "t2i CLI end to end: OK"
