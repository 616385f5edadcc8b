"""Inter-annotator agreement: a blind sample of the corpus for a second writer, and the scores.

The second writer gets the sampled sentences without labels or spans (``wirecoder data sample``),
labels them in the corpus format, and ``wirecoder data agreement`` compares the two labellings:
exact agreement on each sentence's sub-event set, Cohen's kappa on its event-type set, and strict
span F1 (seqeval, the same scorer as the evaluation).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sklearn.metrics import cohen_kappa_score

from model.spans import word_bio
from model.taxonomy import NO_EVENT, event_types_of
from training.corpus import CorpusError, Record, text_key
from training.metrics import load_metric

BLIND_LABEL = "?"


def blind_sample(records: Sequence[Record], size: int, seed: int = 13) -> str:
    """``size`` random sentences in corpus format with labels and spans removed, by report.

    Sentences keep their report header (country, style) so the second writer has the same cues
    as the first; their order inside a report is kept.
    """
    if size > len(records):
        raise CorpusError(f"asked for {size} sentences but the corpus has {len(records)}")
    chosen = sorted(random.Random(seed).sample(range(len(records)), size))
    out, doc = [], None
    for i in chosen:
        r = records[i]
        if r.doc_id != doc:
            doc = r.doc_id
            fields = " | ".join(f"{k}={v}" for k, v in r.meta.items() if k in ("country", "style"))
            out += ["", f"@doc {r.doc_id} | split={r.split}" + (f" | {fields}" if fields else "")]
        out.append(f"{BLIND_LABEL} | {r.text}")
    return "\n".join(out).lstrip() + "\n"


def _event_set(subs: Sequence[str]) -> str:
    return "; ".join(event_types_of(subs)) or NO_EVENT


def agreement(gold: Sequence[Record], review: Sequence[Record]) -> dict:
    """Scores of a second labelling (``review``) against the corpus (``gold``), matched by text."""
    by_text = {text_key(r.text): r for r in gold}
    pairs = []
    for r in review:
        g = by_text.get(text_key(r.text))
        if g is None:
            raise CorpusError(f"{r.source}: sentence not in the corpus (was its text changed?): {r.text!r}")
        pairs.append((g, r))
    if not pairs:
        raise CorpusError("the review file holds no labelled sentences")
    exact = sum(set(g.sub_event_types) == set(r.sub_event_types) for g, r in pairs)
    kappa = cohen_kappa_score([_event_set(g.sub_event_types) for g, _ in pairs],
                              [_event_set(r.sub_event_types) for _, r in pairs])
    spans = load_metric("span_f1").compute(
        references=[word_bio(g.text, g.spans) for g, _ in pairs],
        predictions=[word_bio(g.text, r.spans) for g, r in pairs],
    )
    disagreements = [
        {"id": g.id, "text": g.text, "corpus": g.sub_event_types, "second_writer": r.sub_event_types}
        for g, r in pairs if set(g.sub_event_types) != set(r.sub_event_types)
    ]
    return {
        "sentences": len(pairs),
        "exact_sub_event_set_agreement": exact / len(pairs),
        "event_type_kappa": float(kappa),
        "spans": spans,
        "sub_event_disagreements": disagreements,
    }


def format_agreement(result: dict) -> str:
    s = result["spans"]
    lines = [
        f"sentences double-labelled          {result['sentences']}",
        f"exact agreement, sub-event set     {result['exact_sub_event_set_agreement']:.3f}",
        f"Cohen's kappa, event-type set      {result['event_type_kappa']:.3f}",
        f"span F1 (strict, seqeval)          {s['f1']:.3f} (P {s['precision']:.3f} / R {s['recall']:.3f})",
    ]
    for lab, v in s["per_label"].items():
        lines.append(f"  {lab:32s} {v['f1']:.3f} (n={v['support']})")
    lines.append(f"sub-event disagreements            {len(result['sub_event_disagreements'])}")
    for d in result["sub_event_disagreements"]:
        lines.append(f"  {d['id']}: corpus {d['corpus'] or [NO_EVENT]} / second writer {d['second_writer'] or [NO_EVENT]}")
    return "\n".join(lines)
