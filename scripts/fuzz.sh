#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, torch-free parsers only) and runs each one for the given time
# with a seed corpus made at run time from ${SYNESTHESIA_SHARED:-../shared}/fixtures and data (never
# copied into the repository), then prints executions and findings per target.
#   scripts/fuzz.sh [seconds per target, default 300] [target ...]
# Environment: SYN_FUZZ_BUILD_DIR (default build-fuzz), SYN_FUZZ_WORK (corpora, crashes and logs;
# default build-fuzz/fuzz-work), SYN_FUZZ_JOBS (build parallelism, default nproc).
# Exit status: 0 when no target found anything, 1 when one did (its crash-* / leak-* / timeout-* /
# oom-* files are listed), 2 on a build or setup error.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_PER_TARGET="${1:-300}"
shift || true
BUILD="${SYN_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
WORK="${SYN_FUZZ_WORK:-$BUILD/fuzz-work}"
SHARED="${SYNESTHESIA_SHARED:-$ROOT/../shared}"
FIXTURES="$SHARED/fixtures"
DATA="$SHARED/data"
ALL_TARGETS=(fuzz_safetensors fuzz_unpickler fuzz_tokenizer fuzz_celeba_attributes fuzz_csv fuzz_coco_captions
             fuzz_glue fuzz_hf_config fuzz_torch_zip fuzz_image fuzz_taming_config)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

if [ ! -d "$FIXTURES" ]; then
  echo "fuzz.sh: $FIXTURES not found: set SYNESTHESIA_SHARED to the shared folder" >&2
  exit 2
fi

# --- build ---------------------------------------------------------------------------------------
GEN=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$BUILD/Makefile" ]; then GEN=(-G Ninja); fi
mkdir -p "$BUILD"
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DSYN_BUILD_FUZZERS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log" >&2; exit 2; }
cmake --build "$BUILD" -j"${SYN_FUZZ_JOBS:-$(nproc)}" --target "${TARGETS[@]}" || exit 2

# --- seed corpora, made from the shared fixtures at run time ----------------------------------------
rm -rf "$WORK/seeds"
mkdir -p "$WORK/seeds" "$WORK/corpus" "$WORK/findings" "$WORK/logs"
seed_dir() { mkdir -p "$WORK/seeds/$1"; echo "$WORK/seeds/$1"; }

make_seeds() {
  local d
  d=$(seed_dir fuzz_safetensors)
  for f in "$FIXTURES"/models/*/golden.safetensors; do [ -f "$f" ] && cp "$f" "$d/$(basename "$(dirname "$f")").safetensors"; done

  d=$(seed_dir fuzz_unpickler)
  [ -f "$FIXTURES/models/tiny-taming/last.ckpt" ] && unzip -p "$FIXTURES/models/tiny-taming/last.ckpt" '*/data.pkl' >"$d/last_data.pkl" 2>/dev/null

  d=$(seed_dir fuzz_tokenizer)
  # The first byte picks the tokenizer and the options; a few texts of each case file.
  python3 - "$FIXTURES/tokenizers" "$d" <<'PY'
import json, pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
for cases in sorted(src.glob("*.cases.jsonl")):
    for i, line in enumerate(cases.read_text(encoding="utf-8").splitlines()[:25]):
        text = json.loads(line)["text"].encode("utf-8")
        (out / f"{cases.stem}_{i}").write_bytes(bytes([n % 256]) + text)
        n += 1
PY

  d=$(seed_dir fuzz_celeba_attributes)
  printf '2\n5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young\n000001.jpg -1  1  1 -1 -1 -1 -1 -1 -1 -1 -1  1 -1 -1 -1 -1 -1 -1  1  1 -1  1 -1 -1  1 -1 -1  1 -1 -1 -1  1  1 -1  1 -1  1 -1 -1  1\n000002.jpg -1 -1 -1  1 -1 -1 -1  1 -1 -1 -1  1 -1 -1 -1 -1 -1 -1 -1  1 -1  1 -1 -1  1 -1 -1 -1 -1 -1 -1  1 -1 -1 -1 -1 -1 -1 -1  1\n' >"$d/list_attr_celeba.txt"
  printf 'The woman has arched eyebrows and wavy hair.\nShe is smiling.\n' >"$d/caption.txt"

  d=$(seed_dir fuzz_csv)
  for f in "$DATA"/cxc/*.csv; do [ -f "$f" ] && head -n 40 "$f" >"$d/$(basename "$f")"; done
  printf 'a,"b, quoted","he said ""hi"""\r\n1,2,3\r\n"two\nlines",x,\n' >"$d/quoting.csv"

  d=$(seed_dir fuzz_coco_captions)
  python3 - "$DATA/coco" "$d" <<'PY'
import json, pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for f in sorted(src.glob("*.json")):
    j = json.loads(f.read_text(encoding="utf-8"))
    if "annotations" in j:
        images = j["images"][:3]
        ids = {i["id"] for i in images}
        small = {"images": images, "annotations": [a for a in j["annotations"] if a["image_id"] in ids][:12]}
    else:
        small = {"images": j.get("images", [])[:3], "dataset": j.get("dataset", "coco")}
    (out / f.name).write_text(json.dumps(small), encoding="utf-8")
# The Karpathy layout too.
(out / "karpathy.json").write_text(json.dumps({"dataset": "coco", "images": [
    {"imgid": 0, "cocoid": 1, "split": "test", "filename": "a.jpg",
     "sentences": [{"sentid": 0, "raw": "A dog.", "tokens": ["a", "dog"]}]}]}), encoding="utf-8")
PY

  d=$(seed_dir fuzz_glue)
  # First byte: task index (cola sst2 mrpc stsb qqp mnli qnli rte wnli) + 9 x policy.
  printf '\x00gj04\t1\t\tOur friends will not buy this analysis.\n' >"$d/cola"
  printf '\x01sentence\tlabel\nhide new secretions from the parental units \t0\n' >"$d/sst2"
  printf '\xef\xbb\xbf\x02Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t702876\t702977\tAmrozi accused his brother.\tReferring to him as only "the witness".\n' >"$d/mrpc"
  printf '\x03index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\tAn air plane is taking off.\t5.000\n' >"$d/stsb"
  printf '\x04id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n0\t1\t2\tWhat is a?\tWhat is b?\t0\nbroken line\n' >"$d/qqp"
  printf '\x05index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n0\t1\t1n\tgov\t(a)\t(b)\t(A)\t(B)\tThe cat sat.\tA cat sat.\tneutral\tneutral\n' >"$d/mnli"
  printf '\x06index\tquestion\tsentence\tlabel\n0\tWhen?\tIn 1990.\tentailment\n' >"$d/qnli"
  printf '\x07index\tsentence1\tsentence2\tlabel\n0\tA man sleeps.\tA person sleeps.\tentailment\n' >"$d/rte"
  printf '\x08index\tsentence1\tsentence2\tlabel\n0\tI stuck a pin.\tI stuck a pin in it.\t1\n' >"$d/wnli"

  d=$(seed_dir fuzz_hf_config)
  for f in "$FIXTURES"/models/*/*.json "$FIXTURES"/tokenizers/*/tokenizer_config.json; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 65536 ] && cp "$f" "$d/$(basename "$(dirname "$f")")_$(basename "$f")"
  done

  d=$(seed_dir fuzz_torch_zip)
  # The tiny-taming last.ckpt without its large storages (the reader stops at the first missing
  # one, after the whole pickle and the container checks), stored as torch.save stores.
  python3 - "$FIXTURES/models/tiny-taming/last.ckpt" "$d" <<'PY'
import pathlib, sys, zipfile
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
if src.is_file():
    with zipfile.ZipFile(src) as z:
        for name, limit in (("small.ckpt", 4096), ("meta.ckpt", 0)):
            with zipfile.ZipFile(out / name, "w", zipfile.ZIP_STORED) as w:
                for info in z.infolist():
                    if "/data/" in info.filename and info.file_size > limit:
                        continue
                    w.writestr(info.filename, z.read(info.filename))
PY

  d=$(seed_dir fuzz_image)
  for f in "$FIXTURES"/models/*/*.png; do [ -f "$f" ] && cp "$f" "$d/$(basename "$(dirname "$f")")_$(basename "$f")"; done
  python3 - "$d" <<'PY'
import pathlib, struct, sys
out = pathlib.Path(sys.argv[1])
w, h = 4, 3
(out / "tiny.ppm").write_bytes(b"P6\n# seed\n4 3\n255\n" + bytes(range(w * h * 3)))
row = bytes(range(w * 3)) + b"\0" * ((4 - (w * 3) % 4) % 4)
pixels = row * h
(out / "tiny.bmp").write_bytes(b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54) +
                               struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 0, 0, 0, 0) + pixels)
PY

  d=$(seed_dir fuzz_taming_config)
  # The tiny-taming config.json as it is (JSON is YAML), and the same tree as a taming
  # <date>-project.yaml (block style, comments, a lightning section the reader skips, a permuter).
  python3 - "$FIXTURES/models/tiny-taming/config.json" "$d" <<'PY'
import json, pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
if not src.is_file():
    sys.exit(0)
tree = json.loads(src.read_text(encoding="utf-8"))
(out / "config.json").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
def block(node, indent=0):
    pad = " " * indent
    lines = []
    for key, value in node.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines += block(value, indent + 2)
        elif isinstance(value, list):
            lines.append(f"{pad}{key}:")
            lines += [f"{pad}- {json.dumps(v)}" for v in value]
        else:
            lines.append(f"{pad}{key}: {json.dumps(value)}")
    return lines
(out / "tiny-project.yaml").write_text("# taming project config\n" + "\n".join(block(tree)) + "\n", encoding="utf-8")
params = tree["model"]["params"]
params["permuter_config"] = {"target": "taming.modules.transformer.permuter.Identity"}
params["sos_token"] = 0
params["first_stage_config"]["params"]["ddconfig"]["ch_mult"] = "[1, 2, 2]"
text = "\n".join(block(tree)).replace('"[1, 2, 2]"', "[ 1,2,2 ]")
text += "\nlightning:\n  trainer:\n    benchmark: True\n    max_epochs: &e 10\n    min_epochs: *e\n"
(out / "permuter-project.yaml").write_text(text, encoding="utf-8")
PY
}
make_seeds

# --- run -----------------------------------------------------------------------------------------
printf '\n%-24s %12s %10s %8s  %s\n' target executions exec/s findings "details"
status=0
for t in "${TARGETS[@]}"; do
  bin="$BUILD/fuzz/$t"
  [ -x "$bin" ] || { echo "fuzz.sh: $bin not built" >&2; status=2; continue; }
  corpus="$WORK/corpus/$t"
  findings="$WORK/findings/$t"
  rm -rf "$findings"  # this run's findings only (the corpus is kept and grows run after run)
  mkdir -p "$corpus" "$findings"
  log="$WORK/logs/$t.log"
  # The fixtures folder for fuzz_tokenizer; a fresh corpus folder keeps what the run learns.
  SYNESTHESIA_FIXTURES="$FIXTURES" "$bin" "$corpus" "$WORK/seeds/$t" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1536 \
    -max_len=131072 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  found=$(find "$findings" -type f | wc -l)
  detail="ok"
  if [ "$found" -gt 0 ] || [ "$rc" -ne 0 ]; then
    status=1
    detail="rc=$rc; $(grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error' "$log" | cut -c1-120); see $log"
  fi
  printf '%-24s %12s %10s %8s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "$found" "$detail"
done
echo
echo "corpora: $WORK/corpus, findings: $WORK/findings, logs: $WORK/logs"
exit $status
