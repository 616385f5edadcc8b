"""ACLED rows from a document's sentences: one row per event, with its date and place resolved.

Each sentence with a sub-event type proposes a row, filled from that sentence's spans (the first
ACTOR is actor1, the first TARGET actor2; of several LOCATION spans the most precise resolved one).
Within a document, a proposal joins the latest earlier row of the same sub-event type whose date,
place and actors are compatible with it (ACLED's rule: same type, day, place and actors make one
event); otherwise it starts a new row. Compatible means equal or not stated: a sentence that names
no date, place or actor ("Five soldiers were killed.") joins the event before it. A merged row keeps
every sentence (``notes``, ``sentences``, ``evidence``) and the largest reported count of dead and
injured, never their sum: two sentences usually repeat one toll.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from model.counts import parse_count
from model.dates import DAY, MONTH, WEEK, ResolvedDate, dateline_date, resolve_date, to_date
from model.places import Place, fold, gazetteer
from model.results import EventRow, SentenceResult, SpanResult
from model.taxonomy import SUB_TO_EVENT


def event_id(doc_key: str, text: str, sub_event_type: str, first_sentence: int, iso3: str | None) -> str:
    """ACLED-style ``event_id_cnty``: the country's ISO3 code and 8 digits, stable for one document
    (its key and text) and event (sub-event type and first sentence)."""
    text_hash = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
    digest = hashlib.sha1(f"{doc_key}\x1f{text_hash}\x1f{sub_event_type}\x1f{first_sentence}".encode()).hexdigest()
    return f"{iso3 or 'XXX'}{int(digest, 16) % 10**8:08d}"


@dataclass
class _Proposal:
    """What one sentence says of one event, or (after merging) what its sentences say together."""

    sub_event_type: str
    score: float
    sentences: list[int]
    date: ResolvedDate | None = None
    date_text: str | None = None
    place: Place | None = None
    place_text: str | None = None
    # EventRow's fields as they are: actor1, actor2, trigger, weapons, fatalities(_text), injured(_text).
    facts: dict = field(default_factory=dict)
    evidence: list[SpanResult] = field(default_factory=list)


def _dates_agree(a: _Proposal, b: _Proposal) -> bool:
    if a.date is not None and b.date is not None:
        fine, coarse = sorted((a.date, b.date), key=lambda d: d.precision)
        if coarse.precision == DAY:
            return fine.date == coarse.date
        if coarse.precision == WEEK:  # "last week" and "on Tuesday" can be one event
            return abs((fine.date - coarse.date).days) <= 7
        return (fine.date.year, fine.date.month) == (coarse.date.year, coarse.date.month)
    if a.date is None and b.date is None and a.date_text and b.date_text:
        return fold(a.date_text) == fold(b.date_text)  # no document date: compare what they say
    return True  # one says nothing, or one could not be resolved: no evidence of two days


def _places_agree(a: _Proposal, b: _Proposal) -> bool:
    pa, pb = a.place, b.place
    if pa is not None and pb is not None:
        if (pa.geonames_id, pa.name, pa.country_code) == (pb.geonames_id, pb.name, pb.country_code):
            return True
        fine, coarse = sorted((pa, pb), key=lambda p: p.geo_precision)
        if coarse.kind == "country":
            return fine.country_code == coarse.country_code
        if coarse.kind == "region":
            return fine.country_code == coarse.country_code and fine.admin1 == coarse.admin1
        return fine.geonames_id == coarse.geonames_id
    if a.place_text and b.place_text:
        return fold(a.place_text) == fold(b.place_text)
    return True


def _actor_agrees(x: str | None, y: str | None) -> bool:
    if not x or not y:
        return True
    wx, wy = set(fold(x).split()), set(fold(y).split())
    return wx <= wy or wy <= wx  # "Al-Shabaab" and "Al-Shabaab fighters" are one actor


def compatible(a: _Proposal, b: _Proposal) -> bool:
    """Same sub-event type, and no stated date, place or actor tells the two apart."""
    return (a.sub_event_type == b.sub_event_type and _dates_agree(a, b) and _places_agree(a, b)
            and all(_actor_agrees(a.facts.get(k), b.facts.get(k)) for k in ("actor1", "actor2")))


def _finer_date(a: _Proposal, b: _Proposal) -> tuple[ResolvedDate | None, str | None]:
    if a.date is None or (b.date is not None and b.date.precision < a.date.precision):
        return (b.date, b.date_text) if b.date is not None or not a.date_text else (a.date, a.date_text)
    return a.date, a.date_text


def _larger(a: int | None, a_text: str | None, b: int | None, b_text: str | None) -> tuple[int | None, str | None]:
    if b is not None and (a is None or b > a):
        return b, b_text
    return (a, a_text) if a is not None or a_text else (b, b_text)


def merge(group: _Proposal, new: _Proposal) -> None:
    """Fold ``new`` into ``group``: the more precise date and place, the first actors, the largest counts."""
    group.sentences.extend(s for s in new.sentences if s not in group.sentences)
    group.score = max(group.score, new.score)
    group.date, group.date_text = _finer_date(group, new)
    if group.place is None and new.place is not None or (
        group.place is not None and new.place is not None and new.place.geo_precision < group.place.geo_precision
    ):
        group.place, group.place_text = new.place, new.place_text
    group.place_text = group.place_text or new.place_text
    mine, theirs = group.facts, new.facts
    for key in ("actor1", "actor2", "trigger"):
        mine[key] = mine.get(key) or theirs.get(key)
    mine["weapons"] = mine["weapons"] + [w for w in theirs["weapons"] if w not in mine["weapons"]]
    for key in ("fatalities", "injured"):
        mine[key], mine[f"{key}_text"] = _larger(mine[key], mine[f"{key}_text"], theirs[key], theirs[f"{key}_text"])
    group.evidence += new.evidence


def merge_proposals(proposals: Sequence[_Proposal]) -> list[_Proposal]:
    """Group a document's proposals (in sentence order) into events; see the module docstring."""
    groups: list[_Proposal] = []
    for p in proposals:
        target = next((g for g in reversed(groups) if compatible(g, p)), None)
        if target is None:
            groups.append(_Proposal(**{**p.__dict__, "sentences": list(p.sentences), "facts": dict(p.facts),
                                       "evidence": list(p.evidence)}))
        else:
            merge(target, p)
    return groups


def _first(spans: Sequence[SpanResult], label: str) -> SpanResult | None:
    return next((s for s in spans if s.label == label), None)


def _proposals(sentences: Sequence[SentenceResult], spans: Sequence[SpanResult], document_date: dt.date | None,
               places: dict[str, Place | None]) -> list[_Proposal]:
    by_sentence: dict[int, list[SpanResult]] = {}
    for s in spans:
        by_sentence.setdefault(s.sentence, []).append(s)
    out = []
    for i, sent in enumerate(sentences):
        if not sent.sub_event_types:
            continue
        own = by_sentence.get(i, [])
        date_span = _first(own, "DATE")
        locations = [s for s in own if s.label == "LOCATION"]
        resolved = [(places.get(s.text), s) for s in locations]
        best = min((r for r in resolved if r[0] is not None), key=lambda r: r[0].geo_precision, default=None)
        place, place_span = best if best else (None, locations[0] if locations else None)
        actor1, actor2 = _first(own, "ACTOR"), _first(own, "TARGET")
        fat, inj, trig = _first(own, "FATALITIES"), _first(own, "INJURED"), _first(own, "TRIGGER")
        evidence = [s for s in (date_span, place_span, actor1, actor2, fat, inj, trig) if s is not None]
        evidence += [s for s in own if s.label == "WEAPON"]
        evidence.sort(key=lambda s: s.start)
        for sub in sent.sub_event_types:
            out.append(_Proposal(
                sub_event_type=sub.label, score=sub.score, sentences=[i],
                date=resolve_date(date_span.text, document_date) if date_span else None,
                date_text=date_span.text if date_span else None,
                place=place, place_text=place_span.text if place_span else None,
                facts={"actor1": actor1.text if actor1 else None, "actor2": actor2.text if actor2 else None,
                       "trigger": trig.text if trig else None, "weapons": [s.text for s in own if s.label == "WEAPON"],
                       "fatalities": parse_count(fat.text) if fat else None, "fatalities_text": fat.text if fat else None,
                       "injured": parse_count(inj.text) if inj else None, "injured_text": inj.text if inj else None},
                evidence=list(evidence),
            ))
    return out


def build_events(text: str, sentences: Sequence[SentenceResult], spans: Sequence[SpanResult],
                 document_date: dt.date | str | None = None, doc_key: str = "", geocode: bool = True) -> list[EventRow]:
    """The ACLED rows of one document, in order of their first sentence.

    ``document_date`` (or, when None, a dateline with a year at the top of ``text``) anchors relative
    dates. ``geocode=False`` leaves places unresolved (and skips loading the gazetteer).
    """
    if not any(s.sub_event_types for s in sentences):
        return []
    doc_date = to_date(document_date) or dateline_date(text)
    places: dict[str, Place | None] = {}
    if geocode:
        names = list(dict.fromkeys(s.text for s in spans if s.label == "LOCATION"))
        if names:
            places = dict(zip(names, gazetteer().resolve_all(names, text)))
    rows = []
    for g in merge_proposals(_proposals(sentences, spans, doc_date, places)):
        date, source = g.date, "span" if g.date is not None else None
        if date is None and doc_date is not None:
            # No (usable) date in the sentences: the report's own date, as a week-level guess.
            date, source = ResolvedDate(doc_date, WEEK if not g.date_text else MONTH), "document"
        p = g.place
        where = {} if p is None else {
            "country": p.country, "iso3": p.iso3, "admin1": p.admin1, "admin2": p.admin2, "location": p.name,
            "latitude": p.latitude, "longitude": p.longitude, "geo_precision": p.geo_precision,
            "geonames_id": p.geonames_id, "feature_class": p.feature_class}
        first = min(g.sentences)
        rows.append(EventRow(
            event_id=event_id(doc_key, text, g.sub_event_type, first, p.iso3 if p else None),
            sub_event_type=g.sub_event_type, event_type=SUB_TO_EVENT[g.sub_event_type], score=g.score,
            sentence=first, sentences=sorted(g.sentences),
            notes=" ".join(sentences[i].text for i in sorted(g.sentences)),
            event_date=date.iso if date else None, year=date.date.year if date else None,
            time_precision=date.precision if date else None, date=g.date_text, date_source=source,
            location_text=g.place_text, **{"location": g.place_text, **where},  # a resolved place's name wins
            evidence=sorted(g.evidence, key=lambda s: s.start), **g.facts,
        ))
    rows.sort(key=lambda r: r.sentence)
    return rows
