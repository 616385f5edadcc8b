"""Streaming batch prediction with crash-safe resume, behind ``wirecoder predict``.

Inputs are read lazily and coded in chunks; each chunk's output is written with one ``os.write`` and
fsynced, then a small progress file records how many input records and bytes are done. ``--resume``
truncates the output to the last recorded byte offset (dropping any half-written tail) and skips the
records already done, so every input appears exactly once however the previous run ended.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from tqdm.auto import tqdm

from model.errors import RecordError, WirecoderError
from model.readers import InputDoc
from model.results import Prediction
from model.writers import make_writer

logger = logging.getLogger(__name__)


@dataclass
class RunStats:
    written: int = 0
    errors: int = 0
    resumed_from: int = 0
    already_complete: bool = False


def progress_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.progress.json")


def _save_progress(path: Path, records: int, offset: int, complete: bool) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"records": records, "offset": offset, "complete": complete}), encoding="utf-8")
    os.replace(tmp, path)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def emit(fd: int, data: bytes) -> None:
    """Write to the output file descriptor, or to stdout (fd -1) through sys.stdout."""
    if fd == -1:
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
    else:
        _write_all(fd, data)


def _chunks(it: Iterable[InputDoc], size: int) -> Iterator[list[InputDoc]]:
    it = iter(it)
    while chunk := list(islice(it, size)):
        yield chunk


def run_predict(
    coder,
    docs: Iterable[InputDoc],
    output: str | Path | None,
    fmt: str = "jsonl",
    batch_size: int = 64,
    chunk_size: int = 256,
    resume: bool = False,
    strict: bool = False,
    show_progress: bool = True,
    on_prediction: Callable[[Prediction], None] | None = None,
) -> RunStats:
    writer = make_writer(fmt)
    stats = RunStats()
    if output is None:
        if resume:
            raise WirecoderError("--resume needs an output file (-o)")
        fd, prog_file, done, offset = -1, None, 0, 0
        emit(-1, writer.header().encode("utf-8"))
    else:
        out = Path(output)
        prog_file = progress_path(out)
        if resume and out.exists():
            if not prog_file.exists():
                raise WirecoderError(f"cannot resume {out}: no progress file {prog_file.name} (was it written by wirecoder predict?)")
            prog = json.loads(prog_file.read_text(encoding="utf-8"))
            if prog.get("complete"):
                stats.already_complete = True
                return stats
            done, offset = int(prog["records"]), int(prog["offset"])
            fd = os.open(out, os.O_WRONLY)
            os.ftruncate(fd, offset)  # drop anything written after the last completed chunk
            os.lseek(fd, offset, os.SEEK_SET)
            stats.resumed_from = done
            logger.info("resuming %s after %d records", out, done)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            head = writer.header().encode("utf-8")
            _write_all(fd, head)
            done, offset = 0, len(head)
            os.fsync(fd)
            _save_progress(prog_file, done, offset, False)

    bar = tqdm(desc="coding", unit="doc", initial=done, disable=not show_progress, file=sys.stderr)
    try:
        for chunk in _chunks(islice(docs, done, None), chunk_size):
            good = [d for d in chunk if d.error is None]
            for d in chunk:
                if d.error is not None:
                    if strict:
                        raise RecordError(f"{d.where}: {d.error}")
                    stats.errors += 1
                    logger.warning("%s: %s", d.where, d.error)
            preds = iter(coder.predict([d.text for d in good], batch_size=batch_size, ids=[d.id for d in good])) if good else iter(())
            pieces = []
            for d in chunk:
                pred = next(preds) if d.error is None else None
                if pred is not None and on_prediction is not None:
                    on_prediction(pred)
                pieces.append(writer.record(pred, d.id, d.where, d.error))
            data = "".join(pieces).encode("utf-8")
            emit(fd, data)
            done += len(chunk)
            offset += len(data)
            stats.written += len(chunk)
            if prog_file is not None:
                os.fsync(fd)
                _save_progress(prog_file, done, offset, False)
            bar.update(len(chunk))
        tail = writer.footer().encode("utf-8")
        emit(fd, tail)
        if prog_file is not None:
            os.fsync(fd)
            _save_progress(prog_file, done, offset + len(tail), True)
    finally:
        bar.close()
        if output is not None:
            os.close(fd)
    return stats
