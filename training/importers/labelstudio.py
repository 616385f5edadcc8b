"""Label Studio JSON: import an export (tasks with annotations) and write tasks with pre-annotations.

Import: each task's ``data.text`` with its first annotation that was not cancelled; results of
type ``labels`` are spans, results of type ``choices`` are sub-event types. A task whose text holds
one sentence is one record. A task holding several sentences is split with
``model.sentences.split_sentences``; its choices go to the sentences holding a TRIGGER span, else to
the sentences holding any span, else to the first sentence (the others get none); a span crossing a
sentence boundary is dropped and counted.

Export: :func:`tasks_from_predictions` and :func:`labeling_config` (generated from the taxonomy).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from model.sentences import split_sentences
from model.taxonomy import EVENT_TAXONOMY, SPAN_LABELS, SUB_EVENT_TYPES
from training.files import read_json_file
from training.corpus import CorpusError, Record, Span
from training.importers import ImportResult, drop_event_only_spans, resolve_labels

# Names used in the labeling config we write; the importer accepts any from_name.
SPAN_FROM_NAME = "label"
CHOICE_FROM_NAME = "sub_event_type"
TEXT_NAME = "text"
# A few distinct colours for the span labels in the Label Studio UI (cycled).
_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324")


def load_tasks(path: Path) -> list:
    tasks = read_json_file(path, "Label Studio export")
    if isinstance(tasks, dict):  # a single task exported on its own
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise CorpusError(f"{path}: expected a JSON list of Label Studio tasks")
    return tasks


def _annotation(task: dict) -> dict | None:
    for ann in task.get("annotations") or []:
        if isinstance(ann, dict) and not ann.get("was_cancelled"):
            return ann
    return None


def _results(ann: dict, kind: str) -> list[dict]:
    return [r for r in ann.get("result") or [] if isinstance(r, dict) and r.get("type") == kind and isinstance(r.get("value"), dict)]


def _collect_labels(tasks: list) -> tuple[set[str], set[str]]:
    span_labels, choices = set(), set()
    for task in tasks:
        ann = _annotation(task) if isinstance(task, dict) else None
        if ann is None:
            continue
        for r in _results(ann, "labels"):
            span_labels.update(str(x) for x in r["value"].get("labels") or [])
        for r in _results(ann, "choices"):
            choices.update(str(x) for x in r["value"].get("choices") or [])
    return span_labels, choices


def _spans_of(text: str, ann: dict, mapping: dict[str, str | None], result: ImportResult) -> list[Span]:
    spans = []
    for r in _results(ann, "labels"):
        v = r["value"]
        labels = v.get("labels") or []
        try:
            start, end = int(v["start"]), int(v["end"])
        except (KeyError, TypeError, ValueError):
            result.fixed["span without start/end dropped"] += 1
            continue
        if not labels or not (0 <= start < end <= len(text)):
            result.fixed["span out of range or without a label dropped"] += 1
            continue
        if "text" in v and v["text"] != text[start:end]:
            result.fixed["span whose text does not match the task text dropped"] += 1
            continue
        label = mapping[str(labels[0])]
        if label is None:
            result.fixed[f"span dropped by the label map ({labels[0]})"] += 1
            continue
        # Label Studio selections often take a space along; our spans start and end on text.
        piece = text[start:end]
        start, end = start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())
        if start >= end:
            result.fixed["whitespace-only span dropped"] += 1
            continue
        spans.append(Span(start, end, label))
    return _without_overlaps(sorted(spans, key=lambda s: (s.start, -s.end)), result)


def _without_overlaps(spans: list[Span], result: ImportResult) -> list[Span]:
    kept: list[Span] = []
    for s in spans:
        if kept and s.start < kept[-1].end:
            result.fixed["overlapping span dropped (the earlier one is kept)"] += 1
            continue
        kept.append(s)
    return kept


def _records_of_task(task_id: str, doc_id: str, text: str, subs: list[str], spans: list[Span], where: str,
                     result: ImportResult) -> list[Record]:
    bounds = split_sentences(text)
    if len(bounds) <= 1:
        s, e = bounds[0] if bounds else (0, len(text))
        inside = [Span(x.start - s, x.end - s, x.label) for x in spans if s <= x.start and x.end <= e]
        return [Record(id=task_id, doc_id=doc_id, text=text[s:e], sub_event_types=subs, spans=inside, source=where)]
    per_sentence: list[list[Span]] = [[] for _ in bounds]
    for x in spans:
        k = next((i for i, (s, e) in enumerate(bounds) if s <= x.start and x.end <= e), None)
        if k is None:
            result.fixed["span crossing a sentence boundary dropped"] += 1
            continue
        per_sentence[k].append(Span(x.start - bounds[k][0], x.end - bounds[k][0], x.label))
    labelled = ([i for i, sp in enumerate(per_sentence) if any(x.label == "TRIGGER" for x in sp)]
                or [i for i, sp in enumerate(per_sentence) if sp] or [0])
    return [
        Record(id=f"{task_id}-s{i + 1}", doc_id=doc_id, text=text[s:e], sub_event_types=subs if i in labelled else [],
               spans=per_sentence[i], source=f"{where} sentence {i + 1}")
        for i, (s, e) in enumerate(bounds)
    ]


def read(path: Path, label_map=None, **_options) -> ImportResult:
    result = ImportResult()
    tasks = load_tasks(path)
    span_labels, choices = _collect_labels(tasks)
    mapping = resolve_labels(label_map, span_labels, str(path))
    bad = sorted(c for c in choices if c not in SUB_EVENT_TYPES and c.lower() != "none")
    if bad:
        raise CorpusError(f"{path}: choice(s) {', '.join(map(repr, bad))} are not sub-event types of the taxonomy")
    for n, task in enumerate(tasks, 1):
        where = f"{path} task {n}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            result.skip("task without a data object", where)
            continue
        text = task["data"].get(TEXT_NAME)
        if not isinstance(text, str) or not text.strip():
            result.skip("task without data.text", where)
            continue
        ann = _annotation(task)
        if ann is None:
            result.skip("task without a (non-cancelled) annotation", where)
            continue
        subs = list(dict.fromkeys(c for r in _results(ann, "choices") for c in r["value"].get("choices") or []
                                  if c in SUB_EVENT_TYPES))
        spans = _spans_of(text, ann, mapping, result)
        task_id = str(task["data"].get("id") or task.get("id") or f"{path.stem}-{n}")
        doc_id = str(task["data"].get("doc_id") or task_id)
        for record in _records_of_task(task_id, doc_id, text, subs, spans, where, result):
            drop_event_only_spans(record, result)
            result.records.append(record)
    return result


# -- export -------------------------------------------------------------------------------------


def labeling_config() -> str:
    """A Label Studio labeling config for our scheme: span labels and multi-choice sub-event types."""
    lines = ["<View>", f'  <Text name="{TEXT_NAME}" value="${TEXT_NAME}"/>',
             f'  <Labels name="{SPAN_FROM_NAME}" toName="{TEXT_NAME}">']
    lines += [f"    <Label value={quoteattr(lab)} background={quoteattr(_COLOURS[i % len(_COLOURS)])}/>"
              for i, lab in enumerate(SPAN_LABELS)]
    lines += ["  </Labels>", '  <Header value="Sub-event types reported in this sentence (none: leave empty)"/>',
              f'  <Choices name="{CHOICE_FROM_NAME}" toName="{TEXT_NAME}" choice="multiple" showInline="false">']
    for event_type, subs in EVENT_TAXONOMY.items():
        lines += [f"    <Choice value={quoteattr(sub)} hint={quoteattr(event_type)}/>" for sub in subs]
    lines += ["  </Choices>", "</View>"]
    return "\n".join(lines) + "\n"


def task_from_prediction(task_id: str, doc_id: str, text: str, subs: list[tuple[str, float]],
                         spans: list[tuple[int, int, str, float]], model_version: str) -> dict:
    """One Label Studio task; ``subs`` are (sub-event type, score), ``spans`` (start, end, label, score)."""
    result = [
        {"id": f"{task_id}-span{i}", "from_name": SPAN_FROM_NAME, "to_name": TEXT_NAME, "type": "labels",
         "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]}, "score": score}
        for i, (s, e, label, score) in enumerate(spans)
    ]
    if subs:
        result.append({"id": f"{task_id}-subs", "from_name": CHOICE_FROM_NAME, "to_name": TEXT_NAME, "type": "choices",
                       "value": {"choices": [label for label, _ in subs]}, "score": min(sc for _, sc in subs)})
    scores = [x["score"] for x in result]
    # The task score is the least confident item: Label Studio sorts by it, so shaky tasks come first.
    return {"data": {TEXT_NAME: text, "id": task_id, "doc_id": doc_id},
            "predictions": [{"model_version": model_version, "score": min(scores) if scores else 1.0, "result": result}]}
