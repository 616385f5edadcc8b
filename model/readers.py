"""Streaming readers for ``wirecoder predict`` inputs: JSONL, CSV, text files, folders, stdin.

Each yields :class:`InputDoc` one at a time (memory stays flat however large the input). A record
that cannot be used carries an ``error`` instead of failing the whole run.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from model.errors import WirecoderError

MAX_CHARS = 1_000_000  # larger documents are refused per record rather than exhausting memory


@dataclass
class InputDoc:
    index: int  # position in the input stream, from 0
    id: str
    text: str | None
    where: str  # "file:line" for messages
    error: str | None = None


def _bad_utf8(text: str) -> bool:
    # Files are opened with errors="surrogateescape": undecodable bytes become lone surrogates.
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _check(text: object) -> str | None:
    if not isinstance(text, str):
        return f"'text' is {type(text).__name__}, not a string" if text is not None else "missing 'text'"
    if _bad_utf8(text):
        return "invalid UTF-8"
    if not text.strip():
        return "empty or whitespace-only text"
    if len(text) > MAX_CHARS:
        return f"text of {len(text):,} characters is over the {MAX_CHARS:,} limit"
    return None


def _display_name(path: str | Path) -> str:
    return "<stdin>" if str(path) == "-" else str(path)


def _open_text(path: str | Path):
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline="")
    # utf-8-sig: a byte-order mark (Excel, Notepad) is not part of the first id, field or text.
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def read_jsonl(path: str | Path, id_field: str = "id", text_field: str = "text") -> Iterator[InputDoc]:
    name = _display_name(path)
    with _open_text(path) as fh:
        index = 0
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{name}:{lineno}"
            doc_id, text, error = f"line-{lineno}", None, None
            if _bad_utf8(line):
                error = "invalid UTF-8"
            else:
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    error = f"malformed JSON ({exc.msg})"
                else:
                    if not isinstance(obj, dict):
                        error = "expected a JSON object"
                    else:
                        doc_id = str(obj.get(id_field, doc_id))
                        text = obj.get(text_field)
                        error = _check(text)
            yield InputDoc(index, doc_id, text if error is None else None, where, error)
            index += 1


def read_csv(path: str | Path, text_column: str = "text", id_column: str | None = "id") -> Iterator[InputDoc]:
    name = _display_name(path)
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or text_column not in reader.fieldnames:
            raise WirecoderError(f"{name}: no column {text_column!r} (columns: {', '.join(reader.fieldnames or [])}); use --text-column")
        for index, row in enumerate(reader):
            where = f"{name}:{reader.line_num}"
            doc_id = row.get(id_column) if id_column and row.get(id_column) else f"row-{index + 1}"
            text = row.get(text_column)
            error = _check(text)
            yield InputDoc(index, str(doc_id), text if error is None else None, where, error)


def read_text_lines(path: str | Path) -> Iterator[InputDoc]:
    name = _display_name(path)
    stem = "stdin" if str(path) == "-" else Path(path).stem
    with _open_text(path) as fh:
        index = 0
        for lineno, line in enumerate(fh, 1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            error = _check(text)
            yield InputDoc(index, f"{stem}:{lineno}", text if error is None else None, f"{name}:{lineno}", error)
            index += 1


def _read_whole(path: Path, index: int) -> InputDoc:
    if path.stat().st_size > 4 * MAX_CHARS:
        return InputDoc(index, path.stem, None, str(path), f"file of {path.stat().st_size:,} bytes is too large")
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    error = _check(text)
    return InputDoc(index, path.stem, text if error is None else None, str(path), error)


def read_inputs(path: str, *, lines: bool = False, text_column: str = "text", id_column: str | None = "id") -> Iterator[InputDoc]:
    """Pick the reader from the input: ``-`` (stdin, JSONL unless --lines), a folder of .txt files,
    ``.jsonl``, ``.csv``, or any other file as one text document (``lines=True``: one per line)."""
    if path == "-":
        yield from read_text_lines(path) if lines else read_jsonl(path)
        return
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input {path} does not exist")
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix == ".txt" and f.is_file())
        if not files:
            raise WirecoderError(f"{path}: no .txt files in this folder")
        for i, f in enumerate(files):
            yield _read_whole(f, i)
    elif p.suffix == ".jsonl":
        yield from read_jsonl(p)
    elif p.suffix == ".csv":
        yield from read_csv(p, text_column, id_column)
    elif lines:
        yield from read_text_lines(p)
    else:
        yield _read_whole(p, 0)
