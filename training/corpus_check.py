"""Corpus statistics and quality checks behind ``wirecoder data check``."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import combinations

from model.taxonomy import EVENT_TYPES, SPAN_LABELS, SUB_EVENT_TYPES, event_types_of
from training.corpus import NEGATIVE_FAMILIES, SENTENCE_FORMS, SPLITS, Record

logger = logging.getLogger(__name__)

NEAR_DUP_JACCARD = 0.6
LENGTH_BUCKETS = (30, 45, 60)  # "over N words" shares reported, as real news runs long


def _five_grams(text: str) -> frozenset[tuple[str, ...]]:
    words = text.lower().split()
    return frozenset(tuple(words[i : i + 5]) for i in range(len(words) - 4))


def near_duplicate_pairs(records: Sequence[Record], threshold: float = NEAR_DUP_JACCARD) -> list[tuple[str, str, float]]:
    """Pairs of sentences whose word 5-gram sets have Jaccard >= threshold.

    Only pairs sharing at least one 5-gram can qualify, so candidates come from an inverted index
    instead of comparing all n^2 pairs.
    """
    grams = [_five_grams(r.text) for r in records]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, g in enumerate(grams):
        for gram in g:
            index[gram].append(i)
    candidates: set[tuple[int, int]] = set()
    for ids in index.values():
        if len(ids) > 1:
            candidates.update(combinations(ids, 2))
    out = []
    for i, j in sorted(candidates):
        union = len(grams[i] | grams[j])
        jac = len(grams[i] & grams[j]) / union if union else 0.0
        if jac >= threshold:
            out.append((records[i].id, records[j].id, jac))
    return out


def trigger_variety(records: Sequence[Record]) -> dict[str, int]:
    """Distinct TRIGGER strings (lower-cased) per sub-event type, from sentences with one type.

    Sentences with several types are left out because their triggers cannot be told apart.
    """
    seen: dict[str, set[str]] = {s: set() for s in SUB_EVENT_TYPES}
    for r in records:
        if len(r.sub_event_types) == 1:
            seen[r.sub_event_types[0]].update(
                r.text[s.start : s.end].lower() for s in r.spans if s.label == "TRIGGER")
    return {s: len(v) for s, v in seen.items()}


def corpus_stats(records: Sequence[Record]) -> dict:
    n = len(records)
    docs = {r.doc_id for r in records}
    countries = Counter()
    for doc, country in {(r.doc_id, r.meta.get("country", "")) for r in records}:
        if country:
            countries[country] += 1
    per_split: dict[str, dict] = {}
    for split in SPLITS + (None,):
        rs = [r for r in records if r.split == split]
        if not rs:
            continue
        per_split[split or "unsplit"] = {
            "sentences": len(rs),
            "reports": len({r.doc_id for r in rs}),
            "event_types": {e: sum(e in event_types_of(r.sub_event_types) for r in rs) for e in EVENT_TYPES},
            "sub_event_types": {s: sum(s in r.sub_event_types for r in rs) for s in SUB_EVENT_TYPES},
            "spans": {lab: sum(s.label == lab for r in rs for s in r.spans) for lab in SPAN_LABELS},
            "no_event": sum(not r.sub_event_types for r in rs),
        }
    dups = near_duplicate_pairs(records)
    dup_sentences = {i for pair in dups for i in pair[:2]}
    total_pairs = n * (n - 1) // 2
    words = [len(r.text.split()) for r in records]
    return {
        "sentences": n,
        "reports": len(docs),
        "countries": len(countries),
        "country_reports": dict(countries.most_common()),
        "styles": dict(Counter(r.meta.get("style", "") for r in records).most_common()),
        "no_event_share": sum(not r.sub_event_types for r in records) / n if n else 0.0,
        "multi_event_share": sum(len(r.sub_event_types) >= 2 for r in records) / n if n else 0.0,
        "words_min": min(words, default=0),
        "words_max": max(words, default=0),
        "words_mean": sum(words) / n if n else 0.0,
        "words_over": {k: sum(w > k for w in words) for k in LENGTH_BUCKETS},
        "forms": {f: sum(r.meta.get("form") == f for r in records) for f in SENTENCE_FORMS},
        "negative_families": {f: sum(r.meta.get("neg") == f for r in records) for f in NEGATIVE_FAMILIES},
        "negatives_without_family": sum(not r.sub_event_types and "neg" not in r.meta for r in records),
        "trigger_variety": trigger_variety(records),
        "near_duplicate_pairs": len(dups),
        "near_duplicate_pair_share": len(dups) / total_pairs if total_pairs else 0.0,
        "near_duplicate_sentence_share": len(dup_sentences) / n if n else 0.0,
        "near_duplicate_examples": [f"{a} ~ {b} ({j:.2f})" for a, b, j in dups[:20]],
        "sub_event_types": {s: sum(s in r.sub_event_types for r in records) for s in SUB_EVENT_TYPES},
        "spans": {lab: sum(s.label == lab for r in records for s in r.spans) for lab in SPAN_LABELS},
        "splits": per_split,
    }


def format_stats(stats: dict) -> str:
    lines = [
        f"sentences            {stats['sentences']}",
        f"reports              {stats['reports']}",
        f"countries            {stats['countries']}",
        f"no-event share       {stats['no_event_share']:.1%}",
        f"multi-event share    {stats['multi_event_share']:.1%}",
        f"words per sentence   {stats['words_min']}-{stats['words_max']} (mean {stats['words_mean']:.1f})",
        f"near-duplicate pairs {stats['near_duplicate_pairs']} "
        f"({stats['near_duplicate_pair_share']:.4%} of pairs, "
        f"{stats['near_duplicate_sentence_share']:.2%} of sentences; 5-gram Jaccard >= {NEAR_DUP_JACCARD})",
    ]
    for ex in stats["near_duplicate_examples"]:
        lines.append(f"  near-duplicate: {ex}")
    n = stats["sentences"] or 1
    lines.append("longer than           " + ", ".join(
        f"{k} words: {v} ({v / n:.1%})" for k, v in stats["words_over"].items()))
    lines.append("styles (sentences)    " + ", ".join(f"{k or '-'} {v}" for k, v in stats["styles"].items()))
    lines.append("forms                 " + ", ".join(f"{k} {v}" for k, v in stats["forms"].items()))
    lines.append("no-event families     " + ", ".join(f"{k} {v}" for k, v in stats["negative_families"].items())
                 + f", without a family {stats['negatives_without_family']}")
    splits = list(stats["splits"])
    header = f"{'':40s}{'all':>7s}" + "".join(f"{s:>7s}" for s in splits)
    lines += ["", header]
    lines.append(f"{'sentences':40s}{stats['sentences']:7d}" + "".join(f"{stats['splits'][s]['sentences']:7d}" for s in splits))
    lines.append(f"{'reports':40s}{stats['reports']:7d}" + "".join(f"{stats['splits'][s]['reports']:7d}" for s in splits))
    lines.append(f"{'no event':40s}{round(stats['no_event_share'] * stats['sentences']):7d}" + "".join(f"{stats['splits'][s]['no_event']:7d}" for s in splits))
    for e in EVENT_TYPES:
        total = sum(stats["splits"][s]["event_types"][e] for s in splits)
        lines.append(f"{e:40s}{total:7d}" + "".join(f"{stats['splits'][s]['event_types'][e]:7d}" for s in splits))
    for sub in SUB_EVENT_TYPES:
        lines.append(f"  {sub:38s}{stats['sub_event_types'][sub]:7d}" + "".join(f"{stats['splits'][s]['sub_event_types'][sub]:7d}" for s in splits))
    lines += ["", f"{'distinct triggers (one-type sentences)':40s}{'':>7s}"]
    for sub in SUB_EVENT_TYPES:
        lines.append(f"  {sub:38s}{stats['trigger_variety'][sub]:7d}")
    for lab in SPAN_LABELS:
        lines.append(f"span {lab:35s}{stats['spans'][lab]:7d}" + "".join(f"{stats['splits'][s]['spans'][lab]:7d}" for s in splits))
    return "\n".join(lines)
