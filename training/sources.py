"""Training data from several sources: ``--data PATH[:WEIGHT]``.

A user's own labelled data should make the model better, never worse. Two things make that likely:
each source's sentences are drawn at a rate the user sets (an import three times the corpus's size
need not drown it), and each source is scored on its own dev split, with one of them, the shipped
corpus unless the user says otherwise, choosing the checkpoint and the thresholds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.errors import WirecoderError
from training.corpus import Record, read_records, validate

_WEIGHT = re.compile(r"^(?P<path>.+):(?P<weight>[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")


@dataclass
class DataSource:
    path: str
    weight: float
    name: str


def parse_sources(entries: Sequence[str]) -> list[DataSource]:
    """``PATH`` or ``PATH:WEIGHT`` (a weight is a number; a path that itself ends in ``:<number>``
    must be given with an explicit weight). Names come from the paths, made unique."""
    out: list[DataSource] = []
    names: set[str] = set()
    for entry in entries:
        m = _WEIGHT.match(entry)
        path, weight = (m["path"], float(m["weight"])) if m and not Path(entry).exists() else (entry, 1.0)
        if not np.isfinite(weight) or weight < 0:
            raise WirecoderError(f"--data {entry}: the weight must be a number >= 0")
        base = re.sub(r"[^\w-]+", "_", Path(path.rstrip("/")).stem or "data")
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.add(name)
        out.append(DataSource(path, weight, name))
    if out and all(s.weight == 0 for s in out):
        raise WirecoderError("every --data source has weight 0: nothing to train on")
    return out


def read_sources(sources: Sequence[DataSource]) -> tuple[list[Record], list[int]]:
    """All sources' records (validated together: ids and reports must not clash across sources) and,
    for each record, the index of its source."""
    records: list[Record] = []
    source_of: list[int] = []
    for i, s in enumerate(sources):
        part = read_records([s.path])
        records.extend(part)
        source_of.extend([i] * len(part))
    if len(sources) > 1:
        validate(records)
    return records, source_of


def yardstick(sources: Sequence[DataSource], choice: str | None, has_dev: Sequence[bool]) -> str:
    """The source whose dev split chooses the checkpoint and thresholds: ``choice`` (a source name or
    ``all``), else the first source with dev sentences (the shipped corpus when it is listed first)."""
    names = [s.name for s in sources]
    if choice:
        if choice != "all" and choice not in names:
            raise WirecoderError(f"--dev_source {choice!r} is not one of the sources: {', '.join(names)} (or all)")
        if choice != "all" and not has_dev[names.index(choice)]:
            raise WirecoderError(f"--dev_source {choice}: that source has no dev sentences")
        return choice
    return next(n for n, d in zip(names, has_dev) if d)


def weighted_sampler(weights: Sequence[float], seed: int) -> torch.utils.data.WeightedRandomSampler:
    """Draws as many sentences per epoch as there are, each with probability proportional to its
    source's weight (with replacement: a weight above 1 repeats sentences, below 1 skips some)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.utils.data.WeightedRandomSampler(torch.as_tensor(weights, dtype=torch.double), num_samples=len(weights),
                                                  replacement=True, generator=generator)
