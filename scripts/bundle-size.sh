#!/usr/bin/env bash
# Prints the size of the dashboard bundle (wasm + js + css): raw, gzip and brotli (the
# precompressed copies scripts/precompress.sh wrote, when present).
set -euo pipefail
dist="${1:-dist}"
total_raw=0; total_gzip=0; total_br=0
printf '%-44s %10s %10s %10s\n' "file" "raw" "gzip" "brotli"
for file in "$dist"/*.wasm "$dist"/*.js "$dist"/*.css; do
  [ -f "$file" ] || continue
  raw=$(stat -c %s "$file"); gz=$(gzip -9c "$file" | wc -c)
  br=0; [ -f "$file.br" ] && br=$(stat -c %s "$file.br")
  total_raw=$((total_raw + raw)); total_gzip=$((total_gzip + gz)); total_br=$((total_br + br))
  printf '%-44s %10d %10d %10d\n' "$(basename "$file")" "$raw" "$gz" "$br"
done
printf '%-44s %10d %10d %10d  (budget 307200 as sent)\n' "total" "$total_raw" "$total_gzip" "$total_br"
