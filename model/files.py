"""Atomic file writes for every output: a crash never leaves a half-written file behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from model.errors import OutputError


def describe_os_error(exc: OSError) -> str:
    """"No space left on device" rather than "[Errno 28] No space left on device: '/dev/full'"."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and exc.filename:
        # mkdir or open met a file where a folder belongs on the way to the output.
        return f"{exc.filename} is not a folder"
    return exc.strerror or str(exc)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk too; not every system allows it.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file to stream into, written beside ``path`` and renamed over it (after an fsync) only
    once the block ends without error; otherwise removed, and the block's error raised as it is.
    A symbolic link is written through (its target replaced, the link kept); a device or pipe
    (``/dev/stdout``, ``/dev/full``), which cannot be replaced, is written to directly."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if path.exists() and not path.is_file():  # exists/is_file follow links: /dev/stdout is one
        with _open_special(path) as fh:
            yield fh
        return
    target = path.resolve() if path.is_symlink() else path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    fh = os.fdopen(fd, "wb")
    try:
        yield fh
        try:
            # mkstemp makes the file private (0600); give it the mode any other new file would get.
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fh.fileno(), 0o666 & ~umask)
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    finally:
        fh.close()
        Path(tmp).unlink(missing_ok=True)
    _fsync_dir(target.parent)


@contextmanager
def _open_special(path: Path) -> Iterator[BinaryIO]:
    try:
        fh = open(path, "wb")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    try:
        yield fh
        try:
            fh.close()
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    finally:
        try:
            fh.close()
        except OSError:
            pass  # already reported above, or the block's own error is on its way


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    with atomic_open(path) as fh:
        try:
            fh.write(data)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj, indent: int | None = 2) -> None:
    atomic_write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")
