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
# Two replicas (--devices cpu,cpu, issue 15), no cache: the same row.
"$BIN" sts --cxc "$SHARED/data/cxc/sts_test.csv" --captions "$SHARED/data/coco/captions_karpathy_test.json" \
  --models "$FIX/models/tiny-bert" --pooling mean --max-pairs 200 --bootstrap 100 --devices cpu,cpu --no-cache \
  --out "$WORK/sts-replicas" > /dev/null 2>&1 || fail "sts --devices cpu,cpu"
grep '^| tiny-bert | mean |' "$WORK/sts-replicas/table.md" > "$WORK/row3"
cmp -s "$WORK/row1" "$WORK/row3" || fail "sts on two replicas differs: $(cat "$WORK/row1") vs $(cat "$WORK/row3")"
grep -q '"cached_texts": 0' "$WORK/sts2/results.json" && fail "second run did not use the cache"

# embed
printf 'a dog on a beach\na cat on a mat\na dog on a beach\n' > "$WORK/texts.txt"
"$BIN" embed --model "$FIX/models/tiny-clip" --pooling projected+l2 --in "$WORK/texts.txt" --out "$WORK/emb.safetensors" \
  2> "$WORK/embed.stderr" || { cat "$WORK/embed.stderr"; fail "embed failed"; }
[ -s "$WORK/emb.safetensors" ] || fail "no embeddings written"
grep -q "3 texts (2 unique" "$WORK/embed.stderr" || fail "embed summary: $(cat "$WORK/embed.stderr")"

# Sharded runs (issue 15): embed --shard i/n of 3, then merge, is the unsharded file byte for byte
# (every 3rd batch of the same plan; a small token budget makes many batches); bad merges are named.
python3 - "$SHARED/data/coco/captions_karpathy_test.json" "$WORK/lines.txt" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
caps = [a["caption"].strip() for a in data["annotations"][:150]]
open(sys.argv[2], "w").write("\n".join(caps + caps[:7]) + "\n")  # duplicates too
PY
"$BIN" embed --model "$FIX/models/tiny-bert" --pooling mean --token-budget 96 --no-cache --in "$WORK/lines.txt" \
  --out "$WORK/whole.safetensors" 2> /dev/null || fail "unsharded embed failed"
for i in 0 1 2; do
  "$BIN" embed --model "$FIX/models/tiny-bert" --pooling mean --token-budget 96 --no-cache --in "$WORK/lines.txt" \
    --shard "$i/3" --out "$WORK/shard$i.safetensors" 2> "$WORK/shard$i.stderr" \
    || { cat "$WORK/shard$i.stderr"; fail "embed --shard $i/3 failed"; }
done
"$BIN" merge "$WORK/shard2.safetensors" "$WORK/shard0.safetensors" "$WORK/shard1.safetensors" \
  --out "$WORK/merged.safetensors" 2> "$WORK/merge.stderr" || { cat "$WORK/merge.stderr"; fail "merge failed"; }
cmp "$WORK/whole.safetensors" "$WORK/merged.safetensors" || fail "merged shards differ from the unsharded embed"
# Two model replicas in one process (--devices; cpu,cpu runs the multi-GPU code path on the CPU):
# the same file byte for byte, alone and for a shard.
"$BIN" embed --model "$FIX/models/tiny-bert" --pooling mean --token-budget 96 --no-cache --in "$WORK/lines.txt" \
  --devices cpu,cpu --out "$WORK/replicas.safetensors" 2> "$WORK/replicas.stderr" \
  || { cat "$WORK/replicas.stderr"; fail "embed --devices cpu,cpu failed"; }
cmp "$WORK/whole.safetensors" "$WORK/replicas.safetensors" || fail "two CPU replicas differ from one device"
"$BIN" embed --model "$FIX/models/tiny-bert" --pooling mean --token-budget 96 --no-cache --in "$WORK/lines.txt" \
  --devices cpu,cpu --shard 1/3 --out "$WORK/replicas-shard1.safetensors" 2> /dev/null || fail "embed --devices --shard"
cmp "$WORK/shard1.safetensors" "$WORK/replicas-shard1.safetensors" || fail "a shard on two CPU replicas differs"
if "$BIN" embed --model "$FIX/models/tiny-bert" --in "$WORK/lines.txt" --devices cpu,cuda:0 --no-cache \
     --out "$WORK/mixed.safetensors" 2> "$WORK/mixed.stderr"; then fail "--devices cpu,cuda:0 was accepted"; fi
grep -q -- "--devices 'cpu,cuda:0'" "$WORK/mixed.stderr" || fail "--devices message: $(cat "$WORK/mixed.stderr")"
set +e
"$BIN" merge "$WORK/shard0.safetensors" "$WORK/shard1.safetensors" --out "$WORK/short.safetensors" 2> "$WORK/short.stderr"
[ $? -eq 1 ] || fail "merge of 2 of 3 shards did not fail"
grep -q "2 files given for a run of 3 shards" "$WORK/short.stderr" || fail "merge message: $(cat "$WORK/short.stderr")"
"$BIN" merge "$WORK/shard0.safetensors" "$WORK/shard0.safetensors" "$WORK/shard1.safetensors" \
  --out "$WORK/twice.safetensors" 2> "$WORK/twice.stderr"
grep -q "shard 0/3 is also" "$WORK/twice.stderr" || fail "duplicate shard not named: $(cat "$WORK/twice.stderr")"
"$BIN" embed --model "$FIX/models/tiny-bert" --in "$WORK/lines.txt" --shard 3/3 --out "$WORK/bad.safetensors" 2> "$WORK/badshard.stderr"
[ $? -eq 1 ] && grep -q "expected i/n with 0 <= i < n" "$WORK/badshard.stderr" || fail "--shard 3/3: $(cat "$WORK/badshard.stderr")"
# Hostile metadata: shards claiming 10^14 texts are refused by the rows they hold, under a 1 GiB
# address-space limit (nothing is allocated for the claimed size).
python3 - "$WORK" <<'PY'
import json, struct, sys
for i in range(3):
    path = "%s/shard%d.safetensors" % (sys.argv[1], i)
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"]["total_texts"] = "100000000000000"
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    open("%s/hostile%d.safetensors" % (sys.argv[1], i), "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
PY
(ulimit -v 1048576; "$BIN" merge "$WORK"/hostile0.safetensors "$WORK"/hostile1.safetensors "$WORK"/hostile2.safetensors \
  --out "$WORK/hostile.safetensors" 2> "$WORK/hostile.stderr")
[ $? -eq 1 ] && grep -q "the shards hold 157 rows, but their run had 100000000000000 texts" "$WORK/hostile.stderr" \
  || fail "hostile total_texts: $(cat "$WORK/hostile.stderr")"
set -e
[ ! -e "$WORK/short.safetensors" ] && [ ! -e "$WORK/twice.safetensors" ] && [ ! -e "$WORK/hostile.safetensors" ] \
  || fail "a refused merge wrote its output"
# sts --shard: the shards fill a fresh cache; the unsharded sts then computes nothing and its table
# equals a run from scratch.
for i in 0 1; do
  SYN_CACHE_DIR="$WORK/shard-cache" "$BIN" sts --cxc "$SHARED/data/cxc/sts_test.csv" \
    --captions "$SHARED/data/coco/captions_karpathy_test.json" --models "$FIX/models/tiny-bert" "$FIX/models/tiny-clip" \
    --pooling mean --max-pairs 200 --shard "$i/2" 2> "$WORK/sts-shard$i.stderr" \
    || { cat "$WORK/sts-shard$i.stderr"; fail "sts --shard $i/2 failed"; }
done
SYN_CACHE_DIR="$WORK/shard-cache" "$BIN" sts --cxc "$SHARED/data/cxc/sts_test.csv" \
  --captions "$SHARED/data/coco/captions_karpathy_test.json" --models "$FIX/models/tiny-bert" "$FIX/models/tiny-clip" \
  --pooling mean --max-pairs 200 --bootstrap 100 --out "$WORK/sts-sharded" > /dev/null 2>&1 || fail "sts after shards failed"
[ "$(grep -c '"computed_texts": 0' "$WORK/sts-sharded/results.json")" -eq 2 ] \
  || fail "sts after its shards computed embeddings: $(grep computed_texts "$WORK/sts-sharded/results.json")"
for m in tiny-bert tiny-clip; do
  grep "^| $m | mean |" "$WORK/sts/table.md" > "$WORK/row-whole"
  grep "^| $m | mean |" "$WORK/sts-sharded/table.md" > "$WORK/row-sharded"
  cmp -s "$WORK/row-whole" "$WORK/row-sharded" || fail "$m: sharded STS differs: $(cat "$WORK/row-whole") vs $(cat "$WORK/row-sharded")"
done

# Bad input: a clear message naming the file, exit code 1, no output folder.
set +e
"$BIN" sts --cxc "$WORK/missing.csv" --captions "$SHARED/data/coco/captions_karpathy_test.json" \
  --models lexical/jaccard --out "$WORK/never" 2> "$WORK/bad.stderr"
rc=$?
set -e
[ "$rc" = 1 ] || fail "missing csv: exit code $rc"
grep -q "missing.csv" "$WORK/bad.stderr" || fail "missing csv: message does not name the file: $(cat "$WORK/bad.stderr")"
[ ! -e "$WORK/never" ] || fail "an output folder was created for a failed run"

# Conventions (issue 16): --version, usage errors exit 2, one spelling for lists, thread limits.
version=$("$BIN" --version) || fail "--version exited with $?"
echo "$version" | grep -Eq '^synesthesia [0-9]+\.[0-9]+\.[0-9]+ \(libtorch [0-9.]+' || fail "--version printed '$version'"
"$BIN" --help > /dev/null || fail "--help exited with $?"
for args in "sts --no-such-option" "no-such-command" "" "embed --model x"; do
  set +e
  # shellcheck disable=SC2086
  "$BIN" $args > /dev/null 2> "$WORK/usage.stderr"
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "usage error '$args': exit code $rc, expected 2 ($(cat "$WORK/usage.stderr"))"
done
# --model and --models, commas and spaces: the same list.
"$BIN" sts --cxc "$SHARED/data/cxc/sts_test.csv" --captions "$SHARED/data/coco/captions_karpathy_test.json" \
  --model lexical/jaccard,lexical/tfidf --max-pairs 50 --bootstrap 10 --mteb --out "$WORK/commas" > /dev/null 2>&1 \
  || fail "sts with a comma-separated --model list failed"
# --mteb: MTEB's result layout and sentence-transformers' CSV hold the numbers results.json holds.
python3 - "$WORK/commas" <<'PY' || fail "--mteb files do not match results.json"
import csv, json, os, sys
out = sys.argv[1]
results = json.load(open(os.path.join(out, "results.json")))
for e in results["encoders"]:
    folder = e["model"].replace("/", "__")
    for task, key in (("CxC-STS-L", "sts_l"), ("CxC-STS-V", "sts_v")):
        m = json.load(open(os.path.join(out, "mteb", folder, "no_revision_available", task + ".json")))
        test = m["scores"]["test"][0]
        assert m["task_name"] == task, m
        assert abs(test["cosine_spearman"] - e["all"][key + "_spearman"]["value"]) < 1e-12, (task, test, e["all"])
        assert abs(test["cosine_pearson"] - e["all"][key + "_pearson"]["value"]) < 1e-12
        assert test["main_score"] == test["cosine_spearman"]
        rows = list(csv.DictReader(open(os.path.join(out, "sentence-transformers", folder,
                                                     "similarity_evaluation_%s_results.csv" % task.lower()))))
        assert len(rows) == 1 and abs(float(rows[0]["cosine_spearman"]) - test["cosine_spearman"]) < 1e-12, rows
PY
grep -q "| lexical/jaccard |" "$WORK/commas/table.md" && grep -q "| lexical/tfidf |" "$WORK/commas/table.md" \
  || fail "comma-separated --model list: $(cat "$WORK/commas/table.md")"
# Threads: OMP_NUM_THREADS and the CPU affinity are respected (SYN_NUM_THREADS overrides both).
OMP_NUM_THREADS=1 "$BIN" device | grep -q "CPU: 1 thread " || fail "OMP_NUM_THREADS=1 ignored: $(OMP_NUM_THREADS=1 "$BIN" device)"
if command -v taskset > /dev/null; then
  taskset -c 0 "$BIN" device | grep -q "CPU: 1 thread " || fail "affinity to one CPU ignored: $(taskset -c 0 "$BIN" device)"
fi
SYN_NUM_THREADS=3 OMP_NUM_THREADS=1 "$BIN" device | grep -q "CPU: 3 threads" || fail "SYN_NUM_THREADS does not override"
echo "cli end-to-end: 1 passed, 0 failed"
