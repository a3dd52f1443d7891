#!/usr/bin/env bash
# Lighthouse 12 (npm, installed into .tools/audit on first use) against the built dashboard
# on ROWS generated events: served by coachboard-api (compressed, as `make run` does) and by a
# plain static host without compression (python's http.server), each as a throttled phone
# and as a desktop. Prints the scores; asserts nothing (these are measurements).
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
api_bin="${API_BIN:?API_BIN: the coachboard-api binary}"
export PATH="$PWD/.tools/audit/node_modules/.bin:$PATH"
if ! lighthouse --version 2>/dev/null | grep -q '^12\.'; then
  echo "==> installing Lighthouse 12 (npm) into .tools/audit"
  npm install --prefix .tools/audit --no-audit --no-fund --loglevel=error lighthouse@12
fi
export CHROME_PATH="${CHROME_PATH:-$(command -v chromium)}"

work=$(mktemp -d)
reports="${AUDIT_DIR:-target/audit}"
mkdir -p "$reports"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$1/$2" 2>/dev/null && return; sleep 0.2; done; echo "nothing on :$1" >&2; exit 1; }

api_port=$(free_port); static_port=$(free_port)
echo "==> $rows events into a fresh file"
"$api_bin" generate --rows "$rows" --db "$work/events.duckdb" >/dev/null
"$api_bin" --db "$work/events.duckdb" --addr "127.0.0.1:$api_port" --static-dir dist \
  --cors-origin "http://127.0.0.1:$static_port" >"$work/api.log" 2>&1 &
pids+=($!)
# The plain static host: the same files, no compression, config.json naming the API.
mkdir "$work/static"
cp dist/*.html dist/*.js dist/*.wasm dist/*.css "$work/static/"
printf '{"api_url": "http://127.0.0.1:%s", "title": "Coach Effect", "default_range": "all"}\n' "$api_port" \
  >"$work/static/config.json"
(cd "$work/static" && exec python3 -m http.server "$static_port" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)
wait_port "$api_port" healthz
wait_port "$static_port" index.html

# Each form is run RUNS times and the run with the median performance score is printed: one
# Lighthouse run on this 2-core machine varies by 10 points. "phone, applied" throttles the
# network and CPU while loading (DevTools throttling); "phone, simulated" loads unthrottled and
# simulates (Lantern, the default). Lantern counts every request that starts before the
# largest paint as delaying it, so a static frame that paints while the WebAssembly is already
# downloading gets the download's time; applied throttling observes when it really paints.
runs="${RUNS:-3}"
printf '\n%-44s %6s %6s %6s %6s  %s\n' "where, how (median of $runs)" "perf" "a11y" "best" "seo" "LCP / TBT / CLS"
for target in "coachboard-api|http://127.0.0.1:$api_port/" "static host, no compression|http://127.0.0.1:$static_port/"; do
  name=${target%%|*}; url=${target#*|}
  for form in "phone, simulated" "phone, applied" "desktop"; do
    case "$form" in
      "phone, simulated") flags=() ;;
      "phone, applied") flags=(--throttling-method=devtools) ;;
      desktop) flags=(--preset=desktop) ;;
    esac
    base="$reports/$(echo "$name $form" | tr -c 'a-z0-9' '-' | sed 's/-*$//')"
    for run in $(seq 1 "$runs"); do
      lighthouse "$url" "${flags[@]}" --quiet --output=json --output=html --output-path="$base-$run" \
        --only-categories=performance,accessibility,best-practices,seo \
        --chrome-flags="--headless=new --no-sandbox --disable-gpu" >/dev/null 2>&1 || {
          echo "lighthouse failed on $url ($form)" >&2; }
    done
    python3 - "$name, $form" "$base" "$runs" <<'PY'
import json, os, sys
label, base, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
reports = [json.load(open(f"{base}-{n}.report.json")) for n in range(1, runs + 1)
           if os.path.exists(f"{base}-{n}.report.json")]
if not reports: sys.exit(0)
score = lambda report, key: round((report["categories"][key]["score"] or 0) * 100)
reports.sort(key=lambda report: score(report, "performance"))
report = reports[len(reports) // 2]
audit = lambda key: report["audits"][key]["displayValue"]
spread = "/".join(str(score(r, "performance")) for r in reports)
print(f'{label:<44} {score(report, "performance"):>6} {score(report, "accessibility"):>6} {score(report, "best-practices"):>6} '
      f'{score(report, "seo"):>6}  {audit("largest-contentful-paint")} / {audit("total-blocking-time")} / '
      f'{audit("cumulative-layout-shift")}  (perf of each run: {spread})')
failed = [a["id"] for a in report["audits"].values()
          if a.get("scoreDisplayMode") in ("binary", "numeric") and a.get("score") is not None and a["score"] < 0.9
          and a["id"] in {r["id"] for c in ("accessibility", "best-practices", "seo") for r in report["categories"][c]["auditRefs"]}]
if failed: print("    below 90:", ", ".join(failed))
PY
  done
done
echo "reports: $reports/*.report.html"
