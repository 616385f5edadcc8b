"""Streaming readers for ``wirecoder predict`` inputs: JSONL, CSV, text files, folders, stdin.

Each yields :class:`InputDoc` one at a time (memory stays flat however large the input). A record
that cannot be used carries an ``error`` instead of failing the whole run.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain
from dataclasses import dataclass
from pathlib import Path

from model.errors import WirecoderError

logger = logging.getLogger(__name__)

MAX_CHARS = 1_000_000  # larger documents are refused per record rather than exhausting memory


@dataclass
class InputDoc:
    id: str
    text: str | None
    where: str  # "file:line" for messages
    error: str | None = None
    date: str | None = None  # the document's date (ISO), when the record gives one


def has_invalid_utf8(text: str) -> bool:
    """Did this text (read with :func:`open_text`) hold bytes that are not UTF-8?"""
    # Files are opened with errors="surrogateescape": undecodable bytes become lone surrogates.
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _check(text: object) -> str | None:
    if not isinstance(text, str):
        return f"'text' is {type(text).__name__}, not a string" if text is not None else "missing 'text'"
    if has_invalid_utf8(text):
        return "invalid UTF-8"
    if not text.strip():
        return "empty or whitespace-only text"
    if len(text) > MAX_CHARS:
        return f"text of {len(text):,} characters is over the {MAX_CHARS:,} limit"
    return None


def _display_name(path: str | Path) -> str:
    return "<stdin>" if str(path) == "-" else str(path)


def open_text(path: str | Path):
    """A text file (or ``-``, stdin) for reading line by line: a byte-order mark is dropped and bytes
    that are not UTF-8 become lone surrogates, so a bad line is reported rather than fatal."""
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline="")
    # utf-8-sig: a byte-order mark (Excel, Notepad) is not part of the first id, field or text.
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def jsonl_objects(lines: Iterable[str]) -> Iterator[tuple[int, dict | None, str | None]]:
    """``(line number, object, None)`` or ``(line number, None, problem)`` for each non-blank line:
    the one JSONL parser of wirecoder's readers."""
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if has_invalid_utf8(line):
            yield lineno, None, "invalid UTF-8"
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, None, f"malformed JSON ({exc.msg})"
            continue
        if not isinstance(obj, dict):
            yield lineno, None, "expected a JSON object"
            continue
        yield lineno, obj, None


def _check_date(value: object) -> tuple[str | None, str | None]:
    """A record's document date as ``(ISO date, None)``, or ``(None, problem)``; empty is no date."""
    if value is None or value == "":
        return None, None
    from model.dates import to_date

    try:
        return to_date(value, "'date'").isoformat(), None
    except WirecoderError as exc:
        return None, str(exc)


def _jsonl_docs(lines: Iterable[str], name: str, id_field: str = "id", text_field: str = "text",
                date_field: str = "date") -> Iterator[InputDoc]:
    for lineno, obj, error in jsonl_objects(lines):
        doc_id, text, date = f"line-{lineno}", None, None
        if obj is not None:
            doc_id = str(obj.get(id_field, doc_id))
            text = obj.get(text_field)
            error = _check(text)
            date, date_error = _check_date(obj.get(date_field))
            error = error or date_error
        yield InputDoc(doc_id, text if error is None else None, f"{name}:{lineno}", error, date)


def _closing(fh, docs: Iterator[InputDoc]) -> Iterator[InputDoc]:
    with fh:
        yield from docs


def read_jsonl(path: str | Path, id_field: str = "id", text_field: str = "text") -> Iterator[InputDoc]:
    fh = open_text(path)
    name = _display_name(path)
    if str(path) != "-":
        return _closing(fh, _jsonl_docs(fh, name, id_field, text_field))
    # Plain text piped in without --lines would otherwise come out as one "malformed JSON" record per
    # line: look at the first line and say what it is.
    head: list[str] = []
    for line in fh:
        head.append(line)
        if line.strip():
            if not line.lstrip().startswith("{"):
                fh.close()
                raise WirecoderError(f"{name}:{len(head)}: this is not JSONL (the line does not start with '{{'); "
                                     "to code plain text, one document per line, pass --lines")
            break
    return _closing(fh, _jsonl_docs(chain(head, fh), name, id_field, text_field))


DELIMITERS = (",", ";", "\t", "|")


def _pick_delimiter(header: str, text_column: str) -> str:
    """The delimiter that makes ``text_column`` a column of the header line (Excel writes ';' where
    the decimal mark is a comma); among several, the one giving the most columns; else ','."""
    fits = []
    for d in DELIMITERS:
        fields = next(csv.reader([header], delimiter=d), [])
        if text_column in fields:
            fits.append((len(fields), d == ",", d))
    return max(fits)[2] if fits else ","


def read_csv(path: str | Path, text_column: str = "text", id_column: str | None = None,
             delimiter: str | None = None, date_column: str | None = None) -> Iterator[InputDoc]:
    """Rows of a CSV file; the header is checked now, before anything is written.

    ``id_column`` None: the ``id`` column when there is one, else row numbers; a named column must exist.
    ``date_column``: a column of ISO document dates (an empty cell is no date).
    """
    name = _display_name(path)
    fh = open_text(path)
    try:
        header = fh.readline()
        fh.seek(0)
        delimiter = delimiter or _pick_delimiter(header.rstrip("\r\n"), text_column)
        reader = csv.DictReader(fh, delimiter=delimiter)
        columns = reader.fieldnames or []
        shown = ", ".join(map(repr, columns))
        if text_column not in columns:
            raise WirecoderError(f"{name}: no column {text_column!r} (columns: {shown}); use --text-column"
                                 + ("" if len(columns) > 1 else " or --delimiter"))
        if id_column is not None and id_column not in columns:
            raise WirecoderError(f"{name}: no column {id_column!r} (columns: {shown}); use --id-column")
        if date_column is not None and date_column not in columns:
            raise WirecoderError(f"{name}: no column {date_column!r} (columns: {shown}); use --date-column")
    except BaseException:
        fh.close()
        raise
    if id_column is None and "id" in columns:
        id_column = "id"

    def rows() -> Iterator[InputDoc]:
        for index, row in enumerate(reader):
            where = f"{name}:{reader.line_num}"
            doc_id = row.get(id_column) if id_column and row.get(id_column) else f"row-{index + 1}"
            text = row.get(text_column)
            error = _check(text)
            date, date_error = _check_date(row.get(date_column)) if date_column else (None, None)
            error = error or date_error
            yield InputDoc(str(doc_id), text if error is None else None, where, error, date)

    return _closing(fh, rows())


def read_text_lines(path: str | Path) -> Iterator[InputDoc]:
    name = _display_name(path)
    stem = "stdin" if str(path) == "-" else Path(path).stem
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            error = _check(text)
            yield InputDoc(f"{stem}:{lineno}", text if error is None else None, f"{name}:{lineno}", error)


def _read_whole(path: Path, doc_id: str | None = None) -> InputDoc:
    doc_id = doc_id or path.stem
    if path.stat().st_size > 4 * MAX_CHARS:
        return InputDoc(doc_id, None, str(path), f"file of {path.stat().st_size:,} bytes is too large")
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    error = _check(text)
    return InputDoc(doc_id, text if error is None else None, str(path), error)


def list_folder(folder: Path, recursive: bool = False) -> tuple[list[Path], Counter]:
    """The ``.txt`` files of a folder (any case: ``B.TXT`` too), sorted, and what was left out, by reason.

    Links to files are followed; links to folders never are (they could loop).
    """
    files: list[Path] = []
    skipped: Counter = Counter()
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() and not entry.exists():
            skipped["broken link"] += 1
        elif entry.is_dir():
            if entry.is_symlink():
                skipped["link to a folder"] += 1
            elif recursive:
                sub_files, sub_skipped = list_folder(entry, recursive)
                files.extend(sub_files)
                skipped.update(sub_skipped)
            else:
                skipped["subfolder (use --recursive)"] += 1
        elif not entry.is_file():
            skipped["not a regular file"] += 1
        elif entry.suffix.lower() != ".txt":
            skipped[f"not a .txt file ({entry.suffix or 'no extension'})"] += 1
        else:
            files.append(entry)
    return files, skipped


def read_folder(path: str | Path, recursive: bool = False) -> Iterator[InputDoc]:
    """One document per ``.txt`` file; ids are file names without the extension (with ``recursive``,
    the path below ``path``, so that two folders' ``a.txt`` stay apart)."""
    folder = Path(path)
    files, skipped = list_folder(folder, recursive)
    if skipped:
        logger.warning("%s: skipped %d entries: %s", folder, sum(skipped.values()),
                       "; ".join(f"{n} {reason}" for reason, n in sorted(skipped.items())))
    if not files:
        raise WirecoderError(f"{path}: no .txt files in this folder")

    def docs() -> Iterator[InputDoc]:
        for f in files:
            yield _read_whole(f, f.relative_to(folder).with_suffix("").as_posix() if recursive else f.stem)

    return docs()


def read_parquet(source, name: str, id_column: str = "id", text_column: str = "text",
                 date_column: str = "date") -> Iterator[InputDoc]:
    """Rows of a Parquet file (a path or a file object): ``text``, optional ``id`` (else ``row-N``) and
    ``date``; ``where`` is ``name:row N``. A missing text column is raised now, before any output."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ... for a file that is not Parquet
        raise WirecoderError(f"{name}: not a readable Parquet file ({exc})") from exc
    columns = pf.schema_arrow.names
    if text_column not in columns:
        raise WirecoderError(f"{name}: no column {text_column!r} (columns: {', '.join(map(repr, columns))})")
    wanted = [c for c in (id_column, text_column, date_column) if c in columns]

    def rows() -> Iterator[InputDoc]:
        n = 0
        for batch in pf.iter_batches(columns=wanted, batch_size=1024):
            for row in batch.to_pylist():
                n += 1
                doc_id = row.get(id_column)
                text = row.get(text_column)
                error = _check(text)
                date, date_error = _check_date(row.get(date_column))
                error = error or date_error
                yield InputDoc(f"row-{n}" if doc_id in (None, "") else str(doc_id), text if error is None else None,
                               f"{name}:row {n}", error, date)

    return rows()


def read_bytes(data: bytes, name: str) -> Iterator[InputDoc]:
    """A ``.jsonl`` or ``.parquet`` file's records from its bytes (Ray workers read files whole), exactly
    as :func:`read_inputs` reads the file ``name``."""
    if name.lower().endswith(".parquet"):
        return read_parquet(io.BytesIO(data), name)
    return _jsonl_docs(io.StringIO(data.decode("utf-8-sig", errors="surrogateescape"), newline=""), name)


def read_inputs(path: str, *, lines: bool = False, text_column: str = "text", id_column: str | None = None,
                delimiter: str | None = None, recursive: bool = False, date_column: str | None = None) -> Iterator[InputDoc]:
    """Pick the reader from the input: ``-`` (stdin, JSONL unless --lines), a folder of .txt files,
    ``.jsonl``, ``.csv``, ``.parquet``, or any other file as one text document (``lines=True``: one per line).

    Problems with the input as a whole (a missing column, a folder without texts, plain text where
    JSONL was expected) are raised here, before any output is opened.
    """
    if path == "-":
        return read_text_lines(path) if lines else read_jsonl(path)
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input {path} does not exist")
    if p.is_dir():
        return read_folder(p, recursive)
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(p)
    if suffix == ".csv":
        return read_csv(p, text_column, id_column, delimiter, date_column)
    if suffix == ".parquet":
        return read_parquet(p, str(path), id_column or "id", text_column, date_column or "date")
    return read_text_lines(p) if lines else iter([_read_whole(p)])
