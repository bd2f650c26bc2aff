"""Slack incoming webhook, Block Kit. Mention text goes in ``plain_text`` objects, so it is
shown as text: no mrkdwn, no @channel pings, no links a tweet smuggled in."""

from __future__ import annotations

from listening.config import Config
from listening.notify.channels import text
from listening.notify.channels.registry import register


def plain_text(s: str, limit: int = 3000) -> dict:
    return {"type": "plain_text", "text": s[:limit] or " ", "emoji": False}


@register("slack")
def render(alert: dict, config: Config) -> dict:
    head = text.headline(alert)
    blocks = [{"type": "header", "text": plain_text(head, 150)},
              {"type": "section", "text": plain_text(text.summary(alert))}]
    why = alert.get("explanation")
    if why and why.get("search_gap"):
        blocks.append({"type": "section", "text": plain_text(text.gap(why["search_gap"]))})
    elif why:
        blocks += [{"type": "section", "text": plain_text("Rising: " + text.terms(why))},
                   {"type": "context", "elements": [plain_text(text.where(why))]}]
        blocks += [{"type": "section", "text": plain_text(text.example(m))} for m in why["examples"][:3]]
    blocks.append({"type": "actions", "elements": [
        {"type": "button", "text": plain_text("Open in Listening Centre"), "url": text.url(config, alert)}]})
    return {"text": head, "blocks": blocks}
