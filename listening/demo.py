"""The shipped demo: the shared airline tweets through the real pipeline."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from listening.config import Config
from listening.importer import import_file
from listening.pipeline import Pipeline
from listening.store import Store
from listening.store.embedded import data_dir

SHARED = Path(os.environ.get("LISTENING_SHARED", Path(__file__).resolve().parents[2] / "shared"))
TWEETS = SHARED / "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"


def build(store: Store, config: Config, *, console: Console) -> dict[str, int]:
    """Load the demo mentions; idempotent, so a second run adds nothing."""
    if not TWEETS.exists():
        raise FileNotFoundError(f"demo data not found at {TWEETS}; set LISTENING_SHARED")
    run_id = store.runs.start("demo", source="demo:tweets")
    pipeline = Pipeline(store, config, run_id=run_id)
    rejects = data_dir() / "rejects" / "demo.rejects.jsonl"
    rejects.parent.mkdir(parents=True, exist_ok=True)
    with console.status("Loading the demo mentions..."):
        import_file(pipeline, TWEETS, config.import_mapping, source="demo:tweets", rejects_path=rejects)
    store.runs.finish(run_id, counts=pipeline.counts.as_dict())
    return pipeline.counts.as_dict()


def serve(config_path: Path | None) -> None:
    """Open the dashboard (until it exists, say where the data is)."""
    Console().print("Demo data is in the store; `listening report` summarises it.")
