"""ACLED-like event rows from one sentence's sub-event types and spans."""

from __future__ import annotations

from collections.abc import Sequence

from model.counts import parse_count
from model.results import EventRow, ScoredLabel, SpanResult
from model.taxonomy import SUB_TO_EVENT


def _first(spans: Sequence[SpanResult], label: str) -> str | None:
    return next((s.text for s in spans if s.label == label), None)


def build_events(sentence_index: int, sub_event_types: Sequence[ScoredLabel], spans: Sequence[SpanResult]) -> list[EventRow]:
    """One row per predicted sub-event type; the sentence's spans fill the ACLED columns.

    A sentence rarely names two different actors for two events, so every row of a sentence shares
    its spans; the first ACTOR is actor1 and the first TARGET actor2 (ACLED's other party).
    """
    fatalities = _first(spans, "FATALITIES")
    injured = _first(spans, "INJURED")
    rows = []
    for sub in sub_event_types:
        rows.append(
            EventRow(
                sub_event_type=sub.label,
                event_type=SUB_TO_EVENT[sub.label],
                sentence=sentence_index,
                score=sub.score,
                actor1=_first(spans, "ACTOR"),
                actor2=_first(spans, "TARGET"),
                location=_first(spans, "LOCATION"),
                date=_first(spans, "DATE"),
                weapons=[s.text for s in spans if s.label == "WEAPON"],
                fatalities=parse_count(fatalities) if fatalities else None,
                fatalities_text=fatalities,
                injured=parse_count(injured) if injured else None,
                injured_text=injured,
                trigger=_first(spans, "TRIGGER"),
            )
        )
    return rows
