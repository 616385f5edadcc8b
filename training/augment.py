"""Mention replacement: at training time a sentence's names, places, dates and weapons are swapped for
other surface forms of the same label, fresh each time the sentence is drawn.

The model should learn that "[ACTOR X] stormed [LOCATION Y]" is an attack whatever X and Y are, and
not the corpus's favourite names; the labels of the sentence stay as they are and every span's
offsets are recomputed exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from training.corpus import Record, Span

# Event-bearing spans (TRIGGER) and counts (FATALITIES, INJURED) carry the event's meaning: not swapped.
REPLACEABLE_LABELS = ("ACTOR", "TARGET", "LOCATION", "DATE", "WEAPON")


def mention_inventory(records: Sequence[Record], labels: Sequence[str] = REPLACEABLE_LABELS) -> dict[str, list[str]]:
    """Each label's distinct surface forms in ``records`` (sorted, so a seed gives the same draws).

    Drawn uniformly over distinct forms, a rare name is as likely as "police": the point is variety.
    """
    forms: dict[str, set[str]] = {lab: set() for lab in labels}
    for r in records:
        for s in r.spans:
            if s.label in forms:
                forms[s.label].add(r.text[s.start : s.end])
    return {lab: sorted(v) for lab, v in forms.items() if v}


def replace_mentions(
    text: str, spans: Sequence[Span], inventory: dict[str, list[str]], rng: np.random.Generator, rate: float
) -> tuple[str, list[Span]]:
    """``text`` with each replaceable span swapped, with probability ``rate``, for another form of its
    label; the spans (all of them, replaced or not) moved to their new offsets."""
    out, new_spans, pos, shift = [], [], 0, 0
    for s in sorted(spans, key=lambda s: s.start):
        forms = inventory.get(s.label)
        surface = text[s.start : s.end]
        if forms and rng.random() < rate:
            surface = forms[int(rng.integers(len(forms)))]
        out.append(text[pos : s.start])
        start = s.start + shift
        out.append(surface)
        new_spans.append(Span(start, start + len(surface), s.label))
        shift += len(surface) - (s.end - s.start)
        pos = s.end
    out.append(text[pos:])
    return "".join(out), new_spans


class MentionReplacementDataset(torch.utils.data.Dataset):
    """Training sentences tokenised on access, with mentions replaced: a new variant every epoch."""

    def __init__(self, records: Sequence[Record], encode, inventory: dict[str, list[str]], rate: float, seed: int):
        # encode(texts, spans_lists, label_lists) -> list of feature dicts (training.features).
        self.records = list(records)
        self.encode = encode
        self.inventory = inventory
        self.rate = rate
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict:
        r = self.records[i]
        text, spans = replace_mentions(r.text, r.spans, self.inventory, self.rng, self.rate)
        return self.encode([text], [spans], [r.sub_event_types])[0]
