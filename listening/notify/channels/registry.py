"""The notifier registry: each channel kind's renderer, and who hears about an alert.

Its own module so the notifiers (slack, teams, webhook) and the sender import it without
going through the package face that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from listening.config import Channel, Config
from listening.errors import ConfigError
from listening.notify import routing


@dataclass(frozen=True)
class Notifier:
    kind: str
    render: Callable[[dict, Config], dict]
    headers: Callable[[bytes, Channel], dict[str, str]] | None = None


NOTIFIERS: dict[str, Notifier] = {}


def register(kind: str, headers: Callable[[bytes, Channel], dict[str, str]] | None = None):
    """Decorator: make ``render`` the notifier of ``channels[].kind == kind``."""
    def add(render: Callable[[dict, Config], dict]) -> Callable[[dict, Config], dict]:
        NOTIFIERS[kind] = Notifier(kind, render, headers)
        return render
    return add


def notifier(kind: str) -> Notifier:
    try:
        return NOTIFIERS[kind]
    except KeyError:
        raise ConfigError(f"channels: unknown kind {kind!r} (known: {sorted(NOTIFIERS)})") from None


def channels_for(alert: dict, config: Config) -> list[tuple[str, Channel]]:
    """(department, channel) pairs that hear about an alert: its department's; brand-level
    alerts with no department of their own go to the care department's."""
    dept = routing.department(config, alert.get("department"))
    if dept is None and alert.get("issue") is None:
        dept = routing.care_department(config)
    return [(dept.name, c) for c in dept.channels] if dept else []
