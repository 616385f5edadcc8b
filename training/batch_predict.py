"""Streaming batch prediction with crash-safe resume, behind ``wirecoder predict``.

Inputs are read lazily and coded in chunks; each chunk's output is written with one ``os.write`` and
fsynced, then a small progress file records how many input records and bytes are done. ``--resume``
truncates the output to the last recorded byte offset (dropping any half-written tail) and skips the
records already done, so every input appears exactly once however the previous run ended.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from tqdm.auto import tqdm

from model.errors import OutputError, RecordError, WirecoderError
from model.files import atomic_write_json, atomic_write_text, describe_os_error
from training.readers import InputDoc, list_folder
from model.results import Prediction
from training.writers import make_writer

logger = logging.getLogger(__name__)


@dataclass
class RunStats:
    written: int = 0
    errors: int = 0
    duplicate_ids: int = 0
    resumed_from: int = 0
    already_complete: bool = False
    # ACLED runs only: bad records as (where, id, error). That format has no row for them, so the run
    # lists them; the other formats carry them in the output.
    bad: list[tuple[str, str, str]] = field(default_factory=list)
    bad_records_file: Path | None = None


def bad_records_path(output: Path) -> Path:
    """Where the records left out of an ACLED table are listed: ``events.csv`` -> ``events.bad-records.jsonl``."""
    return output.with_name(f"{output.stem}.bad-records.jsonl")


class _Keys:
    """Warns about repeated document ids and gives each record a unique key for ACLED event ids.

    Holds every id seen, so memory grows by about 100 bytes per document: the price of catching a
    repeat anywhere in the input.
    """

    def __init__(self, strict: bool):
        self.strict = strict
        self.ids: set[str] = set()
        self.keys: set[str] = set()
        self.repeats = 0

    def key(self, doc: InputDoc) -> str:
        if doc.id in self.ids:
            if self.strict:
                raise RecordError(f"{doc.where}: id {doc.id!r} repeats an earlier record's")
            self.repeats += 1
            logger.warning("%s: id %r repeats an earlier record's; its ACLED event ids get a #n suffix", doc.where, doc.id)
        key, n = doc.id, 1
        while key in self.keys:  # also a real id that equals a key made for an earlier repeat
            n += 1
            key = f"{doc.id}#{n}"
        self.ids.add(doc.id)
        self.keys.add(key)
        return key


def progress_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.progress.json")


def input_identity(path: str | Path, recursive: bool = False) -> dict:
    """What identifies an input across runs: its path, size and a hash of its first 64 KiB.

    ``--resume`` refuses to continue when these differ, since skipping "done" records of another
    input would silently lose documents.
    """
    if str(path) == "-":
        return {"path": "-"}
    p = Path(path)
    if p.is_dir():
        files = [f.relative_to(p).as_posix() for f in list_folder(p, recursive)[0]]
        return {"path": str(p.resolve()), "files": len(files),
                "names_sha256": hashlib.sha256("\n".join(files).encode()).hexdigest()}
    with p.open("rb") as fh:
        head = fh.read(1 << 16)
    return {"path": str(p.resolve()), "size": p.stat().st_size, "head_sha256": hashlib.sha256(head).hexdigest()}


class _Output:
    """Where the coded records go: a regular file (fsynced, with a progress file for ``--resume``),
    or a stream (stdout, /dev/null, a pipe) written as it comes. Write errors name the output."""

    def __init__(self, output: str | Path | None):
        self.path = None if output is None else Path(output)
        self.name = "<stdout>" if self.path is None else str(self.path)
        self.fd = -1
        # Only a regular file can be fsynced, truncated and resumed.
        self.durable = self.path is not None and not (self.path.exists() and not self.path.is_file())
        if self.path is not None and self.path.is_dir():
            raise OutputError(f"cannot write {self.path}: it is a directory")

    def _failed(self, exc: OSError) -> OutputError:
        return OutputError(f"cannot write {self.name}: {describe_os_error(exc)}")

    def open(self, truncate_to: int | None = None) -> None:
        """Open for writing: from scratch, or (``truncate_to``) after the last completed chunk."""
        if self.path is None:
            return
        try:
            if truncate_to is not None:
                self.fd = os.open(self.path, os.O_WRONLY)
                os.ftruncate(self.fd, truncate_to)  # drop anything written after the last completed chunk
                os.lseek(self.fd, truncate_to, os.SEEK_SET)
            else:
                if self.durable:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if self.durable else 0), 0o644)
        except OSError as exc:
            raise self._failed(exc) from exc

    def write(self, data: bytes) -> None:
        try:
            if self.fd == -1:
                sys.stdout.write(data.decode("utf-8"))
                sys.stdout.flush()
            else:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.fd, view) :]
        except OSError as exc:
            raise self._failed(exc) from exc

    def sync(self) -> None:
        if self.durable and self.fd != -1:
            try:
                os.fsync(self.fd)
            except OSError as exc:
                raise self._failed(exc) from exc

    def close(self) -> None:
        if self.fd != -1:
            os.close(self.fd)
            self.fd = -1


def _save_progress(path: Path, records: int, offset: int, complete: bool, run: dict) -> None:
    atomic_write_json(path, {"records": records, "offset": offset, "complete": complete, **run}, indent=None)


def _chunks(it: Iterable[InputDoc], size: int) -> Iterator[list[InputDoc]]:
    it = iter(it)
    while chunk := list(islice(it, size)):
        yield chunk


def run_predict(
    coder,
    docs: Iterable[InputDoc],
    output: str | Path | None,
    fmt: str = "jsonl",
    batch_size: int | None = None,
    chunk_size: int = 256,
    resume: bool = False,
    strict: bool = False,
    show_progress: bool = True,
    on_prediction: Callable[[Prediction], None] | None = None,
    input_id: dict | None = None,
    shard: tuple[int, int] | None = None,
    document_date: str | None = None,
) -> RunStats:
    """Code ``docs`` into ``output`` (stdout when None) in chunks; see the module docstring.

    ``document_date`` (ISO) dates the records that carry no date of their own.

    ``input_id`` (from :func:`input_identity`) is stored with the progress so that ``resume``
    can refuse another input or format.

    ``shard=(k, n)`` codes only the records whose position in ``docs`` (from 0, bad records
    included) is ``k - 1`` modulo ``n``: the n shards together hold every record once.
    """
    for flag, value in (("--batch-size", batch_size), ("--chunk-size", chunk_size)):
        if flag == "--batch-size" and value is None:  # no count limit: the coder's token budget decides
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise WirecoderError(f"{flag} must be a positive integer (at least 1), not {value!r}")
    writer = make_writer(fmt)
    stats = RunStats()
    if shard is not None:
        k, n = shard
        if not (isinstance(k, int) and isinstance(n, int) and 1 <= k <= n):
            raise WirecoderError(f"shard must be K/N with 1 <= K <= N, not {k}/{n}")
        docs = (d for i, d in enumerate(docs) if i % n == k - 1)
        # Part of the run's identity: resuming shard 2/4 into shard 1/4's output would lose records.
        input_id = {**(input_id or {}), "shard": f"{k}/{n}"}
    run = {"format": fmt, "input": input_id or {}}
    out = _Output(output)
    prog_file = progress_path(out.path) if out.durable else None
    done, offset = 0, 0
    if resume and prog_file is None:
        raise WirecoderError("--resume needs a regular output file (-o FILE)")
    if resume and out.path.exists():
        if not prog_file.exists():
            raise WirecoderError(f"cannot resume {out.path}: no progress file {prog_file.name} (was it written by wirecoder predict?)")
        try:
            prog = json.loads(prog_file.read_text(encoding="utf-8"))
            done, offset = int(prog["records"]), int(prog["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WirecoderError(f"cannot resume {out.path}: progress file {prog_file.name} is damaged ({exc})") from exc
        if prog.get("format", fmt) != fmt:
            raise WirecoderError(f"cannot resume {out.path}: it was written as {prog['format']}, not {fmt}")
        if input_id and prog.get("input") and prog["input"] != input_id:
            raise WirecoderError(f"cannot resume {out.path}: it was written from another input "
                                 f"({prog['input'].get('path')}, {prog['input'].get('size', '?')} bytes); "
                                 "start a new output or give the same input")
        if prog.get("complete"):
            stats.already_complete = True
            return stats
        size = out.path.stat().st_size
        if size < offset:
            raise WirecoderError(f"cannot resume {out.path}: it is {size:,} bytes but {offset:,} were written; "
                                 "it was changed since; start a new output")
        out.open(truncate_to=offset)
        stats.resumed_from = done
        logger.info("resuming %s after %d records", out.path, done)
    else:
        out.open()
        head = writer.header().encode("utf-8")
        out.write(head)
        offset = len(head)
        out.sync()
        if prog_file is not None:
            _save_progress(prog_file, done, offset, False, run)

    keys = _Keys(strict)
    sidecar = bad_records_path(out.path) if fmt == "acled" and out.path is not None else None
    if sidecar is not None and not resume:
        sidecar.unlink(missing_ok=True)  # a list from an earlier run would name records of another input
    docs = iter(docs)
    for d in islice(docs, done):  # done before a resume: their ids and errors still count
        keys.key(d)
        if d.error is not None and fmt == "acled":
            stats.bad.append((d.where, d.id, d.error))
    bar = tqdm(desc="coding", unit="doc", initial=done, disable=not show_progress, file=sys.stderr)
    try:
        for chunk in _chunks(docs, chunk_size):
            chunk_keys = [keys.key(d) for d in chunk]
            good = [d for d in chunk if d.error is None]
            for d in chunk:
                if d.error is not None:
                    if strict:
                        raise RecordError(f"{d.where}: {d.error}")
                    stats.errors += 1
                    if fmt == "acled":
                        stats.bad.append((d.where, d.id, d.error))
                    logger.warning("%s: %s", d.where, d.error)
            preds = iter(coder.predict([d.text for d in good], batch_size=batch_size, ids=[d.id for d in good],
                                       document_date=[d.date or document_date for d in good])) if good else iter(())
            pieces = []
            for d, key in zip(chunk, chunk_keys):
                pred = next(preds) if d.error is None else None
                if pred is not None and on_prediction is not None:
                    on_prediction(pred)
                pieces.append(writer.record(pred, d.id, d.where, d.error, key))
            data = "".join(pieces).encode("utf-8")
            out.write(data)
            done += len(chunk)
            offset += len(data)
            stats.written += len(chunk)
            out.sync()
            if prog_file is not None:
                _save_progress(prog_file, done, offset, False, run)
            bar.update(len(chunk))
        tail = writer.footer().encode("utf-8")
        out.write(tail)
        out.sync()
        if sidecar is not None and stats.bad:
            atomic_write_text(sidecar, "".join(json.dumps({"source": w, "id": i, "error": e}, ensure_ascii=False) + "\n"
                                               for w, i, e in stats.bad))
            stats.bad_records_file = sidecar
        if prog_file is not None:
            _save_progress(prog_file, done, offset + len(tail), True, run)
    finally:
        bar.close()
        out.close()
    stats.duplicate_ids = keys.repeats
    return stats
