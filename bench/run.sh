#!/usr/bin/env bash
# make bench: Coachboard against the note's FastAPI system on copies of one generated file.
#   bench/run.sh [ROWS] [SECTION]   (default 1,000,000 rows; ROWS=10000000 for 10M; SECTION
#   one of reads, writers, ingest, dashboard to measure only that)
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
only="${2:-}"
api_bin="${COACHBOARD_API_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/coachboard/target}/debug/coachboard-api}"
end="2026-01-15T12:00:00Z"
work=bench/work
mkdir -p "$work"

venv=.venv/baseline
if ! "$venv/bin/python" -c 'import fastapi, uvicorn, duckdb, pandas' 2>/dev/null; then
  echo "==> installing the baseline (FastAPI, pinned) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/baseline/requirements.txt
fi

source_db="$work/events-$rows.duckdb"
if [ ! -f "$source_db" ]; then
  echo "==> generating $rows events"
  "$api_bin" generate --rows "$rows" --db "$source_db" --end "$end" --days 90
fi
rm -f "$work/coachboard.duckdb" "$work/baseline.duckdb" "$work"/*.wal
cp "$source_db" "$work/coachboard.duckdb"
cp "$source_db" "$work/baseline.duckdb"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ours_port=$(free_port); theirs_port=$(free_port)
COACHBOARD_LOG=warn "$api_bin" --db "$work/coachboard.duckdb" --addr "127.0.0.1:$ours_port" --static-dir dist > "$work/coachboard.log" 2>&1 &
ours=$!
COACH_DB="$work/baseline.duckdb" "$venv/bin/uvicorn" --app-dir bench/baseline app:app --host 127.0.0.1 --port "$theirs_port" --workers 1 --no-access-log --log-level warning > "$work/baseline.log" 2>&1 &
theirs=$!
# The run's own status, not that of the servers it stops (143, killed), is the script's.
trap 'status=$?; kill $ours $theirs 2>/dev/null; wait $ours $theirs 2>/dev/null || true; exit $status' EXIT
for url in "http://127.0.0.1:$ours_port/healthz" "http://127.0.0.1:$theirs_port/analytics/summary"; do
  for _ in $(seq 1 600); do curl -fs -o /dev/null "$url" && break; sleep 0.2; done
done
cargo run --quiet -p coachboard-bench -- \
  --coachboard "http://127.0.0.1:$ours_port" --baseline "http://127.0.0.1:$theirs_port" \
  --rows "$rows" --dist dist --out bench/RESULTS.md --coachboard-pid "$ours" --end "$end" \
  ${only:+--only "$only"}
# A full run is kept per size; a partial one only in RESULTS.md.
[ -n "$only" ] || cp bench/RESULTS.md "bench/results-$rows.md"
