"""Which brands a mention talks about: every brand's query, compiled into one matcher.

A brand matches through its boolean ``query`` (``docs/queries.md``) or, without one,
through any of its ``terms`` and ``handles`` (whole words, any case). ``exclusions``
veto the words they cover in both cases: "United States" hides that "United", not a
"@united" elsewhere in the same mention.

    >>> BrandMatcher(config.brands).matched_terms("@united lost my bag")
    {'United': ['@united']}
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Iterable, Mapping

from listening.config import Brand, Config
from listening.query import And, Node, Or, Term, parse
from listening.query.compiler import Program
from listening.store import scan

if TYPE_CHECKING:
    from listening.store import Store

FIELD_NAMES = ("source", "lang", "author", "title")
SAMPLE_TEXT_CHARS = 280


def brand_query(brand: Brand) -> Node:
    """The query a brand matches by: its own, or its terms and handles OR-ed."""
    if brand.query:
        return parse(brand.query)
    return Or(tuple(Term(t, phrase=True) for t in (*brand.terms, *brand.handles)))


class BrandMatcher:
    """All brands' queries over one Aho-Corasick pass per mention."""

    def __init__(self, brands: Iterable[Brand]):
        self.brands = list(brands)
        self._program = Program((b.name, brand_query(b), b.exclusions) for b in self.brands)

    def __reduce__(self):  # picklable (worker processes): rebuilt from the brands
        return (BrandMatcher, (self.brands,))

    def matched_terms(self, text: str, **fields: str | None) -> dict[str, list[str]]:
        """Brand -> the terms that matched it; fields: source, lang, author, title."""
        return self._program.run(text or "", **fields)

    def match(self, text: str, **fields: str | None) -> list[str]:
        """The names of the brands ``text`` talks about, in config order."""
        return list(self.matched_terms(text, **fields))

    def match_many(self, items: Iterable[Mapping[str, str | None]]) -> list[dict[str, list[str]]]:
        """``matched_terms`` for many mentions (dicts with ``text`` and optional fields)."""
        run = self._program.run
        return [run(item.get("text") or "", **{k: item.get(k) for k in FIELD_NAMES}) for item in items]


def test_query(store: "Store", query: str, since: datetime | None = None, sample: int = 10, *,
               until: datetime | None = None, limit: int | None = None) -> dict:
    """Run ``query`` over stored mentions: counts, newest hits and near misses.

    ``limit`` caps the mentions read (the newest). A near miss contains at least one of
    the query's (non-NOT) terms but is rejected; its ``failed`` lists the top-level AND
    parts it fails. ``by_brand`` counts the hits per brand the mentions are stored under;
    ``terms`` counts the mentions each term was found in. A bad query raises
    QuerySyntaxError (``.pretty()`` shows where).
    """
    tree = parse(query)
    clauses = tree.items if isinstance(tree, And) else (tree,)
    # The query, and each of its top-level AND parts on its own: a near miss says which failed.
    program = Program([("query", tree, ()), *((str(i), c, ()) for i, c in enumerate(clauses))])
    counts = {"scanned": 0, "matched": 0, "near_misses": 0}
    by_brand: Counter = Counter()
    by_term: Counter = Counter()
    hits: list[dict] = []
    misses: list[dict] = []
    for batch in scan.iter_mentions(store.mentions.collection, since=since, until=until, limit=limit):
        for doc in batch:
            counts["scanned"] += 1
            found = program.explain(doc.get("text") or "", **{k: doc.get(k) for k in FIELD_NAMES})
            ok, terms = found.get("query", (False, []))
            by_term.update(terms)
            if ok:
                counts["matched"] += 1
                by_brand.update(doc.get("brands") or ["(none)"])
                if len(hits) < sample:
                    hits.append(_sample(doc, terms))
            elif terms:
                counts["near_misses"] += 1
                if len(misses) < sample:
                    failed = [str(c) for i, c in enumerate(clauses) if not found.get(str(i), (False,))[0]]
                    misses.append({**_sample(doc, terms), "failed": failed})
    return {"query": str(tree), **counts, "by_brand": dict(by_brand.most_common()),
            "terms": dict(by_term.most_common()), "hits": hits, "near_misses_sample": misses}


def _sample(doc: dict, terms: list[str]) -> dict:
    text = doc.get("text") or ""
    return {"id": doc["_id"], "published_at": doc.get("published_at"), "source": doc.get("source"),
            "brands": doc.get("brands") or [], "terms": terms,
            "text": text if len(text) <= SAMPLE_TEXT_CHARS else text[:SAMPLE_TEXT_CHARS - 1] + "…"}


def describe_test(report: dict) -> str:
    """``test_query``'s report as text, for ``listening query test``."""
    scanned, matched = report["scanned"], report["matched"]
    share = f" ({matched / scanned:.1%})" if scanned else ""
    lines = [f"query: {report['query']}",
             f"scanned {scanned:,}, matched {matched:,}{share}, near misses {report['near_misses']:,}"]
    if report["by_brand"]:
        lines.append("matches by stored brand: " + ", ".join(f"{b} {n:,}" for b, n in report["by_brand"].items()))
    if report["terms"]:
        lines.append("terms found in: " + ", ".join(f"{t} {n:,}" for t, n in list(report["terms"].items())[:15]))
    for title, rows in (("hits (newest first)", report["hits"]),
                        ("near misses: some terms found, query false", report["near_misses_sample"])):
        lines.append(f"\n{title}:" if rows else f"\n{title}: none")
        for row in rows:
            when = f"{row['published_at']:%Y-%m-%d %H:%M}" if row["published_at"] else "?"
            text = " ".join(row["text"].split())
            lines.append(f"  {when} [{row['source']}] {', '.join(row['terms']) or '-'}: {text}")
            if row.get("failed"):
                lines.append(f"      fails: {' AND '.join(row['failed'])}")
    return "\n".join(lines)


def effective_brands(store: "Store", config: Config) -> list[Brand]:
    """The config's brands, with the queries saved in the dashboard in place of the file's.

    A saved query that no longer parses (the language changed) is ignored, so a crawl
    never fails on it; the file's query stands.
    """
    saved = store.brand_queries.current()
    brands = []
    for brand in config.brands:
        query = saved.get(brand.name, {}).get("query")
        try:
            brands.append(Brand.model_validate({**brand.model_dump(), "query": query}) if query else brand)
        except ValueError:
            brands.append(brand)
    return brands


def rematch(store: "Store", config: Config, *, since: datetime | None = None,
            until: datetime | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Re-apply every brand's query to stored mentions; the rollups move along.

    Only mentions whose brands or matched terms change are written, and only those
    fields. A mention that no longer matches any brand is kept with ``brands: []`` (it
    leaves every count) so a later fix can bring it back; mentions never stored cannot
    be found by a rematch. ``skipped``: changed by someone meanwhile, left for next time.
    Returns scanned / changed / unmatched / skipped, and ``+Brand`` / ``-Brand`` moves.
    """
    from listening.pipeline import fingerprint  # the pipeline imports this module

    matcher = BrandMatcher(effective_brands(store, config))
    counts: Counter = Counter(scanned=0, changed=0, unmatched=0, skipped=0)
    for batch in scan.iter_mentions(store.mentions.collection, since=since, until=until,
                                    fields=None, batch_size=batch_size):
        changes = []
        for doc in batch:
            counts["scanned"] += 1
            found = matcher.matched_terms(doc.get("text") or "", **{k: doc.get(k) for k in FIELD_NAMES})
            brands = sorted(found)
            counts["unmatched"] += not brands
            old = doc.get("brands") or []
            if found == (doc.get("matched_terms") or {}) and brands == sorted(old):
                continue
            fields: dict = {"brands": brands, "matched_terms": found}
            if "sentiment" in doc and "date_estimated" in doc:  # written by the pipeline
                fields["fingerprint"] = fingerprint({**doc, **fields})
            changes.append((doc, fields))
        written = set(scan.set_brands(store.mentions, changes))
        for doc, fields in changes:
            if doc["_id"] in written:
                old, new = set(doc.get("brands") or ()), set(fields["brands"])
                counts.update([f"+{b}" for b in new - old] + [f"-{b}" for b in old - new])
        counts["changed"] += len(written)
        counts["skipped"] += len(changes) - len(written)
    return dict(counts)
