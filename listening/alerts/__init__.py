"""Spike alerts that department leads can trust.

    rollups ─► Frame ─► rules (registered kinds) ─► coverage guard ─► Book (lifecycle)
                                                                      └─► notify (outbox)

``check`` runs the rules for now (or ``at``) and keeps alerts in MongoDB;
``backtest`` replays a period with the same code in memory and draws a timeline.
Names load on first use, so ``listening report`` (which only needs ``as_json``) does not
pay for the rule engine, the mail templates and matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["RULES", "acknowledge", "as_json", "backtest", "budget", "check", "register", "replay",
           "resolve", "table"]

_HOME = {"backtest": "backtest", "budget": "backtest", "replay": "backtest", "table": "backtest", "check": "check",
         "as_json": "lifecycle", "acknowledge": "manage", "resolve": "manage", "RULES": "rules",
         "register": "rules"}

if TYPE_CHECKING:
    from listening.alerts.backtest import backtest, budget, replay, table
    from listening.alerts.check import check
    from listening.alerts.lifecycle import as_json
    from listening.alerts.manage import acknowledge, resolve
    from listening.alerts.rules import RULES, register


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'listening.alerts' has no attribute {name!r}")
    module = import_module(f"listening.alerts.{_HOME[name]}")
    for other, home in _HOME.items():  # every name of that module, over the submodule the import
        if home == _HOME[name]:        # just bound to the same name (``backtest`` after ``replay``)
            globals()[other] = getattr(module, other)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
