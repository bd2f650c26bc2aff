"""``backtest``: replay history bucket by bucket through the same rules and lifecycle as
production, with state in memory (no alerts stored, no mail), so a team can tune
rules before trusting them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from listening.alerts import explain, incidents
from listening.alerts.detect import Finding, enabled_rules, frame_rules, lookback, scan, store_findings
from listening.alerts.frame import Frame, floor_hour
from listening.alerts.lifecycle import Book, as_json
from listening.alerts.rules import Context
from listening.config import Config
from listening.notify import routing
from listening.notify.channels import text


@dataclass
class Replay:
    """Everything a backtest saw."""

    alerts: list[dict] = field(default_factory=list)
    guarded: list[Finding] = field(default_factory=list)
    cooled: list[Finding] = field(default_factory=list)
    ctx: Context | None = None
    ends: np.ndarray | None = None
    rules: dict = field(default_factory=dict)

    def draw(self, path: str | Path) -> None:
        """The PNG timeline: each alerted key's counts against its band, why it fired in its title."""
        from listening.alerts.chart import timeline

        guarded: dict[tuple, list[datetime]] = defaultdict(list)
        for f in self.guarded:
            guarded[(f.rule, f.brand, f.issue)].append(f.window_end)
        timeline(self.ctx, self.rules, self.ends, self.alerts, dict(guarded), path)


def replay(store, config: Config, start: datetime, end: datetime,
           png_path: str | Path | None = None) -> Replay:
    """Evaluate every bucket whose window ends in ``[start, end]``, oldest first."""
    start, end = floor_hour(start), floor_hour(end)
    rules = enabled_rules(config)
    hourly = frame_rules(rules)
    frame = Frame.load(store, start - lookback(hourly), end,
                       collection_jobs=config.alerts.collection_jobs,
                       max_gap_hours=config.alerts.max_run_gap_hours)
    ctx = Context(frame, config)
    ends = np.arange(frame.index(start), frame.index(end) + 1)
    by_end: dict[datetime, list[Finding]] = defaultdict(list)
    for f in scan(ctx, hourly, ends):
        by_end[f.window_end].append(f)
    for t, f in store_findings(store, config, rules, [frame.time(e) for e in ends]):
        by_end[t].append(f)
    book = Book({r.name: r for r in rules})
    out = Replay(ctx=ctx, ends=ends, rules=book.rules)
    for e in ends:
        t = frame.time(e)
        changes = book.step(t, by_end.get(t, []), lambda f: routing.department_of(f.rule, f.issue, config))
        out.alerts.extend(changes.opened)
        out.guarded.extend(changes.guarded)
        out.cooled.extend(changes.cooled)
    if png_path:
        out.draw(png_path)
    return out


def backtest(store, config: Config, start: datetime, end: datetime,
             png_path: str | Path | None = None) -> list[dict]:
    """The alerts that would have fired in ``[start, end]`` (JSON form, each with its incident
    and why it is spiking), oldest first; the PNG timeline titles each panel with why."""
    seen = replay(store, config, start, end)
    alerts = seen.alerts
    for inc in incidents.group(alerts):
        for alert in (a for a in alerts if a["_id"] in inc["alerts"]):
            alert["incident"] = inc["id"]
    for alert in alerts:
        explain.attach(store, config, alert)
    if png_path:
        seen.draw(png_path)
    return [as_json(a) for a in alerts]


def table(alerts: list[dict]) -> str:
    """A plain-text table of alerts, for terminals and notes: each rule's firings together,
    each with why it fired in one line (``explanation``)."""
    head = f"{'opened (UTC)':17} {'resolved':17} {'brand':15} {'issue':16} {'obs':>7} {'exp':>7} sev"
    rows = []
    for rule in dict.fromkeys(a["rule"] for a in alerts):
        mine = [a for a in alerts if a["rule"] == rule]
        rows += [f"{rule}: {len(mine)} alert{'s' * (len(mine) != 1)}", head, "-" * len(head)]
        for a in mine:
            gap = a.get("kind") == "search_gap"  # shares, not counts
            obs, exp = (f"{100 * a['observed']:+.1f}pt", f"{100 * a['expected']:+.1f}pt") if gap else \
                (f"{a['observed']:.0f}", f"{a['expected']:.1f}")
            rows.append(f"{a['opened_at'][:16]:17} {(a['resolved_at'] or 'open')[:16]:17} "
                        f"{a['brand']:15} {a['issue'] or '(all)':16} {obs:>7} {exp:>7} {a['severity']}")
            rows.append(f"  why: {text.reason(a.get('explanation'))}")
        rows.append("")
    return "\n".join(rows).rstrip("\n") or "No alerts."


def budget(alerts: list[dict], config: Config) -> str:
    """Per week: alerts per department and e-mails per recipient, one per alert (raw) and one
    per incident (grouped, ``listening.alerts.incidents``): the budget rules are tuned against."""
    b = incidents.budget(alerts, config)
    rows = []
    for w in sorted(set(b["alerts"]) | set(b["incidents"])):
        per_dept = b["alerts"][w]
        rows.append(f"{w}: {sum(per_dept.values())} alerts, {b['incidents'][w]} incidents")
        rows += [f"  alerts   {dept:30} {n:>4}" for dept, n in sorted(per_dept.items())]
        for to in sorted(set(b["emails_raw"][w]) | set(b["emails_grouped"][w])):
            rows.append(f"  e-mails  {to:30} {b['emails_raw'][w][to]:>4} (one per alert) in "
                        f"{b['emails_grouped'][w][to]:>3} incident threads")
    return "\n".join(rows)
