"""The design note's API, as written there: the three analytics handlers over one
module-level DuckDB connection (a cursor per request), plus a minimal POST /events doing one
parameterised INSERT. The baseline Coachboard is measured against (bench/run.sh)."""

import json
import os

import duckdb
from fastapi import FastAPI

DB_PATH = os.environ["COACH_DB"]
_connection = duckdb.connect(DB_PATH)

app = FastAPI()


def get_db():
    return _connection.cursor()


@app.get("/analytics/summary")
def get_analytics_summary():
    """Get summary analytics for dashboard."""
    conn = get_db()

    total = conn.execute("SELECT COUNT(*) FROM coach_events").fetchone()[0]
    offered = conn.execute("SELECT COUNT(*) FROM coach_events WHERE event = 'offered'").fetchone()[0]
    accepted = conn.execute("SELECT COUNT(*) FROM coach_events WHERE event IN ('accepted', 'edited')").fetchone()[0]
    avg_latency = conn.execute("SELECT AVG(latency_ms) FROM coach_events WHERE latency_ms > 0").fetchone()[0]

    return {
        "total_events": total,
        "suggestions_offered": offered,
        "suggestions_accepted": accepted,
        "accept_rate": (accepted / offered * 100) if offered > 0 else 0,
        "avg_latency_ms": int(avg_latency) if avg_latency else 0
    }


@app.get("/analytics/events")
def get_analytics_events(limit: int = 100):
    """Get recent events for dashboard."""
    conn = get_db()

    events = conn.execute(f"""
        SELECT
            id, ts, event, session_id,
            agent_draft, suggestion_used,
            policy_refs, latency_ms, ab_test_bucket
        FROM coach_events
        ORDER BY ts DESC
        LIMIT {limit}
    """).df()

    return events.to_dict(orient="records")


@app.get("/analytics/policies")
def get_policy_violations():
    """Get policy violation counts."""
    conn = get_db()

    policies_data = conn.execute("""
        SELECT policy_refs FROM coach_events WHERE policy_refs IS NOT NULL
    """).fetchall()

    policy_counts = {}
    for row in policies_data:
        try:
            policies = json.loads(row[0])
            for p in policies:
                policy_counts[p] = policy_counts.get(p, 0) + 1
        except:  # noqa: E722 (as in the note)
            pass

    return policy_counts


@app.post("/events")
def post_event(event: dict):
    """One event, one parameterised INSERT."""
    conn = get_db()
    conn.execute(
        "INSERT INTO coach_events (id, ts, event, session_id, agent_draft, suggestion_used, policy_refs, latency_ms, ab_test_bucket) "
        "VALUES (?, COALESCE(CAST(? AS TIMESTAMP), now()::TIMESTAMP), ?, ?, ?, ?, ?, ?, ?)",
        [
            event.get("id") or os.urandom(16).hex(),
            event.get("ts"),
            event["event"],
            event.get("session_id"),
            event.get("agent_draft"),
            event.get("suggestion_used"),
            json.dumps(event["policy_refs"]) if isinstance(event.get("policy_refs"), list) else event.get("policy_refs"),
            event.get("latency_ms"),
            event.get("ab_test_bucket"),
        ],
    )
    return {"stored": 1}
