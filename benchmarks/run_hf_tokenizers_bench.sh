#!/usr/bin/env bash
# Hugging Face's Rust tokenizers (npm package @anush008/tokenizers, installed into a temp folder,
# never into the repository) beside our bench_tokenizers, on the 25,000 Karpathy-test captions.
#   benchmarks/run_hf_tokenizers_bench.sh [build-dir]     (default: build)
# Environment: SYNESTHESIA_SHARED (default: ../shared beside the repository), HF_TOK_DIR (default:
# /tmp/syn-hf-tokenizers, reused when it already holds the package).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$repo/build}"
shared="${SYNESTHESIA_SHARED:-$repo/../shared}"
shared="$(cd "$shared" && pwd)"
hf_dir="${HF_TOK_DIR:-/tmp/syn-hf-tokenizers}"

bench="$build/benchmarks/bench_tokenizers"
[[ -x "$bench" ]] || { echo "missing $bench: build the bench_tokenizers target first" >&2; exit 1; }

if [[ ! -d "$hf_dir/node_modules/@anush008/tokenizers" ]]; then
  echo "== installing @anush008/tokenizers into $hf_dir" >&2
  mkdir -p "$hf_dir"
  (cd "$hf_dir" && { [[ -f package.json ]] || npm init -y >/dev/null; } && npm install --no-audit --no-fund @anush008/tokenizers >&2)
fi

echo "== Hugging Face tokenizers (Rust via node), $(nproc) cores"
SYNESTHESIA_SHARED="$shared" NODE_PATH="$hf_dir/node_modules" node "$shared/bench/hf_tokenizers.js"
echo "== syn::text (bench_tokenizers), one thread"
"$bench" "$shared/data/coco/captions_karpathy_test.json" "$shared/fixtures/tokenizers"
