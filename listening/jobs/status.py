"""What ``listening status`` shows: each job's last and next run, and the recent failures.

Read from ``runs``, the job store and the leases, so it works from any process while
the scheduler runs elsewhere; the dashboard's Sources health page reads the same data.

    report = status(store)          # plain data (``--json``)
    Console().print(render(report))
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from listening.store import Store
from listening.store.jobstore import next_runs

OVERDUE_AFTER = timedelta(minutes=2)  # a next run this far in the past: the scheduler is down or stuck
STYLES = {"ok": "green", "partial": "yellow", "running": "cyan", "stopped": "yellow",
          "failed": "red", "timeout": "red", "abandoned": "red"}


def status(store: Store, *, now: datetime | None = None, failures: int = 10) -> dict[str, Any]:
    """Every job (scheduled or with runs) and the newest failures, as JSON-able data."""
    now = now or datetime.now(timezone.utc)
    upcoming = next_runs(store)
    leases = {lease["_id"]: lease for lease in store.leases.all()}
    scheduled = sorted(upcoming)
    last = store.runs.last_runs_by_job(scheduled, scheduled=True)
    # Kinds only ever run by hand (import, demo): their newest run. Scheduled kinds show
    # per job id above; their runs by hand are on the Sources page.
    covered = {job_id.split(":")[0] for job_id in upcoming} | {"command"}
    kinds = [kind for kind in store.runs.jobs() if kind not in covered]
    last.update(store.runs.last_runs_by_job(kinds))
    jobs = [_row(name, upcoming, last.get(name), leases.get(name), now)
            for name in sorted(scheduled + kinds)]
    schedulers = [{"id": doc["_id"], "seen_at": doc["seen_at"].isoformat(),
                   "started_at": doc["started_at"].isoformat()} for doc in store.leases.live_schedulers()]
    return {
        "at": now.isoformat(),
        "schedulers": schedulers,
        "scheduler_running": bool(schedulers),
        "jobs": jobs,
        "failures": [_run(doc) for doc in store.runs.failures(limit=failures)],
    }


def _row(name: str, upcoming: dict, last: dict | None, lease: dict | None, now: datetime) -> dict:
    next_run = upcoming.get(name)
    running_on = None
    if lease and lease.get("released_at") is None and lease["expires_at"] > now:
        running_on = lease.get("owner")
    return {
        "job": name,
        "scheduled": name in upcoming,
        "next_run": next_run.isoformat() if next_run else None,
        "overdue": bool(next_run and now - next_run > OVERDUE_AFTER),
        "running_on": running_on,
        "last": _run(last) if last else None,
    }


def _run(doc: dict) -> dict:
    started, finished = doc.get("started_at"), doc.get("finished_at")
    return {
        "id": doc["_id"], "job": doc.get("scheduled_job") or doc["job"], "status": doc.get("status"),
        "started_at": started.isoformat() if started else None,
        "finished_at": finished.isoformat() if finished else None,
        "seconds": round((finished - started).total_seconds(), 1) if started and finished else None,
        "counts": doc.get("counts") or {},
        "error": doc.get("error"),
    }


def render(report: dict) -> Group:
    """Two tables: jobs (last and next run) and recent failures."""
    jobs = Table(title="Jobs", title_justify="left")
    for column in ("job", "last run", "status", "took", "counts", "next run"):
        jobs.add_column(column, justify="right" if column == "took" else "left")
    for row in report["jobs"]:
        last = row["last"] or {}
        status = last.get("status") or "-"
        if row["running_on"]:
            status = f"running on {row['running_on']}"
        next_run = _short(row["next_run"]) if row["scheduled"] else "not scheduled"
        jobs.add_row(
            row["job"], _short(last.get("started_at")), Text(status, style=STYLES.get(last.get("status"), "")),
            f"{last['seconds']:.1f}s" if last.get("seconds") is not None else "",
            _counts(last.get("counts") or {}),
            Text(next_run + (" (overdue)" if row["overdue"] else ""), style="red" if row["overdue"] else ""))
    parts: list[Any] = [jobs]
    if report["schedulers"]:
        parts.append(Text("Schedulers: " + ", ".join(
            f"{s['id']} (since {_short(s['started_at'])})" for s in report["schedulers"])))
    else:
        parts.append(Text("No scheduler is running: start `listening schedule` "
                          "(next runs above happen only then).", style="yellow"))
    if report["failures"]:
        failures = Table(title="Recent failures", title_justify="left")
        for column in ("when", "job", "status", "error"):
            failures.add_column(column)
        for run in report["failures"]:
            failures.add_row(_short(run["started_at"]), run["job"],
                             Text(run["status"], style="red"), (run["error"] or "")[:120])
        parts.append(failures)
    return Group(*parts)


def _short(iso: str | None) -> str:
    return iso[:19].replace("T", " ") + " UTC" if iso else "-"


def _counts(counts: dict) -> str:
    shown = [f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in counts.items() if v]
    return ", ".join(shown[:4])
