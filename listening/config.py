"""``listening.yaml``: brands, sources, issues, departments, rules, schedule.

Validated with pydantic on load. A bad file fails fast with the path of the bad field
and a one-line reason (``brands.2.name: Field required``), never half-way through a
crawl. Secrets (SMTP credentials) never live here: they come from the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_ENV = "LISTENING_CONFIG"
DEFAULT_PATHS = ("listening.yaml",)
PACKAGED_DEMO = Path(__file__).resolve().parent.parent / "demo" / "listening.yaml"


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid."""


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


class Department(Section):
    """Who owns a set of issues, and where their alerts go."""

    name: str = Field(min_length=1)
    leads: list[str] = Field(min_length=1)
    escalation: list[str] = Field(default_factory=list)
    digest_at: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$")
    timezone: str = "UTC"


class Issue(Section):
    """An issue of the taxonomy: phrases and regex patterns, owned by a department."""

    name: str = Field(min_length=1)
    department: str
    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)


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
    max_pages: int = Field(default=50, ge=1, description="Pages per start URL and crawl.")
    concurrency: int = Field(default=2, ge=1, le=16, description="Parallel requests per domain.")
    enabled: bool = True


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


class Sentiment(Section):
    """Where VADER's compound score splits positive / neutral / negative."""

    positive_threshold: float = 0.05
    negative_threshold: float = -0.05
    lexicon: dict[str, float] = Field(default_factory=dict, description="Extra words and their valence.")


class Smtp(Section):
    """The SMTP relay; credentials only from SMTP_USER / SMTP_PASSWORD."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "listening-centre@localhost"
    starttls: bool = False


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
    related_timeframe: str | None = Field(default=None, description="None: the same timeframe.")
    pacing_seconds: float = Field(default=5.0, ge=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_seconds: float = Field(default=10.0, ge=0)
    breaker_threshold: int = Field(default=3, ge=1, description="Consecutive 429s that open the breaker.")
    breaker_cooldown_seconds: float = Field(default=3600.0, ge=0)
    hl: str = "en-US"
    tz: int = 360


class Config(Section):
    """The whole ``listening.yaml``."""

    brands: list[Brand] = Field(min_length=1)
    departments: list[Department] = Field(default_factory=list)
    issues: list[Issue] | None = Field(default=None, description="None: the built-in taxonomy.")
    sources: list[Source] = Field(default_factory=list)
    import_mapping: ImportMapping = Field(default_factory=ImportMapping)
    sentiment: Sentiment = Field(default_factory=Sentiment)
    smtp: Smtp = Field(default_factory=Smtp)
    trends: Trends = Field(default_factory=Trends)
    user_agent: str = "ListeningCentre/0.1 (+https://example.com/listening-centre)"
    dashboard_url: str = "http://127.0.0.1:8501"

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


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    """The config file to use: the argument, ``$LISTENING_CONFIG``, ./listening.yaml, the demo."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
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
    where = ".".join(str(part) for part in err["loc"]) or "(top level)"
    return f"{where}: {err['msg']}"
