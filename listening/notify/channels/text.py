"""What every channel says about an alert, in words: one source so Slack, Teams and the
webhook agree with each other (and with the e-mail's numbers)."""

from __future__ import annotations

from urllib.parse import urlencode

from listening.config import Config


def headline(alert: dict) -> str:
    what = f"negative {alert['issue'].lower()} mentions" if alert.get("issue") else "negative mentions"
    ratio = alert["observed"] / max(alert["expected"], 0.1)
    return f"{alert['brand']}: {what} at {ratio:.1f}x the usual level"


def summary(alert: dict) -> str:
    return (f"{alert['observed']:.0f} in {alert.get('window_hours')} h where {alert['expected']:.1f} were expected; "
            f"severity {alert['severity']}, department {alert.get('department') or 'unassigned'}, "
            f"opened {alert['opened_at'][:16].replace('T', ' ')} UTC.")


def url(config: Config, alert: dict) -> str:
    return f"{config.dashboard_url.rstrip('/')}/alerts?{urlencode({'alert': alert['id']})}"


def terms(why: dict, top: int = 5) -> str:
    return ", ".join(f"{t['term']} ({t['count']} vs {t['expected']:.1f})" for t in why["terms"][:top])


def where(why: dict) -> str:
    authors = ", ".join(f"{a['name']} {a['count']}" + (" (many posts)" if a.get("many") else "")
                        for a in why["authors"][:3])
    sources = ", ".join(f"{s['name']} {s['count']}" for s in why["sources"][:3])
    tone = why["tone"]
    neg = ("" if tone["negative_now"] is None or tone["negative_baseline"] is None else
           f"; negative {tone['negative_now']:.0%} now vs {tone['negative_baseline']:.0%} before")
    return f"sources {sources}; authors {authors}{neg}"


def example(m: dict) -> str:
    copies = f" (x{m['copies']})" if m["copies"] > 1 else ""
    return f"{m['author'] or m['source']}{copies}: {m['text'][:300]}"
