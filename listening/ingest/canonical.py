"""Canonical URLs: one spelling per page, so a post seen by several sources is one mention.

``canonical_url`` drops what does not name the page: the fragment, tracking parameters
(``utm_*``, ``fbclid``...), the default port, ``www.``/mobile/AMP host prefixes, an AMP
path or parameter, a trailing slash; it lowercases scheme and host, reads ``http`` as
``https`` and sorts the query. Parameters that pick the content (``?id=42``) stay.

    >>> canonical_url("HTTP://m.Example.com:80/a/amp/?utm_source=x&b=2&a=1#post-3")
    'https://example.com/a?a=1&b=2'
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
    path = _AMP_PATH.sub("", path).rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k))
    return urlunsplit(("https", host, path, urlencode(query), ""))


def in_page(page_url: str, element_id: str) -> str:
    """An element's id scoped by the page it is on: two sites' ``post-1`` stay apart."""
    return f"{canonical_url(page_url) or page_url}#{element_id}"


def is_global_id(external_id: str) -> bool:
    """A URI (``at://``, ``https://``, ``tag:``, ``urn:``) names the item wherever it was read;
    ``t3_abc``, ``42`` or ``user:1`` only within its source."""
    return bool(GLOBAL_ID.match(external_id))
