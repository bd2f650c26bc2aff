"""Who hears about an alert: issue -> department -> leads; brand-level spikes -> social care."""

from __future__ import annotations

from listening.config import Config, Department

SOCIAL_CARE = "Social care"
CARE_DEPARTMENTS = ("Social Care", "Customer Care", "Customer Service", "Support")


def department_for(issue: str | None, config: Config) -> str:
    """The owning department's name; brand-level alerts belong to social care."""
    if issue is None:
        return SOCIAL_CARE
    try:
        from listening.tagging.issues import department_for as owner
    except ImportError:  # the taxonomy module predates departments
        owner = None
    name = owner(issue, config) if owner else None
    if name is None and config.issues:
        name = next((i.department for i in config.issues if i.name == issue), None)
    return name or SOCIAL_CARE


def department_of(rule: str, issue: str | None, config: Config) -> str:
    """A finding's department: its rule's own (``alerts.rules[].department``, e.g. share of search
    to marketing), else the issue's owner (``department_for``)."""
    own = next((r.department for r in config.alerts.rules if r.name == rule), None)
    return own or department_for(issue, config)


def department(config: Config, name: str | None) -> Department | None:
    return next((d for d in config.departments if d.name == name), None)


def care_department(config: Config) -> Department | None:
    return next((d for n in CARE_DEPARTMENTS for d in config.departments if d.name == n), None)


def recipients(alert: dict, config: Config) -> list[str]:
    """Addresses for an alert's first notification."""
    if alert.get("issue") is None and alert.get("department") in (None, SOCIAL_CARE) and config.alerts.social_care:
        return list(config.alerts.social_care)
    dept = department(config, alert.get("department"))
    if dept is None and alert.get("issue") is None:
        dept = care_department(config)
    return list(dept.leads) if dept else list(config.alerts.social_care)


def escalation(alert: dict, config: Config) -> list[str]:
    """Second addresses for a high-severity alert nobody acknowledged."""
    dept = department(config, alert.get("department"))
    if dept is None and alert.get("issue") is None:
        dept = care_department(config)
    return list(dept.escalation if dept and dept.escalation else config.alerts.escalation)
