"""Importers: other people's labelled data -> wirecoder :class:`Record` objects.

Each format module exposes ``read(path, label_map, **options) -> ImportResult``. Rows that cannot be
used are skipped and counted per reason (never a crash); data that cannot be read at all (missing
columns, unknown labels without a mapping, malformed JSON) raises :class:`CorpusError` naming the
file and, where there is one, the line.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from model.errors import WirecoderError
from training.corpus import Record, text_key, validate

logger = logging.getLogger(__name__)


@dataclass
class ImportResult:
    records: list[Record] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> source units (rows, sentences, tasks) skipped
    fixed: Counter = field(default_factory=Counter)  # reason -> repairs or dropped spans inside kept records

    def skip(self, reason: str, where: str = "") -> None:
        self.skipped[reason] += 1
        logger.debug("skipped %s: %s", where, reason)


def drop_duplicates(result: ImportResult) -> None:
    """Drop repeated ids and repeated sentences, which ``validate`` would refuse (first one wins)."""
    ids: set[str] = set()
    texts: set[str] = set()
    kept = []
    for r in result.records:
        key = text_key(r.text)
        if r.id in ids:
            result.skip("duplicate id", r.source)
        elif key in texts:
            result.skip("duplicate sentence", r.source)
        else:
            ids.add(r.id)
            texts.add(key)
            kept.append(r)
    result.records = kept


def finish(result: ImportResult) -> ImportResult:
    """Common last step: deduplicate, then validate exactly as training will."""
    drop_duplicates(result)
    validate(result.records)
    return result


def importers() -> dict[str, Callable[..., ImportResult]]:
    """Format name -> reader (imported here, not at module load, to keep the modules independent)."""
    from training.importers import acled, conll, jsonl, labelstudio

    return {"acled": acled.read, "conll": conll.read, "labelstudio": labelstudio.read, "jsonl": jsonl.read}


def import_file(fmt: str, path: str | Path, label_map=None, **options) -> ImportResult:
    readers = importers()
    if fmt not in readers:
        raise WirecoderError(f"unknown import format {fmt!r} (known: {', '.join(readers)})")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return finish(readers[fmt](path, label_map=label_map, **options))


def resolve_labels(label_map, labels, source: str) -> dict[str, str | None]:
    """Foreign span label -> our label (None: drop); every label without a mapping in one error."""
    from model.taxonomy import SPAN_LABELS
    from training.corpus import CorpusError
    from training.label_map import LabelMap

    label_map = label_map or LabelMap.identity()
    label_map.require_single_targets()
    unknown = label_map.unknown_labels(labels)
    if unknown:
        raise CorpusError(f"{source}: label(s) {', '.join(unknown)} are not ours ({', '.join(SPAN_LABELS)}); "
                          "pass --label-map FILE mapping each to one of our labels or null")
    return {lab: label_map.gold_label(lab) for lab in set(labels)}


def drop_event_only_spans(record: Record, result: ImportResult) -> None:
    """TRIGGER/FATALITIES/INJURED belong to events: in a sentence without one they are dropped."""
    from model.taxonomy import EVENT_ONLY_SPAN_LABELS

    if record.sub_event_types:
        return
    kept = [s for s in record.spans if s.label not in EVENT_ONLY_SPAN_LABELS]
    if len(kept) != len(record.spans):
        result.fixed["event-only span dropped (sentence has no event label)"] += len(record.spans) - len(kept)
        record.spans = kept
