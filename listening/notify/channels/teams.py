"""Microsoft Teams workflow webhook ("When a Teams webhook request is received"), an Adaptive
Card. Mention text goes in ``TextRun`` elements, which Teams never reads as markdown."""

from __future__ import annotations

from listening.config import Config
from listening.notify.channels import text
from listening.notify.channels.registry import register


def run(s: str, **style) -> dict:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": s, **style}]}


@register("teams")
def render(alert: dict, config: Config) -> dict:
    body = [run(text.headline(alert), weight="Bolder", size="Medium"), run(text.summary(alert))]
    why = alert.get("explanation")
    if why and why.get("search_gap"):
        body.append(run(text.gap(why["search_gap"])))
    elif why:
        body += [run("Rising: " + text.terms(why)), run(text.where(why), isSubtle=True)]
        body += [run(text.example(m)) for m in why["examples"][:3]]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body,
            "actions": [{"type": "Action.OpenUrl", "title": "Open in Listening Centre", "url": text.url(config, alert)}]}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}
