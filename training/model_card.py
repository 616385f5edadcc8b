"""A generated model card (``README.md`` with Hugging Face metadata) for a trained model directory."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from model.files import atomic_write_text
from model.taxonomy import EVENT_TAXONOMY, SPAN_LABELS


def _metric_rows(test: dict) -> list[tuple[str, str, float, float | None]]:
    m, b = test["model"], test.get("baseline")
    rows = []
    for key, title in (("event_types", "Event types"), ("sub_event_types", "Sub-event types")):
        if key in m:
            for avg in ("micro_f1", "macro_f1"):
                rows.append((f"{title} {avg.replace('_', ' ')}", key, m[key][avg], b[key][avg] if b else None))
    rows.append(("Spans strict micro f1", "spans", m["spans"]["f1"], b["spans"]["f1"] if b else None))
    return rows


def card_data(summary: dict, config) -> ModelCardData:
    """The card's metadata; huggingface_hub builds the ``model-index`` from typed EvalResults."""
    test = summary.get("test")
    results = [
        EvalResult(task_type="token-classification", task_name="ACLED event coding", dataset_type="wirecoder",
                   dataset_name="wirecoder corpus", dataset_split="test", dataset_revision=summary["corpus_version"],
                   metric_type="f1", metric_name=name, metric_value=round(val, 4))
        for name, _, val, _ in (_metric_rows(test) if test else [])
    ]
    return ModelCardData(
        base_model=summary["base_model_id"],
        library_name="transformers",
        pipeline_tag="token-classification",
        language=["en"],
        tags=["wirecoder", "acled", "event-extraction", "conflict", "multi-label", "ner"],
        model_name="wirecoder",
        eval_results=results or None,
        corpus_version=summary["corpus_version"],
        labels={"sub_event_types": list(config.sub_event_types), "span_labels": list(SPAN_LABELS)},
    )


def render_model_card(summary: dict, config) -> ModelCard:
    test = summary.get("test")
    command = summary.get("command") or "not recorded (trained from Python, not `wirecoder train`)"
    lines = [
        "# wirecoder event coder",
        "",
        "Codes sentences of news reports about armed conflict into ACLED event types and sub-event types",
        "(multi-label, with scores) and tags the spans ACTOR, TARGET, LOCATION, DATE, WEAPON, FATALITIES,",
        "INJURED and TRIGGER with character offsets. One encoder, two heads, one forward pass.",
        "",
        "```python",
        "from model import EventCoder",
        f'coder = EventCoder.from_pretrained("{Path(summary.get("output_dir", ".")).as_posix()}")',
        'print(coder.predict(["Gunmen killed two farmers near Gao on Monday."])[0].to_dict())',
        "```",
        "",
        "## Training",
        "",
        f"- Base encoder: `{summary['base_model_id']}` (loaded from `{summary['base_model']}`)",
        f"- Corpus version: `{summary['corpus_version']}`; sentences: "
        + ", ".join(f"{k} {v}" for k, v in summary["sentences"].items()),
        f"- Command: `{command}`",
        f"- Training time: {summary['train_seconds']} s; best dev combined F1: "
        + (f"{summary['best_dev_combined_f1']:.3f}" if summary.get("best_dev_combined_f1") is not None else "n/a"),
        "- Decision thresholds of the multi-label head were tuned on the dev split (stored in `config.json`).",
        "",
    ]
    if test:
        lines += ["## Test results", "", "| metric | wirecoder | TF-IDF + LR baseline |", "|---|---|---|"]
        for name, _, val, base in _metric_rows(test):
            lines.append(f"| {name} | {val:.3f} | {base:.3f} |" if base is not None else f"| {name} | {val:.3f} | - |")
        lines += ["", "| span label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, v in sorted(test["model"]["spans"]["per_label"].items()):
            lines.append(f"| {label} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
        lines.append("")
    lines += ["## Labels", ""]
    for event_type, subs in EVENT_TAXONOMY.items():
        lines.append(f"- **{event_type}**: {', '.join(subs)}")
    lines += [
        "",
        "## Limitations",
        "",
        "The training corpus is made of constructed sentences written for this project; they describe no",
        "verified events. Scores on its test split measure agreement with its annotation guide, not accuracy",
        "on real reports. Check the model on your own labelled sample before relying on it.",
        "",
    ]
    # Parsing the text back checks the metadata, the model-index above all, as the Hub reads it.
    return ModelCard(f"---\n{card_data(summary, config).to_yaml()}\n---\n\n" + "\n".join(lines))


def write_model_card(out_dir: str | Path, summary: dict, config) -> None:
    summary = dict(summary, output_dir=str(out_dir))
    atomic_write_text(Path(out_dir) / "README.md", str(render_model_card(summary, config)))
