"""Spike alerts that department leads can trust.

    rollups ─► Frame ─► rules (registered kinds) ─► coverage guard ─► Book (lifecycle)
                                                                      └─► notify (outbox)

``check`` runs the rules for now (or ``at``) and keeps alerts in MongoDB;
``backtest`` replays a period with the same code in memory and draws a timeline.
"""

from listening.alerts.backtest import backtest, budget, replay, table
from listening.alerts.check import check
from listening.alerts.lifecycle import as_json
from listening.alerts.manage import acknowledge, resolve
from listening.alerts.rules import RULES, register

__all__ = ["RULES", "acknowledge", "as_json", "backtest", "budget", "check", "register", "replay",
           "resolve", "table"]
