"""feed: RSS and Atom (news search feeds, subreddit and search feeds) parsed with feedparser.

One config line per feed; ``{query}`` in a URL makes one feed per brand term. Entries
keep their author, time, link and HTML-stripped text; Reddit and Google News entries
get their service's rules (``crawlers.flavours``: title + body, no boilerplate). A re-crawl
skips the entries it has seen unchanged within the source's re-check window (by id, else
link: ``SourceSpider.recall``), whatever their dates. A feed that does not parse at all
is recorded as ``malformed_xml``; one that parses with complaints keeps its entries.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator

import feedparser
from feedparser.mixin import _FeedParserMixin

from crawlers.flavours import feed_flavour, google_news_title, reddit_author, reddit_text
from crawlers.spiders.base import SourceSpider, absolute_url
from crawlers.text import strip_html
from listening.models import RawMention
from listening.timeparse import parse_time

MAX_AUTHOR = 1000  # characters; no real byline is longer
_sync_author_detail = _FeedParserMixin._sync_author_detail


def _bounded_sync_author_detail(self, key: str = "author") -> None:
    """feedparser's author e-mail regex is quadratic (kurtmckee/feedparser#562): a 64 KB
    ``<author>`` costs seconds, a few MB hours. Cut the byline before it looks."""
    context = self._get_context()
    if isinstance(context.get(key), str) and len(context[key]) > MAX_AUTHOR:
        context[key] = context[key][:MAX_AUTHOR]
    _sync_author_detail(self, key)


_FeedParserMixin._sync_author_detail = _bounded_sync_author_detail


def entry_time(entry: Any) -> datetime | str | None:
    """The entry's publication (else update) time: feedparser's UTC tuple, else the raw text."""
    for key in ("published", "updated", "created"):
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return datetime(*parsed[:6], tzinfo=timezone.utc)
        if entry.get(key):
            return entry[key]
    return None


def entry_content(entry: Any) -> str:
    """What the entry says, as sent (before any cleaning): a re-crawl re-reads it when this changes."""
    contents = [c.get("value") for c in entry.get("content") or ()]
    return json.dumps([entry.get(k) for k in ("title", "link", "summary", "updated", "author")] + contents,
                      default=str)


def entry_text(entry: Any) -> str:
    """The fullest text the entry carries: content, else summary, else title."""
    for content in entry.get("content") or ():
        if content.get("value"):
            return strip_html(content["value"])
    return strip_html(entry.get("summary") or "") or strip_html(entry.get("title") or "")


def as_written(entry: Any) -> dict[str, str | None]:
    """The entry's text, title and author as its author wrote them (``crawlers.flavours``)."""
    title = strip_html(entry.get("title") or "").strip() or None
    author = (entry.get("author") or "").strip() or None
    flavour = feed_flavour(entry)
    if flavour == "reddit":
        return {"text": reddit_text(title or "", entry_text(entry)), "title": title, "author": reddit_author(author)}
    if flavour == "google_news":
        publisher = ((entry.get("source") or {}).get("title") or "").strip() or None
        headline = google_news_title(title or "", publisher) or None
        return {"text": headline or "", "title": headline, "author": publisher or author}
    return {"text": entry_text(entry), "title": title, "author": author}


class FeedSpider(SourceSpider):
    """Reads RSS/Atom feeds; follows an Atom ``rel="next"`` link up to ``max_pages``."""

    name = "feed"

    def parse(self, response) -> Iterator[Any]:
        if response.status == 304:
            self.report.not_modified += 1
            return
        self.report.pages += 1
        start = response.meta["start"]
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        try:
            feed = feedparser.parse(response.body,
                                    response_headers={"content-type": content_type} if content_type else {})
        except ValueError as exc:  # its loose parser chokes on some character references (&#xD800;)
            self.report.problem("malformed_xml", response.url, f"{type(exc).__name__}: {exc}", start=start)
            return
        exc = feed.get("bozo_exception")
        detail = f"{type(exc).__name__}: {exc}" if feed.bozo else "not an RSS or Atom feed"
        if not feed.entries and (feed.bozo or not feed.get("version")):  # an empty body, a login page...
            self.report.problem("malformed_xml", response.url, detail, start=start)
            return
        if feed.bozo:
            kind = "bad_charset" if "Encoding" in type(exc).__name__ else "feed_warning"
            self.report.problem(kind, response.url, detail)
        lang = feed.feed.get("language")
        for entry in feed.entries:
            link = entry.get("link")
            if not self.recheck(entry.get("id") or link or entry_content(entry), entry_content(entry)):
                self.report.known += 1
                continue
            published = entry_time(entry)
            when = parse_time(published)
            if when is None:
                self.report.undated += 1
            item = RawMention(
                source=self.source.name, source_kind="feed", external_id=entry.get("id") or link,
                url=absolute_url(response, link), published_at=published, lang=lang, **as_written(entry))
            self.report.saw(start, when, item.external_id)
            self.report.items += 1
            yield item
        next_link = next((link.get("href") for link in feed.feed.get("links", ()) if link.get("rel") == "next"), None)
        page = response.meta["page"]
        if (next_url := absolute_url(response, next_link)) and self.more_pages(page):
            yield self.page_request(next_url, start=start, page=page + 1)
