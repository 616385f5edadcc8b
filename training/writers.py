"""Output formats of ``wirecoder predict``: JSONL, CSV (a row per sentence), ACLED (a row per event)
and a self-contained HTML view. Each writer turns one record into one string, so a record is written
in one piece (never half a line) and a run can resume at a record boundary."""

from __future__ import annotations

import csv
import html
import io
import json

from model.errors import WirecoderError
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


class AcledCsvWriter(Writer):
    """ACLED's column names where they apply; one row per coded event.

    ``event_id`` is the record's key (its id, with ``#n`` for the nth repeat of an id), the sentence
    and the event's number: unique within the file. Bad records have no row (the run lists them).
    """

    COLUMNS = ["event_id", "source_id", "event_date", "event_type", "sub_event_type", "actor1", "actor2", "location",
               "fatalities", "injured", "weapons", "trigger", "score", "notes", "sentence", "source_start", "source_end"]

    def header(self) -> str:
        return _csv_line(self.COLUMNS)

    def record(self, pred: Prediction | None, doc_id: str, where: str, error: str | None, key: str | None = None) -> str:
        if pred is None:
            return ""
        out = []
        for k, ev in enumerate(pred.events):
            s = pred.sentences[ev.sentence]
            out.append(_csv_line([
                f"{key or pred.id}-{ev.sentence}-{k}", pred.id, ev.date or "", ev.event_type, ev.sub_event_type,
                ev.actor1 or "", ev.actor2 or "", ev.location or "",
                ev.fatalities if ev.fatalities is not None else (ev.fatalities_text or ""),
                ev.injured if ev.injured is not None else (ev.injured_text or ""),
                "; ".join(ev.weapons), ev.trigger or "", f"{ev.score:.3f}", s.text, ev.sentence, s.start, s.end,
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
        parts.append("</section>\n")
        return "".join(parts)

    def footer(self) -> str:
        return "</body></html>\n"


def text_summary(pred: Prediction) -> str:
    """A few human-readable lines per document: each coded event with its main spans."""
    lines = [f"{pred.id}: {len(pred.sentences)} sentences, {len(pred.events)} events"]
    for ev in pred.events:
        facts = [f"{k} {v}" for k, v in (("actor", ev.actor1), ("target", ev.actor2), ("in", ev.location), ("on", ev.date)) if v]
        if ev.weapons:
            facts.append("with " + ", ".join(ev.weapons))
        if ev.fatalities_text:
            facts.append(f"killed {ev.fatalities if ev.fatalities is not None else ev.fatalities_text}")
        if ev.injured_text:
            facts.append(f"injured {ev.injured if ev.injured is not None else ev.injured_text}")
        lines.append(f"  s{ev.sentence}  {ev.event_type} / {ev.sub_event_type} ({ev.score:.2f})" + (": " + "; ".join(facts) if facts else ""))
    return "\n".join(lines)


def make_writer(fmt: str):
    writers = {"jsonl": JsonlWriter, "csv": SentenceCsvWriter, "acled": AcledCsvWriter, "html": HtmlWriter}
    if fmt not in writers:
        raise WirecoderError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return writers[fmt]()
