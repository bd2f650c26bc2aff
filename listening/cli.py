"""The ``listening`` command line."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from listening.config import Config, ConfigError, load_config
from listening.pipeline import Pipeline
from listening.store import Store
from listening.store.embedded import EmbeddedStoreError, data_dir
from listening.timeparse import parse_time

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
            self._config = load_config(self.config_path)
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.connect()
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
    from listening.importer import import_file

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
    from listening.metrics import report as build_report

    state: State = ctx.obj
    doc = build_report(state.store, state.config, since=when(since, "--since"), until=when(until, "--until"))
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    table = Table(title=f"{doc['mentions']:,} mentions")
    for column in ("brand", "mentions", "share of voice", "positive", "neutral", "negative", "net"):
        table.add_column(column, justify="left" if column == "brand" else "right")
    for name, b in sorted(doc["brands"].items(), key=lambda kv: -kv[1]["mentions"]):
        s = b["sentiment"]
        table.add_row(name, f"{b['mentions']:,}", f"{b['share_of_voice']:.1%}", f"{s['positive']:.0%}",
                      f"{s['neutral']:.0%}", f"{s['negative']:.0%}", f"{b['net_sentiment']:+.2f}")
    Console().print(table)


@app.command("rebuild-stats")
def rebuild_stats(ctx: typer.Context) -> None:
    """Recount the hourly rollups from the stored mentions."""
    cells = ctx.obj.store.mentions.rebuild_stats()
    console.print(f"Rebuilt {cells:,} rollup cells.")


@app.command()
def demo(
    ctx: typer.Context,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo store, then exit.")] = False,
) -> None:
    """Build the embedded store from the shipped demo through the real pipeline."""
    from listening import demo as demo_module

    state: State = ctx.obj
    summary = demo_module.build(state.store, state.config, console=console)
    console.print(counts_table("Demo", summary))
    if not no_serve:
        demo_module.serve(state.config_path)


def main() -> None:
    """Entry point: config and store errors become one clear line, not a traceback."""
    try:
        app()
    except ConfigError as exc:
        console.print(f"[red]config error:[/] {exc}", soft_wrap=True, markup=True, highlight=False)
        raise SystemExit(2) from exc
    except EmbeddedStoreError as exc:
        console.print(f"[red]store error:[/] {exc}", soft_wrap=True, highlight=False)
        raise SystemExit(3) from exc

