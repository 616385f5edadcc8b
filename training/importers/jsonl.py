"""Our own JSONL records: read, map span labels if asked, validate, and write back normalised
(spans sorted, fields in the standard order, records that repeat an id or a sentence dropped)."""

from __future__ import annotations

from pathlib import Path

from training.corpus import Span, read_jsonl_file
from training.importers import ImportResult, resolve_labels


def read(path: Path, label_map=None, **_options) -> ImportResult:
    result = ImportResult(records=read_jsonl_file(path))
    mapping = resolve_labels(label_map, {s.label for r in result.records for s in r.spans}, str(path))
    for r in result.records:
        spans = []
        for s in r.spans:
            label = mapping[s.label]
            if label is None:
                result.fixed[f"span dropped by the label map ({s.label})"] += 1
            else:
                spans.append(Span(s.start, s.end, label))
        r.spans = sorted(spans, key=lambda s: (s.start, s.end))
    return result
