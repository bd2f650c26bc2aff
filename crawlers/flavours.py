"""Text as its author wrote it, per service: what a generic feed or JSON mapping gets wrong.

- Reddit RSS: the body alone is not the post (a link post's body is only the
  "submitted by /u/x to r/y [link] [comments]" line): title + body, that line removed;
  authors without ``/u/``, as Reddit's JSON gives them.
- Google News RSS: an item's description is a cluster of other outlets' headlines; the
  item's own headline is its title without " - Publisher", and the publisher
  (``<source>``) is the author.
- App Store: the storefront's country (``/us/rss/...``) is a language hint, kept for
  reviews whose language detection finds none.
- Bluesky: a link's display text is cut (``open.substack.com/pu…``): the facet's full
  URI stands in; an embedded link card, quoted post or image description is text too.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from crawlers.text import strip_html

_REDDIT_FOOTER = re.compile(r"\s*submitted\s+by\s+/?u/\S+(?:\s+to\s+/?r/\S+)?\s*(?:\[link\])?\s*"
                            r"(?:\[[\d,.]*\s*comments?\])?\s*$", re.I)
_REDDIT_USER = re.compile(r"^/?u/")


def host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def feed_flavour(entry: Any) -> str | None:
    """The service whose feed ``entry`` comes from, by its link: "reddit", "google_news" or None."""
    name = host(entry.get("link"))
    if name == "reddit.com" or name.endswith(".reddit.com"):
        return "reddit"
    if name == "news.google.com":
        return "google_news"
    return None


def reddit_author(author: str | None) -> str | None:
    """``/u/name`` as ``name``: one author string between Reddit's RSS and JSON."""
    return _REDDIT_USER.sub("", author.strip()) or None if author else None


def reddit_text(title: str, body: str) -> str:
    """Title and body, without Reddit's "submitted by ... [link] [comments]" line."""
    body = _REDDIT_FOOTER.sub("", " ".join(body.replace("&#32;", " ").split()))  # Reddit double-escapes it
    return f"{title}\n\n{body}" if body and body != title else title


def google_news_title(title: str, publisher: str | None) -> str:
    """The headline without its " - Publisher" suffix."""
    suffix = f" - {publisher}" if publisher else None
    return title[: -len(suffix)].rstrip() if suffix and title.endswith(suffix) else title


def bluesky_text(post: dict) -> str:
    """The post's text with full link URIs, then its embed's text (link card, quote, image alt)."""
    parts = [with_links(post.get("record") or {}), *embed_texts(post.get("embed") or {})]
    return "\n\n".join(p.strip() for p in parts if p.strip())


def with_links(record: dict) -> str:
    """A Bluesky record's text, each link facet's cut display text replaced by its URI."""
    raw = (record.get("text") or "").encode("utf-8")
    cuts = []
    for facet in record.get("facets") or ():
        index = facet.get("index") or {}
        links = [f.get("uri") for f in facet.get("features") or () if str(f.get("$type", "")).endswith("#link")]
        start, end = index.get("byteStart"), index.get("byteEnd")
        if links and links[0] and isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw):
            cuts.append((start, end, links[0]))
    for start, end, uri in sorted(cuts, reverse=True):
        raw = raw[:start] + uri.encode("utf-8") + raw[end:]
    return raw.decode("utf-8", errors="replace")


def embed_texts(embed: dict) -> list[str]:
    """Readable text in a Bluesky embed view: link card, quoted post, image descriptions."""
    out = []
    external = embed.get("external") or {}
    out += [external.get("title") or "", external.get("description") or ""]
    quoted = embed.get("record") or {}
    if isinstance(quoted.get("record"), dict):  # recordWithMedia: the quote one level down
        quoted = quoted["record"]
    value = quoted.get("value") or {}
    if isinstance(value.get("text"), str):
        out.append(with_links(value))
    out += [image.get("alt") or "" for image in embed.get("images") or ()]
    if isinstance(embed.get("media"), dict):
        out += embed_texts(embed["media"])
    return [strip_html(t).strip() for t in out if t and t.strip()]


_STOREFRONT = re.compile(r"/([a-z]{2})/rss/customerreviews/", re.I)
STOREFRONT_LANG = {"us": "en", "gb": "en", "ca": "en", "au": "en", "nz": "en", "ie": "en", "in": "en",
                   "de": "de", "at": "de", "ch": "de", "fr": "fr", "be": "fr", "es": "es", "mx": "es",
                   "ar": "es", "it": "it", "nl": "nl", "br": "pt", "pt": "pt", "se": "sv", "no": "nb",
                   "dk": "da", "fi": "fi", "pl": "pl", "jp": "ja", "kr": "ko", "cn": "zh", "tw": "zh",
                   "ru": "ru", "tr": "tr"}


def appstore_hints(url: str) -> dict[str, str]:
    """The storefront of an App Store reviews URL and its main language."""
    match = _STOREFRONT.search(url)
    if not match:
        return {}
    country = match.group(1).lower()
    return {"storefront": country, **({"lang_hint": STOREFRONT_LANG[country]} if country in STOREFRONT_LANG else {})}


TEXT = {"bluesky": bluesky_text}  # json_api ``text_from``: the item's text by Python, not JMESPath
HINTS = {"appstore": appstore_hints}  # json_api ``hints_from``: extra facts from the request URL
