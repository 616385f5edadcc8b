"""Output formats of ``wirecoder predict``: JSONL, CSV (a row per sentence), ACLED (a row per event)
and a self-contained HTML view. Each writer turns one record into one string, so a record is written
in one piece (never half a line) and a run can resume at a record boundary."""

from __future__ import annotations

import csv
import html
import io
import json

from model.errors import WirecoderError
from model.events import event_id
from model.results import Prediction
from model.taxonomy import SPAN_LABELS, SUB_TO_EVENT

FORMATS = ("jsonl", "csv", "acled", "html")


def _csv_line(row: list) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


class Writer:
    """Turns one record into one string; header and footer frame the whole file."""

    def header(self) -> str:
        return ""

    def record(self, pred: Prediction | None, doc_id: str, where: str, error: str | None, key: str | None = None) -> str:
        raise NotImplementedError

    def footer(self) -> str:
        return ""


class JsonlWriter(Writer):
    def record(self, pred: Prediction | None, doc_id: str, where: str, error: str | None, key: str | None = None) -> str:
        obj = pred.to_dict() if pred is not None else {"id": doc_id, "source": where, "error": error}
        return json.dumps(obj, ensure_ascii=False) + "\n"


class SentenceCsvWriter(Writer):
    COLUMNS = ["id", "sentence", "start", "end", "text", "event_types", "sub_event_types", "sub_event_scores",
               *[lab.lower() for lab in SPAN_LABELS], "error"]

    def header(self) -> str:
        return _csv_line(self.COLUMNS)

    def record(self, pred: Prediction | None, doc_id: str, where: str, error: str | None, key: str | None = None) -> str:
        if pred is None:
            return _csv_line([doc_id, "", "", "", "", "", "", "", *[""] * len(SPAN_LABELS), f"{where}: {error}"])
        out = []
        for i, s in enumerate(pred.sentences):
            spans = [sp for sp in pred.spans if sp.sentence == i]
            by_label = ["; ".join(sp.text for sp in spans if sp.label == lab) for lab in SPAN_LABELS]
            out.append(_csv_line([
                pred.id, i, s.start, s.end, s.text,
                "; ".join(e.label for e in s.event_types),
                "; ".join(e.label for e in s.sub_event_types),
                "; ".join(f"{e.score:.3f}" for e in s.sub_event_types),
                *by_label, "",
            ]))
        return "".join(out)


def _blank(value) -> str:
    return "" if value is None else str(value)


def _count(n: int | None, text: str | None) -> str:
    return str(n) if n is not None else (text or "")


class AcledCsvWriter(Writer):
    """ACLED's columns, in ACLED's order, where they apply; then ours. One row per event.

    ``event_id_cnty`` is a stable hash of the record's key (its id, with ``#n`` for the nth repeat of an
    id), its text, the sub-event type and the event's first sentence, after the country's ISO3 code
    ("XXX" when the place did not resolve): unique within the file. ``source`` is the record's id.
    Bad records have no row (the run lists them).
    """

    ACLED_COLUMNS = ["event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type", "actor1",
                     "actor2", "country", "admin1", "admin2", "location", "latitude", "longitude", "geo_precision",
                     "source", "notes", "fatalities"]
    COLUMNS = ACLED_COLUMNS + ["injured", "weapons", "trigger", "score", "date_text", "date_source", "location_text",
                               "geonames_id", "feature_class", "sentences", "sentence_offsets", "evidence"]

    def header(self) -> str:
        return _csv_line(self.COLUMNS)

    def record(self, pred: Prediction | None, doc_id: str, where: str, error: str | None, key: str | None = None) -> str:
        if pred is None:
            return ""
        out = []
        for ev in pred.events:
            eid = ev.event_id if not key or key == pred.id else event_id(key, pred.text, ev.sub_event_type, ev.sentence, ev.iso3)
            out.append(_csv_line([
                eid, _blank(ev.event_date), _blank(ev.year), _blank(ev.time_precision), ev.event_type, ev.sub_event_type,
                ev.actor1 or "", ev.actor2 or "", ev.country or "", ev.admin1 or "", ev.admin2 or "", ev.location or "",
                _blank(ev.latitude), _blank(ev.longitude), _blank(ev.geo_precision), pred.id, ev.notes,
                _count(ev.fatalities, ev.fatalities_text),
                _count(ev.injured, ev.injured_text), "; ".join(ev.weapons), ev.trigger or "", f"{ev.score:.3f}",
                ev.date or "", ev.date_source or "", ev.location_text or "", _blank(ev.geonames_id), ev.feature_class or "",
                ";".join(map(str, ev.sentences)),
                ";".join(f"{pred.sentences[i].start}:{pred.sentences[i].end}" for i in ev.sentences),
                "; ".join(f"{sp.label} {sp.start}:{sp.end}" for sp in ev.evidence),
            ]))
        return "".join(out)


# displaCy-like colours, one per span label.
COLOURS = {
    "ACTOR": "#aa9cfc", "TARGET": "#fc9ce7", "LOCATION": "#feca74", "DATE": "#bfe1d9",
    "WEAPON": "#ff8197", "FATALITIES": "#ff5f5f", "INJURED": "#f9a66c", "TRIGGER": "#7aecec",
}

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:2.2}
h1{font-size:1.4rem}h2{font-size:1.05rem;margin-top:2rem;border-bottom:1px solid #ddd}
mark{padding:.2em .35em;margin:0 .15em;border-radius:.35em;line-height:1}
mark b{font-size:.6em;font-weight:700;margin-left:.4rem;text-transform:uppercase;vertical-align:middle}
.sent{margin:.4rem 0 .9rem}.ev{display:inline-block;font-size:.75rem;line-height:1.4;background:#eee;border-radius:.3rem;padding:0 .4rem;margin-right:.3rem}
.none{color:#888}.err{color:#b00}.legend mark{font-size:.8rem}
table.rows{border-collapse:collapse;font-size:.8rem;line-height:1.4;margin:.5rem 0 1rem}
table.rows th,table.rows td{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
"""


class HtmlWriter(Writer):
    """A self-contained page highlighting spans by label, with each sentence's event types."""


    def header(self) -> str:
        legend = "".join(f'<mark style="background:{c}">{lab}</mark>' for lab, c in COLOURS.items())
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>wirecoder predictions</title><style>{_CSS}</style></head><body>\n"
            f'<h1>wirecoder predictions</h1><p class="legend">{legend}</p>\n'
        )

    def record(self, pred: Prediction | None, doc_id: str, where: str, error: str | None, key: str | None = None) -> str:
        if pred is None:
            return f'<h2>{html.escape(doc_id)}</h2><p class="err">{html.escape(where)}: {html.escape(str(error))}</p>\n'
        parts = [f"<section><h2>{html.escape(pred.id)}</h2>"]
        for i, s in enumerate(pred.sentences):
            pos, chunks = s.start, []
            for sp in (x for x in pred.spans if x.sentence == i):
                chunks.append(html.escape(pred.text[pos : sp.start]))
                chunks.append(
                    f'<mark style="background:{COLOURS[sp.label]}" title="{sp.label} {sp.score:.2f}">'
                    f"{html.escape(sp.text)}<b>{sp.label}</b></mark>"
                )
                pos = sp.end
            chunks.append(html.escape(pred.text[pos : s.end]))
            events = "".join(
                f'<span class="ev">{html.escape(SUB_TO_EVENT[sub.label])} · {html.escape(sub.label)} {sub.score:.2f}</span>'
                for sub in s.sub_event_types
            ) or '<span class="ev none">no event</span>'
            parts.append(f'<div class="sent">{"".join(chunks)}<br>{events}</div>')
        if pred.events:
            parts.append(_event_table(pred))
        parts.append("</section>\n")
        return "".join(parts)

    def footer(self) -> str:
        return "</body></html>\n"


_PRECISION = {1: "day", 2: "week", 3: "month"}
_GEO_PRECISION = {1: "the place", 2: "near the place", 3: "the region"}


def _when(ev) -> str:
    if ev.event_date is None:
        return f"unresolved ({ev.date})" if ev.date else "no date"
    how = _PRECISION.get(ev.time_precision, "")
    if ev.date_source == "document":
        how += ", the report's date"
    return f"{ev.event_date} ({how})"


def _where(ev) -> str:
    if ev.country is None:
        return f"unresolved ({ev.location_text})" if ev.location_text else "no place"
    names = ", ".join(dict.fromkeys(x for x in (ev.location, ev.admin1, ev.country) if x))
    coords = f" {ev.latitude:.3f}, {ev.longitude:.3f}" if ev.latitude is not None else ""
    return f"{names}{coords} ({_GEO_PRECISION.get(ev.geo_precision, '')})"


def _event_table(pred: Prediction) -> str:
    """The document's ACLED rows: resolved date and place, type, actors, toll, reporting sentences."""
    head = "".join(f"<th>{h}</th>" for h in ("date", "place", "event", "actors", "fatalities", "sentences"))
    rows = []
    for ev in pred.events:
        actors = " / ".join(x for x in (ev.actor1, ev.actor2) if x)
        cells = (_when(ev), _where(ev), f"{ev.event_type} · {ev.sub_event_type} {ev.score:.2f}", actors,
                 _count(ev.fatalities, ev.fatalities_text), ", ".join(str(i + 1) for i in ev.sentences))
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return f'<table class="rows"><tr>{head}</tr>{"".join(rows)}</table>'


def text_summary(pred: Prediction) -> str:
    """A few human-readable lines per document: each coded event with its main spans."""
    lines = [f"{pred.id}: {len(pred.sentences)} sentences, {len(pred.events)} events"]
    for ev in pred.events:
        facts = [f"{k} {v}" for k, v in (("actor", ev.actor1), ("target", ev.actor2)) if v]
        if ev.location_text:
            facts.append(f"in {_where(ev)}")
        if ev.date or ev.event_date:
            facts.append(f"on {_when(ev)}")
        if ev.weapons:
            facts.append("with " + ", ".join(ev.weapons))
        if ev.fatalities_text:
            facts.append(f"killed {_count(ev.fatalities, ev.fatalities_text)}")
        if ev.injured_text:
            facts.append(f"injured {_count(ev.injured, ev.injured_text)}")
        where = "s" + ",".join(map(str, ev.sentences))
        lines.append(f"  {where}  {ev.event_type} / {ev.sub_event_type} ({ev.score:.2f})" + (": " + "; ".join(facts) if facts else ""))
    return "\n".join(lines)


def make_writer(fmt: str):
    writers = {"jsonl": JsonlWriter, "csv": SentenceCsvWriter, "acled": AcledCsvWriter, "html": HtmlWriter}
    if fmt not in writers:
        raise WirecoderError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return writers[fmt]()
