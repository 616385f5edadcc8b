"""Train/dev/test by report: the corpus fixes its splits; other sources get a stable hash split."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from model.errors import WirecoderError
from training.corpus import SPLITS, Record


def _bucket(doc_id: str) -> float:
    digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_missing_splits(records: Sequence[Record], dev_fraction: float = 0.1, test_fraction: float = 0.1) -> None:
    """Give every report without a split one, by a hash of its doc_id (same answer on every run)."""
    if not (0 <= dev_fraction < 1 and 0 <= test_fraction < 1 and dev_fraction + test_fraction < 1):
        raise WirecoderError("dev and test fractions must be in [0, 1) and sum to less than 1")
    for r in records:
        if r.split is None:
            b = _bucket(r.doc_id)
            r.split = "test" if b < test_fraction else "dev" if b < test_fraction + dev_fraction else "train"


def by_split(records: Sequence[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {s: [] for s in SPLITS}
    for r in records:
        out[r.split or "train"].append(r)
    return out
