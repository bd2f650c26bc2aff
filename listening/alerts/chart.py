"""PNG pictures of why alerts fired: counts, the baseline band, alert and guard marks.

matplotlib with the Agg backend only (no display, safe in the scheduler and tests).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from listening.alerts.rules import Context, Measure, judge, rule_kind  # noqa: E402
from listening.config import AlertRule  # noqa: E402
from listening.notify.channels import text  # noqa: E402


def measure_key(ctx: Context, rule: AlertRule, brand: str, issue: str | None,
                ends: np.ndarray) -> Measure | None:
    """The rule's observed/expected arrays for one key."""
    for m in rule_kind(rule).measure(ctx, rule, brand, ends):
        if m.issue == issue:
            return m
    return None


def _panel(ax, ctx: Context, rule: AlertRule, brand: str, issue: str | None, ends: np.ndarray,
           alerts: list[dict], guarded: list[datetime]) -> None:
    peak_window = alerts[0].get("window_hours") if alerts else None
    if peak_window and peak_window != rule.window_hours:  # draw the window the alert peaked in
        rule = rule.model_copy(update={"window_hours": peak_window})
    m = measure_key(ctx, rule, brand, issue, ends)
    times = [ctx.frame.time(e) for e in ends]
    if m is None:
        ax.set_title(" ".join(f"{brand} · {issue or 'all'}: no data".split()), fontsize=8)
        return
    sd = np.sqrt(np.maximum(m.variance, 0))
    upper = np.maximum(m.expected + rule.threshold * sd, m.expected * rule.min_ratio)
    ax.fill_between(times, np.maximum(m.expected - sd, 0), upper, color="#9ecae1", alpha=0.5,
                    step="post", label="baseline band (fires above)")
    ax.plot(times, m.expected, color="#3182bd", lw=1, drawstyle="steps-post", label="expected")
    ax.plot(times, m.observed, color="#222222", lw=1.2, drawstyle="steps-post",
            label=f"observed (last {rule.window_hours} h)")
    for t in guarded:
        ax.axvspan(t - timedelta(hours=1), t, color="#bbbbbb", alpha=0.4, lw=0)
    for a in alerts:
        end = a.get("resolved_at") or times[-1]
        ax.axvspan(a["opened_at"], end, color="#e6550d", alpha=0.18, lw=0)
        ax.plot([a["opened_at"]], [a["observed"] if a.get("peak_at") == a["opened_at"] else
                                   m.observed[min(ctx.frame.index(a["opened_at"]) - ends[0], len(ends) - 1)]],
                marker="v", color="#e6550d", ms=7)
    fires = judge(rule, m)[0]
    name = " ".join(f"{brand} · {issue or 'all mentions'}".split())  # no control characters in a title
    why = next((a["explanation"] for a in alerts if a.get("explanation")), None)
    reason = "" if why is None else "\n" + " ".join(f"why: {text.reason(why)}".split())[:140]
    ax.set_title(f"{rule.name}: {name}, {rule.window_hours} h window"
                 f" ({len(alerts)} alert{'s' * (len(alerts) != 1)}, {int(fires.sum())} firing buckets){reason}",
                 fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))


def timeline(ctx: Context, rules: dict[str, AlertRule], ends: np.ndarray, alerts: list[dict],
             guarded: dict[tuple, list[datetime]], path, *, max_panels: int = 8) -> None:
    """One panel per alerted key (most severe first) and up to two held-back keys, to ``path``."""
    held = sorted(guarded, key=lambda k: -len(guarded[k]))[:2]
    alerts = [a for a in alerts if hasattr(rule_kind(rules[a["rule"]]), "measure")]  # hourly kinds only
    keys: list[tuple] = []
    for a in sorted(alerts, key=lambda a: (-{"high": 2, "medium": 1}.get(a["severity"], 0), -a["score"])):
        k = (a["rule"], a["brand"], a["issue"])
        if k not in keys and k not in held:
            keys.append(k)
    keys = keys[:max_panels - len(held)] + held
    if not keys and ctx.frame.brands():
        keys = [(next(iter(rules)), ctx.frame.brands()[0], None)]
    fig, axes = plt.subplots(max(len(keys), 1), 1, figsize=(10, 2.4 * max(len(keys), 1)),
                             sharex=True, squeeze=False)
    for ax, (rule, brand, issue) in zip(axes[:, 0], keys):
        mine = [a for a in alerts if (a["rule"], a["brand"], a["issue"]) == (rule, brand, issue)]
        _panel(ax, ctx, rules[rule], brand, issue, ends, mine, guarded.get((rule, brand, issue), []))
    if axes[0, 0].get_legend_handles_labels()[0]:
        axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Alert backtest: grey = coverage guard held a firing bucket back", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # room for the title above two-line panels
    fig.savefig(path, dpi=90)
    plt.close(fig)


def alert_png(ctx: Context, rule: AlertRule, alert: dict, ends: np.ndarray) -> bytes:
    """A small chart for one alert's e-mail: the last days, the band and the alert mark."""
    fig, ax = plt.subplots(figsize=(6, 2.2))
    _panel(ax, ctx, rule, alert["brand"], alert["issue"], ends, [alert], [])
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()


def gap_png(brand: str, gap: dict) -> bytes:
    """A search_gap alert's e-mail chart: weekly share of voice and of search, and the gap
    against its usual range (``explanation["search_gap"]``)."""
    weeks = gap["series"]
    times = [datetime.fromisoformat(w["date"]) for w in weeks]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 3.2), sharex=True)
    top.plot(times, [100 * w["share_of_voice"] for w in weeks], color="#222222", lw=1.2, label="share of voice")
    top.plot(times, [100 * w["share_of_search"] for w in weeks], color="#3182bd", lw=1.2, label="share of search")
    top.set_ylabel("% of category", fontsize=7)
    top.set_title(" ".join(f"{brand} in {gap['category']}, weekly".split()), fontsize=8)
    top.legend(fontsize=6, loc="upper left")
    usual = gap["usual"]
    if usual.get("low") is not None:
        bottom.axhspan(100 * usual["low"], 100 * usual["high"], color="#9ecae1", alpha=0.5, lw=0,
                       label="usual range (fires outside)")
    bottom.plot(times, [100 * w["gap"] for w in weeks], color="#222222", lw=1.2, marker=".", ms=3,
                label="gap (voice - search)")
    bottom.plot(times[-1:], [100 * weeks[-1]["gap"]], marker="v", color="#e6550d", ms=7)
    bottom.set_ylabel("points", fontsize=7)
    bottom.legend(fontsize=6, loc="upper left")
    for ax in (top, bottom):
        ax.tick_params(labelsize=7)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %y"))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()


def when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")
