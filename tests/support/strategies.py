"""Hypothesis strategies for the fuzz suites (tests/test_fuzz_*.py): garbage in every shape
our inputs arrive in, built from the real shared fixtures where there is one.

    @given(mutated(FEED_FILES))   # a real feed, truncated, re-encoded, spiked with junk
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from tests.conftest import FIXTURES

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "listening-hypothesis")  # not in the repo

# Modest and deadline-free: the CI machine has 2 loaded cores; no example database in the repo.
# A longer campaign: FUZZ_EXAMPLES=1000 pytest -k fuzz tests
fuzz = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 40)), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

FEED_FILES = sorted((FIXTURES / "feeds_real").glob("*.xml"))
HTML_FILES = sorted((FIXTURES / "html_pages_real").glob("*/source.html"))

# What attackers and broken exports put in names and text.
HOSTILE = [
    '{"$where": "sleep(1)"}', "$where", "$gt", "$ne", "$regex", "$expr", "a.b", "$", ".", "..",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</textarea>", "&lt;b&gt;", "&amp;",
    "\r\nBcc: spy@example.com", "\nSubject: hi", "x\r\n\r\nbody", "\x00", "\x1b[31m", "\u2028", "\x85",
    ".*", "^a$", "(?i)", "[", "\\", "\\d+", "a|b", "*", "**bold**", "[x](javascript:alert(1))",
    "javascript:alert(1)", "http://[::1", "//[CDATA[x", "'", '"', "`", "%s", "{0}", "${HOME}", "{{ 7*7 }}",
    "NaN", "-1", "1e309", "\ufeff", "é", "🙂", "ﷺ", "\u202e", "@united", "#fail",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=4)), min_size=1, max_size=5).map("".join),
)
# Lone surrogates: what a JSON "\ud800" escape or a surrogateescape read leaves in a str.
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
control_chars = st.characters(max_codepoint=0x1F) | st.sampled_from(["\x7f", "\x85", "\u2028", "\u2029"])

ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "latin-1", "cp1252", "shift_jis", "koi8-r", "utf-32", "ascii"]
JUNK_BYTES = st.one_of(
    st.binary(max_size=16),
    st.sampled_from([b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3(", b"\xed\xa0\x80", b"\r", b"\r\n",
                     b"]]>", b"<!--", b"<![CDATA[", b"&#0;", b"&#xD800;", b"<script>", b'"', b"\x1a"]),
)


def recode(data: bytes, encoding: str) -> bytes:
    """``data`` (UTF-8) re-encoded, lossily: the bytes a server with the wrong charset sends."""
    return data.decode("utf-8", "replace").encode(encoding, "replace")


@st.composite
def mutations(draw, base: bytes) -> bytes:
    """``base`` damaged a few ways: truncated, re-encoded, junk spliced in, a chunk repeated."""
    data = base
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["truncate", "splice", "recode", "repeat", "cut"]))
        at = draw(st.integers(0, len(data)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "splice":
            data = data[:at] + draw(JUNK_BYTES) + data[at:]
        elif kind == "recode":
            data = recode(data, draw(st.sampled_from(ENCODINGS)))
        elif kind == "repeat":
            data = data[:at] + data[at:at + draw(st.integers(1, 4096))] * draw(st.integers(2, 50)) + data[at:]
        else:
            data = data[:at] + data[at + draw(st.integers(1, 4096)):]
    return data


def mutated(paths: list[Path]) -> st.SearchStrategy[bytes]:
    """A real fixture file, damaged."""
    return st.sampled_from([p.read_bytes() for p in paths]).flatmap(mutations)


def nested_json(depth: int, *, leaf: str = "1") -> str:
    """Arrays and objects ``depth`` deep: what trips recursive parsers and BSON's depth limit."""
    opening = "".join('{"a":' if i % 2 else "[" for i in range(depth))
    closing = "".join("}" if i % 2 else "]" for i in reversed(range(depth)))
    return opening + leaf + closing


deep_json = st.integers(1, 100_000).map(nested_json)
giant_text = st.tuples(st.sampled_from(["x", "é", "🙂", "a ", "<b>"]), st.integers(10_000, 400_000)).map(
    lambda pair: pair[0] * (pair[1] // len(pair[0])))

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         hostile_text)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12)


def as_json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def tree_paths(doc, prefix=()):
    """Every path into a parsed JSON/YAML document (``()`` is the root)."""
    yield prefix
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield from tree_paths(value, (*prefix, key))


@st.composite
def edited(draw, doc, values=json_values | hostile_text):
    """A deep copy of ``doc`` with a few values replaced, or hostile keys added, at random paths."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(list(tree_paths(doc))))
        value = draw(values)
        if not path:
            return value
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent[draw(hostile_text)] = value  # an unknown key
        else:
            parent[path[-1]] = value
    return doc
