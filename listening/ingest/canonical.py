"""Canonical URLs: one spelling per page, so a post seen by several sources is one mention.

``canonical_url`` drops what does not name the page: the fragment, tracking parameters
(``utm_*``, ``fbclid``...), the default port, ``www.``/mobile/AMP host prefixes, an AMP
path or parameter, a trailing slash; it lowercases scheme and host, reads ``http`` as
``https`` and sorts the query. Parameters that pick the content (``?id=42``) stay.
A Reddit post is named by its id alone: its feed entry links ``/r/sub/comments/ID/slug/``,
its JSON gives ``/r/sub/comments/ID/slug/?ref=...`` (the slug spelled otherwise at times),
``redd.it/ID`` is its short link; all are ``https://reddit.com/comments/ID``.

    >>> canonical_url("HTTP://m.Example.com:80/a/amp/?utm_source=x&b=2&a=1#post-3")
    'https://example.com/a?a=1&b=2'
    >>> canonical_url("https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util/?ref=search_posts")
    'https://reddit.com/comments/3gpbiu'
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref_src|"
                      r"oc|amp|outputtype|ref|__twitter_impression)$", re.I)
HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
HOST_ALIASES = {"old.reddit.com": "reddit.com", "new.reddit.com": "reddit.com",
                "np.reddit.com": "reddit.com", "ud.reddit.com": "reddit.com"}
_AMP_PATH = re.compile(r"/amp/?$|\.amp$|\.amp\.html$", re.I)
# /r/SUB/comments/POST/SLUG/COMMENT/: a post, or a comment when COMMENT is there.
_REDDIT_THING = re.compile(r"^(?:/r/[^/]+)?/comments/([a-z0-9]+)(?:/[^/]*(?:/([a-z0-9]+))?)?/?$", re.I)
# A Mastodon status page (/@user/ID) and its ActivityPub uri (/users/user/statuses/ID).
_MASTODON_STATUS = re.compile(r"^https://([^/]+)/@([A-Za-z0-9_]+)/(\d+)$")
GLOBAL_ID = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|tag:|urn:)", re.I)


def canonical_url(url: str | None) -> str | None:
    """The page's one spelling (see the module doc); None for no URL or a non-web one."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    for prefix in HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix):]
    host = HOST_ALIASES.get(host, host)
    if port not in (None, 80, 443):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=~-._%")
    if reddit := _reddit_post(host, path):
        return reddit
    path = _AMP_PATH.sub("", path).rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k))
    return urlunsplit(("https", host, path, urlencode(query), ""))


def _reddit_post(host: str, path: str) -> str | None:
    """A Reddit post's (or comment's) one URL, by its ids; None for any other page."""
    if host == "redd.it" and re.fullmatch(r"/[a-z0-9]+/?", path, re.I):
        return f"https://reddit.com/comments{path.rstrip('/').lower()}"
    if host != "reddit.com" or not (match := _REDDIT_THING.match(path)):
        return None
    post, comment = match.group(1).lower(), match.group(2)
    return f"https://reddit.com/comments/{post}" + (f"/_/{comment.lower()}" if comment else "")


def mastodon_uri(url: str | None) -> str | None:
    """A Mastodon status's global ``uri`` from its page's URL (``https://host/@user/ID``), as
    Mastodon makes both; None for another URL (other fediverse servers name theirs otherwise)."""
    match = _MASTODON_STATUS.match(url or "")
    return f"https://{match.group(1)}/users/{match.group(2)}/statuses/{match.group(3)}" if match else None


def in_page(page_url: str, element_id: str) -> str:
    """An element's id scoped by the page it is on: two sites' ``post-1`` stay apart."""
    return f"{canonical_url(page_url) or page_url}#{element_id}"


def is_global_id(external_id: str) -> bool:
    """A URI (``at://``, ``https://``, ``tag:``, ``urn:``) names the item wherever it was read;
    ``t3_abc``, ``42`` or ``user:1`` only within its source."""
    return bool(GLOBAL_ID.match(external_id))
