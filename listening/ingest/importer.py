"""Read mentions from CSV or JSONL files into the shared pipeline.

A malformed row never stops the good ones: it is rejected with its line number and
reason, and written to a rejects file so nothing is lost. Files as people save them: a byte
order mark (Excel's "CSV UTF-8", UTF-16) decides the encoding and is said; texts the pipeline
will cut to ``MAX_TEXT_CHARS`` are counted and said; a URL with whitespace or control
characters is refused with a reason.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from listening.config import ImportMapping
from listening.ingest.pipeline import MAX_TEXT_CHARS, clean_text
from listening.models import SURROGATE, RawMention
from listening.tagging.issues import fix_text
from listening.timeparse import parse_time

csv.field_size_limit(16 * 1024 * 1024)
log = logging.getLogger(__name__)
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
BAD_URL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")  # whitespace (any), C0 and C1 controls


@dataclass
class Rejected:
    """A row that could not become a mention, and why."""

    line: int
    reason: str
    row: object

    def as_json(self) -> str:
        return json.dumps({"line": self.line, "reason": self.reason, "row": self.row},
                          ensure_ascii=False, default=str)


def file_encoding(path: Path, encoding: str = "utf-8") -> str:
    """The encoding to read ``path`` with: its byte order mark's when it has one, else ``encoding``.
    Without this, Excel's BOM glued itself to the first column's name ("missing text column")."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    for bom, name in BOMS:
        if head.startswith(bom):
            if codecs.lookup(name).name != codecs.lookup(encoding).name:
                log.warning("%s starts with a %s byte order mark: read as %s, not %s",
                            path.name, "UTF-8" if name == "utf-8-sig" else "UTF-16", name, encoding)
            return name
    return encoding


def read_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict | Rejected]]:
    """(line number, row dict) for each record, or a Rejected for unreadable ones."""
    encoding = file_encoding(path, encoding)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        yield from _read_jsonl(path, encoding)
    else:
        yield from _read_csv(path, encoding)


def to_raw(row: dict, mapping: ImportMapping, source: str, line: int) -> RawMention | Rejected:
    """Map one row's columns onto a RawMention, or say why it cannot be one."""
    text = _get(row, mapping.text)
    if not isinstance(text, str) or not clean_text(text):  # else the pipeline drops it, line unknown
        return Rejected(line, f"empty or missing text column {mapping.text!r}", row)
    if mapping.label_set:
        text = fix_text(text, mapping.label_set)
    for column in mapping.model_dump(exclude={"label_set"}).values():
        if isinstance(value := _get(row, column), str) and SURROGATE.search(value):
            return Rejected(line, f"column {column!r} is not valid in the file's encoding", row)
    url = _get(row, mapping.url)
    if isinstance(url, str) and BAD_URL.search(url.strip()):
        return Rejected(line, f"url {url[:80]!r} contains whitespace or control characters", row)
    published = _get(row, mapping.published_at)
    if published not in (None, "") and (not isinstance(published, (str, int, float)) or parse_time(published) is None):
        return Rejected(line, f"unreadable or out-of-range date {str(published)[:60]!r}", row)
    labels = {name: str(value) for name, column in
              (("sentiment", mapping.label_sentiment), ("issue", mapping.label_issue))
              if column and (value := _get(row, column)) not in (None, "")}
    external_id = _get(row, mapping.id)
    return RawMention(
        source=source, source_kind="import", text=text,
        external_id=str(external_id) if external_id not in (None, "") else None,
        url=_str(url.strip() if isinstance(url, str) else url), author=_str(_get(row, mapping.author)),
        title=_str(_get(row, mapping.title)), lang=_str(_get(row, mapping.lang)),
        published_at=published if published not in (None, "") else None,
        labels={**labels, "by": source} if labels else {},
    )


def _read_csv(path: Path, encoding: str) -> Iterator[tuple[int, dict | Rejected]]:
    with open(path, newline="", encoding=encoding, errors="surrogateescape") as handle:
        reader = csv.DictReader(handle)
        line = 2
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, Rejected(line, f"malformed CSV: {exc}", None)
                line = reader.line_num + 1
                continue
            if None in row:
                yield line, Rejected(line, f"{len(row[None])} more fields than the header", row)
            elif any(value is None for value in row.values()):
                yield line, Rejected(line, "fewer fields than the header", row)
            else:
                yield line, row
            line = reader.line_num + 1


def _read_jsonl(path: Path, encoding: str) -> Iterator[tuple[int, dict | Rejected]]:
    with open(path, encoding=encoding, errors="surrogateescape") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
                yield line, Rejected(line, f"not JSON: {exc}", text.rstrip("\r\n"))
                continue
            if isinstance(row, dict):
                yield line, row
            else:
                yield line, Rejected(line, f"expected an object, got {type(row).__name__}", text.rstrip("\r\n"))


def _get(row: dict, column: str | None) -> object:
    return row.get(column) if column else None


def _str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def import_file(pipeline, path: Path, mapping: ImportMapping, *, source: str,
                rejects_path: Path, encoding: str = "utf-8") -> int:
    """Send every good row of ``path`` through ``pipeline``; write rejects; return their number."""
    rejected = cut = 0
    # backslashreplace: a byte the input's encoding could not read is kept as a JSON \udcXX escape
    with open(rejects_path, "w", encoding="utf-8", errors="backslashreplace") as rejects:
        for line, row in read_rows(path, encoding):
            item = row if isinstance(row, Rejected) else to_raw(row, mapping, source, line)
            if isinstance(item, Rejected):
                pipeline.reject()
                rejects.write(item.as_json() + "\n")
                rejected += 1
            else:
                cut += len(item.text) > MAX_TEXT_CHARS
                pipeline.add(item)
    pipeline.flush()
    if cut:
        log.warning("%s: %d text(s) longer than %d characters were cut to that length",
                    path.name, cut, MAX_TEXT_CHARS)
    if not rejected:
        rejects_path.unlink()
    return rejected
