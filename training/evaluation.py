"""Evaluation: sentence-level (event and sub-event types) and span-level scores, model vs baseline.

Spans are scored with seqeval (strict) on a tokenizer-independent word segmentation of the text, so
the transformer and the baseline are compared on exactly the same units.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model.errors import WirecoderError
from model.spans import word_bio
from model.files import atomic_write_json, atomic_write_text
from model.taxonomy import EVENT_TYPES, NO_EVENT, SPAN_LABELS, SUB_EVENT_TYPES, event_types_of, multi_hot
from training.corpus import Record, Span
from training.metrics import load_metric

logger = logging.getLogger(__name__)


def event_confusion(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
    """Confusion over event types plus 'none' for multi-label sentences.

    A type in both sets counts on the diagonal; a missed gold type counts against each wrongly
    predicted type (or 'none'); a spurious predicted type with nothing missed counts in row 'none'.
    """
    names = list(EVENT_TYPES) + [NO_EVENT]
    idx = {n: i for i, n in enumerate(names)}
    cm = np.zeros((len(names), len(names)), dtype=int)
    for g, p in zip(gold, pred):
        g, p = set(g) or {NO_EVENT}, set(p) or {NO_EVENT}
        for t in g & p:
            cm[idx[t], idx[t]] += 1
        missed, spurious = g - p, p - g
        for t in missed:
            for q in spurious or {NO_EVENT}:
                cm[idx[t], idx[q]] += 1
        if not missed:
            for q in spurious:
                cm[idx[NO_EVENT], idx[q]] += 1
    return names, cm


def score(
    records: Sequence[Record],
    pred_subs: Sequence[Sequence[str]],
    pred_spans: Sequence[Sequence[Span]],
    span_labels: Sequence[str] | None = None,
    score_events: bool = True,
) -> dict:
    """Scores of predictions against gold records; ``span_labels`` restricts span scoring."""
    out: dict = {"sentences": len(records)}
    if score_events:
        ml = load_metric("multilabel_f1")
        gold_subs = [r.sub_event_types for r in records]
        out["sub_event_types"] = ml.compute(
            predictions=multi_hot(pred_subs, SUB_EVENT_TYPES),
            references=multi_hot(gold_subs, SUB_EVENT_TYPES),
            label_names=list(SUB_EVENT_TYPES),
        )
        gold_ev = [event_types_of(s) for s in gold_subs]
        pred_ev = [event_types_of(s) for s in pred_subs]
        out["event_types"] = ml.compute(
            predictions=multi_hot(pred_ev, EVENT_TYPES),
            references=multi_hot(gold_ev, EVENT_TYPES),
            label_names=list(EVENT_TYPES),
        )
        out["event_detection_accuracy"] = float(np.mean([bool(g) == bool(p) for g, p in zip(gold_subs, pred_subs)])) if records else 0.0
        names, cm = event_confusion(gold_ev, pred_ev)
        out["event_type_confusion"] = {"labels": names, "matrix": cm.tolist()}
    keep = set(span_labels or SPAN_LABELS)
    refs = [word_bio(r.text, [s for s in r.spans if s.label in keep]) for r in records]
    preds = [word_bio(r.text, [s for s in ps if s.label in keep]) for r, ps in zip(records, pred_spans)]
    out["spans"] = load_metric("span_f1").compute(predictions=preds, references=refs)
    out["spans_overlap"] = overlap_scores(
        [[x for x in r.spans if x.label in keep] for r in records], [[x for x in ps if x.label in keep] for ps in pred_spans]
    )
    return out


def overlap_scores(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> dict:
    """Lenient span scores: a span counts as found when it overlaps one of the same label.

    seqeval only scores exact boundaries; data annotated with other boundary rules (articles and
    titles inside spans, as in re3d) needs this second view to tell a wrong span from a wider one.
    """
    def hits(a: Sequence[Span], b: Sequence[Span]) -> int:
        return sum(any(x.label == y.label and x.start < y.end and y.start < x.end for y in b) for x in a)

    labels = sorted({s.label for spans in (*gold, *pred) for s in spans})
    per_label, tot = {}, [0, 0, 0, 0]  # found predicted, predicted, found gold, gold
    for lab in labels:
        g = [[s for s in spans if s.label == lab] for spans in gold]
        p = [[s for s in spans if s.label == lab] for spans in pred]
        tp_p, n_p = sum(hits(pp, gg) for pp, gg in zip(p, g)), sum(map(len, p))
        tp_g, n_g = sum(hits(gg, pp) for pp, gg in zip(p, g)), sum(map(len, g))
        per_label[lab] = _prf(tp_p, n_p, tp_g, n_g) | {"support": n_g}
        tot = [tot[0] + tp_p, tot[1] + n_p, tot[2] + tp_g, tot[3] + n_g]
    return _prf(*tot) | {"per_label": per_label}


def _prf(tp_pred: int, n_pred: int, tp_gold: int, n_gold: int) -> dict:
    precision = tp_pred / n_pred if n_pred else 0.0
    recall = tp_gold / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def record_contexts(coder, records: Sequence[Record]) -> list[str | None] | None:
    """For a model that reads context, each record's preceding sentences in its report (records in
    reading order); None for other models."""
    k = getattr(coder, "context_sentences", 0)
    if not k:
        return None
    from model.context import contexts_by_document

    return contexts_by_document([r.doc_id for r in records], [r.text for r in records], k)


def predict_records(coder, records: Sequence[Record], batch_size: int = 64) -> tuple[list[list[str]], list[list[Span]]]:
    """The model's sub-event types and spans for pre-split sentences."""
    results = coder.predict([r.text for r in records], batch_size=batch_size, split_into_sentences=False,
                            contexts=record_contexts(coder, records))
    subs = [[s.label for s in res.sub_event_types] for res in results]
    spans = [[Span(s.start, s.end, s.label) for s in res.spans] for res in results]
    return subs, spans


def evaluate_all(
    coder,
    test_records: Sequence[Record],
    baseline,
    out_dir: str | Path,
    batch_size: int = 64,
    span_labels: Sequence[str] | None = None,
    score_events: bool = True,
    label_map=None,
) -> dict:
    """Model and a fitted baseline (or None) on the same test sentences; writes evaluation.json, the
    report and the PNG.

    ``baseline`` is anything with ``predict(texts) -> (sub-event types, spans)``, such as a fitted
    :class:`training.baseline.Baseline`. ``label_map`` (a :class:`training.label_map.LabelMap`)
    renames predicted spans to the foreign labels they are scored under.
    """
    from training.plots import plot_confusion

    def rename(pred_spans):
        if label_map is None:
            return pred_spans
        from training.label_map import map_predicted_spans

        return [map_predicted_spans(ps, label_map) for ps in pred_spans]

    out_dir = Path(out_dir)
    subs, spans = predict_records(coder, test_records, batch_size)
    result = {"model": score(test_records, subs, rename(spans), span_labels, score_events)}
    if baseline is not None:
        b_subs, b_spans = baseline.predict([r.text for r in test_records])
        result["baseline"] = score(test_records, b_subs, rename(b_spans), span_labels, score_events)
    if score_events:
        conf = result["model"]["event_type_confusion"]
        plot_confusion(conf["labels"], np.array(conf["matrix"]), out_dir / "confusion_event_types.png")
        if hasattr(coder, "sentence_scores"):
            from training.calibration import reliability, top_label
            from training.plots import plot_reliability

            scores = coder.sentence_scores([r.text for r in test_records], batch_size,
                                           contexts=record_contexts(coder, test_records))
            gold = multi_hot([r.sub_event_types for r in test_records], SUB_EVENT_TYPES)
            # Every (sentence, type) score is dominated by easy zeros; the top score is what a reader sees.
            result["model"]["calibration"] = reliability(scores, gold)
            result["model"]["calibration_top"] = top = reliability(*top_label(scores, gold))
            plot_reliability({f"top score of {len(test_records)} sentences": top}, out_dir / "reliability.png")
    report = format_report(result)
    atomic_write_text(out_dir / "evaluation.txt", report + "\n")
    atomic_write_json(out_dir / "evaluation.json", result)
    logger.info("evaluation written to %s", out_dir)
    return result


def format_report(result: dict) -> str:
    """Plain-text report: the model and the baseline side by side."""
    systems = [s for s in ("model", "baseline") if s in result]
    m = result["model"]
    lines = [f"Test sentences: {m['sentences']}", ""]

    def row(name: str, values: list[float | None]) -> str:
        return f"{name:44s}" + "".join(f"{v:>11.3f}" if v is not None else f"{'-':>11s}" for v in values)

    head = f"{'':44s}" + "".join(f"{s:>11s}" for s in systems)
    if "sub_event_types" in m:
        lines += [head]
        for key, title in (("event_types", "event types"), ("sub_event_types", "sub-event types")):
            lines.append(row(f"{title} micro F1", [result[s][key]["micro_f1"] for s in systems]))
            lines.append(row(f"{title} macro F1", [result[s][key]["macro_f1"] for s in systems]))
        lines.append(row("event / no-event accuracy", [result[s]["event_detection_accuracy"] for s in systems]))
    else:
        lines += ["Spans only: the data has no sentence labels.", head]
    lines.append(row("spans strict micro F1", [result[s]["spans"]["f1"] for s in systems]))
    lines.append(row("spans strict precision", [result[s]["spans"]["precision"] for s in systems]))
    lines.append(row("spans strict recall", [result[s]["spans"]["recall"] for s in systems]))
    lines.append(row("spans overlap micro F1", [result[s]["spans_overlap"]["f1"] for s in systems]))
    if "calibration" in m:
        lines.append(row("ECE, all sub-event scores (lower: better)", [result[s].get("calibration", {}).get("ece") for s in systems]))
        lines.append(row("ECE, top score per sentence", [result[s].get("calibration_top", {}).get("ece") for s in systems]))
    lines += ["", "Per span label, strict (precision / recall / F1, support)", head]
    lines += _per_item_lines(result, systems, "spans", "per_label", name_width=30, gap=4)
    lines += ["", "Per span label, overlap (precision / recall / F1, support)", head]
    lines += _per_item_lines(result, systems, "spans_overlap", "per_label", name_width=30, gap=4)
    if "sub_event_types" in m:
        lines += ["", "Per sub-event type (precision / recall / F1, support)", head]
        lines += _per_item_lines(result, systems, "sub_event_types", "per_class", name_width=36, gap=0)
    return "\n".join(lines)


def _per_item_lines(result: dict, systems: list[str], key: str, group: str, name_width: int, gap: int) -> list[str]:
    """One line per label or class: its support, then precision/recall/F1 of each system."""
    zero = {"precision": 0, "recall": 0, "f1": 0}
    out = []
    for name, v in sorted(result["model"][key][group].items()) if group == "per_label" else result["model"][key][group].items():
        cells = [result[s][key][group].get(name, zero) for s in systems]
        scores = "".join(f"{c['precision']:.2f}/{c['recall']:.2f}/{c['f1']:.2f}".rjust(16) for c in cells)
        out.append(f"  {name:{name_width}s}{v['support']:>6d}{' ' * gap}{scores}")
    return out


def _test_records(data: Sequence[str] | None, label_map: str | None):
    """Test sentences of ``data`` and how to score them: (records, span labels, score events?, map)."""
    from training.corpus import CORPUS_DIR, read_records

    span_labels, score_events, lmap = None, True, None
    if label_map:
        from training.label_map import load_label_map, read_mapped_records

        lmap = load_label_map(label_map)
        records, score_events = read_mapped_records(list(data) if data else [CORPUS_DIR], lmap)
        span_labels = lmap.scored_labels(s.label for r in records for s in r.spans)
        if not score_events:
            logger.info("the data has no sentence labels: scoring spans only")
        logger.info("scoring span labels: %s", ", ".join(span_labels))
    else:
        records = read_records(list(data) if data else [CORPUS_DIR])
    test = [r for r in records if r.split in (None, "test")]
    if not test:
        raise WirecoderError(f"no test sentences in {', '.join(map(str, data)) if data else 'the evaluation data'}")
    return test, span_labels, score_events, lmap


def _group_into_reports(records: Sequence[Record], paths: Sequence[str], field: str) -> None:
    """Set each JSONL record's doc_id to its ``field`` value (records keep their reading order)."""
    from training.corpus import corpus_files
    from training.readers import jsonl_objects, open_text

    value_of: dict[str, str] = {}
    for p in paths:
        for f in corpus_files(p):
            with open_text(f) as fh:
                for _, obj, problem in jsonl_objects(fh):
                    if problem is None and isinstance(obj, dict) and field in obj:
                        value_of[str(obj.get("id"))] = str(obj[field])
    missing = [r.id for r in records if r.id not in value_of]
    if missing:
        raise WirecoderError(f"--real-text-doc-field {field}: {len(missing)} record(s) have no such field "
                             f"(first: {missing[0]})")
    for r in records:
        r.doc_id = value_of[r.id]


def run_evaluation(
    model_dir: str,
    data: Sequence[str] | None,
    output_dir: str,
    batch_size: int = 64,
    baseline_data: Sequence[str] | None = None,
    label_map: str | None = None,
    real_text: Sequence[str] | None = None,
    real_text_label_map: str | None = None,
    real_text_doc_field: str | None = None,
) -> dict:
    """``wirecoder evaluate``: a saved model on the test split of ``data`` (default: the shipped corpus).

    Sentences of a source without splits are all test sentences. The baseline is trained on the train
    split of ``baseline_data`` (default: the shipped corpus) so its margin is visible on any data.
    With ``label_map`` (a JSON file, see training/label_map.py) ``data`` is foreign: its span labels
    are mapped first, only the labels it has are scored, and sentence labels only if it has them.
    ``real_text`` (with its own ``real_text_label_map``) is scored the same way next to it, into
    ``output_dir/real_text/``, and returned under ``"real_text"``: text written by others shows what
    the corpus's own test split cannot. ``real_text_doc_field`` names the JSONL field that groups its
    sentences into reports (re3d: ``source``), so a model that reads context gets it there too.
    """
    from model.loading import has_torch_weights
    from model.predictor import EventCoder
    from training.baseline import Baseline
    from training.corpus import CORPUS_DIR, read_records
    from training.splits import by_split

    test, span_labels, score_events, lmap = _test_records(data, label_map)
    real = _test_records(real_text, real_text_label_map) if real_text else None
    if real is not None and real_text_doc_field:
        _group_into_reports(real[0], real_text, real_text_doc_field)
    # The model's own weights when it has them: an int8 ONNX export beside them is scored only when
    # it is all there is (its accuracy cost is measured in the README's speed section).
    coder = EventCoder.from_pretrained(model_dir, backend="torch" if has_torch_weights(model_dir) else "auto")
    train = by_split(read_records(list(baseline_data) if baseline_data else [CORPUS_DIR]))["train"]
    baseline = Baseline().fit(train) if train else None
    result = evaluate_all(coder, test, baseline, output_dir, batch_size=batch_size, span_labels=span_labels,
                          score_events=score_events, label_map=lmap)
    if real is not None:
        r_test, r_labels, r_events, r_map = real
        result["real_text"] = evaluate_all(coder, r_test, baseline, Path(output_dir) / "real_text", batch_size=batch_size,
                                           span_labels=r_labels, score_events=r_events, label_map=r_map)
    return result


def format_side_by_side(result: dict) -> str:
    """The headline scores of the test split and the real-text check in one table."""
    cols = [("test split", result), ("real text", result["real_text"])]
    systems = [s for s in ("model", "baseline") if s in result]
    head = f"{'':36s}" + "".join(f"{f'{name}, {s}':>24s}" for name, _ in cols for s in systems)
    lines = [head, f"{'sentences':36s}" + "".join(f"{r['model']['sentences']:>24d}" for _, r in cols for _ in systems)]

    def value(r: dict, path: tuple[str, ...]):
        for k in path:
            if not isinstance(r, dict) or k not in r:
                return None
            r = r[k]
        return r

    rows = [("event types micro F1", ("event_types", "micro_f1")), ("event types weighted F1", ("event_types", "weighted_f1")),
            ("sub-event types micro F1", ("sub_event_types", "micro_f1")),
            ("sub-event types weighted F1", ("sub_event_types", "weighted_f1")),
            ("event / no-event accuracy", ("event_detection_accuracy",)), ("spans strict F1", ("spans", "f1")),
            ("spans overlap F1", ("spans_overlap", "f1")), ("ECE, all sub-event scores", ("calibration", "ece")),
            ("ECE, top score per sentence", ("calibration_top", "ece"))]
    for title, path in rows:
        cells = [value(r[s], path) for _, r in cols for s in systems]
        lines.append(f"{title:36s}" + "".join(f"{c:>24.3f}" if c is not None else f"{'-':>24s}" for c in cells))
    return "\n".join(lines)
