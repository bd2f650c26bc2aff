"""html: forums, review pages and blogs through CSS/XPath selectors from config.

Selector keys (CSS, or XPath when it starts with ``/``, ``./``, ``(`` or ``@``):

- ``links``: on a listing page, the detail pages to read; ``next``: the next listing
  (or, without ``links``, the next page of a thread);
- ``item``: one mention per match on a detail page (a post, a reply, a review), with
  ``text``, ``author``, ``time``, ``id``, ``url``, ``title`` relative to it.

Without ``item`` a detail page is one article: trafilatura extracts its main text,
author and title; the time comes from the page's metadata (``article:published_time``
and kin), else trafilatura's guess. robots.txt is obeyed (``custom_settings``).
Listing pages are read in full on every crawl; a detail page read within the source's
re-check window is skipped, one read longer ago is asked for again by conditional GET.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Iterator

from parsel import Selector, SelectorList
from scrapy.http import TextResponse

from crawlers.spiders.base import SourceSpider, absolute_url
from listening.ingest.canonical import canonical_url, in_page
from listening.models import RawMention

TIME_META = (
    'meta[property="article:published_time"]::attr(content)',
    'meta[name="published_at"]::attr(content)',
    'meta[name="parsely-pub-date"]::attr(content)',
    'meta[itemprop="datePublished"]::attr(content)',
    'meta[name="date"]::attr(content)',
)
BYLINE_LABEL = re.compile(r"^\s*(?:(?:posted|written|published)(?:\s+(?:on|by|at|in))?|by|on|author)\b[\s:]*",
                          re.I)
TITLE_META = ('meta[property="og:title"]::attr(content)', 'meta[name="twitter:title"]::attr(content)')
AUTHOR_META = ('meta[name="author"]::attr(content)', 'meta[name="parsely-author"]::attr(content)',
               'meta[property="author"]::attr(content)')


def byline(author: str | None) -> str | None:
    """trafilatura's author guess without a "Posted on"/"By" label; None when only the label was found."""
    name = BYLINE_LABEL.sub("", author or "").strip(" ,;:|-")
    return name if name and not BYLINE_LABEL.fullmatch(name) else None


def select(node: Selector | SelectorList, expr: str) -> SelectorList:
    """CSS or XPath, whichever ``expr`` is."""
    return node.xpath(expr) if expr.startswith(("/", "./", "(", "@")) else node.css(expr)


def text_of(node: Selector, expr: str | None) -> str | None:
    """The selected strings joined by spaces and stripped; None when nothing matched."""
    if not expr:
        return None
    value = " ".join(s.strip() for s in select(node, expr).getall() if s and s.strip())
    return value or None


class HtmlSpider(SourceSpider):
    """Listing -> detail -> next page, items by selectors or one article per page."""

    name = "html"
    custom_settings = {"ROBOTSTXT_OBEY": True}

    def page_request(self, url: str, *, callback=None, **kwargs: Any):
        """A listing page (read by ``parse`` when there are ``links``) is always read in full:
        a 304 would hide its links, so new posts, posts that failed last time and edited
        posts (whose own conditional GET answers 200) would not be requested."""
        listing = callback is None and bool(self.source.selectors.get("links"))
        return super().page_request(url, callback=callback, conditional=not listing, **kwargs)

    def parse(self, response) -> Iterator[Any]:
        """A start or listing page: follow detail links and the next page; else read it as a detail page."""
        if response.status == 304:
            self.report.not_modified += 1
            return
        sel = self.source.selectors
        page = response.meta["page"]
        start = response.meta["start"]
        if not sel.get("links"):
            yield from self.parse_detail(response)
        else:
            self.report.pages += 1
            for href in select(response, sel["links"]).getall():
                if not (url := absolute_url(response, href)):
                    continue
                post = canonical_url(url) or url
                if self.recall(post) == "recent":  # read within the re-check window
                    self.note(post, read=False)
                    self.report.known += 1
                    continue
                yield self.page_request(url, start=start, page=page, callback=self.parse_detail, post=post)
        if sel.get("next") and self.more_pages(page):
            if url := absolute_url(response, select(response, sel["next"]).get()):
                yield self.page_request(url, start=start, page=page + 1)

    def parse_detail(self, response) -> Iterator[RawMention]:
        """A page of mentions: each ``item`` match, or the page as one article."""
        if post := response.meta.get("post"):  # read (or found unchanged) now: due again after the window
            self.note(post, hashlib.sha1(response.body).hexdigest() if response.status == 200 else None)
        if response.status == 304:
            self.report.not_modified += 1
            return
        self.report.pages += 1
        if not isinstance(response, TextResponse):
            self.report.problem("not_html", response.url, response.headers.get(b"Content-Type", b"?").decode("latin-1"))
            return
        self.check_charset(response)
        if b"</html" not in response.body[-4096:].lower():
            self.report.problem("truncated_html", response.url, "no closing </html>")
        if self.source.selectors.get("item"):
            items = self.items(response)
        else:
            items = [self.article(response)]
        for item in items:
            if item is None:
                continue
            if item.published_at in (None, ""):
                self.report.undated += 1
            self.report.items += 1
            yield item

    def items(self, response) -> Iterator[RawMention | None]:
        sel = self.source.selectors
        page_title = text_of(response, sel.get("title") or "title::text")
        nodes = select(response, sel["item"])
        if not nodes:  # a changed layout, or a page garbled by a wrong charset
            self.report.problem("no_items", response.url, f"item selector {sel['item']!r} matched nothing")
        # The only item on a page (a blog post's page) is that page's post: it takes the page's
        # URL, so a feed linking to the page finds the same mention. Several items (replies, a
        # thread) are each their element on the page.
        for node in nodes:
            text = text_of(node, sel.get("text") or ".//text()")
            if not text:
                self.report.problem("bad_item", response.url, "an item without text")
                continue
            author = text_of(node, sel.get("author"))
            when = self.local_time(text_of(node, sel.get("time")))
            item_id = text_of(node, sel.get("id"))
            url = text_of(node, sel.get("url"))
            if not item_id:
                material = f"{response.url}|{author}|{text_of(node, sel.get('time'))}|{text[:500]}"
                item_id = hashlib.sha1(material.encode()).hexdigest()[:16]
            if not (url := absolute_url(response, url)):
                url = response.url if len(nodes) == 1 else f"{response.url}#{item_id}"
            yield RawMention(
                source=self.source.name, source_kind="html", text=text,
                external_id=in_page(response.url, item_id), url=url,
                author=author, title=page_title, published_at=when)

    def article(self, response) -> RawMention | None:
        """The page's main text by trafilatura; metadata tags beat its guesses for time, author, title."""
        import trafilatura  # slow to import: only crawls that read articles pay for it

        doc = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True)
        if doc is None or not doc.text:
            self.report.problem("no_article", response.url, "trafilatura found no main text")
            return None
        when = self.local_time(next((v for expr in TIME_META if (v := response.css(expr).get())), None) or doc.date)
        author = next((v for expr in AUTHOR_META if (v := response.css(expr).get())), None) or byline(doc.author)
        title = next((v for expr in TITLE_META if (v := response.css(expr).get())), None) or doc.title
        return RawMention(
            source=self.source.name, source_kind="html", text=doc.text, external_id=None,
            url=response.url, author=author, title=title, published_at=when,
            lang=(response.css("html::attr(lang)").get() or None))
