"""Label maps: foreign span labels -> ours, for importing and for scoring on foreign data.

A label map is a JSON object ``{"foreign label": value}`` where value is

* one of our span labels (``"Location": "LOCATION"``): the foreign spans are renamed to it;
* a list of our span labels (``"PARTICIPANT": ["ACTOR", "TARGET"]``, evaluation only): the foreign
  label stays, and our predicted spans with those labels are renamed to it before scoring;
* ``null``: the foreign spans are dropped (and not scored).

Foreign labels that are also ours and are not in the map keep their name. Any other label without
an entry is an error that lists every such label, so a user can complete the map in one go.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from training.readers import jsonl_objects, open_text
from model.taxonomy import SPAN_LABELS
from training.files import read_json_file
from training.corpus import CorpusError, Record, Span, corpus_files, read_corpus_file, read_jsonl_file, text_key, validate

logger = logging.getLogger(__name__)

MapValue = str | list[str] | None


@dataclass(frozen=True)
class LabelMap:
    """A checked label map; ``entries`` is foreign label -> our label, our labels, or None."""

    entries: dict[str, MapValue]
    source: str = "<label map>"

    @classmethod
    def identity(cls) -> LabelMap:
        return cls({}, "<no label map>")

    def gold_label(self, label: str) -> str | None:
        """The name a foreign gold span is scored or stored under (None: drop it)."""
        if label not in self.entries:
            return label
        value = self.entries[label]
        if value is None:
            return None
        # A list keeps the foreign name: our predictions are renamed to it instead.
        return label if isinstance(value, list) else value

    def predicted_label(self, label: str) -> str:
        """The name one of our predicted labels is scored under."""
        return self._merged.get(label, label)

    @property
    def _merged(self) -> dict[str, str]:
        return {ours: foreign for foreign, v in self.entries.items() if isinstance(v, list) for ours in v}

    def unknown_labels(self, labels: Iterable[str]) -> list[str]:
        """Labels that are neither ours nor in the map."""
        return sorted({lab for lab in labels if lab not in self.entries and lab not in SPAN_LABELS})

    def scored_labels(self, gold_labels: Iterable[str]) -> list[str]:
        """The label set to score: what the gold data has after mapping, and every label the map
        names (the data claims to annotate those, so predictions of them count even without gold)."""
        named = {self.gold_label(k) for k in self.entries}
        gold = set(map(self.gold_label, gold_labels))
        return sorted((gold | named) - {None})

    def require_single_targets(self) -> None:
        """Importers store our labels only: a list value (merge for scoring) makes no sense there."""
        lists = [k for k, v in self.entries.items() if isinstance(v, list)]
        if lists:
            raise CorpusError(f"{self.source}: lists of labels are for `wirecoder evaluate` only, not for import ({', '.join(lists)})")


def parse_label_map(obj: object, source: str = "<label map>") -> LabelMap:
    """Check a decoded JSON label map; every problem is a CorpusError naming ``source``."""
    if not isinstance(obj, dict):
        raise CorpusError(f"{source}: a label map is a JSON object (foreign label -> our label, list of labels or null)")
    entries: dict[str, MapValue] = {}
    claimed: dict[str, str] = {}  # our label -> the foreign label whose list renames it
    for key, value in obj.items():
        targets = value if isinstance(value, list) else [value] if value is not None else []
        if not all(isinstance(t, str) for t in targets) or (isinstance(value, list) and not value):
            raise CorpusError(f"{source}: {key!r} must map to one of our span labels, a non-empty list of them, or null")
        bad = [t for t in targets if t not in SPAN_LABELS]
        if bad:
            raise CorpusError(f"{source}: {key!r} maps to unknown label(s) {', '.join(bad)} (ours: {', '.join(SPAN_LABELS)})")
        if isinstance(value, list):
            for t in value:
                if t in claimed:
                    raise CorpusError(f"{source}: {t} is merged into both {claimed[t]!r} and {key!r}")
                claimed[t] = key
        entries[str(key)] = list(value) if isinstance(value, list) else value
    # Our label renamed by a list but also the target of a plain rename would be scored twice.
    for key, value in entries.items():
        if isinstance(value, str) and value in claimed:
            raise CorpusError(f"{source}: {key!r} -> {value} clashes with {claimed[value]!r}, which merges {value}")
    return LabelMap(entries, source)


def load_label_map(path: str | Path) -> LabelMap:
    path = Path(path)
    obj = read_json_file(path, "label map")
    return parse_label_map(obj, str(path))


def map_spans(spans: Sequence[Span], label_map: LabelMap) -> list[Span]:
    """Gold spans renamed (or dropped) by the map."""
    out = []
    for s in spans:
        label = label_map.gold_label(s.label)
        if label is not None:
            out.append(Span(s.start, s.end, label))
    return out


def map_predicted_spans(spans: Sequence[Span], label_map: LabelMap) -> list[Span]:
    """Our predicted spans renamed to the foreign names they are scored under."""
    return [Span(s.start, s.end, label_map.predicted_label(s.label)) for s in spans]


def _has_sentence_labels(path: Path) -> bool:
    """Does any record of a JSONL file carry a ``sub_event_types`` field (even an empty one)?

    Bad lines are passed over: read_jsonl_file reports them with their line number.
    """
    with open_text(path) as fh:
        return any(obj is not None and "sub_event_types" in obj for _, obj, _ in jsonl_objects(fh))


def check_mapped_records(records: Sequence[Record], allowed: Iterable[str]) -> None:
    """The checks of ``corpus.validate`` that scoring relies on, for records with foreign labels.

    Repeated sentences are allowed (foreign evaluation sets have them: boilerplate lines), and the
    event-only span rule is not applied: foreign data need not carry sentence labels.
    """
    validate(records, span_labels=allowed, allow_repeated_text=True, event_only_rule=False)
    repeated = Counter(text_key(r.text) for r in records)
    n_rep = sum(c - 1 for c in repeated.values() if c > 1)
    if n_rep:
        logger.warning("%d sentences repeat an earlier one; they are all scored", n_rep)


def read_mapped_records(paths: Sequence[str | Path], label_map: LabelMap) -> tuple[list[Record], bool]:
    """Read foreign records, map their span labels, then check them.

    Returns the records and whether every source carries sentence labels (corpus files always do;
    a JSONL file only if its records have ``sub_event_types``): without them, only spans are scored.
    """
    records: list[Record] = []
    has_sentence_labels = True
    for p in paths:
        for f in corpus_files(p):
            if f.suffix == ".jsonl":
                recs = read_jsonl_file(f)
                has_sentence_labels &= _has_sentence_labels(f)
            else:
                recs = read_corpus_file(f)
            records.extend(recs)
    if not records:
        raise CorpusError(f"no sentences found in {', '.join(map(str, paths))}")
    unknown = label_map.unknown_labels(s.label for r in records for s in r.spans)
    if unknown:
        raise CorpusError(f"{label_map.source}: no mapping for label(s) {', '.join(unknown)} found in the data; "
                          "map each to one of our labels, a list of them, or null")
    for r in records:
        r.spans = map_spans(r.spans, label_map)
    allowed = set(SPAN_LABELS) | {k for k, v in label_map.entries.items() if isinstance(v, list)}
    check_mapped_records(records, allowed)
    return records, has_sentence_labels
