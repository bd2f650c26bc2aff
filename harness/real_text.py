"""Real text from the shared recordings, as the tagger meets it: shared by tests and bench/.

``long_texts``: every feed entry and saved page over 600 characters that names a brand
(read by trafilatura, as the crawler reads articles). ``posts``: the short items of the
recorded API responses (App Store reviews, Bluesky, Reddit, Hacker News, Mastodon), the
real multilingual check.
"""

from __future__ import annotations

import json
import re

from harness.sites import FIXTURES

BRANDS = ["Cloudflare", "Apple", "Microsoft", "Xbox", "Google", "Amazon", "Dell", "Reddit",
          "YouTube", "Facebook", "Sony", "Samsung", "Netflix", "Intel", "Nvidia", "Lenovo", "HP",
          "Synology"]
API = FIXTURES / "api_responses_real"


def long_texts() -> list[tuple[str, list[str]]]:
    """(text, the brands it names) for every real entry or page over 600 characters."""
    import feedparser
    import trafilatura

    texts = []
    for path in sorted((FIXTURES / "feeds_real").glob("*.xml")):
        for entry in feedparser.parse(str(path)).entries:
            body = (entry.get("content") or [{}])[0].get("value") or entry.get("summary") or ""
            texts.append(trafilatura.extract(f"<html><body><article>{body}</article></body></html>") or "")
    for path in sorted((FIXTURES / "html_pages_real").glob("*/source.html")):
        texts.append(trafilatura.extract(path.read_text(encoding="utf-8"), include_comments=True) or "")
    out = []
    for text in texts:
        named = [b for b in BRANDS if re.search(rf"\b{b}\b", text)]
        if len(text) > 600 and named:
            out.append((text, named))
    return out


def _json(*parts: str):
    return json.loads(API.joinpath(*parts).read_text(encoding="utf-8"))


def posts() -> dict[str, list[str]]:
    """Per service, the texts of its recorded items."""
    reviews = _json("appstore", "podfinder__testdata_reviews.json")["feed"]["entry"]
    reddit = _json("reddit_json", "praw_search_body.json")["data"]["children"]
    return {
        "appstore": [e["content"]["label"] for e in reviews if "content" in e],
        "bluesky": [p["record"]["text"] for p in _json("bluesky", "bskyr_2025_search_body.json")["posts"]],
        "reddit": [f'{c["data"]["title"]}\n{c["data"]["selftext"]}' for c in reddit],
        "hackernews": [h.get("title") or h.get("comment_text") or ""
                       for h in _json("hackernews", "SiukAlator_HackersNews__search_by_date.json")["hits"]],
        "mastodon": [re.sub(r"<[^>]+>", " ", s["content"]) for s in _json("mastodon", "rtoot_default_body.json")],
    }
