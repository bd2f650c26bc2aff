"""The scheduler's jobs: top-level functions that call the library, every run recorded.

APScheduler stores a job as a dotted path plus plain arguments, so each job is a
top-level function of plain values; ``run_recorded`` gives it its lease, its ``runs``
record and the bound store and config (``listening.jobs.runner``). Library modules are
imported when the job runs, so a missing or broken one fails that run's record, never
the scheduler. Crawls, Trends and retraining run in child processes
(``listening.jobs.isolated``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from listening.jobs.isolated import run_cli, run_isolated
from listening.jobs.runner import Context, Outcome, call, current, run_recorded

__all__ = ["alerts", "command", "crawl", "digest", "outbox", "retention", "retrain", "trends"]


def crawl(source: str) -> None:
    """Crawl one configured source (``listening.ingest.crawl.run``) in a subprocess, stopped after
    ``schedule.crawl_timeout_minutes``; the crawl's own run record is this run's."""
    job_id = f"crawl:{source}"
    timeout = current().config.schedule.crawl_timeout_minutes * 60
    run_recorded(job_id, lambda ctx, run_id: run_isolated(
        ctx, run_id, "crawl", "listening.ingest.crawl:run", timeout, args=[[source]]))


def command(job_id: str, args: list[str], timeout_s: float) -> None:
    """Any ``listening ARGS`` command as a subprocess job (imports, one-off jobs, tests)."""
    run_recorded(job_id, lambda ctx, run_id: run_cli(ctx, run_id, list(args), timeout_s), kind="command")


def trends() -> None:
    """Fetch search volumes for the configured brands (daily, jittered), in a subprocess:
    its pacing and backoff can take long, and SIGTERM must not wait for them."""
    run_recorded("trends", lambda ctx, run_id: run_isolated(
        ctx, run_id, "trends", "listening.trends:collect", ctx.config.schedule.job_timeout_minutes * 60))


def alerts() -> None:
    """Evaluate the alert rules over the latest rollups."""
    run_recorded("alerts", lambda ctx, _: call("listening.alerts.check", "check", ctx.store, ctx.config))


def outbox() -> None:
    """Send queued e-mails and channel posts (alerts wait there while SMTP or a webhook is down)."""
    run_recorded("outbox", lambda ctx, _: call("listening.notify.outbox", "flush", ctx.store, ctx.config))
    run_recorded("channels", lambda ctx, _: call("listening.notify.channels", "flush", ctx.store, ctx.config))


def digest(department: str) -> None:
    """Queue the department's daily digest at its own local time.

    ``send_digests`` queues every digest that is due and not yet queued (one per
    department and local day), so a run after a downtime catches up, and the
    department's own run is what makes its digest due on time.
    """
    run_recorded(f"digest:{department}", lambda ctx, _: call(
        "listening.notify.mail", "send_digests", ctx.store, ctx.config, datetime.now(timezone.utc)))


def retrain() -> None:
    """Retrain the label model from the labels people gave, in a subprocess (CPU-heavy)."""
    run_recorded("retrain", lambda ctx, run_id: run_isolated(
        ctx, run_id, "retrain", "listening.tagging.learning:retrain", ctx.config.schedule.job_timeout_minutes * 60))


def retention() -> None:
    """Expire raw mentions older than ``retention_days`` (rollups kept) and old run records."""
    def body(ctx: Context, _: str) -> dict:
        from listening.store.retention import expire_mentions

        now = datetime.now(timezone.utc)
        days = ctx.config.schedule.retention_days
        expired = expire_mentions(ctx.store, now - timedelta(days=days), stop=ctx.stopping.is_set) if days else 0
        runs = ctx.store.runs.delete_before(now - timedelta(days=ctx.config.schedule.runs_keep_days))
        counts = {"mentions_expired": expired, "runs_deleted": runs}
        return Outcome("stopped", counts, "the scheduler was asked to stop") if ctx.stopping.is_set() else counts
    run_recorded("retention", body)
