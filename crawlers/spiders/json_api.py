"""json_api: paged JSON APIs through a declarative JMESPath mapping (a preset, or the source's own).

Mapping keys (JMESPath unless noted; ``listening/presets/*.yaml`` has worked examples):

- ``items``: the list of items in a page (an object there counts as a list of one);
  ``skip_if_missing``: items without this field are skipped (not mentions).
- per item: ``id``, ``former_id`` (the id an older preset used: a mention stored under
  it is found again), ``text``, ``author``, ``time``, ``url``, ``title``, ``lang``,
  ``labels`` / ``extra`` (name -> expression); ``html`` (bool): text is HTML.
- paging: ``next`` (a cursor, or a URL when ``next_param`` is unset) and ``next_param``;
  or page numbers with ``page_param``, ``first_page`` and an optional ``more`` test.
- ``text_from``: a service whose text rules JMESPath cannot say (``bluesky``: full link
  URIs, embed text; ``crawlers.flavours``), used instead of ``text`` when it gives text;
- ``hints_from``: facts the request URL carries (``appstore``: storefront and its
  language, ``extra.lang_hint``, used when language detection finds none);
- ``since_param``: sends the last seen id on a re-run;
  ``newest_first`` (default true): paging stops after a page that holds only items an
  earlier crawl saw (by identity, never by date); items seen unchanged within the source's
  re-check window are skipped.

JMESPath gets two extra functions, ``split(string, separator)`` and ``replace(string, old, new)``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jmespath
from jmespath import functions

from crawlers import flavours
from crawlers.items import Rejected
from crawlers.presets import load_preset
from crawlers.spiders.base import SourceSpider, absolute_url
from crawlers.text import strip_html
from listening.models import RawMention
from listening.timeparse import parse_time

ITEM_FIELDS = ("id", "former_id", "text", "author", "time", "url", "title", "lang", "skip_if_missing")
PAGE_FIELDS = ("items", "next", "more")


class _Functions(functions.Functions):
    @functions.signature({"types": ["string"]}, {"types": ["string"]})
    def _func_split(self, value: str, separator: str) -> list[str]:
        return value.split(separator)

    @functions.signature({"types": ["string"]}, {"types": ["string"]}, {"types": ["string"]})
    def _func_replace(self, value: str, old: str, new: str) -> str:
        return value.replace(old, new)


_OPTIONS = jmespath.Options(custom_functions=_Functions())
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class _Path:
    """A plain dotted path (``author.username``): dictionary lookups, the same answer as JMESPath, faster."""

    def __init__(self, expression: str):
        self.keys = expression.split(".")

    def search(self, data: Any, options: Any = None) -> Any:
        for key in self.keys:
            if not isinstance(data, dict):
                return None
            data = data.get(key)
        return data


def compile_expression(expression: str):
    return _Path(expression) if _DOTTED.match(expression) else jmespath.compile(expression)


class Mapping:
    """A compiled mapping: JMESPath expressions plus the paging options."""

    def __init__(self, spec: dict[str, Any]):
        if "items" not in spec or "text" not in spec:
            raise ValueError("a json_api mapping needs at least 'items' and 'text'")
        self.spec = spec
        self.exprs = {k: compile_expression(spec[k]) for k in (*ITEM_FIELDS, *PAGE_FIELDS) if spec.get(k)}
        self.labels = {k: compile_expression(v) for k, v in (spec.get("labels") or {}).items()}
        self.extra = {k: compile_expression(v) for k, v in (spec.get("extra") or {}).items()}
        self.html = bool(spec.get("html"))
        if spec.get("text_from") and spec["text_from"] not in flavours.TEXT:
            raise ValueError(f"unknown text_from {spec['text_from']!r}; known: {', '.join(flavours.TEXT)}")
        self.text_from = flavours.TEXT.get(spec.get("text_from"))
        if spec.get("hints_from") and spec["hints_from"] not in flavours.HINTS:
            raise ValueError(f"unknown hints_from {spec['hints_from']!r}; known: {', '.join(flavours.HINTS)}")
        self.hints_from = flavours.HINTS.get(spec.get("hints_from"))
        self.next_param = spec.get("next_param")
        self.page_param = spec.get("page_param")
        self.first_page = int(spec.get("first_page", 1))
        self.since_param = spec.get("since_param")
        self.newest_first = bool(spec.get("newest_first", True))

    @classmethod
    def for_source(cls, preset: str | None, overrides: dict[str, Any]) -> "Mapping":
        spec = load_preset(preset) if preset else {}
        spec.update(overrides)
        return cls(spec)

    def get(self, name: str, data: Any) -> Any:
        expr = self.exprs.get(name)
        return expr.search(data, options=_OPTIONS) if expr else None


def set_param(url: str, name: str, value: Any) -> str:
    """``url`` with query parameter ``name`` set to ``value`` (replacing it)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, str(value)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def get_param(url: str, name: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query)).get(name)


def mention_content(item: RawMention) -> str:
    """What an item says: a re-crawl reads it again when this changes (not its score or reply count)."""
    return json.dumps([item.text, item.title, item.author, item.url, str(item.published_at)])


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return _str(value[0]) if value else None
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict) else str(value)


class JsonApiSpider(SourceSpider):
    """Pages through a JSON API; every item becomes a RawMention (or a Rejected)."""

    name = "json_api"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        try:
            self.mapping = Mapping.for_source(self.source.preset, self.source.mapping)
        except (KeyError, ValueError, jmespath.exceptions.JMESPathError) as exc:
            self.mapping = None
            self.report.problem("config", "", f"bad json_api mapping: {exc}")

    async def start(self):
        if self.mapping is None:
            return
        for key, url in self.start_urls_for_source():
            since = self.mapping.since_param and self.last_id(key)
            if since:
                url = set_param(url, self.mapping.since_param, since)
            yield self.page_request(url, start=key, page=1, first=True)

    def parse(self, response) -> Iterator[Any]:
        if response.status == 304:
            self.report.not_modified += 1
            return
        self.report.pages += 1
        self.check_charset(response)
        try:
            doc = json.loads(response.text)
        except (ValueError, AttributeError, RecursionError) as exc:  # RecursionError: nested too deep
            self.report.problem("bad_json", response.url, str(exc)[:200], start=response.meta["start"])
            return
        items = self.mapping.get("items", doc)
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            self.report.problem("wrong_shape", response.url,
                                f"items {self.mapping.spec['items']!r} gave {type(items).__name__}",
                                start=response.meta["start"])
            return
        start = response.meta["start"]
        mentions = seen_before = 0
        for entry in items:
            item = self.to_mention(entry, response)
            if item is None:
                continue
            if isinstance(item, RawMention):
                key = item.external_id or item.url or item.text
                verdict = self.recall(key, content := mention_content(item))
                self.note(key, content, read=verdict != "recent")
                mentions += 1
                seen_before += verdict != "new"
                if verdict == "recent":
                    self.report.known += 1
                    continue
                when = parse_time(item.published_at)
                if when is None:
                    self.report.undated += 1
                self.report.saw(start, when, item.external_id)
                self.report.items += 1
            yield item
        # A newest-first API is read back to the first page that holds only items an earlier
        # crawl saw: by identity, never by date (an item's date may be older than the newest seen).
        if items and not (self.mapping.newest_first and mentions and seen_before == mentions):
            next_url = self.next_url(doc, response)
            page = response.meta["page"]
            if next_url and next_url != response.url and self.more_pages(page):
                yield self.page_request(next_url, start=start, page=page + 1)

    def to_mention(self, entry: Any, response) -> RawMention | Rejected | None:
        """One API item as a RawMention; a Rejected (recorded) when it has no usable text."""
        m = self.mapping
        if not isinstance(entry, dict):
            self.report.problem("bad_item", response.url, f"item is a {type(entry).__name__}")
            return Rejected(self.source.name, "item is not an object", response.url)
        if "skip_if_missing" in m.exprs and m.get("skip_if_missing", entry) in (None, "", [], {}):
            return None
        text = m.get("text", entry)
        if not isinstance(text, str) or not text.strip():
            self.report.problem("bad_item", response.url, f"no text at {m.spec['text']!r}")
            return Rejected(self.source.name, "no text", response.url)
        if m.text_from:
            text = m.text_from(entry) or text
        url = _str(m.get("url", entry))
        labels = {k: _str(v) for k, e in m.labels.items() if (v := e.search(entry, options=_OPTIONS)) not in (None, "")}
        extra = {k: v for k, e in m.extra.items() if (v := e.search(entry, options=_OPTIONS)) is not None}
        if m.hints_from:
            extra.update(m.hints_from(response.url))
        time = self.local_time(m.get("time", entry))
        return RawMention(
            source=self.source.name, source_kind="json_api",
            text=strip_html(text) if m.html else text,
            external_id=_str(m.get("id", entry)),
            former_id=_str(m.get("former_id", entry)),
            url=absolute_url(response, url),
            author=_str(m.get("author", entry)),
            title=_str(m.get("title", entry)),
            published_at=time if isinstance(time, (str, int, float, datetime)) and not isinstance(time, bool) else None,
            lang=_str(m.get("lang", entry)),
            labels={**labels, "by": self.source.name} if labels else {},
            extra=extra,
        )

    def next_url(self, doc: Any, response) -> str | None:
        """The next page's URL from the mapping's paging keys, or None at the end."""
        m = self.mapping
        if m.page_param:
            if "more" in m.exprs and not m.get("more", doc):
                return None
            current = get_param(response.url, m.page_param)
            number = int(current) if current and current.isdigit() else m.first_page
            return set_param(response.url, m.page_param, number + 1)
        value = m.get("next", doc)
        if value in (None, "", [], {}) or isinstance(value, (dict, list, bool)):
            return None
        if m.next_param:
            return set_param(response.url, m.next_param, value)
        return absolute_url(response, str(value))
