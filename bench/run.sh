#!/usr/bin/env bash
# make bench: Coachboard against the note's FastAPI system on copies of one generated file.
#   bench/run.sh [ROWS] [SECTION]   (default 1,000,000 rows; ROWS=10000000 for 10M; SECTION
#   one of reads, writers, ingest, dashboard to measure only that)
#   STORE=cluster bench/run.sh ...: the same events loaded once more into the local ClickHouse
#   cluster (scripts/cluster.sh, database bench_ROWS, kept between runs), a third server on
#   it, and its figures printed beside the DuckDB store's.
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

cluster_flags=()
cluster_api=""
if [ "${STORE:-}" = cluster ]; then
  was_up=0
  curl -fs -o /dev/null http://127.0.0.1:18121/ping && was_up=1
  cluster_url=$(scripts/cluster.sh up | sed "s#/coachboard?#/bench_$rows?#")
  # Stopped again afterwards unless it was running before (its data stays for the next run).
  [ "$was_up" = 1 ] || trap 'scripts/cluster.sh down' EXIT
  stored=$(curl -fs "http://127.0.0.1:18121/?user=reader&password=${COACHBOARD_CLICKHOUSE_READER_PASSWORD:-coachboard-reader}" \
    --data-binary "SELECT count() FROM bench_$rows.events" 2>/dev/null || echo 0)
  # Earlier runs' writes stay (a few thousand events); a partial load is resumed.
  if ! [ "$stored" -ge "$rows" ] 2>/dev/null; then
    echo "==> loading $rows events into the cluster (resumes a partial load; ~100k events/s)"
    "$api_bin" copy --from "duckdb:$source_db" --to "$cluster_url"
  fi
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ours_port=$(free_port); theirs_port=$(free_port)
COACHBOARD_LOG=warn "$api_bin" --db "$work/coachboard.duckdb" --addr "127.0.0.1:$ours_port" --static-dir dist > "$work/coachboard.log" 2>&1 &
ours=$!
COACH_DB="$work/baseline.duckdb" "$venv/bin/uvicorn" --app-dir bench/baseline app:app --host 127.0.0.1 --port "$theirs_port" --workers 1 --no-access-log --log-level warning > "$work/baseline.log" 2>&1 &
theirs=$!
urls=("http://127.0.0.1:$ours_port/healthz" "http://127.0.0.1:$theirs_port/analytics/summary")
if [ -n "${cluster_url:-}" ]; then
  cluster_port=$(free_port)
  COACHBOARD_LOG=warn "$api_bin" --store "$cluster_url" --addr "127.0.0.1:$cluster_port" --static-dir dist > "$work/cluster.log" 2>&1 &
  cluster_api=$!
  urls+=("http://127.0.0.1:$cluster_port/healthz")
  cluster_flags=(--cluster "http://127.0.0.1:$cluster_port")
fi
# The run's own status, not that of the servers it stops (143, killed), is the script's.
trap 'status=$?; kill $ours $theirs $cluster_api 2>/dev/null; wait $ours $theirs $cluster_api 2>/dev/null || true; [ "${was_up:-1}" = 1 ] || scripts/cluster.sh down; exit $status' EXIT
for url in "${urls[@]}"; do
  for _ in $(seq 1 600); do curl -fs -o /dev/null "$url" && break; sleep 0.2; done
done
cargo run --quiet -p coachboard-bench -- \
  --coachboard "http://127.0.0.1:$ours_port" --baseline "http://127.0.0.1:$theirs_port" \
  --rows "$rows" --dist dist --out bench/RESULTS.md --coachboard-pid "$ours" --end "$end" \
  ${only:+--only "$only"} "${cluster_flags[@]}"
# A full run is kept per size; a partial one only in RESULTS.md.
[ -n "$only" ] || cp bench/RESULTS.md "bench/results-$rows${cluster_url:+-cluster}.md"
