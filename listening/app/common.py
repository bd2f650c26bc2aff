"""What every dashboard page shares: the store and config, the time window, who is signed in.

Pages (``listening/app/views/``) read only through these cached loaders, ``listening.metrics``
and the store's repositories; nothing here imports pymongo. Cached loaders take a
``db`` key (URI and database name) as their first argument, so two stores never share
a cache entry, and times rounded to the minute, so reruns hit the cache.
"""

from __future__ import annotations

import getpass
import hmac
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import altair as alt
from pandas.api.types import is_object_dtype, is_string_dtype
import streamlit as st

from listening.config import Config, config_path, load_config
from listening.ids import stable_id
from listening.models import UNSCORED, sentiment_label
from listening.settings import named, settings
from listening.store import Store
from listening.store.feed import FeedFilter, Page

WINDOWS: dict[str, timedelta | None] = {
    "Last 24 hours": timedelta(days=1), "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30), "Last 90 days": timedelta(days=90),
    "Last 12 months": timedelta(days=365), "All time": None,
}
DEFAULT_WINDOW = "Last 7 days"
COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}
# Text we could not score is a class of its own, never shown as neutral.
UNSCORED_TEXT = "not scored (language)"


def label_text(sentiment: dict | None) -> str:
    """A stored sentiment as the dashboard names it."""
    label = sentiment_label(sentiment)
    return UNSCORED_TEXT if label == UNSCORED else label
HOUR = timedelta(hours=1)
log = logging.getLogger("listening.app.signin")


# -- the store and config -------------------------------------------------------------
def db_key() -> str:
    """Which database this session reads: the cache key of every loader."""
    env = settings()
    return stable_id(env.mongo_uri or "", env.db or "")


@st.cache_resource(show_spinner=False)
def _connect(key: str) -> Store:
    return Store.connect()


def store(key: str | None = None) -> Store:
    return _connect(key or db_key())


@st.cache_resource(show_spinner=False)
def _config(path: str, mtime: float) -> Config:
    return load_config(path)


def config() -> Config:
    """The config, re-read when its file changes."""
    path = config_path()
    return _config(str(path), path.stat().st_mtime)


# -- the time window ------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """``[since, until)``; ``followed`` is set when it was moved back to the newest data."""

    since: datetime | None
    until: datetime
    label: str
    followed: datetime | None = None

    def describe(self) -> str:
        start = f"{self.since:%d %b %Y %H:%M}" if self.since else "the first mention"
        return f"{start} – {self.until:%d %b %Y %H:%M} UTC"


def resolve_window(label: str, span: tuple[datetime, datetime] | None,
                   now: datetime | None = None) -> Window:
    """The window a selector choice means, following the data when it is older than that.

    Windows of two days or more run midnight to midnight (UTC), today included, so
    they read whole-day rollups; shorter ones end at the next minute.
    """
    now = now or datetime.now(timezone.utc)
    length = WINDOWS.get(label, WINDOWS[DEFAULT_WINDOW])
    daily = length is None or length >= timedelta(days=2)
    until = _ceil_day(now) if daily else (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if span is None:
        return Window(until - length if length else None, until, label)
    first, last = span
    if length is None:  # from the first data to the newest (today at the latest)
        return Window(_floor_day(first), min(until, _ceil_day(last + HOUR)), label)
    if last + HOUR <= until - length:
        followed_until = _ceil_day(last + HOUR) if daily else last + HOUR
        return Window(followed_until - length, followed_until, label, followed=last)
    return Window(until - length, until, label)


def _floor_day(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(t: datetime) -> datetime:
    floor = _floor_day(t)
    return floor if floor == t else floor + timedelta(days=1)


@st.cache_data(ttl=60, show_spinner="Updating the daily summaries...")
def time_span(key: str) -> tuple[datetime, datetime] | None:
    """The data's first and last hour; first brings the day rollups up to date (a minute apart at most)."""
    s = store(key)
    s.daily.refresh()
    return s.daily.span()


def window_picker(page: str, *, span: tuple[datetime, datetime] | None | str = "mentions",
                  default: str = DEFAULT_WINDOW, what: str = "mentions") -> Window:
    """The sidebar time-range selector; says so when the window follows old data.

    ``span`` is the data's first and last time (default: the mentions').
    """
    choice = st.sidebar.selectbox("Time range", list(WINDOWS), key=f"{page}_window",
                                  index=list(WINDOWS).index(default))
    window = resolve_window(choice, time_span(db_key()) if span == "mentions" else span)
    if window.followed:
        st.info(f"No {what} in the {choice.lower()}: the newest is from "
                f"{window.followed:%d %b %Y %H:00} UTC, so this shows the {choice.lower()[5:]} "
                f"up to it ({window.describe()}).", icon=":material/history:")
    else:
        st.sidebar.caption(window.describe())
    return window


# -- who is signed in -----------------------------------------------------------------
class SignInThrottle:
    """Failed sign-ins per name and client, and per name from anywhere: after a few free
    failures each further one locks that key for twice as long (up to ``MAX_LOCK_S``).
    A locked key is refused without looking at the password, so guessing costs time."""

    FREE = {"client": 3, "anywhere": 10}
    MAX_LOCK_S = 900.0

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.failures: dict[tuple, tuple[int, float]] = {}  # key -> (failures, locked until)
        self.lock = threading.Lock()

    def _keys(self, name: str, client: str) -> dict[str, tuple]:
        user = name.strip().lower()
        return {"client": (user, client), "anywhere": (user, "*")}

    def wait_s(self, name: str, client: str) -> float:
        """Seconds until this name may try again from this client (0: now)."""
        now = self.clock()
        with self.lock:
            return max([self.failures.get(key, (0, now))[1] - now
                        for key in self._keys(name, client).values()] + [0.0])

    def failed(self, name: str, client: str) -> None:
        now = self.clock()
        with self.lock:
            for kind, key in self._keys(name, client).items():
                count = self.failures.get(key, (0, now))[0] + 1
                over = count - self.FREE[kind]
                until = now + min(2.0 ** over, self.MAX_LOCK_S) if over > 0 else now
                self.failures[key] = (count, until)
        log.warning("sign-in failed for %r from %s (%d in a row from there)", name, client,
                    self.failures[(name.strip().lower(), client)][0])

    def succeeded(self, name: str, client: str) -> None:
        with self.lock:
            for key in self._keys(name, client).values():
                self.failures.pop(key, None)


THROTTLE = SignInThrottle()  # one for every session of this dashboard process


def _client() -> str:
    """The reader's address as Streamlit sees it (behind a proxy: the proxy's), else "local"."""
    try:
        ip = st.context.ip_address
    except AttributeError:
        ip = None
    return ip if isinstance(ip, str) and ip else "local"  # no browser behind AppTest


def require_login(cfg: Config) -> None:
    """Stop the page until the reader has signed in, when the config asks for auth."""
    auth = cfg.dashboard.auth
    if auth is None or st.session_state.get("auth_user"):
        return
    if auth.method == "oidc":
        if getattr(st.user, "is_logged_in", False):
            user = st.user.get("email") or st.user.get("name") or "unknown"
            if auth.users and user not in auth.users:
                st.error(f"{user} may not use this dashboard.")
                st.button("Log out", on_click=st.logout)
                st.stop()
            st.session_state["auth_user"] = user
            return
        st.title("Listening Centre")
        st.button("Log in", on_click=st.login, args=(auth.provider,), type="primary")
        st.stop()
    secret = named(auth.password_env)
    st.title("Listening Centre")
    if not secret:
        st.error(f"Sign-in is required but no password is set: set {auth.password_env} "
                 "in the dashboard's environment.")
        st.stop()
    with st.form("login"):
        name = st.text_input("Your name")
        password = st.text_input("Team password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        throttle, client = THROTTLE, _client()
        wait = throttle.wait_s(name, client)
        if wait > 0:
            log.warning("sign-in refused for %r from %s: locked for %.0f s more", name, client, wait)
            st.error(f"Too many failed sign-ins: try again in {wait:.0f} s.")
            st.stop()
        allowed = not auth.users or name.strip() in auth.users
        if name.strip() and allowed and hmac.compare_digest(password.encode(), secret.encode()):
            throttle.succeeded(name, client)
            st.session_state["auth_user"] = name.strip()
            st.rerun()
        throttle.failed(name, client)
        st.error("Wrong name or password.")
    st.stop()


def who() -> str:
    """The name that acknowledgements, handling and corrections are recorded under."""
    if st.session_state.get("auth_user"):
        return st.session_state["auth_user"]
    if "who" not in st.session_state:
        st.session_state["who"] = _local_user()
    return st.session_state["who"].strip() or "anonymous"


def who_box() -> None:
    """Sidebar: the signed-in name (with auth) or an editable name (without)."""
    if st.session_state.get("auth_user"):
        st.sidebar.caption(f"Signed in as **{st.session_state['auth_user']}**")
        if st.sidebar.button("Sign out"):
            del st.session_state["auth_user"]
            if getattr(st.user, "is_logged_in", False):
                st.logout()
            st.rerun()
        return
    who()
    st.sidebar.text_input("Your name (recorded on actions)", key="who")


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "anonymous"


# -- cached loaders -------------------------------------------------------------------
@st.cache_data(ttl=10, show_spinner=False)
def newest(key: str, flt: FeedFilter, since: datetime, until: datetime, limit: int,
           exclude: tuple[str, ...] = ()) -> Page:
    return store(key).feed.newest(flt, since=since, until=until, limit=limit, exclude=exclude)


def since_or_first(window: Window) -> datetime:
    """A concrete start for raw-mention scans ("All time" starts at the first rollup hour)."""
    if window.since is not None:
        return window.since
    span = time_span(db_key())
    return span[0] if span else window.until - timedelta(days=1)


_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:=^&")


_WORD_JOINER = "\u2060"  # invisible; breaks the patterns Streamlit turns into icons and links
_AUTOLINKED = re.compile(r"(?i)(?<=w)(?=ww\.)")
_INDENT = re.compile(r"(?:^|(?<=[\r\n]))[ \t]+")  # a line's indentation, which CommonMark reads as code


def plain(text: str | None) -> str:
    """Text made inert for ``st.markdown`` and headings: every markdown character escaped (``&``
    too, or ``&lt;`` would show as ``<``), and a word joiner after ``:`` and ``@`` and inside
    ``www.``, since escaping alone still showed ``:material/warning:`` as an icon and
    ``www.…``, ``mailto:`` and ``a@b.example`` as links (seen in chromium). A line's leading tabs
    and spaces become no-break spaces: four of them (or a tab) made it a code block."""
    unlinked = _AUTOLINKED.sub(_WORD_JOINER, _INDENT.sub(lambda m: "\u00a0" * len(m[0]), text or ""))
    escaped = "".join(f"\\{ch}" if ch in _MARKDOWN_SPECIAL else ch for ch in unlinked)
    return escaped.replace(":", ":" + _WORD_JOINER).replace("@", "@" + _WORD_JOINER).replace("\n", "  \n")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: object) -> object:
    """A text cell a spreadsheet will not run: one starting (after any spaces) with ``= + - @``,
    or with a tab or CR, gets a leading ``'`` (shown as text, the rest kept as it was)."""
    if isinstance(value, str) and (value.startswith(FORMULA_START) or value.lstrip(" ").startswith(FORMULA_START)):
        return "'" + value
    return value


def safe_csv(frame) -> bytes:
    """The frame as UTF-8 CSV (with a BOM, so Excel reads it as UTF-8), every text cell inert."""
    inert = frame.copy()
    for column in inert.columns:
        if is_object_dtype(inert[column]) or is_string_dtype(inert[column]):
            inert[column] = inert[column].map(inert_cell)
    inert.columns = [inert_cell(str(c)) for c in inert.columns]
    # CRLF rows (RFC 4180): the writer then quotes a cell holding a lone CR, which would split a row
    return inert.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def csv_download(frame, name: str, key: str) -> None:
    """"Download as CSV" for a table of mention text: the built-in export is switched off
    (``client.disableDataExport``, set by ``listening serve``) since it writes cells as they are."""
    st.download_button("Download as CSV", safe_csv(frame), file_name=f"{name}.csv", mime="text/csv",
                       key=key, icon=":material/download:")


def duration(seconds: float | None) -> str:
    """3 min, 5.2 h, 2.1 d."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


# -- charts ---------------------------------------------------------------------------
BUCKET = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d",
           "#ff9da6", "#bab0ac"]


def brand_colours(drawn=None) -> dict[str, str]:
    """Name -> colour for what a chart draws: a configured brand keeps its colour on every page
    (config order, a colour-blind-safe palette); other names (search-only terms) take the
    colours this chart leaves free, so every drawn series has a colour and a legend entry."""
    configured = [b.name for b in config().brands]
    own = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(configured)}
    names = configured if drawn is None else list(dict.fromkeys(drawn))
    out = {n: own[n] for n in sorted((n for n in names if n in own), key=configured.index)}
    free = [c for c in PALETTE if c not in out.values()] or PALETTE
    for i, name in enumerate(n for n in names if n not in own):
        out[name] = free[i % len(free)]
    return out


def brand_colour(drawn=None, *, legend: bool = True) -> alt.Color:
    """The brand colour channel; ``drawn``: the brands the chart's data holds (default: the config's)."""
    colours = brand_colours(drawn)
    return alt.Color("brand:N", title="brand", sort=list(colours),
                     legend=alt.Legend(symbolOpacity=1) if legend else None,
                     scale=alt.Scale(domain=list(colours), range=list(colours.values())))


def time_x(window: Window, field: str = "time", title: str | None = None) -> alt.X:
    """A UTC time axis spanning the whole window, so an empty stretch shows as empty."""
    since = window.since or window.until - timedelta(days=1)
    span = window.until - since
    ticks = "hour" if span <= timedelta(days=1) else "day" if span <= timedelta(days=31) else \
        "week" if span <= timedelta(days=120) else "month"
    return alt.X(f"{field}:T", title=title,
                 scale=alt.Scale(type="utc", domain=[_vl_time(since), _vl_time(window.until)]),
                 axis=alt.Axis(format={"hour": "%H:%M", "day": "%d %b", "week": "%d %b", "month": "%b %Y"}[ticks],
                               tickCount=ticks if span > timedelta(days=2) else alt.Undefined))


def _vl_time(t: datetime) -> alt.DateTime:
    return alt.DateTime(year=t.year, month=t.month, date=t.day, hours=t.hour, minutes=t.minute, utc=True)


def issue_names() -> list[str]:
    """The issue taxonomy's names (the config's or the built-in one)."""
    try:
        from listening.tagging.issues import rules_for
        return [rule.name for rule in rules_for(config())]
    except Exception:  # noqa: BLE001 -- a taxonomy API change must not take the page down
        return []


def data_bounds(window: Window) -> tuple[datetime, datetime]:
    """The window cut to where mentions exist, so feed scans start at data, not at emptiness."""
    span = time_span(db_key())
    since = since_or_first(window)
    if span is None:
        return since, window.until
    return max(since, span[0]), max(since, min(window.until, span[1] + 2 * HOUR))
