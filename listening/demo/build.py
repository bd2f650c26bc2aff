"""The shipped demo: the shared airline tweets, served as a social API and crawled like any source."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from listening.alerts import check
from listening.config import Config, Source
from listening.demo.feed import DEMO_SOURCE, serve_tweets
from listening.demo.trends import collect_exports, collect_recorded
from listening.ingest import crawl
from listening.ingest.retag import retag
from listening.settings import settings
from listening.store import Store
from listening.tagging import learning

SHARED = settings().shared_dir
TWEETS = SHARED / "fixtures" / "twitter_us_airline_sentiment" / "Tweets.csv"
REPLAY_HOURS = 72
CASSETTES = SHARED / "fixtures" / "google_trends_pytrends_cassettes"
EXPORTS = SHARED / "fixtures" / "google_trends_exports_real"


def build(store: Store, config: Config, *, console: Console) -> dict[str, int]:
    """Crawl the demo feed into the store; idempotent, so a second run adds nothing.

    Starts the local feed (listening/demo_feed.py), runs the normal json_api spider on
    the config's ``demo_tweets`` source (added when the config lacks it), stops the feed.
    The first run then trains the learned model on the tweets' labels and re-tags the
    stored tweets with it in place (``ingest.retag``: no second crawl).
    """
    if not TWEETS.exists():
        raise FileNotFoundError(f"demo data not found at {TWEETS}; set LISTENING_SHARED")
    name = DEMO_SOURCE["name"]
    if not any(s.name == name for s in config.sources):
        config = config.model_copy(update={"sources": [*config.sources, Source.model_validate(DEMO_SOURCE)]})
    server, url = serve_tweets(TWEETS)
    try:
        label = "Crawling the demo feed"
        with console.status(f"{label}...") as status:
            def progress(event: dict) -> None:
                status.update(f"{label}: {event['pages']} pages, {event['items']:,} tweets")
            [row] = crawl.run(store, config, [name], progress=progress, variables={"demo_feed": url},
                              settings=crawl.LOCAL_SETTINGS)
        if row["status"] != "ok":
            console.print(f"[yellow]demo crawl: {row['status']}: {row['error']}[/]")
    finally:
        server.shutdown()
        server.server_close()
    summary = {k: row[k] for k in ("pages", *crawl.COUNT_KEYS)}
    if _learn_from_labels(store, config, console):  # the stored tweets re-tagged with the model, in place
        with console.status("Re-tagging the tweets with the learned model..."):
            summary["re-tagged by the learned model"] = retag(store, config)["changed"]
    with console.status("Collecting the recorded Google Trends answers..."):
        runs = [collect_recorded(store, config, CASSETTES)]
    with console.status("Loading the Google Trends CSV exports..."):
        runs += collect_exports(store, config, EXPORTS)
    summary["search volume points"] = sum(r["points_new"] + r["points_updated"] + r["points_unchanged"]
                                          for r in runs)
    summary["alerts"] = _replay_alert_rules(store, config, console)
    summary["e-mails queued"] = store.outbox.counts().get("pending", 0)
    store.daily.rebuild()
    return summary


def _learn_from_labels(store: Store, config: Config, console: Console) -> bool:
    """Train the learned model on the tweets' own labels, once (a store that has one keeps it,
    so a second demo changes nothing); True when a model was trained now."""
    if learning.load(store) is not None:
        return False
    with console.status("Training the learned model on the tweets' labels..."):
        result = learning.retrain(store, config)
    if result["status"] != "trained":
        console.print(f"[yellow]learned model: {result.get('reason', result['status'])}[/]")
        return False
    return True


def _sentiment_line(store: Store) -> str:
    model = learning.load(store)
    if model is None:
        return "Sentiment: the lexicon (too few labelled tweets to train the learned model)."
    f1 = ((getattr(model, "metrics", None) or {}).get("sentiment") or {}).get("macro_f1")
    return ("Sentiment: the learned model trained on the tweets' own labels"
            + (f" (macro-F1 {f1:.2f} on held-out tweets)" if f1 is not None else "") + ".")


def welcome(store: Store, config: Config, summary: dict[str, int]) -> str:
    """What was built, from when, and where to start: the lines after the counts."""
    span = store.mentions.time_span()
    if span is None:
        return "The demo store is empty: the crawl of the demo feed found nothing (see above)."
    first, last = span
    added = summary.get("new", 0)
    url = config.dashboard_url.rstrip("/")
    what = (f"airline tweets about {len(config.brands)} US airlines, from {first:%d} to {last:%d %B %Y}"
            " (UTC), with their Google Trends searches, the alerts the rules raised hour by hour and"
            " the e-mails they queued")
    return "\n".join([
        f"Built the demo: {added:,} {what}." if added else
        f"The store already held the demo ({what}): nothing new was added.",
        f"The data is from {last:%B %Y}: pick a time range in {last:%Y}, not today's.",
        _sentiment_line(store),
        f"Open Alerts first: {url}/alerts (the winter-storm cancellations of {last:%B %Y});"
        " then Live for the mentions behind them.",
        f"{summary.get('e-mails queued', 0):,} e-mails wait in the outbox: `listening send` sends them"
        " through the SMTP server of listening.yaml or $SMTP_HOST.",
    ])


def _replay_alert_rules(store: Store, config: Config, console: Console) -> int:
    """Run the alert rules hour by hour over the demo's last three days, as the scheduler
    would have when the tweets arrived (they are from 2015); return the alerts opened."""
    span = store.mentions.time_span()
    if span is None:
        return 0
    hours = [span[1] - timedelta(hours=h) for h in range(REPLAY_HOURS, -2, -1)]
    with Progress(TextColumn("[bold]Alert rules, hour by hour"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        for at in bar.track(hours):
            check(store, config, at=at)
    return store.alerts.count()

