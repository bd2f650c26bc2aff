"""Sources health: how fresh and complete the data is, per source and per job."""

from __future__ import annotations

from datetime import datetime, timezone

import altair as alt
import pandas as pd
import streamlit as st

from listening.app import common as d

RUNS = 500
GOOD = ("ok", "partial")
# What answers "is it fresh, is it broken" first; the rest scrolls.
SOURCE_COLUMNS = ["source", "status", "last run", "items last run", "new last run", "last success", "error",
                  "kind", "enabled", "last error", "runs"]
JOB_COLUMNS = ["job", "status", "last run", "counts", "last success", "error", "last error", "runs"]


@st.cache_data(ttl=30, show_spinner=False)
def recent_runs(key: str) -> list[dict]:
    return d.store(key).runs.recent(limit=RUNS)


@st.cache_data(ttl=30, show_spinner=False)
def trends_state(key: str) -> dict | None:
    try:
        from listening.trends.collect import trends_status
    except ImportError:
        return None
    return trends_status(d.store(key), d.config())


def per_source(runs: list[dict]) -> list[dict]:
    """One row per (source, run), newest first: crawls list their sources, imports have one."""
    rows = []
    for run in runs:
        started = run.get("started_at")
        if isinstance(run.get("sources"), dict):
            for name, detail in run["sources"].items():
                rows.append({"source": name, "kind": detail.get("kind", "?"), "started": started,
                             "status": detail.get("status", run.get("status")),
                             "items": detail.get("items", detail.get("read", 0)),
                             "new": detail.get("new", 0), "unit": "mentions", "error": detail.get("error"),
                             "duration_s": detail.get("duration_s")})
        elif run.get("source"):
            rows.append({"source": run["source"], "kind": run.get("job"), "started": started,
                         "status": run.get("status"), **_collected(run), "error": run.get("error"),
                         "duration_s": _duration(run)})
    return rows


def _collected(run: dict) -> dict:
    """What a run brought in: mentions read (crawls, imports) or search volume points (Trends)."""
    counts = run.get("counts") or {}
    if run.get("job") == "trends":
        return {"items": sum(counts.get(f"points_{k}", 0) for k in ("new", "updated", "unchanged")),
                "new": counts.get("points_new", 0), "unit": "points"}
    return {"items": counts.get("read", counts.get("items", 0)), "new": counts.get("new", 0), "unit": "mentions"}


def source_table(rows: list[dict], configured: list) -> pd.DataFrame:
    """Per source: last run, its status, last success, last error, items in the last run."""
    out = {}
    for src in configured:
        out[src.name] = {"source": src.name, "kind": src.kind, "enabled": src.enabled, "last run": None,
                         "status": "never run", "last success": None, "last error": None,
                         "error": None, "items last run": None, "new last run": None, "runs": 0}
    for row in rows:  # newest first
        entry = out.setdefault(row["source"], {
            "source": row["source"], "kind": row["kind"], "enabled": True, "last run": None,
            "status": None, "last success": None, "last error": None, "error": None,
            "items last run": None, "new last run": None, "runs": 0})
        entry["runs"] += 1
        if entry["last run"] is None:
            entry.update({"last run": row["started"], "status": row["status"],
                          "items last run": row["items"], "new last run": row["new"]})
        if entry["last success"] is None and row["status"] in GOOD:
            entry["last success"] = row["started"]
        if entry["last error"] is None and row["error"]:
            entry["last error"], entry["error"] = row["started"], row["error"]
    return pd.DataFrame(list(out.values()), columns=SOURCE_COLUMNS)


def job_table(runs: list[dict]) -> pd.DataFrame:
    """Per job (crawl, trends, alerts, digest, import...): the same questions."""
    out: dict[str, dict] = {}
    for run in runs:
        job = run.get("job", "?")
        entry = out.setdefault(job, {"job": job, "last run": run.get("started_at"), "status": run.get("status"),
                                     "last success": None, "last error": None, "error": None,
                                     "counts": _short(run.get("counts")), "runs": 0})
        entry["runs"] += 1
        if entry["last success"] is None and run.get("status") in GOOD:
            entry["last success"] = run.get("finished_at") or run.get("started_at")
        if entry["last error"] is None and run.get("error"):
            entry["last error"], entry["error"] = run.get("started_at"), run["error"]
    return pd.DataFrame(list(out.values()), columns=JOB_COLUMNS)


def _duration(run: dict) -> float | None:
    if run.get("finished_at") and run.get("started_at"):
        return (run["finished_at"] - run["started_at"]).total_seconds()
    return None


def _short(counts: dict | None) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in (counts or {}).items() if isinstance(v, int) and v)


def _ago(when: datetime | None) -> str:
    if when is None:
        return "never"
    seconds = (datetime.now(timezone.utc) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return "just now"


def run_axis(started: pd.Series) -> alt.Axis:
    """Labels as fine as the runs' spread, so runs minutes apart don't all read the same minute."""
    span = (started.max() - started.min()).total_seconds() if len(started) else 0
    fmt = "%H:%M:%S" if span < 3600 else "%d %b %H:%M" if span < 3 * 86400 else "%d %b"
    return alt.Axis(format=fmt, labelOverlap=True, tickCount=6)


TIME = st.column_config.DatetimeColumn(format="D MMM YYYY HH:mm")
RUN_COLUMNS = {"last run": TIME, "last success": TIME, "last error": TIME,
               "error": st.column_config.TextColumn("error", width="large")}

st.title("Sources health")
window = d.window_picker("sources")
key = d.db_key()
cfg = d.config()
runs = recent_runs(key)
span = d.time_span(key)

a, b, c, e = st.columns(4)
a.metric("Newest mention", f"{span[1]:%d %b %Y}" if span else "none",
         help="The newest published mention in the store" + (f": {span[1]:%d %b %Y %H:00} UTC." if span else "."))
last_good = next((r for r in runs if r.get("status") in GOOD and r.get("job") != "alerts"), None)
b.metric("Last collection", _ago(last_good.get("finished_at") if last_good else None),
         help="The last crawl, import or Trends run that succeeded.")
failures = [r for r in runs if r.get("status") in ("failed", "timeout", "abandoned")]
c.metric("Failed runs", f"{len(failures):,}", help=f"Among the last {RUNS} runs.")
trends = trends_state(key)
breaker = (trends or {}).get("breaker") or {}
e.metric("Google Trends", {"closed": "OK", "open": "blocked", "half_open": "probing"}.get(
    breaker.get("state", "closed"), breaker.get("state", "?")),
    help="The rate-limit circuit breaker: blocked after repeated 429 answers, until it cools down.")
if breaker.get("state") == "open" and breaker.get("open_until"):
    st.warning(f"Google Trends is rate-limiting us: no Trends requests until "
               f"{breaker['open_until']:%d %b %H:%M} UTC ({breaker.get('consecutive_429', 0)} 429s in a row).")

if not runs and not cfg.sources:
    st.info("Nothing has run yet and no sources are configured. Add `sources:` to the config and run "
            "`listening crawl`, or import a file with `listening import FILE`, or run `listening demo`.")
    st.stop()

st.subheader("Sources")
rows = per_source(runs)
sources = source_table(rows, cfg.sources)
if sources.empty:
    st.info("No source has run yet: `listening crawl` collects the configured sources.")
else:
    st.dataframe(sources.fillna({"error": ""}), hide_index=True, width="stretch", key="sources_table",
                 column_config=RUN_COLUMNS)
window_rows = [r for r in rows if r["started"] and window.since and r["started"] >= window.since] or rows
if window_rows:
    frame = pd.DataFrame(window_rows)
    chart = alt.Chart(frame).mark_circle(size=70).encode(
        x=alt.X("started:T", title="run started (UTC)",
                scale=alt.Scale(type="utc", nice=False, padding=20), axis=run_axis(frame["started"])),
        y=alt.Y("items:Q", title="collected per run"),
        color=alt.Color("source:N"),
        shape=alt.Shape("status:N"),
        tooltip=["source", alt.Tooltip("started:T", format="%d %b %Y %H:%M:%S"), "status", "items", "unit",
                 "new", "error"],
    ).properties(height=220)
    st.altair_chart(chart, width="stretch")
    st.caption("Crawls and imports count the mentions they read; Google Trends runs the search volume "
               "points they wrote.")

st.subheader("Jobs")
jobs = job_table(runs)
if jobs.empty:
    st.info("No job has run yet: `listening schedule` runs crawls, Trends, alerts and digests on time.")
else:
    st.dataframe(jobs.fillna({"error": ""}), hide_index=True, width="stretch", key="jobs_table",
                 column_config=RUN_COLUMNS)

if trends:
    with st.expander("Google Trends"):
        last = trends.get("last_run") or {}
        st.write(f"Categories with search data: {', '.join(trends.get('categories') or []) or 'none'}; "
                 f"cached requests: {trends.get('cached_requests', 0):,}; last run: "
                 f"{_ago(last.get('started_at'))} ({last.get('status', 'never')}).")
        st.json({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in breaker.items()},
                expanded=False)

if failures:
    with st.expander(f"Recent failures ({len(failures)})"):
        st.dataframe(pd.DataFrame([{"job": r.get("job"), "started": r.get("started_at"),
                                    "status": r.get("status"), "error": r.get("error")} for r in failures[:20]]),
                     hide_index=True, width="stretch", column_config={"started": TIME})
