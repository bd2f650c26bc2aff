"""The confined crawler: only http(s), only public addresses, except a source's own host when it
says ``allow_private_host``. Real crawls (listening.ingest.crawl.run) of a server on 127.0.0.1.

The hostile pages are synthetic on purpose: no recorded page links to ``file://``. One crawl
of every case, once per module (each crawl is a Scrapy child process).
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from crawlers.middlewares import host_port, private_kind
from harness.sites import Handler, Site
from listening.config import parse_config
from listening.ingest import crawl
from tests.conftest import fresh_store

SETTINGS = {**crawl.LOCAL_SETTINGS, "DOWNLOAD_TIMEOUT": 3, "RETRY_TIMES": 0}
SECRET = "Dell secret from a local file"
ONLY_OWN = "only a source's own host may be, with allow_private_host"
ATOM_NEXT_FILE = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Hostile</title><id>urn:h</id>
<link rel="next" href="file:///etc/hostname"/>
<entry><id>urn:h:1</id><title>Dell one</title><updated>2024-05-02T10:00:00Z</updated>
<content>Dell one, a real entry</content></entry></feed>"""


class HostileHandler(Handler):
    """Pages, a feed and an API answer whose links point at local files and addresses."""

    def route(self, path: str, query: dict[str, str]) -> None:
        if path == "/hostile/listing":
            links = ["file:///etc/hostname", "data:text/html,<p>" + SECRET + "</p>", "/hostile/redirect-file",
                     "/hostile/redirect-metadata", "/hostile/redirect-loopback",
                     f"http://localhost:{self.site.server.server_address[1]}/private/y"]  # resolved by name
            body = "".join(f'<a class="t" href="{link}">x</a>' for link in links)
            return self.send(200, f"<html><body>{body}</body></html>".encode(), "text/html")
        if path == "/hostile/api.json":
            doc = {"hits": [{"objectID": "1", "comment_text": "Dell on page one", "created_at_i": 1714644191}],
                   "next": "file:///etc/hostname"}
            return self.send(200, json.dumps(doc).encode(), "application/json")
        if path == "/hostile/atom.xml":
            return self.send(200, ATOM_NEXT_FILE.encode(), "application/atom+xml")
        targets = {"/hostile/redirect-file": "file:///etc/hostname",
                   "/hostile/redirect-metadata": "http://169.254.169.254/latest/meta-data/",
                   "/hostile/redirect-loopback": f"http://127.0.0.2:{self.site.server.server_address[1]}/private/x"}
        if path in targets:
            self.send_response(302)
            self.send_header("Location", targets[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return super().route(path, query)


@pytest.fixture(scope="module")
def crawled(mongo_uri):
    site = Site.start(HostileHandler)
    base = site.url
    mapping = {"items": "hits", "id": "objectID", "text": "comment_text", "time": "created_at_i", "next": "next"}
    own = {"allow_private_host": True}
    config = parse_config({
        "brands": [{"name": "Dell"}], "user_agent": "ListeningCentreTest/1.0 (+https://example.com/contact)",
        "sources": [
            {"name": "h_html", "kind": "html", "urls": [f"{base}/hostile/listing"],
             "selectors": {"links": "a.t::attr(href)", "item": "p"}, **own},
            {"name": "h_api", "kind": "json_api", "mapping": mapping, "urls": [f"{base}/hostile/api.json"], **own},
            {"name": "h_atom", "kind": "feed", "urls": [f"{base}/hostile/atom.xml"], **own},
            {"name": "h_data", "kind": "feed", "urls": ["data:application/rss+xml,<rss/>", "file:///etc/hostname"],
             **own},
            {"name": "h_no_allowance", "kind": "feed", "urls": [f"{base}/feeds/rss_2.0_reddit.xml"]},
        ]})
    try:
        with fresh_store(mongo_uri) as store:
            rows = {r["source"]: r for r in crawl.run(store, config, settings=SETTINGS)}
            run = store.runs.get(next(iter(rows.values()))["run_id"])
            yield {"rows": rows, "run": run, "store": store, "hits": dict(site.hits), "base": base}
    finally:
        site.stop()


def refused(crawled, source: str) -> dict[str, str]:
    """URL -> reason of the source's refused requests, from its run record."""
    detail = crawled["run"]["sources"][source]
    return {p["url"]: p["detail"] for p in detail["problem_examples"] if p["kind"] == "refused"}


def test_links_in_a_page_to_files_data_and_other_addresses_are_refused_and_recorded(crawled):
    base = crawled["base"]
    assert refused(crawled, "h_html") == {
        "file:///etc/hostname": "scheme file: only http and https are fetched",
        "data:text/html,%3Cp%3EDell%20secret%20from%20a%20local%20file%3C/p%3E":
            "scheme data: only http and https are fetched",
        f"{base}/hostile/redirect-file": "redirect to file:///etc/hostname: only http and https are followed",
        "http://169.254.169.254/latest/meta-data/":
            "169.254.169.254 is a link-local address (169.254.169.254); " + ONLY_OWN,
        base.replace("127.0.0.1", "127.0.0.2") + "/private/x": "127.0.0.2 is a loopback address (127.0.0.2); " + ONLY_OWN,
        base.replace("127.0.0.1", "localhost") + "/private/y": "localhost is a loopback address (127.0.0.1); " + ONLY_OWN,
    }
    row = crawled["rows"]["h_html"]
    assert (row["refused"], row["status"]) == (6, "partial")
    assert "/private/x" not in crawled["hits"] and "/private/y" not in crawled["hits"]
    assert crawled["store"].mentions.count() == 2  # the api's and the feed's first pages, nothing local


def test_json_api_next_and_atom_next_of_file_are_refused_and_the_first_page_is_kept(crawled):
    assert refused(crawled, "h_api") == {"file:///etc/hostname": "scheme file: only http and https are fetched"}
    assert refused(crawled, "h_atom") == {"file://etc/hostname": "scheme file: only http and https are fetched"}
    for source in ("h_api", "h_atom"):
        row = crawled["rows"][source]
        assert (row["pages"], row["items"], row["new"], row["refused"]) == (1, 1, 1, 1), row


def test_data_and_file_start_urls_are_refused(crawled):
    assert refused(crawled, "h_data") == {
        "data:application/rss+xml,%3Crss/%3E": "scheme data: only http and https are fetched",
        "file:///etc/hostname": "scheme file: only http and https are fetched"}
    assert crawled["rows"]["h_data"]["status"] == "failed"


def test_a_local_address_needs_the_sources_explicit_allowance(crawled):
    assert refused(crawled, "h_no_allowance") == {
        crawled["base"] + "/feeds/rss_2.0_reddit.xml": "127.0.0.1 is a loopback address (127.0.0.1); " + ONLY_OWN}
    assert "/feeds/rss_2.0_reddit.xml" not in crawled["hits"]


@pytest.mark.parametrize("address,kind", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("0.0.0.0", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"), ("100.64.0.1", "non-public"), ("8.8.8.8", None), ("2606:4700::1111", None)])
def test_private_kinds(address, kind):
    assert private_kind(ipaddress.ip_address(address)) == kind


def test_host_port_fills_the_schemes_port():
    assert host_port("https://Example.com/x") == ("example.com", 443)
    assert host_port("http://127.0.0.1:8080/") == ("127.0.0.1", 8080)


def test_links_that_are_no_page_are_neither_followed_nor_refused():
    """A synthetic page: its mail and script links are skipped quietly, a file link is not."""
    from scrapy.http import HtmlResponse

    from crawlers.spiders.base import absolute_url

    page = HtmlResponse("https://blog.example/", body=b"<html></html>", encoding="utf-8")
    for link in ("mailto:editor@blog.example", "javascript:void(0)", " JavaScript:share()", "tel:+15550100"):
        assert absolute_url(page, link) is None
    assert absolute_url(page, "file:///etc/passwd") == "file:///etc/passwd"  # the middleware refuses it
    assert absolute_url(page, "/post-1") == "https://blog.example/post-1"
