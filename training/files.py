"""Reading JSON files with user-facing errors (writing: ``model.files``)."""

from __future__ import annotations

import json
from pathlib import Path

from model.errors import CorpusError


def read_json_file(path: str | Path, what: str = "JSON"):
    """Parse a JSON file; a user-facing CorpusError (with the line) for a missing, undecodable or
    malformed file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CorpusError(f"{path}: no such {what} file") from exc
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: {what} file is not valid UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}:{exc.lineno}: malformed JSON in {what} file ({exc.msg}, column {exc.colno})") from exc
