"""``listening.yaml``: brands, sources, issues, departments, rules, schedule.

Validated with pydantic on load. A bad file fails fast with the path of the bad field
and a one-line reason (``brands.2.name: Field required``), never half-way through a
crawl. Secrets (SMTP credentials) never live here: they come from the environment.
"""

from __future__ import annotations

import os
import re
from email import policy
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from listening.errors import ConfigError  # noqa: F401 - re-exported
from listening.settings import settings

CONFIG_ENV = "LISTENING_CONFIG"
DEFAULT_PATHS = ("listening.yaml",)
PACKAGED_DEMO = Path(__file__).resolve().parent / "demo" / "listening.yaml"
HH_MM = r"^([01]\d|2[0-3]):[0-5]\d$"  # a time of day, 00:00-23:59
_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")


def known_zone(zone: str | None) -> str | None:
    """``zone`` if zoneinfo knows it: a typo fails on load, not at the first digest or crawl."""
    if zone is not None:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(zone)
        except (KeyError, ValueError, OSError) as exc:  # OSError: "America" is a folder of zones
            raise ValueError(f"unknown time zone {zone!r}") from exc
    return zone


def mail_address(value: str) -> str:
    """One e-mail address, bare or named (``Ops <ops@example.com>``), read as an e-mail header
    reads it: a typo, a second address or a hidden line break fails on load, not in the outbox."""
    try:
        header = policy.default.header_factory("To", value)
        [address] = header.addresses
        valid = not header.defects and _ADDR_SPEC.fullmatch(address.addr_spec) and value.isprintable()
    except Exception:  # noqa: BLE001 - CPython's parser raises several kinds on garbage ('.:', '.')
        valid = False
    if not valid:
        raise ValueError(f"not one e-mail address: {value!r}")
    return value


Address = Annotated[str, AfterValidator(mail_address)]


class Section(BaseModel):
    """Every config section rejects unknown keys, so typos fail loudly."""

    model_config = ConfigDict(extra="forbid")


class Brand(Section):
    """A brand we listen for (ours or a competitor's)."""

    name: str = Field(min_length=1)
    terms: list[str] = Field(default_factory=list, description="Names and aliases, matched as whole words.")
    handles: list[str] = Field(default_factory=list, description="Social handles such as @united.")
    exclusions: list[str] = Field(default_factory=list, description="Phrases that veto a match (\"United States\").")
    query: str | None = Field(default=None, description="A boolean query; overrides terms when set.")
    search_term: str | None = Field(default=None, description="The Google Trends term; defaults to the name.")
    category: str = "default"
    own: bool = Field(default=True, description="Ours (True) or a competitor's (False).")

    @field_validator("handles")
    @classmethod
    def _at_handles(cls, handles: list[str]) -> list[str]:
        return [h if h.startswith("@") else f"@{h}" for h in handles]

    @field_validator("query")
    @classmethod
    def _valid_query(cls, query: str | None) -> str | None:
        """A bad query fails here, with its column, never in a crawl (docs/queries.md)."""
        if query is not None:
            from listening.query import parse  # lazy: config loads without the parser

            parse(query)
        return query

    @model_validator(mode="after")
    def _something_to_match(self) -> "Brand":
        if not (self.terms or self.handles or self.query):
            self.terms = [self.name]
        return self


ENV_NAME = r"^[A-Z][A-Z0-9_]*$"


class Channel(Section):
    """A place beside e-mail where a department's alerts go (listening.notify.channels).

    The config names environment variables, never the secrets: a webhook URL is a credential.
    """

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="A registered notifier: slack, teams, webhook.")
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$", description="Unique per department; defaults to the kind.")
    url_env: str = Field(pattern=ENV_NAME, description="The variable holding the webhook URL.")
    secret_env: str | None = Field(default=None, pattern=ENV_NAME, description="The variable holding the signing key (webhook).")

    @model_validator(mode="after")
    def _signed_webhooks(self) -> "Channel":
        if self.kind == "webhook" and not self.secret_env:
            raise ValueError("a webhook channel needs secret_env: its messages are signed")
        self.name = self.name or self.kind
        return self


class Department(Section):
    """Who owns a set of issues, and where their alerts go."""

    name: str = Field(min_length=1)
    leads: list[Address] = Field(min_length=1)
    escalation: list[Address] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list, description="Slack, Teams or webhook channels beside e-mail.")
    digest_at: str = Field(default="08:00", pattern=HH_MM)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        return known_zone(zone)

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, channels: list[Channel]) -> list[Channel]:
        names = [c.name for c in channels]
        if len(names) != len(set(names)):
            raise ValueError(f"channel names must be unique: {names}")
        return channels


class Issue(Section):
    """An issue of the taxonomy: phrases and regex patterns, owned by a department."""

    name: str = Field(min_length=1)
    department: str
    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name == "*":
            raise ValueError('"*" is reserved: the rollups count every issue under it')
        return name

    @field_validator("patterns")
    @classmethod
    def _valid_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern, re.I)  # as listening.tagging.issues compiles them
            except re.error as exc:
                raise ValueError(f"bad pattern {pattern!r}: {exc}") from exc
        return patterns


class Source(Section):
    """A place to collect mentions from; ``kind`` picks the spider."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["feed", "html", "json_api"]
    urls: list[str] = Field(min_length=1, description="URLs; {query} is filled from each brand's "
                            "terms, any other {name} from the crawl's variables or $NAME.")
    preset: str | None = Field(default=None, description="json_api: a shipped mapping (listening/presets).")
    mapping: dict[str, Any] = Field(default_factory=dict, description="json_api: JMESPath per field; "
                                    "overrides the preset's.")
    selectors: dict[str, str] = Field(default_factory=dict, description="html: CSS or XPath per field; "
                                      "none: the page is one article (trafilatura).")
    every_minutes: int = Field(default=30, ge=1)
    recheck_hours: float = Field(default=24.0, ge=0, description="An item seen longer ago than this is read "
                                 "again (its edits are picked up); sooner, a seen item is skipped. 0: every crawl.")
    max_pages: int = Field(default=50, ge=1, description="Pages per start URL and crawl.")
    concurrency: int = Field(default=2, ge=1, le=16, description="Parallel requests per domain.")
    timezone: str | None = Field(default=None, description="Zone of times the source shows without "
                                 "one (\"America/Los_Angeles\"); None: UTC.")
    allow_private_host: bool = Field(default=False, description="Let the host:port of this source's own "
                                     "urls be a private, loopback or link-local address (an intranet forum, "
                                     "a test server on 127.0.0.1); any other such address stays refused.")
    enabled: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        return known_zone(zone)


class ImportMapping(Section):
    """Which CSV/JSONL columns hold which mention fields."""

    id: str | None = None
    text: str = "text"
    author: str | None = None
    published_at: str | None = None
    url: str | None = None
    title: str | None = None
    lang: str | None = None
    label_sentiment: str | None = Field(default=None, description="A human sentiment label column.")
    label_issue: str | None = Field(default=None, description="A human issue label column.")
    label_set: str | None = Field(default=None, description="A labelled data set of taxonomy.yaml whose "
                                  "curators' text edits are undone on import (airline_tweets).")


class SentimentConfig(Section):
    """Where VADER's compound score splits positive / neutral / negative."""

    positive_threshold: float = 0.05
    negative_threshold: float = -0.05
    lexicon: dict[str, float] = Field(default_factory=dict, description="Extra words and their valence.")
    languages: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Other languages we may score: ISO 639-1 code -> its own "
        "lexicon (words and phrases -> valence, -4..4). Text in that language is scored with it alone.")


class Smtp(Section):
    """The SMTP relay; credentials only from SMTP_USER / SMTP_PASSWORD."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: Address = "listening-centre@localhost"
    starttls: bool = False


class AlertRule(Section):
    """One alert rule: what it counts and how far from its baseline is a spike (docs/alerts.md)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str = Field(default="issue_negative", description="A registered rule kind: issue_negative, brand_negative, sentiment_shift, search_gap.")
    bucket: Literal["1h"] = Field(default="1h", description="Step of evaluation; mention_stats is hourly, so 15min needs finer rollups.")
    window_hours: int = Field(default=6, ge=1, le=168, description="Observed = mentions in the last N buckets.")
    long_window_hours: int | None = Field(default=24, ge=1, le=168, description="Also test this longer window (slow or sparse surges); None: only window_hours.")
    min_count: int = Field(default=8, ge=1, description="Fewer observed mentions never fire.")
    threshold: float = Field(default=4.0, gt=0, description="Score (robust z) at which the rule fires.")
    min_ratio: float = Field(default=2.0, ge=1, description="Observed must be at least this many times expected.")
    baseline_days: int = Field(default=14, ge=3, le=56, description="Trailing days the baseline is the median of.")
    min_history_days: int = Field(default=3, ge=1, description="Covered baseline days needed before the rule may fire.")
    seasonal_after_days: int = Field(default=14, ge=7, description="Use hour-of-week seasonality once this much history exists.")
    floor_per_day: float = Field(default=1.0, ge=0, description="Expected never below this rate (a few quiet days prove little).")
    cooldown_hours: float = Field(default=12.0, ge=0, description="Firing again this soon after an auto-resolve reopens the alert (no new mail); after a manual resolve it stays quiet.")
    resolve_after_quiet: int = Field(default=6, ge=1, description="Auto-resolve after this many quiet buckets in a row.")
    escalate_after_minutes: int | None = Field(default=60, ge=1, description="High severity unacknowledged this long goes to escalation; None: never.")
    brands: list[str] | None = Field(default=None, description="Only these brands; None: all.")
    issues: list[str] | None = Field(default=None, description="Only these issues (issue rules); None: all.")
    department: str | None = Field(default=None, description="Route this rule's alerts here; None: the issue's department (brand-level: social care).")
    baseline_weeks: int = Field(default=26, ge=4, le=260, description="search_gap: trailing weeks whose gaps are the usual range (half of them needed).")
    enabled: bool = True


def _default_alert_rules() -> list["AlertRule"]:
    return [AlertRule(name="issue-negative", kind="issue_negative"),
            AlertRule(name="brand-negative", kind="brand_negative", min_count=25, threshold=5.0),
            AlertRule(name="sentiment-shift", kind="sentiment_shift", min_count=25, threshold=5.0,
                      min_ratio=1.4),
            AlertRule(name="share-of-search", kind="search_gap", department="Marketing", window_hours=168,
                      long_window_hours=None, min_count=50, threshold=3.5, escalate_after_minutes=None)]


class Alerts(Section):
    """Spike rules, the coverage guard, routing extras and the outbox (listening.alerts)."""

    rules: list[AlertRule] = Field(default_factory=_default_alert_rules)
    coverage_jump: float = Field(default=10.0, gt=1, description="A brand's whole volume this many times its usual: collection changed, not a spike.")
    max_run_gap_hours: float = Field(default=6.0, gt=0, description="A longer pause between collection runs is a coverage gap.")
    collection_jobs: list[str] = Field(default_factory=lambda: ["crawl"], description="Run jobs whose gaps mean missing data.")
    social_care: list[Address] = Field(default_factory=list, description="Addresses for brand-level spikes; empty: the care department's leads.")
    escalation: list[Address] = Field(default_factory=list, description="Second addresses when a department has none.")
    examples: int = Field(default=5, ge=0, le=20, description="Example mentions per alert e-mail.")
    email_min_severity: Literal["low", "medium", "high"] = Field(default="medium", description="Lower-severity alerts appear in the digest only.")
    max_attempts: int = Field(default=10, ge=1, description="Outbox: attempts before a message is marked failed.")
    backoff_seconds: float = Field(default=30.0, ge=0, description="Outbox: first retry delay, doubled per attempt (capped at 1 h).")

    @model_validator(mode="after")
    def _unique_rule_names(self) -> "Alerts":
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rules: duplicate names {dupes}")
        return self


class Trends(Section):
    """Google Trends collection: where, when, and how gently (429s cost hours)."""

    geo: str = Field(default="", description="Trends geo code: \"\" worldwide, \"US\", \"US-NY\".")
    regions: list[str] = Field(default_factory=list, description="Extra geos compared on one scale.")
    timeframe: str = Field(default="today 5-y", description="pytrends timeframe: \"today 5-y\", \"2021-01-01 2021-12-31\".")
    category_id: int = Field(default=0, ge=0, description="Google Trends category id (0 = all).")
    property: Literal["", "images", "news", "youtube", "froogle"] = ""
    base_url: str | None = Field(default=None, description="None: Google; else a replay server's URL.")
    backend: Literal["pytrends", "csv"] = "pytrends"
    csv_dir: str | None = Field(default=None, description="Folder of Google Trends CSV exports (csv backend).")
    categories: list[str] | None = Field(default=None, description="Brand categories to collect; None = all.")
    search_only: dict[str, list[str]] = Field(default_factory=dict, description="Extra categories: name -> search terms.")
    anchor_candidates: list[str] = Field(default_factory=list, description="Generic terms tried first as the shared anchor.")
    repeats: int = Field(default=1, ge=1, le=10, description="Pulls per batch, averaged.")
    related: bool = Field(default=True, description="Also fetch rising related queries.")
    snapshot_timeframe: str | None = Field(default=None, description="Related queries and the regional "
                                           "map cover this period (None: timeframe).")
    by_region: bool = Field(default=False, description="Also fetch each category's share by region (a map).")
    region_resolution: Literal["COUNTRY", "REGION", "DMA", "CITY"] = "COUNTRY"
    pacing_seconds: float = Field(default=5.0, ge=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_seconds: float = Field(default=10.0, ge=0)
    breaker_threshold: int = Field(default=3, ge=1, description="Consecutive 429s that open the breaker.")
    breaker_cooldown_seconds: float = Field(default=3600.0, ge=0)
    cache_hours: float = Field(default=20.0, ge=0, description="Reuse answers for relative timeframes this long.")
    hl: str = "en-US"
    tz: int = 360


class DashboardAuth(Section):
    """Who may open the dashboard; every acknowledgement and correction records the name."""

    method: Literal["password", "oidc"] = "password"
    password_env: str = Field(default="LISTENING_DASHBOARD_PASSWORD",
                              description="The environment variable holding the team password.")
    users: list[str] = Field(default_factory=list, description="Allowed names or e-mails; empty = anyone who signs in.")
    provider: str | None = Field(default=None, description="st.login provider in .streamlit/secrets.toml (oidc).")


class Dashboard(Section):
    """``listening serve``: where it listens and who may use it."""

    address: str = Field(default="127.0.0.1", description="Bind address; 0.0.0.0 only behind auth or a proxy.")
    port: int = Field(default=8501, ge=1, le=65535)
    refresh_seconds: int = Field(default=30, ge=5, description="How often the Live page refreshes.")
    auth: DashboardAuth | None = None


class ScheduledCommand(Section):
    """A ``listening`` command run on a schedule in a subprocess, e.g. a nightly import."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    args: list[str] = Field(min_length=1, description="Arguments after ``listening``: [import, /in/today.csv].")
    every_minutes: int = Field(default=60, ge=1, description="How often it runs.")
    timeout_minutes: float = Field(default=30, gt=0, description="It is stopped if still running then.")


class Schedule(Section):
    """``listening schedule``: when each job runs. Crawls use each source's ``every_minutes``;
    digests each department's ``digest_at`` in its ``timezone``; other times are UTC."""

    alerts_every_minutes: int = Field(default=5, ge=1, description="Alert rule evaluation.")
    outbox_every_minutes: int = Field(default=1, ge=1, description="Sending queued e-mails.")
    trends_at: str = Field(default="03:00", pattern=HH_MM, description="Daily Trends fetch (UTC).")
    trends_jitter_minutes: int = Field(default=60, ge=0, description="Random delay after trends_at, "
                                       "so installs don't all ask Google at once.")
    retrain_at: str = Field(default="04:00", pattern=HH_MM, description="Daily label-model retraining (UTC).")
    retention_at: str = Field(default="02:30", pattern=HH_MM, description="Daily retention pass (UTC).")
    retention_days: int | None = Field(default=90, ge=1, description="Mentions collected longer ago than "
                                       "this lose their text (rollups are kept); None keeps everything.")
    runs_keep_days: int = Field(default=90, ge=1, description="How long run records are kept.")
    crawl_timeout_minutes: float = Field(default=20, gt=0, description="A crawl still running after this is stopped.")
    stop_grace_seconds: float = Field(default=30, ge=0, description="After SIGTERM, how long a crawl "
                                      "gets to stop cleanly before it is killed.")
    job_timeout_minutes: float = Field(default=120, gt=0, description="Trends and retraining "
                                       "(run in a subprocess) are stopped after this.")
    max_workers: int = Field(default=4, ge=1, description="Jobs that may run at the same time.")
    disabled: list[str] = Field(default_factory=list, description="Job ids or kinds to leave out: "
                                "\"retrain\", \"crawl\", \"crawl:reddit\", \"digest:Baggage\".")
    commands: list[ScheduledCommand] = Field(default_factory=list, description="Extra CLI commands to run.")


class Config(Section):
    """The whole ``listening.yaml``."""

    brands: list[Brand] = Field(min_length=1)
    departments: list[Department] = Field(default_factory=list)
    issues: list[Issue] | None = Field(default=None, description="None: the built-in taxonomy.")
    sources: list[Source] = Field(default_factory=list)
    import_mapping: ImportMapping = Field(default_factory=ImportMapping)
    sentiment: SentimentConfig = Field(default_factory=SentimentConfig)
    smtp: Smtp = Field(default_factory=Smtp)
    alerts: Alerts = Field(default_factory=Alerts)
    trends: Trends = Field(default_factory=Trends)
    schedule: Schedule = Field(default_factory=Schedule)
    user_agent: str = "ListeningCentre/0.1 (+https://example.com/listening-centre)"
    dashboard_url: str = "http://127.0.0.1:8501"
    dashboard: Dashboard = Field(default_factory=Dashboard)

    @model_validator(mode="after")
    def _unique_names(self) -> "Config":
        for section in ("brands", "departments", "sources"):
            names = [item.name for item in getattr(self, section)]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{section}: duplicate names {dupes}")
        known = {d.name for d in self.departments}
        for i, issue in enumerate(self.issues or ()):
            if known and issue.department not in known:
                raise ValueError(f"issues.{i}.department: unknown department {issue.department!r}")
        return self

    def brand(self, name: str) -> Brand:
        return next(b for b in self.brands if b.name == name)


def query_terms(config: Config) -> list[str]:
    """What ``{query}`` is filled with: every brand's terms (its name when it has none)."""
    terms: list[str] = []
    for brand in config.brands:
        terms.extend(brand.terms or [brand.search_term or brand.name])
    return list(dict.fromkeys(terms))


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    """The config file to use: the argument, ``$LISTENING_CONFIG``, ./listening.yaml, the demo."""
    if explicit:
        return Path(explicit)
    from_env = settings().config
    if from_env:
        return from_env
    for name in DEFAULT_PATHS:
        if Path(name).exists():
            return Path(name)
    return PACKAGED_DEMO


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read and validate a config file; raise ConfigError with the bad field's path."""
    path = config_path(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not UTF-8 at line {line}: {exc.reason}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from exc
    return parse_config(raw, origin=str(path))


def parse_config(raw: Any, origin: str = "<config>") -> Config:
    """Validate an already-parsed mapping."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: expected a mapping at the top level")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: " + "; ".join(_one_line(err) for err in exc.errors())) from exc


def _one_line(err: dict) -> str:
    """``brands.1.name: Field required``; a key with line breaks or control characters is quoted."""
    where = ".".join(part if isinstance(part, str) and part.isprintable() else repr(part)
                     for part in err["loc"]) or "(top level)"
    return f"{where}: {' '.join(err['msg'].split())}"
