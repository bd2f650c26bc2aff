"""Fuzz: ``listening import`` of CSV and JSONL files full of bad rows, through the real pipeline.

Every record is stored or rejected with its line number, never lost and never fatal:
read = matched + unmatched + rejected, and the rejects file names exactly the bad lines.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from listening.ingest.importer import import_file
from listening.ingest.pipeline import clean_text
from listening.timeparse import parse_time
from tests.support.strategies import (JUNK_BYTES, control_chars, deep_json, fuzz, giant_text, hostile_text, json_values,
                                      nested_json, surrogates)

COLUMNS = ["tweet_id", "text", "name", "tweet_created", "airline_sentiment", "negativereason"]  # the demo mapping
MARK = "\U0010fffd"  # where a row's bad bytes go (removed from whatever was generated)
BAD_BYTES = [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\x80abc", b"\xfe\xff"]  # none is , " \r or \n
LINE_BREAK = re.compile(r"\r\n|\r|\n")

texts = st.one_of(hostile_text.map("@united ".__add__), giant_text.map("@JetBlue ".__add__), hostile_text,
                  st.lists(control_chars).map("".join), st.just(""))
dates = st.one_of(
    st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2024, 1, 1)).flatmap(lambda d: st.sampled_from(
                     [d.isoformat(), f"{d:%Y-%m-%d %H:%M:%S -0800}", str(int(d.timestamp())),
                      str(int(d.timestamp() * 1000)), f"{d:%a %b %d %H:%M:%S +0000 %Y}"])),
    st.sampled_from(["", "2999-01-01", "0", "-1", "1e309", "nan", "1969-12-31", "tomorrow-ish", "31/31/2015"]),
    hostile_text)


@dataclass
class Row:
    fields: list[str]
    ragged: int  # fields added (> 0) or taken away (< 0)
    bad_bytes: int | None  # the column that gets undecodable bytes

    def rejected(self) -> bool:
        """What the importer must say of this row, from the documented rules."""
        text, when = self.fields[1], self.fields[3]
        return bool(self.ragged or self.bad_bytes is not None or not clean_text(text)
                    or (when and parse_time(when) is None))


@st.composite
def rows(draw) -> list[Row]:
    out = []
    for i in range(draw(st.integers(0, 10))):
        fields = [str(i), draw(texts), draw(hostile_text), draw(dates), draw(hostile_text), draw(hostile_text)]
        fields = [f.replace(MARK, "") for f in fields]
        ragged = draw(st.sampled_from([0, 0, 0, 1, 2, -1, -5]))
        bad = draw(st.none() | st.none() | st.integers(0, 5))
        out.append(Row(fields, ragged, bad))
    return out


def csv_bytes(records: list[Row], junk: list[bytes]) -> tuple[bytes, list[int]]:
    """The file, and the line each record starts on (the line numbers rejects must carry)."""
    chunks, starts, line = [",".join(COLUMNS).encode() + b"\n"], [], 2
    for record, bad in zip(records, junk):
        fields = list(record.fields)
        if record.bad_bytes is not None:
            fields[record.bad_bytes] += MARK
        fields = fields + ["extra"] * record.ragged if record.ragged >= 0 else fields[:record.ragged]
        buffer = io.StringIO()
        csv.writer(buffer).writerow(fields)  # \r\n: a bare \r or \n in a field gets quoted
        chunks.append(buffer.getvalue().encode("utf-8").replace(MARK.encode(), bad))
        starts.append(line)
        line += len(LINE_BREAK.findall(buffer.getvalue()))
    return b"".join(chunks), starts


def run_import(make_pipeline, config, data: bytes, suffix: str):
    """Import ``data`` as a fresh source; the counts, the rejected lines and the stored ids."""
    source = f"fuzz-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder, make_pipeline() as pipeline:
        path, rejects = Path(folder) / f"in{suffix}", Path(folder) / "rejects.jsonl"
        path.write_bytes(data)
        rejected = import_file(pipeline, path, config.import_mapping, source=source, rejects_path=rejects)
        lines = [json.loads(line)["line"] for line in rejects.read_text(encoding="utf-8").split("\n")[:-1]] \
            if rejects.exists() else []
    c = pipeline.counts
    stored = [d["external_id"] for d in pipeline.store.mentions.collection.find({"source": source}, {"external_id": 1})]
    assert rejected == len(lines) == c.rejected
    assert c.read == c.matched + c.unmatched + c.rejected
    assert c.matched == c.new + c.updated + c.unchanged + c.duplicates and c.new == len(stored)
    return c, lines, stored


@fuzz
@given(rows(), st.data())
def test_csv_rows_are_stored_or_rejected_with_their_line(ingest, demo_config, records, data):
    junk = [data.draw(st.sampled_from(BAD_BYTES)) for _ in records]
    body, starts = csv_bytes(records, junk)
    counts, lines, stored = run_import(ingest, demo_config, body, ".csv")
    assert counts.read == len(records)
    assert lines == [start for record, start in zip(records, starts) if record.rejected()]
    assert set(stored) <= {r.fields[0] for r in records if not r.rejected()}


@fuzz
@given(st.binary(max_size=4096) | st.lists(JUNK_BYTES | st.text(max_size=20).map(str.encode)).map(b"".join))
def test_csv_garbage_bytes(ingest, demo_config, body):
    run_import(ingest, demo_config, "tweet_id,text,name,tweet_created\n".encode() + body, ".csv")


json_rows = st.fixed_dictionaries({"text": texts}, optional={
    "tweet_id": json_values | surrogates, "name": json_values, "tweet_created": dates | json_values,
    "airline_sentiment": json_values, "negativereason": json_values,
    "deep": st.integers(1, 900).map(lambda n: json.loads(nested_json(n)))})
bad_lines = st.one_of(deep_json, json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
                      json_rows.map(json.dumps).flatmap(lambda t: st.integers(1, len(t) - 1).map(lambda n: t[:n])))


def json_rejected(line: str) -> bool:
    """What the importer must say of one JSONL line, from the documented rules."""
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):
        return True
    if not isinstance(row, dict):
        return True
    text, when = row.get("text"), row.get("tweet_created")
    undecodable = any(isinstance(v, str) and re.search("[\ud800-\udfff]", v) for k, v in row.items() if k in COLUMNS)
    return (not isinstance(text, str) or not clean_text(text) or undecodable
            or (when not in (None, "") and (not isinstance(when, (str, int, float)) or parse_time(when) is None)))


@st.composite
def jsonl_lines(draw) -> list[tuple[str, bool]]:
    """(line, has undecodable bytes): objects, as written by tools with and without ensure_ascii, and junk."""
    out = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["ascii", "raw", "undecodable", "bad", "blank"]))
        if kind == "bad":
            line = draw(bad_lines)
        elif kind == "blank":
            line = ""
        else:
            row = draw(json_rows)
            if kind == "undecodable":
                row["text"] += MARK
            line = json.dumps(row, ensure_ascii=kind == "ascii")
        out.append((line, MARK in line))  # only a raw (not \u-escaped) MARK becomes bad bytes
    return out


@fuzz
@given(jsonl_lines(), st.sampled_from(BAD_BYTES))
def test_jsonl_lines_are_stored_or_rejected_with_their_line(ingest, demo_config, lines, junk):
    body = "\n".join(line for line, _ in lines).encode("utf-8", "surrogatepass").replace(MARK.encode(), junk)
    counts, rejected, _ = run_import(ingest, demo_config, body, ".jsonl")
    assert counts.read == sum(1 for line, _ in lines if line.strip())
    assert rejected == [n for n, (line, bad) in enumerate(lines, 1) if line.strip() and (bad or json_rejected(line))]
