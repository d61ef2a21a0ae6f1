# A tiny SST-2-style GLUE task in the official layout, for the GLUE tests (sourced).
# write_tiny_sst2 <glue dir>: <dir>/SST-2/{train (64 lines), dev (32), test}.tsv.

# Sentences of neutral words with one sentiment word; label 1 for the "good" words. A fixed
# pseudo-random sequence (no $RANDOM seeding differences between shells).
write_split() {  # file, lines, seed
  local file="$1" n="$2" s="$3"
  local neutral=(the movie was a story about people and it film) good=(good great excellent wonderful)
  local bad=(bad awful terrible boring)
  echo -e "sentence\tlabel" > "$file"
  for ((i = 0; i < n; i++)); do
    s=$(( (s * 1103515245 + 12345) % 2147483648 ))
    local label=$(( (s >> 16) % 2 )) words="" w
    for ((w = 0; w < 4; w++)); do
      s=$(( (s * 1103515245 + 12345) % 2147483648 ))
      words+="${neutral[$(( (s >> 16) % 10 ))]} "
    done
    s=$(( (s * 1103515245 + 12345) % 2147483648 ))
    if [ "$label" = 1 ]; then words+="${good[$(( (s >> 16) % 4 ))]}"; else words+="${bad[$(( (s >> 16) % 4 ))]}"; fi
    printf '%s\t%s\n' "$words" "$label" >> "$file"
  done
}
write_tiny_sst2() {
  mkdir -p "$1/SST-2"
  write_split "$1/SST-2/train.tsv" 64 1
  write_split "$1/SST-2/dev.tsv" 32 2
  printf 'index\tsentence\n0\tthe movie was good\n' > "$1/SST-2/test.tsv"
}
