"""The query tester: try a brand query on stored mentions before saving it.

``listening query test`` and the dashboard's Query tester page show its counts, the
newest hits and the near misses (a term found, the query still false), so a query is
tuned on real mentions, not guessed.

    report = test_query(store, '"United" NEAR/5 (flight OR gate)')
    print(describe_test(report))
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from listening.matching.matcher import FIELD_NAMES
from listening.query import And, parse
from listening.query.compiler import Program
from listening.store import scan

if TYPE_CHECKING:
    from listening.store import Store

SAMPLE_TEXT_CHARS = 280


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
