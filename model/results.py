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
    """One ACLED row: an event, reported by one or more sentences of a document (see model/events.py).

    ``event_date`` and ``time_precision`` (1 day, 2 week, 3 month or vaguer) come from the DATE span
    and the document's date (``date_source`` "span"), or from the document's date alone when the
    sentences give none ("document"); without a document date they stay empty and ``date`` keeps the
    span's text. ``location`` is the gazetteer's name when the LOCATION span resolved, else the span's
    text (``location_text`` is always the span's). ``sentences`` are the reporting sentences' indices,
    ``evidence`` the spans that filled the row, with their offsets.
    """

    event_id: str
    sub_event_type: str
    event_type: str
    score: float
    sentence: int  # the first reporting sentence
    sentences: list[int] = field(default_factory=list)
    notes: str = ""
    event_date: str | None = None
    year: int | None = None
    time_precision: int | None = None
    date: str | None = None
    date_source: str | None = None
    actor1: str | None = None
    actor2: str | None = None
    country: str | None = None
    iso3: str | None = None
    admin1: str | None = None
    admin2: str | None = None
    location: str | None = None
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: int | None = None
    geonames_id: int | None = None
    feature_class: str | None = None
    weapons: list[str] = field(default_factory=list)
    fatalities: int | None = None
    fatalities_text: str | None = None
    injured: int | None = None
    injured_text: str | None = None
    trigger: str | None = None
    evidence: list[SpanResult] = field(default_factory=list)


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
