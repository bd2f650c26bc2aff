"""The ``listening`` command line.

Each command imports what it needs when it runs (the pipeline pulls in scikit-learn, the
store pymongo, the config pydantic), so ``--help`` and the quick commands answer fast.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from listening.errors import ConfigError, ListeningError, QuerySyntaxError, StoreError

if TYPE_CHECKING:
    from listening.config import Config
    from listening.store import Store

app = typer.Typer(help="Listening Centre: social listening and share of search.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
                  pretty_exceptions_show_locals=False)
console = Console(stderr=True)


class State:
    """What the global options chose; the store opens on first use."""

    def __init__(self, config_path: Optional[Path]):
        self.config_path = config_path
        self._config: Config | None = None
        self._store: Store | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from listening.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def uses_embedded(self, dashboard: bool = False) -> bool:
        """Whether this command (or the dashboard it ran) opened the embedded store, not $MONGO_URI."""
        from listening.settings import settings

        return (dashboard or self._store is not None) and not settings().mongo_uri

    @property
    def store(self) -> Store:
        if self._store is None:
            from listening.store import Store

            self.config  # a bad config fails here, before an embedded server starts for nothing
            self._store = Store.connect()
            self._store.close_at_exit()
        return self._store


@app.callback()
def main_options(ctx: typer.Context,
                 config: Annotated[Optional[Path], typer.Option(
                     "--config", "-c", help="listening.yaml to use (default: $LISTENING_CONFIG, "
                     "./listening.yaml, then the shipped demo config).")] = None) -> None:
    """Store: $MONGO_URI when set, else the embedded store in ./data or $LISTENING_DATA."""
    ctx.obj = State(config)


def when(value: Optional[str], option: str) -> Optional[datetime]:
    """Parse a --since/--until style option or fail with a clear message."""
    if value is None:
        return None
    from listening.timeparse import parse_time

    parsed = parse_time(value)
    if parsed is None:
        raise typer.BadParameter(f"cannot read {value!r} as a time", param_hint=option)
    return parsed


@contextmanager
def progress_bar(label: str, total: Optional[int]) -> Iterator[Progress]:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, transient=False) as bar:
        bar.add_task(label, total=total)
        yield bar


def counts_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, show_header=False)
    for key, value in counts.items():
        table.add_row(key, f"{value:,}")
    return table


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV or JSONL file.")],
    source: Annotated[Optional[str], typer.Option(help="Source name (default: import:FILENAME).")] = None,
    encoding: Annotated[str, typer.Option(help="The file's text encoding.")] = "utf-8",
    text_column: Annotated[Optional[str], typer.Option(help="Column with the mention text.")] = None,
    id_column: Annotated[Optional[str], typer.Option(help="Column with the source's own id.")] = None,
    author_column: Annotated[Optional[str], typer.Option(help="Column with the author.")] = None,
    time_column: Annotated[Optional[str], typer.Option(help="Column with the publication time.")] = None,
    url_column: Annotated[Optional[str], typer.Option(help="Column with the URL.")] = None,
    rejects: Annotated[Optional[Path], typer.Option(
        help="Where rejected rows go (default: DATA/rejects/FILENAME.rejects.jsonl).")] = None,
) -> None:
    """Import mentions from CSV or JSONL through the shared pipeline.

    Re-importing the same file adds nothing. Rejected rows are written with their line
    number and reason; the exit code is 1 when any row was rejected.
    """
    from listening.ingest.importer import import_file
    from listening.ingest.pipeline import Pipeline
    from listening.store.embedded import data_dir

    state: State = ctx.obj
    overrides = {"text": text_column, "id": id_column, "author": author_column,
                 "published_at": time_column, "url": url_column}
    mapping = state.config.import_mapping.model_copy(
        update={k: v for k, v in overrides.items() if v})
    source = source or f"import:{file.name}"
    rejects = rejects or data_dir() / "rejects" / f"{file.name}.rejects.jsonl"
    rejects.parent.mkdir(parents=True, exist_ok=True)
    run_id = state.store.runs.start("import", source=source, file=str(file))
    total_lines = max(sum(1 for _ in open(file, "rb")) - 1, 0)
    with progress_bar(f"Importing {file.name}", total_lines) as bar:
        pipeline = Pipeline(state.store, state.config, run_id=run_id,
                            on_batch=lambda n: bar.update(bar.task_ids[0], completed=pipeline.counts.read))
        rejected = import_file(pipeline, file, mapping, source=source,
                               rejects_path=rejects, encoding=encoding)
        bar.update(bar.task_ids[0], completed=total_lines)
    counts = pipeline.counts
    state.store.runs.finish(run_id, status="partial" if rejected else "ok", counts=counts.as_dict())
    console.print(counts_table(f"Imported {file.name}", counts.as_dict()))
    if rejected:
        console.print(f"[yellow]{rejected:,} rows rejected; see {rejects}[/]")
        raise typer.Exit(1)


@app.command()
def report(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    since: Annotated[Optional[str], typer.Option(help="Start of the window (any readable time).")] = None,
    until: Annotated[Optional[str], typer.Option(help="End of the window (exclusive).")] = None,
) -> None:
    """Per brand: mentions, share of voice, sentiment split and net sentiment."""
    from listening.report import report as build_report

    state: State = ctx.obj
    doc = build_report(state.store, state.config, since=when(since, "--since"), until=when(until, "--until"))
    if as_json:
        typer.echo(json.dumps(doc, indent=2, default=str))
        return
    window = f"from {doc['since'] or 'the first mention'} to {doc['until'] or 'now'}"
    if not any(b["mentions"] for b in doc["brands"].values()):
        Console().print(f"No mentions of any brand {window}.")
        return
    table = Table(title=f"{doc['mentions']:,} mentions {window}")
    for column in ("brand", "mentions", "share of voice", "positive", "neutral", "negative", "net"):
        table.add_column(column, justify="left" if column == "brand" else "right")
    for name, b in sorted(doc["brands"].items(), key=lambda kv: -kv[1]["mentions"]):
        s = b["sentiment"]
        if not b["mentions"]:
            table.add_row(name, "0", "0.0%", "–", "–", "–", "–")
            continue
        table.add_row(name, f"{b['mentions']:,}", f"{b['share_of_voice']:.1%}", f"{s['positive']:.0%}",
                      f"{s['neutral']:.0%}", f"{s['negative']:.0%}", f"{b['net_sentiment']:+.2f}")
    Console().print(table)


export_app = typer.Typer(help="Export data as CSV (cells made safe for spreadsheets).", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("search")
def export_search(
    ctx: typer.Context,
    file: Annotated[Optional[Path], typer.Argument(
        help="The CSV file to write (default: stdout).", dir_okay=False)] = None,
    category: Annotated[Optional[list[str]], typer.Option(
        help="A category to export (repeat for more; default: every category with search data).")] = None,
    smoothing: Annotated[str, typer.Option(
        help="The smoothed_* columns' trailing mean: auto (12 months, 4 weeks, 7 days), none, or a "
             "number of buckets.")] = "auto",
    since: Annotated[Optional[str], typer.Option(help="Only buckets starting at or after this time.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only buckets starting before this time.")] = None,
) -> None:
    """Share of search as CSV: one row per category, term and bucket, with its band.

    Columns: category, geo, term, brand, date (the bucket's start, UTC), is_partial (still
    filling: left out of smoothing), volume with volume_lo..volume_hi (the category's stitched
    scale), share with share_lo..share_hi (fractions of the category, 0..1), smoothed_share with
    smoothed_lo..smoothed_hi over `window` complete buckets. Text cells starting = + - @ get a
    leading ' so no spreadsheet runs them.
    """
    from listening.metrics.export import search_csv, search_rows

    if smoothing not in ("auto", "none") and not smoothing.isdigit():
        raise typer.BadParameter("auto, none or a number of buckets", param_hint="--smoothing")
    rows = search_rows(ctx.obj.store, category, smoothing=int(smoothing) if smoothing.isdigit() else smoothing,
                       since=when(since, "--since"), until=when(until, "--until"))
    data = search_csv(rows)
    if file is None:
        typer.echo(data.decode("utf-8-sig"), nl=False)
        return
    file.write_bytes(data)
    console.print(f"Wrote {len(rows):,} rows of share of search to {file}.", highlight=False, soft_wrap=True)


@app.command("rebuild-stats")
def rebuild_stats(ctx: typer.Context) -> None:
    """Recount the hourly rollups from the stored mentions."""
    cells, days = ctx.obj.store.rebuild_rollups()
    console.print(f"Rebuilt {cells:,} hourly and {days:,} daily rollup cells.")


@app.command()
def demo(
    ctx: typer.Context,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo store, then exit.")] = False,
) -> None:
    """Build the embedded store from the shipped demo through the real pipeline."""
    from listening.demo import build as demo_module

    state: State = ctx.obj
    code = 0
    with stopped_cleanly(state):
        summary = demo_module.build(state.store, state.config, console=console)
        console.print(counts_table("Demo", summary))
        console.print(demo_module.welcome(state.store, state.config, summary), highlight=False)
        if not no_serve:
            from listening.app.serve import serve as serve_dashboard

            code = serve_dashboard(state.config_path)
    raise typer.Exit(code)


@contextmanager
def stopped_cleanly(state: State, *, dashboard: bool = False) -> Iterator[None]:
    """Ctrl-C or SIGTERM stops the command and what it started (the dashboard: ``serve`` stops
    its process group, SIGKILL after a grace period); the embedded store is shared by every
    command, so it keeps running, and we say so and how to stop it."""
    import signal

    def interrupt(signum, frame):
        _pass_on(signal.SIGTERM)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    interrupted = False
    try:
        yield
    except KeyboardInterrupt:
        interrupted = True
        console.print("[yellow]Stopped.[/]")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if state.uses_embedded(dashboard):
            from listening.store.embedded import data_dir

            console.print(f"The embedded store keeps running for the next command (data in {data_dir()}); "
                          "`listening stop` stops it.", highlight=False, soft_wrap=True)
    if interrupted:
        raise typer.Exit(130)


def _pass_on(signum: int) -> None:
    """Send ``signum`` to the children we started in our own session (the crawler, the dashboard):
    Ctrl-C reaches them through the terminal, a SIGTERM sent to us alone does not. The embedded
    store runs in a session of its own and is left alone."""
    import os

    ours = os.getsid(0)
    for listing in Path("/proc/self/task").glob("*/children"):  # Linux; elsewhere nothing to do
        for pid in map(int, listing.read_text().split()):
            try:
                if os.getsid(pid) == ours:
                    os.kill(pid, signum)
            except (ProcessLookupError, PermissionError):
                pass


@app.command()
def stop() -> None:
    """Stop the embedded store's server for this data folder ($LISTENING_DATA or ./data)."""
    from listening.store.embedded import data_dir
    from listening.store.embedded import stop as stop_server

    folder = data_dir()
    console.print(f"Stopped the embedded store of {folder}." if stop_server(folder)
                  else f"No embedded store was running for {folder}.", highlight=False, soft_wrap=True)


@app.command("crawl")
def crawl_cmd(ctx: typer.Context, sources: Annotated[Optional[list[str]], typer.Argument(
        help="Source names (default: every enabled source).")] = None) -> None:
    """Crawl configured sources now: live progress, then a summary per source.

    Exit code 1 when a source had problems, 2 when the crawl could not run.
    """
    from listening.ingest import crawl as crawling
    from listening.store.embedded import data_dir

    state: State = ctx.obj
    log = data_dir() / "logs" / "crawl.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with Progress(TextColumn("[bold]{task.description}"), TextColumn("{task.fields[pages]:>4} pages"),
                  TextColumn("{task.fields[items]:>7,} items"), console=console) as bar:
        tasks: dict[str, int] = {}

        def progress(event: dict) -> None:
            if event["source"] not in tasks:
                tasks[event["source"]] = bar.add_task(event["source"], total=None, pages=0, items=0)
            bar.update(tasks[event["source"]], pages=event["pages"], items=event["items"])
        try:
            rows = crawling.run(state.store, state.config, sources or None, progress=progress, log_path=log)
        except crawling.CrawlError as exc:
            console.print(f"[red]crawl error:[/] {exc}", soft_wrap=True, highlight=False)
            raise typer.Exit(2) from exc
    out = Console()  # lines of words, wrapped between words at any width (80 when piped)
    for row in rows:
        for line in crawling.explain(row):
            out.print(line, markup=False, highlight=False)
    out.print(f"Run {rows[0]['run_id'] if rows else '-'} (examples of each problem in its record); log: {log}",
              markup=False, highlight=False)
    if any(row["status"] != "ok" for row in rows):
        raise typer.Exit(1)


@app.command()
def trends(ctx: typer.Context) -> None:
    """Fetch Google Trends search volumes for the configured brands, stitched onto one scale."""
    from listening.trends import collect

    state: State = ctx.obj
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console) as bar:
        task = bar.add_task("Google Trends", total=None)
        summary = collect(state.store, state.config,
                          progress=lambda done, total, message: bar.update(
                              task, completed=done, total=total, description=message))
    keys = ("requests", "cache_hits", "rate_limited", "retries", "points_new", "points_updated",
            "points_unchanged", "related")
    console.print(counts_table(f"Google Trends: {summary['status']}", {k: summary[k] for k in keys}))
    if summary["status"] != "ok":
        raise typer.Exit(1)


@app.command()
def alerts(
    ctx: typer.Context,
    at: Annotated[Optional[str], typer.Option(help="Evaluate as of this time (default: now).")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Store the alerts and queue their e-mail "
                                        "(without it the evaluation is a dry run).")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="List the open alerts; evaluate nothing.")] = False,
    backtest: Annotated[Optional[tuple[str, str]], typer.Option(
        help="Replay FROM TO bucket by bucket; store nothing, send nothing.")] = None,
    png: Annotated[Optional[Path], typer.Option(help="With --backtest: the timeline PNG to write.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the alerts as a JSON list.")] = False,
) -> None:
    """Evaluate the alert rules now (or as of --at): a dry run unless --apply.

    --open lists the alerts open now; --backtest replays history in memory.
    """
    from listening import alerts as alerting
    from listening.store.embedded import data_dir

    state: State = ctx.obj
    if open_only:
        found = [alerting.as_json(a) for a in state.store.alerts.open_alerts()]
    elif backtest:
        start, end = when(backtest[0], "--backtest"), when(backtest[1], "--backtest")
        png = png or data_dir() / "backtest.png"
        found = alerting.backtest(state.store, state.config, start, end, png_path=png)
        if not as_json:
            console.print(f"Timeline: {png}")
            typer.echo(alerting.budget(found, state.config) + "\n")
    else:
        queued = state.store.outbox.counts().get("pending", 0)
        found = alerting.check(state.store, state.config, at=when(at, "--at"), apply=apply)
        console.print(applied(state.store, found, state.store.outbox.counts().get("pending", 0) - queued)
                      if apply else "Dry run: nothing stored, no e-mail queued (--apply to do both).",
                      highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(found, indent=2, default=str))
    else:
        typer.echo(alerting.table(found))


def applied(store: Store, touched: list[dict], queued: int) -> str:
    """What ``alerts --apply`` did: alerts opened, updated and resolved, messages queued; or
    that there was nothing new, and why when the hour was evaluated already."""
    from listening.alerts.check import last_applied

    resolved = sum(a["status"] == "resolved" for a in touched)
    opened = sum(a["status"] != "resolved" and a["opened_at"] == a["peak_at"] for a in touched)
    parts = [f"{n} {word}" for n, word in ((opened, "opened"), (len(touched) - opened - resolved, "updated"),
                                           (resolved, "resolved")) if n]
    if not parts and not queued:
        last = last_applied(store)
        return "Applied: nothing new" + (f" (the rules were evaluated up to {last:%Y-%m-%d %H:%M} UTC already)."
                                         if last else ".")
    return (f"Applied: {', '.join(parts) or 'no alert changed'}; {queued} message{'s' * (queued != 1)} "
            "queued (`listening send` sends the e-mail).")


@app.command()
def send(ctx: typer.Context) -> None:
    """Send the queued e-mails now (alerts, escalations, digests), with the outbox's retries.

    Exit code 1 when a message failed or waits for a retry.
    """
    from listening.notify.outbox import flush

    state: State = ctx.obj
    with console.status("Sending queued e-mail..."):
        counts = flush(state.store, state.config)
    console.print(counts_table("Outbox", {**counts, "still queued": state.store.outbox.counts().get("pending", 0)}))
    if counts["retry"] or counts["failed"]:
        raise typer.Exit(1)


@app.command()
def evaluate(
    ctx: typer.Context,
    labels: Annotated[Optional[Path], typer.Option(
        help="Labelled CSV or JSONL (columns text, sentiment, optional target, issue, lang) or a "
             "target-labelled .raw file (default: the shared airline tweets).")] = None,
    train: Annotated[Optional[Path], typer.Option(
        help="Train the learned model on this file and test on every row of --labels "
             "(default: the labels file's own training split).")] = None,
    lang: Annotated[Optional[str], typer.Option(help="The files' language, for texts too short to tell.")] = None,
    out: Annotated[Path, typer.Option(help="Where the confusion-matrix PNGs go.")] = Path("evaluation"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Sentiment and issue accuracy on labelled text, lexicon and learned, beside bare VADER."""
    from listening.tagging.accuracy import render, run, summary

    for path in (labels, train):
        if path is not None and not path.is_file():
            raise ListeningError(f"no labelled file at {path}")
    with console.status("Evaluating (the learned model trains first)..."):
        try:
            metrics = run(labels, out, config=ctx.obj.config, lang=lang, train_path=train)
        except (ValueError, KeyError, UnicodeError) as exc:
            raise ListeningError(f"cannot evaluate {labels or 'the airline tweets'}: {exc}") from exc
    if as_json:
        typer.echo(json.dumps(summary(metrics)))
    else:
        Console().print(render(metrics))


@app.command()
def retrain(ctx: typer.Context) -> None:
    """Train the sentiment and issue models on the labelled mentions in the store."""
    from listening.tagging.learning import retrain as train

    with console.status("Training on labelled mentions..."):
        result = train(ctx.obj.store, ctx.obj.config)
    typer.echo(json.dumps(result, indent=2, default=str))


query_app = typer.Typer(help="Write and test brand queries.", no_args_is_help=True)
app.add_typer(query_app, name="query")


@query_app.command("test")
def query_test(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='A query, e.g. \'"United" NEAR/5 (flight OR gate) NOT "United States"\'.')],
    since: Annotated[Optional[str], typer.Option(help="Only mentions published since.")] = None,
    sample: Annotated[int, typer.Option(help="How many hits and near-misses to show.")] = 10,
) -> None:
    """Run a query over stored mentions: counts, hits and near-misses."""
    from listening import matching

    try:
        report = matching.test_query(ctx.obj.store, query, since=when(since, "--since"), sample=sample)
    except QuerySyntaxError as exc:
        console.print(exc.pretty(), highlight=False, markup=False)
        raise typer.Exit(2) from exc
    typer.echo(matching.describe_test(report))


@app.command()
def rematch(ctx: typer.Context,
            since: Annotated[Optional[str], typer.Option(help="Only mentions published since.")] = None) -> None:
    """Re-apply the brand queries to stored mentions (and fix the rollups) without re-collecting."""
    from listening.ingest.rematch import rematch as rematch_all

    with console.status("Re-matching stored mentions..."):
        counts = rematch_all(ctx.obj.store, ctx.obj.config, since=when(since, "--since"))
    console.print(counts_table("Re-matched", counts))


@app.command()
def serve(ctx: typer.Context,
          host: Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
          port: Annotated[Optional[int], typer.Option(help="Port (default 8501).")] = None) -> None:
    """Open the listening centre (the Streamlit dashboard)."""
    from listening.app.serve import serve as serve_dashboard

    with stopped_cleanly(ctx.obj, dashboard=True):
        code = serve_dashboard(ctx.obj.config_path, host=host, port=port)
    raise typer.Exit(code)


@app.command("schedule")
def schedule_cmd(
    ctx: typer.Context,
    heartbeat: Annotated[Optional[Path], typer.Option(
        help="Healthcheck file (default DATA/scheduler.heartbeat).")] = None,
    speedup: Annotated[float, typer.Option(help="Compress time (demos and tests): 60 = an hour a minute.")] = 1.0,
    lease_ttl: Annotated[Optional[float], typer.Option(
        help="Seconds a dead scheduler blocks its jobs (default 120).")] = None,
    healthcheck: Annotated[bool, typer.Option(
        "--healthcheck", help="Only check the heartbeat: exit 0 while it is fresh, else 1.")] = False,
    max_age: Annotated[float, typer.Option(help="With --healthcheck: the oldest healthy heartbeat (s).")] = 60.0,
) -> None:
    """Run the scheduler (crawls, Trends, alerts, e-mail, digests, retraining) until SIGTERM or Ctrl-C."""
    from listening.jobs import schedule

    heartbeat = heartbeat or schedule.default_heartbeat()
    if healthcheck:
        age = schedule.heartbeat_age(heartbeat)
        typer.echo("no heartbeat" if age is None else f"heartbeat {age:.0f}s old")
        raise typer.Exit(0 if age is not None and age <= max_age else 1)
    schedule.configure_logging()
    state: State = ctx.obj
    schedule.run(state.store, state.config, config_path=state.config_path, speedup=speedup,
                 heartbeat=heartbeat, lease_ttl=lease_ttl)


@app.command()
def status(ctx: typer.Context,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False) -> None:
    """Each job's last and next run, live schedulers, and recent failures."""
    from listening.jobs.status import render
    from listening.jobs.status import status as job_status

    report = job_status(ctx.obj.store)
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        Console().print(render(report))


def main() -> None:
    """Entry point: any of our errors becomes one clear line and an exit code, not a traceback.

    Exit codes: 2 for a bad config, environment or query; 3 when the store cannot be used;
    1 for any other error of ours (a crawl or Trends collection that could not run).
    """
    try:
        app()
    except ListeningError as exc:
        from listening.store.runs import failing

        failing(f"{type(exc).__name__}: {exc}")  # a run this command left open says why, at exit
        kind, code = next((v for k, v in _ERROR_KINDS.items() if isinstance(exc, k)), ("error", 1))
        console.print(f"[red]{kind}:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
        raise SystemExit(code) from exc


_ERROR_KINDS: dict[type, tuple[str, int]] = {ConfigError: ("config error", 2), QuerySyntaxError: ("query error", 2),
                                             StoreError: ("store error", 3)}
