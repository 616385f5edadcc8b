"""What ``EventCoder.predict`` returns: plain dataclasses with ``to_dict()`` (the JSON shape)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ScoredLabel:
    label: str
    score: float


@dataclass
class SentenceResult:
    start: int
    end: int
    text: str
    event_types: list[ScoredLabel] = field(default_factory=list)
    sub_event_types: list[ScoredLabel] = field(default_factory=list)


@dataclass
class SpanResult:
    start: int
    end: int
    text: str
    label: str
    score: float
    sentence: int


@dataclass
class EventRow:
    """An ACLED-like row: one sub-event type of one sentence with the spans found in that sentence."""

    sub_event_type: str
    event_type: str
    sentence: int
    score: float
    actor1: str | None = None
    actor2: str | None = None
    location: str | None = None
    date: str | None = None
    weapons: list[str] = field(default_factory=list)
    fatalities: int | None = None
    fatalities_text: str | None = None
    injured: int | None = None
    injured_text: str | None = None
    trigger: str | None = None


@dataclass
class Prediction:
    id: str
    text: str
    event_types: list[ScoredLabel] = field(default_factory=list)
    sub_event_types: list[ScoredLabel] = field(default_factory=list)
    sentences: list[SentenceResult] = field(default_factory=list)
    spans: list[SpanResult] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
