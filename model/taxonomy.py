"""The labelling scheme: the only place the ACLED types and span labels are written down.

Everything else in wirecoder (corpus reader, model config, metrics, predictor, importers)
reads these tuples; see ``data/README.md`` for the annotation guide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

# Event type -> its sub-event types, in ACLED's order.
EVENT_TAXONOMY: dict[str, tuple[str, ...]] = {
    "Battles": (
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    ),
    "Explosions/Remote violence": (
        "Chemical weapon",
        "Air/drone strike",
        "Suicide bomb",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Grenade",
    ),
    "Violence against civilians": (
        "Sexual violence",
        "Attack",
        "Abduction/forced disappearance",
    ),
    "Protests": (
        "Peaceful protest",
        "Protest with intervention",
        "Excessive force against protesters",
    ),
    "Riots": (
        "Violent demonstration",
        "Mob violence",
    ),
    "Strategic developments": (
        "Agreement",
        "Arrests",
        "Change to group/activity",
        "Disrupted weapons use",
        "Headquarters or base established",
        "Looting/property destruction",
        "Non-violent transfer of territory",
        "Other",
    ),
}

EVENT_TYPES: tuple[str, ...] = tuple(EVENT_TAXONOMY)
SUB_EVENT_TYPES: tuple[str, ...] = tuple(s for subs in EVENT_TAXONOMY.values() for s in subs)
SUB_TO_EVENT: dict[str, str] = {s: e for e, subs in EVENT_TAXONOMY.items() for s in subs}

SPAN_LABELS: tuple[str, ...] = (
    "ACTOR",
    "TARGET",
    "LOCATION",
    "DATE",
    "WEAPON",
    "FATALITIES",
    "INJURED",
    "TRIGGER",
)
# Labels that only make sense where an event is reported.
EVENT_ONLY_SPAN_LABELS: frozenset[str] = frozenset({"TRIGGER", "FATALITIES", "INJURED"})

# BIO tags for the token head: "O" first so that id 0 is the outside tag.
BIO_TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{lab}" for lab in SPAN_LABELS for p in ("B", "I"))

NO_EVENT = "none"  # shown for sentences without events in reports and confusion matrices


def event_types_of(sub_event_types) -> list[str]:
    """The event types implied by some sub-event types, in taxonomy order."""
    wanted = {SUB_TO_EVENT[s] for s in sub_event_types}
    return [e for e in EVENT_TYPES if e in wanted]


def multi_hot(label_sets: Sequence[Iterable[str]], names: Sequence[str] = SUB_EVENT_TYPES) -> np.ndarray:
    """One row per set, one 0/1 column per name (the sentence head's targets, the metrics' inputs)."""
    index = {n: i for i, n in enumerate(names)}
    out = np.zeros((len(label_sets), len(names)), dtype=int)
    for row, labels in enumerate(label_sets):
        for label in labels:
            if label in index:
                out[row, index[label]] = 1
    return out
