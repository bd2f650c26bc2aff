"""What people do to alerts: acknowledge and resolve, with who and when."""

from __future__ import annotations

from datetime import datetime, timezone

from listening.alerts.lifecycle import as_json
from listening.errors import AlertStateError


def acknowledge(store, alert_id: str, who: str, *, at: datetime | None = None) -> dict:
    """open -> acknowledged; stops escalation. Returns the alert's JSON form."""
    return _move(store, alert_id, who, at, allowed=["open"], to="acknowledged")


def resolve(store, alert_id: str, who: str, *, at: datetime | None = None) -> dict:
    """open or acknowledged -> resolved; the rule's cooldown starts now."""
    return _move(store, alert_id, who, at, allowed=["open", "acknowledged"], to="resolved")


def _move(store, alert_id, who, at, *, allowed, to) -> dict:
    who = " ".join(str(who).split())[:200]
    if not who:
        raise AlertStateError("say who is acting on the alert")
    alert = store.alerts.transition(alert_id, allowed=allowed, to=to,
                                    at=at or datetime.now(timezone.utc), who=who)
    if alert is None:
        current = store.alerts.get(alert_id)
        if current is None:
            raise AlertStateError(f"no alert {alert_id!r}")
        raise AlertStateError(f"alert {alert_id} is {current['status']}, cannot become {to}")
    return as_json(alert)
