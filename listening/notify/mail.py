"""E-mails with evidence: alert notifications, escalations and daily digests.

Every message is rendered here (Jinja2; HTML autoescaped, plus plain text) and written
to the outbox first; ``listening.notify.outbox.flush`` sends it. Mention text appears only in
bodies, escaped in HTML; headers carry only our own names, stripped of CR/LF.

    queue_alert(store, config, alert)        # from evaluate, for each new alert
    queue_escalation(store, config, alert, at)
    send_digests(store, config, now)         # every department whose local digest time has come
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Callable
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from listening.config import Config
from listening.metrics.search import voice_vs_search
from listening.notify import routing

log = logging.getLogger(__name__)
Chart = Callable[[], bytes | None]  # draws the alert's PNG, only when a mail is rendered
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
_UNSAFE_HEADER = re.compile(r"[\x00-\x1f\x7f-\x9f]+")  # C0 and C1 controls
_env = Environment(loader=PackageLoader("listening.notify", "templates"),
                   autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                   trim_blocks=False, lstrip_blocks=False)


def header_safe(text: str, limit: int = 200) -> str:
    """One line for a header: CR, LF and other control characters become spaces."""
    return " ".join(_UNSAFE_HEADER.sub(" ", str(text)).split())[:limit]


def message_id(key: str) -> str:
    """Stable per idempotency key, so a resend after a crash can be recognised."""
    return f"<{hashlib.sha1(key.encode()).hexdigest()[:24]}@listening-centre>"


def alert_url(config: Config, alert: dict) -> str:
    return f"{config.dashboard_url.rstrip('/')}/alerts?{urlencode({'alert': alert['_id']})}"


def mention_link(config: Config, mention: dict) -> str:
    """The mention's own URL when it is http(s), else its page in the dashboard."""
    url = mention.get("url") or ""
    if url.startswith(("https://", "http://")):
        return url
    return f"{config.dashboard_url.rstrip('/')}/live?mention={quote(str(mention['_id']))}"


# What each rule kind watches, in a lead's words (the kinds are listening.alerts.rules').
KIND_WORDS = {"issue_negative": "negative mentions of one issue",
              "brand_negative": "all negative mentions of the brand",
              "sentiment_shift": "the share of the brand's mentions that are negative",
              "search_gap": "the brand's share of voice against its share of search, week by week"}


def stamp(t: datetime) -> str:
    """A full date a reader needs no context for: 'Sat 21 Feb 2015, 19:00 UTC'."""
    return f"{t.astimezone(timezone.utc):%a %d %b %Y, %H:%M} UTC"


def day(iso: str) -> str:
    """An ISO time as the date a reader needs no context for: '8 Feb 2015' (UTC)."""
    return f"{datetime.fromisoformat(iso).astimezone(timezone.utc):%-d %b %Y}"


_env.filters["day"] = day


def source_name(source: str) -> str:
    """A source id in words: 'demo_tweets' -> 'Demo tweets'."""
    words = " ".join(source.replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:]


def describe(alert: dict) -> tuple[str, str]:
    """(headline, why) in words: observed against expected. ASCII ("times", not a sign), so a
    subject folds at its spaces and reads the same in every mail client."""
    if alert.get("kind") == "search_gap":
        return describe_gap(alert)
    what = f"negative {alert['issue'].lower()} mentions" if alert.get("issue") else "negative mentions"
    ratio = alert["observed"] / max(alert["expected"], 0.1)
    headline = f"{alert['brand']}: {what} at {ratio:.1f} times the usual level"
    end = alert.get("window_end") or alert["opened_at"]
    why = (f"{alert['observed']:.0f} {what} of {alert['brand']} in the {alert['window_hours']} hours to "
           f"{stamp(end)}, where about {alert['expected']:.1f} were expected "
           f"from the usual level at this time of day.")
    if alert.get("kind") == "sentiment_shift":
        why += " The brand's negative share is up, not only its volume."
    return headline, why


def points(share: float | None) -> str:
    """A share or a gap in percentage points, signed: '+4.2'."""
    return "n/a" if share is None else f"{round(100 * share, 1) + 0.0:+.1f}"  # + 0.0: never "-0.0"


def describe_gap(alert: dict) -> tuple[str, str]:
    """(headline, why) of a search_gap alert: the week's gap against the usual one."""
    headline = (f"{alert['brand']}: share of voice minus share of search at {points(alert['observed'])} points, "
                f"usually {points(alert['expected'])}")
    gap = (alert.get("explanation") or {}).get("search_gap")
    start = alert.get("window_start") or alert["opened_at"]
    if not gap:
        return headline, f"In the week from {stamp(start)} the gap left its usual range."
    usual = gap["usual"]
    return headline, (
        f"In the week from {stamp(start)}, {alert['brand']} had {gap['share_of_voice']:.1%} of the "
        f"{gap['category']} mentions and {gap['share_of_search']:.1%} of its Google searches "
        f"({gap['share_of_search_lo']:.1%} to {gap['share_of_search_hi']:.1%}): it was {gap['direction']}, "
        f"a gap of {points(gap['gap'])} points where the weeks before put it at {points(usual['median'])} "
        f"(usual range {points(usual['low'])} to {points(usual['high'])}). Share of search tends to lead "
        f"market share (Binet): a brand searched for more than it is talked about is gaining demand.")


def _examples(store, config: Config, alert: dict) -> list[dict]:
    start = alert.get("window_start") or alert["opened_at"] - timedelta(hours=alert["window_hours"])
    docs = store.series.examples(alert["brand"], start, alert.get("window_end") or alert["opened_at"],
                                 issue=alert.get("issue"), limit=config.alerts.examples)
    return [{"when": stamp(d["published_at"]), "source": source_name(d.get("source") or ""),
             "author": d.get("author") or "", "text": (d.get("text") or "")[:400],
             "link": mention_link(config, d)} for d in docs]


def _readable(explanation: dict | None) -> dict | None:
    """The alert's explanation in the mail's words: full dates, sources named, not their ids."""
    if not explanation:
        return None

    return {**explanation,
            "examples": [{**m, "when": stamp(datetime.fromisoformat(m["when"])),
                          "source": source_name(m.get("source") or "")}
                         for m in explanation.get("examples") or ()],
            "sources": [{**s, "name": source_name(s["name"])} for s in explanation.get("sources") or ()]}


def render_alert(store, config: Config, alert: dict, *, to: list[str], key: str,
                 escalation_minutes: int | None = None, chart: bytes | None = None) -> EmailMessage:
    """The alert e-mail: text and HTML, ``chart`` (a PNG the alert engine drew) inline by Content-ID."""
    headline, why = describe(alert)
    png = chart
    cid = make_msgid(domain="listening-centre")
    context = dict(a=alert, headline=headline, why=why, examples=_examples(store, config, alert),
                   watches=KIND_WORDS.get(alert.get("kind"), source_name(str(alert.get("kind")))),
                   opened=stamp(alert["opened_at"]), alert_url=alert_url(config, alert),
                   quiet=next((r.resolve_after_quiet for r in config.alerts.rules if r.name == alert["rule"]), 6),
                   escalation=escalation_minutes is not None, escalation_minutes=escalation_minutes,
                   chart_cid=cid[1:-1] if png else None, spiking=_readable(alert.get("explanation")),
                   gap=(alert.get("explanation") or {}).get("search_gap"), points=points)
    prefix = "ESCALATION " if escalation_minutes is not None else ""
    msg = _envelope(config, to, f"{prefix}[{alert['severity']}] {headline}", key)
    msg.set_content(_env.get_template("alert.txt.j2").render(context))
    msg.add_alternative(_env.get_template("alert.html.j2").render(context), subtype="html")
    if png:
        msg.get_payload()[1].add_related(png, "image", "png", cid=cid, filename="chart.png")
    return msg


def _envelope(config: Config, to: list[str], subject: str, key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = header_safe(subject)
    msg["From"] = header_safe(config.smtp.sender)
    msg["To"] = ", ".join(header_safe(a) for a in to)
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = message_id(key)
    msg["X-Listening-Key"] = header_safe(key)
    return msg


def wire_bytes(msg: EmailMessage) -> bytes:
    """The message as SMTP wants it: CRLF line endings (smtplib sends bytes as they are)."""
    return msg.as_bytes(policy=policy.SMTP)


def queue_alert(store, config: Config, alert: dict, chart: Chart | None = None) -> bool:
    """Queue an alert's notification once; False if skipped or already queued.

    Called for new and growing alerts: one that opens below ``alerts.email_min_severity``
    (digest only) is mailed when it grows past it, once.
    """
    if SEVERITY_RANK[alert["severity"]] < SEVERITY_RANK[config.alerts.email_min_severity]:
        return False
    key = f"alert:{alert['_id']}:opened"
    if store.outbox.get(key) or _told_already(store, alert):
        return False
    to = routing.recipients(alert, config)
    if not to:
        log.warning("alert %s: no recipients for department %r", alert["_id"], alert.get("department"))
        return False
    msg = render_alert(store, config, alert, to=to, key=key, chart=chart() if chart else None)
    thread(msg, alert)
    return store.outbox.enqueue(key, to=to, subject=msg["Subject"], raw=wire_bytes(msg),
                                kind="alert", ref=alert["_id"])


def thread(msg: EmailMessage, alert: dict) -> None:
    """Every e-mail of one incident refers to the same root id, so mail clients show the
    incident as one conversation (the root itself is never sent; clients thread on it anyway)."""
    if alert.get("incident"):
        root = message_id(f"incident:{alert['incident']}")
        msg["In-Reply-To"] = root
        msg["References"] = root


def _told_already(store, alert: dict) -> bool:
    """A brand-level alert whose brand already has another brand-level alert of the same
    department open and mailed (negative volume and negative share move together): one mail,
    not two. Marketing's share-of-search alert is not social care's negative spike."""
    if alert.get("issue") is not None:
        return False
    return any(other["_id"] != alert["_id"] and other["brand"] == alert["brand"]
               and other.get("issue") is None and other.get("department") == alert.get("department")
               and store.outbox.get(f"alert:{other['_id']}:opened")
               for other in store.alerts.open_alerts())


def queue_escalation(store, config: Config, alert: dict, at: datetime, chart: Chart | None = None) -> bool:
    """Queue the escalation mail of a high-severity alert nobody acknowledged."""
    to = routing.escalation(alert, config)
    if not to:
        return False
    key = f"alert:{alert['_id']}:escalated"
    minutes = int((at - alert["opened_at"]).total_seconds() // 60)
    msg = render_alert(store, config, alert, to=to, key=key, escalation_minutes=minutes,
                       chart=chart() if chart else None)
    return store.outbox.enqueue(key, to=to, subject=msg["Subject"], raw=wire_bytes(msg),
                                kind="escalation", ref=alert["_id"])


# --- daily digests ---------------------------------------------------------------------

def _change(now: float, before: float) -> str:
    if not before:
        return "new" if now else "–"
    return f"{(now - before) / before:+.0%}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _shares(store, config: Config, now: datetime) -> list[dict]:
    day, week = timedelta(days=1), timedelta(days=7)
    try:
        v_now = {r["brand"]: r for r in voice_vs_search(store, config, since=now - day, until=now)}
        v_before = {r["brand"]: r for r in voice_vs_search(store, config, since=now - 2 * day, until=now - day)}
        s_now = {r["brand"]: r for r in voice_vs_search(store, config, since=now - week, until=now)}
        s_before = {r["brand"]: r for r in voice_vs_search(store, config, since=now - 2 * week, until=now - week)}
    except Exception:  # shares are context; a digest goes out without them
        log.exception("digest shares failed")
        return []
    rows = []
    for brand in config.brands:
        vn, vb = (v_now.get(brand.name) or {}).get("share_of_voice"), (v_before.get(brand.name) or {}).get("share_of_voice")
        sn, sb = (s_now.get(brand.name) or {}).get("share_of_search"), (s_before.get(brand.name) or {}).get("share_of_search")
        rows.append({"brand": brand.name, "voice": _pct(vn), "search": _pct(sn),
                     "voice_change": "n/a" if vn is None or vb is None else f"{(vn - vb) * 100:+.1f} pts",
                     "search_change": "n/a" if sn is None or sb is None else f"{(sn - sb) * 100:+.1f} pts"})
    return rows


def _quiet_reason(store, since: datetime) -> str | None:
    """Why a digest has nothing to count, when nothing arrived since ``since``."""
    span = store.mentions.time_span()
    if span is None:
        return "No mentions have been collected yet, so there is nothing to count."
    if span[1] < since:
        return (f"No mentions were collected in the last 24 hours: the newest is from {stamp(span[1])}. "
                "Sources health in the Listening Centre shows whether collection is running.")
    return None


def render_digest(store, config: Config, department, now: datetime, key: str) -> EmailMessage:
    """One department's digest: its issues, its open alerts, shares of voice and search."""
    day = timedelta(days=1)
    care = routing.care_department(config)
    is_care = care is not None and care.name == department.name

    def mine(issue: str | None) -> bool:
        owner = routing.department_for(issue, config)
        return owner == department.name or (issue is None and is_care)

    def neg(since, until):
        rows = store.mentions.totals(by=("brand", "issue", "label"), since=since, until=until, issue=None)
        return {(r["brand"], r["issue"]): r["count"] for r in rows
                if r["label"] == "negative" and mine(r["issue"])}

    today, before = neg(now - day, now), neg(now - 2 * day, now - day)
    issues = [{"brand": b, "issue": i, "count": n, "change": _change(n, before.get((b, i), 0))}
              for (b, i), n in sorted(today.items(), key=lambda kv: -kv[1])][:30]
    open_alerts = [{"brand": a["brand"], "issue": a.get("issue"), "severity": a["severity"],
                    "observed": a["observed"], "expected": a["expected"], "status": a["status"],
                    "opened": stamp(a["opened_at"]), "url": alert_url(config, a)}
                   for a in store.alerts.open_alerts()
                   if a.get("department") == department.name
                   or (a.get("issue") is None and is_care and a.get("department") in (None, routing.SOCIAL_CARE))]
    local = now.astimezone(ZoneInfo(department.timezone))
    shares = _shares(store, config, now)
    context = dict(department=department.name, day=f"{local:%a %d %b %Y}", tz=department.timezone,
                   issues=issues, open_alerts=open_alerts, shares=shares,
                   quiet=_quiet_reason(store, now - day),
                   shares_note=any("n/a" in r.values() for r in shares),
                   dashboard_url=config.dashboard_url)
    msg = _envelope(config, department.leads, f"{department.name}: listening digest, {local:%a %d %b %Y}", key)
    msg.set_content(_env.get_template("digest.txt.j2").render(context))
    msg.add_alternative(_env.get_template("digest.html.j2").render(context), subtype="html")
    return msg


def send_digests(store, config: Config, now: datetime | None = None) -> dict[str, int]:
    """Queue each department's digest once per local day, once its ``digest_at`` has passed.

    Safe to call as often as the scheduler likes: the key is (department, local date).
    """
    now = now or datetime.now(timezone.utc)
    counts = {"queued": 0, "not_yet": 0, "already": 0}
    run_id = store.runs.start("digest", at=now)
    try:
        for dept in config.departments:
            local = now.astimezone(ZoneInfo(dept.timezone))
            hour, minute = map(int, dept.digest_at.split(":"))
            if (local.hour, local.minute) < (hour, minute):
                counts["not_yet"] += 1
                continue
            key = f"digest:{dept.name}:{local:%Y-%m-%d}"
            if store.outbox.get(key):
                counts["already"] += 1
                continue
            msg = render_digest(store, config, dept, now, key)
            queued = store.outbox.enqueue(key, to=dept.leads, subject=msg["Subject"],
                                          raw=wire_bytes(msg), kind="digest", ref=dept.name)
            counts["queued" if queued else "already"] += 1
    except Exception as exc:
        store.runs.finish(run_id, status="failed", counts=counts, error=f"{type(exc).__name__}: {exc}")
        raise
    store.runs.finish(run_id, counts=counts)
    return counts
