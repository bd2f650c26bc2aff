"""The query tester: try a brand query on stored mentions before saving it.

``listening query test`` and the dashboard's Query tester page show its counts, the
newest hits and the near misses (a term found, the query still false), so a query is
tuned on real mentions, not guessed.

    report = test_query(store, '"United" NEAR/5 (flight OR gate)')
    print(describe_test(report))
"""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from listening.matching.matcher import FIELD_NAMES
from listening.query import And, Node, field_names, parse
from listening.query.compiler import Program
from listening.store import scan

if TYPE_CHECKING:
    from listening.store import Store

SAMPLE_TEXT_CHARS = 280
MAX_GROUPS = 8  # near-miss term groups printed; the rest summed on one line


def test_query(store: "Store", query: str, since: datetime | None = None, sample: int = 10, *,
               until: datetime | None = None, limit: int | None = None) -> dict:
    """Run ``query`` over stored mentions: counts, newest hits and near misses.

    ``limit`` caps the mentions read (the newest). A near miss contains at least one of
    the query's (non-NOT) terms but is rejected; its ``failed`` lists the top-level AND
    parts it fails, and ``failed_parts`` counts the near misses each part rejects (what to
    loosen). ``near_miss_terms`` counts the near misses by the set of terms they hold (joined
    with " + "): a group holding every term is what a wider NEAR would match; the sample
    shows those holding the most terms first, then the newest. ``by_brand`` counts the hits
    per brand the mentions are stored under; ``terms`` counts the mentions each term was
    found in. A bad query raises QuerySyntaxError (``.pretty()`` shows where).
    """
    tree = parse(query)
    clauses = tree.items if isinstance(tree, And) else (tree,)
    # The query, and each of its top-level AND parts on its own: a near miss says which failed.
    program = Program([("query", tree, ()), *((str(i), c, ()) for i, c in enumerate(clauses))])
    counts = {"scanned": 0, "matched": 0, "near_misses": 0}
    by_brand: Counter = Counter()
    by_term: Counter = Counter()
    by_failed: Counter = Counter()
    by_terms: Counter = Counter()
    hits: list = []    # bounded heaps of the best: ((rank..., published_at, -seen), sample)
    misses: list = []
    fields = _fields_read(tree)
    batches = (scan.iter_mentions(store.mentions.collection, since=since, until=until, limit=limit, fields=fields)
               if limit is not None else
               scan.iter_window(store.mentions.collection, since=since, until=until, fields=fields))
    for batch in batches:
        for doc in batch:
            counts["scanned"] += 1
            found = program.explain(doc.get("text") or "", **{k: doc.get(k) for k in FIELD_NAMES})
            ok, terms = found.get("query", (False, []))
            by_term.update(terms)
            if ok:
                counts["matched"] += 1
                by_brand.update(doc.get("brands") or ["(none)"])
                _keep(hits, sample, (), counts["scanned"], doc, lambda: _sample(doc, terms))
            elif terms:
                counts["near_misses"] += 1
                held = sorted(set(terms))
                by_terms[" + ".join(held)] += 1
                failed = [str(c) for i, c in enumerate(clauses) if not found.get(str(i), (False,))[0]]
                by_failed.update(failed)
                _keep(misses, sample, (len(held),), counts["scanned"], doc,
                      lambda: {**_sample(doc, terms), "failed": failed})
    return {"query": str(tree), **counts, "by_brand": dict(by_brand.most_common()),
            "terms": dict(by_term.most_common()), "failed_parts": dict(by_failed.most_common()),
            "near_miss_terms": dict(sorted(by_terms.items(), key=lambda kv: (-kv[1], kv[0]))),
            "hits": _best(hits), "near_misses_sample": _best(misses)}


def _fields_read(tree: Node) -> tuple[str, ...]:
    """The mention fields the tester reads: the text and title searched, what a sample shows,
    and only the attributes the query compares (SecantusDB's cost grows with every field
    projected: the demo's 11,526 mentions in 0.44 s for these five, 0.53 s for the eight
    that matching reads)."""
    compared = field_names(tree) & set(FIELD_NAMES) - {"title", "source"}
    return ("text", "title", "published_at", "brands", "source", *sorted(compared))


_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


def _keep(heap: list, size: int, rank: tuple, seen: int, doc: dict, make) -> None:
    """Keep the ``size`` best by ``rank``, then newest (the first seen among equal times);
    ``make`` the sample only then."""
    key = (*rank, doc.get("published_at") or _EARLIEST, -seen)
    if len(heap) < size:
        heapq.heappush(heap, (key, make()))
    elif size and key > heap[0][0]:
        heapq.heapreplace(heap, (key, make()))


def _best(heap: list) -> list[dict]:
    return [row for _, row in sorted(heap, key=lambda kv: kv[0], reverse=True)]


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
             f"scanned {scanned:,} mentions: {matched:,} match{share}, "
             f"{report['near_misses']:,} more contain a term but do not match"]
    if report["by_brand"]:
        lines.append("matches by stored brand: " + ", ".join(f"{b} {n:,}" for b, n in report["by_brand"].items()))
    if report["terms"]:
        lines.append("mentions containing each term: "
                     + ", ".join(f"{t} {n:,}" for t, n in list(report["terms"].items())[:15]))
    if report.get("failed_parts") and list(report["failed_parts"]) != [report["query"]]:  # not the whole query
        lines.append("near misses rejected by each part (loosen the biggest to match more):")
        lines += [f"  {n:>7,}  {part}" for part, n in report["failed_parts"].items()]
    if report.get("near_miss_terms"):
        lines.append("near misses by the query terms they contain (most common first):")
        groups = list(report["near_miss_terms"].items())
        lines += [f"  {n:>7,}  {held}" for held, n in groups[:MAX_GROUPS]]
        if len(groups) > MAX_GROUPS:
            rest = sum(n for _, n in groups[MAX_GROUPS:])
            lines.append(f"  {rest:>7,}  ({len(groups) - MAX_GROUPS:,} other combinations)")
    for title, rows in (("hits (newest first)", report["hits"]),
                        ("near misses, most terms first: some terms found, query false", report["near_misses_sample"])):
        lines.append(f"\n{title}:" if rows else f"\n{title}: none")
        for row in rows:
            when = f"{row['published_at']:%Y-%m-%d %H:%M}" if row["published_at"] else "?"
            text = " ".join(row["text"].split())
            lines.append(f"  {when} [{row['source']}] {', '.join(row['terms']) or '-'}: {text}")
            if row.get("failed"):
                lines.append(f"      fails: {' AND '.join(row['failed'])}")
    return "\n".join(lines)
