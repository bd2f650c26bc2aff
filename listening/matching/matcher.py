"""Which brands a mention talks about: every brand's query, compiled into one matcher.

A brand matches through its boolean ``query`` (``docs/queries.md``) or, without one,
through any of its ``terms`` and ``handles`` (whole words, any case). ``exclusions``
veto the words they cover in both cases: "United States" hides that "United", not a
"@united" elsewhere in the same mention.

    >>> BrandMatcher(config.brands).matched_terms("@united lost my bag")
    {'United': ['@united']}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

from listening.config import Brand, Config
from listening.query import Node, Or, Term, parse
from listening.query.compiler import Program

if TYPE_CHECKING:
    from listening.store import Store

FIELD_NAMES = ("source", "lang", "author", "title")


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
