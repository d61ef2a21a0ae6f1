#!/usr/bin/env bash
# The `synesthesia` CLI end to end with the lexical baselines and the tiny fixture models: the same
# code path a real run takes. Usage: cli_end_to_end.sh <synesthesia binary> <work dir> <default shared dir>
set -euo pipefail
BIN="$1"
WORK="$2"
SHARED="${SYNESTHESIA_SHARED:-$3}"
if [ ! -d "$SHARED/data" ]; then
  echo "shared reference folder '$SHARED' is absent: set SYNESTHESIA_SHARED (test skipped)"
  exit 77
fi
FIX="${SYNESTHESIA_FIXTURES:-$SHARED/fixtures}"
rm -rf "$WORK"
mkdir -p "$WORK"
export SYN_CACHE_DIR="$WORK/cache"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" sts --cxc "$SHARED/data/cxc/sts_test.csv" --captions "$SHARED/data/coco/captions_karpathy_test.json" \
  --models lexical/jaccard lexical/tfidf "$FIX/models/tiny-bert" "$FIX/models/tiny-clip" \
  --pooling mean --max-pairs 200 --bootstrap 100 --out "$WORK/sts" > "$WORK/sts.stdout" 2> "$WORK/sts.stderr" \
  || { cat "$WORK/sts.stderr"; fail "sts exited with $?"; }
for f in table.md table.tex results.json pairs.csv; do
  [ -s "$WORK/sts/$f" ] || fail "missing $f"
done
grep -q "| tiny-bert | mean |" "$WORK/sts/table.md" || fail "table.md lacks the tiny-bert row"
grep -q "| tiny-clip | mean |" "$WORK/sts/table.md" || fail "table.md lacks the tiny-clip row"
grep -q '"pairs_used": 200' "$WORK/sts/results.json" || fail "results.json does not record 200 pairs"
if grep -q "figures not written" "$WORK/sts.stderr"; then
  echo "note: engine-only build, no figures"
else
  for f in correlations.png correlations.svg correlations.pdf; do [ -s "$WORK/sts/$f" ] || fail "missing figure $f"; done
fi

# A second run reads the embedding cache and gives the same table.
"$BIN" sts --cxc "$SHARED/data/cxc/sts_test.csv" --captions "$SHARED/data/coco/captions_karpathy_test.json" \
  --models "$FIX/models/tiny-bert" --pooling mean --max-pairs 200 --bootstrap 100 --out "$WORK/sts2" >/dev/null 2>&1
grep '^| tiny-bert | mean |' "$WORK/sts/table.md" > "$WORK/row1"
grep '^| tiny-bert | mean |' "$WORK/sts2/table.md" > "$WORK/row2"
cmp -s "$WORK/row1" "$WORK/row2" || fail "cached run differs: $(cat "$WORK/row1") vs $(cat "$WORK/row2")"
grep -q '"cached_texts": 0' "$WORK/sts2/results.json" && fail "second run did not use the cache"

# embed
printf 'a dog on a beach\na cat on a mat\na dog on a beach\n' > "$WORK/texts.txt"
"$BIN" embed --model "$FIX/models/tiny-clip" --pooling projected+l2 --in "$WORK/texts.txt" --out "$WORK/emb.safetensors" \
  2> "$WORK/embed.stderr" || { cat "$WORK/embed.stderr"; fail "embed failed"; }
[ -s "$WORK/emb.safetensors" ] || fail "no embeddings written"
grep -q "3 texts (2 unique" "$WORK/embed.stderr" || fail "embed summary: $(cat "$WORK/embed.stderr")"

# Bad input: a clear message naming the file, exit code 1, no output folder.
set +e
"$BIN" sts --cxc "$WORK/missing.csv" --captions "$SHARED/data/coco/captions_karpathy_test.json" \
  --models lexical/jaccard --out "$WORK/never" 2> "$WORK/bad.stderr"
rc=$?
set -e
[ "$rc" = 1 ] || fail "missing csv: exit code $rc"
grep -q "missing.csv" "$WORK/bad.stderr" || fail "missing csv: message does not name the file: $(cat "$WORK/bad.stderr")"
[ ! -e "$WORK/never" ] || fail "an output folder was created for a failed run"
echo "cli end-to-end: 1 passed, 0 failed"
