"""What every channel says about an alert, in words: one source so Slack, Teams and the
webhook agree with each other (and with the e-mail's numbers)."""

from __future__ import annotations

from urllib.parse import urlencode

from listening.config import Config
from listening.notify.mail import points


def headline(alert: dict) -> str:
    if alert.get("kind") == "search_gap":
        return (f"{alert['brand']}: share of voice minus share of search at {points(alert['observed'])} points, "
                f"usually {points(alert['expected'])}")
    what = f"negative {alert['issue'].lower()} mentions" if alert.get("issue") else "negative mentions"
    ratio = alert["observed"] / max(alert["expected"], 0.1)
    return f"{alert['brand']}: {what} at {ratio:.1f}x the usual level"


def summary(alert: dict) -> str:
    if alert.get("kind") == "search_gap":
        return (f"The week to {alert['opened_at'][:10]}; severity {alert['severity']}, department "
                f"{alert.get('department') or 'unassigned'}.")
    return (f"{alert['observed']:.0f} in {alert.get('window_hours')} h where {alert['expected']:.1f} were expected; "
            f"severity {alert['severity']}, department {alert.get('department') or 'unassigned'}, "
            f"opened {alert['opened_at'][:16].replace('T', ' ')} UTC.")


def url(config: Config, alert: dict) -> str:
    return f"{config.dashboard_url.rstrip('/')}/alerts?{urlencode({'alert': alert['id']})}"


def terms(why: dict, top: int = 5) -> str:
    return ", ".join(f"{t['term']} ({t['count']} vs {t['expected']:.1f})" for t in why["terms"][:top])


def gap(g: dict) -> str:
    """A search_gap explanation in one line: the week's two shares, the gap and its usual range."""
    usual = g["usual"]
    return (f"Share of voice {g['share_of_voice']:.1%}, share of search {g['share_of_search']:.1%} "
            f"({g['share_of_search_lo']:.1%} to {g['share_of_search_hi']:.1%}) in {g['category']}: "
            f"{g['direction']}. Usual gap {points(usual['median'])} points "
            f"(range {points(usual['low'])} to {points(usual['high'])}).")


def where(why: dict) -> str:
    authors = ", ".join(f"{a['name']} {a['count']}" + (" (many posts)" if a.get("many") else "")
                        for a in why["authors"][:3])
    sources = ", ".join(f"{s['name']} {s['count']}" for s in why["sources"][:3])
    tone = why["tone"]
    neg = ("" if tone["negative_now"] is None or tone["negative_baseline"] is None else
           f"; negative {tone['negative_now']:.0%} now vs {tone['negative_baseline']:.0%} before")
    return f"sources {sources}; authors {authors}{neg}"


def reason(why: dict | None) -> str:
    """An explanation in one line: the backtest's table and timeline, the Alerts page's backtest."""
    if not why:
        return "not explained"
    if why.get("search_gap"):
        return gap(why["search_gap"])
    tone = why["tone"]
    neg = ("" if tone["negative_now"] is None or tone["negative_baseline"] is None else
           f"; negative {tone['negative_now']:.0%} (was {tone['negative_baseline']:.0%})")
    return f"rising {terms(why, 3) or 'nothing above its baseline'}{neg}"


def example(m: dict) -> str:
    copies = f" (x{m['copies']})" if m["copies"] > 1 else ""
    return f"{m['author'] or m['source']}{copies}: {m['text'][:300]}"
