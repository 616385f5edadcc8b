"""Our metrics as local ``evaluate`` modules, loaded by path: ``evaluate.load(name)`` would go to the hub."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import evaluate

from model.errors import WirecoderError

_HERE = Path(__file__).resolve().parent


@cache
def load_metric(name: str) -> evaluate.EvaluationModule:
    """``span_f1`` or ``multilabel_f1``, loaded from this folder."""
    path = _HERE / name
    if not (path / f"{name}.py").is_file():
        raise WirecoderError(f"unknown metric {name!r}; have: span_f1, multilabel_f1")
    return evaluate.load(str(path))
