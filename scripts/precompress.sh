#!/usr/bin/env bash
# Writes FILE.gz and FILE.br beside each wasm, js and css file of a built dashboard, so that
# coachboard-api and static hosts (nginx gzip_static/brotli_static, Caddy precompressed,
# Netlify, ...) send them compressed without compressing on every request.
set -euo pipefail
dist="${1:-dist}"
for file in "$dist"/*.wasm "$dist"/*.js "$dist"/*.css; do
  [ -f "$file" ] || continue
  gzip -9 -n -k -f "$file"
  brotli -q 11 -k -f "$file"
done
