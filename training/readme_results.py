"""Results tables of the README, written from evaluation files rather than pasted by hand.

``collect`` reads what ``wirecoder evaluate --real-text ...`` wrote (evaluation.json and
real_text/evaluation.json) into one row of a results file (JSON, committed next to the script);
``render`` writes that file's rows into the README between ``<!-- NAME-START -->`` and
``<!-- NAME-END -->``. A test checks that the README says what the results file says.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from model.errors import WirecoderError
from model.files import atomic_write_json, atomic_write_text

COLUMNS = [
    ("test: sub-event micro F1", ("test", "sub_micro")),
    ("test: spans strict F1", ("test", "spans_strict")),
    ("test: top-score ECE", ("test", "top_ece")),
    ("re3d: event-type micro F1", ("real", "event_micro")),
    ("re3d: sub-event micro / weighted F1", ("real", "sub_micro", "sub_weighted")),
    ("re3d: spans strict / overlap F1", ("real", "spans_strict", "spans_overlap")),
    ("train time", ("train_minutes",)),
]


def _scores(evaluation: dict, system: str = "model") -> dict:
    m = evaluation[system]
    out = {"sentences": m["sentences"], "spans_strict": m["spans"]["f1"], "spans_overlap": m["spans_overlap"]["f1"],
           "spans_precision": m["spans"].get("precision"), "spans_recall": m["spans"].get("recall")}
    if "sub_event_types" in m:
        out |= {"event_micro": m["event_types"]["micro_f1"], "event_macro": m["event_types"].get("macro_f1"),
                "sub_micro": m["sub_event_types"]["micro_f1"], "sub_macro": m["sub_event_types"].get("macro_f1"),
                "sub_weighted": m["sub_event_types"].get("weighted_f1"), "accuracy": m["event_detection_accuracy"]}
    if "calibration_top" in m:
        out["top_ece"] = m["calibration_top"]["ece"]
    return out


def collect(name: str, eval_dir: str | Path, metrics_file: str | Path | None = None, note: str = "") -> dict:
    """One results row from an evaluation folder (and the run's metrics.json for its training time)."""
    eval_dir = Path(eval_dir)
    try:
        row = {"name": name, "note": note, "test": _scores(json.loads((eval_dir / "evaluation.json").read_text()))}
        real = eval_dir / "real_text" / "evaluation.json"
        if real.is_file():
            row["real"] = _scores(json.loads(real.read_text()))
        if metrics_file:
            row["train_minutes"] = round(json.loads(Path(metrics_file).read_text())["train_seconds"] / 60, 1)
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise WirecoderError(f"{eval_dir}: not a complete `wirecoder evaluate` output ({exc})") from exc
    return row


def collect_headline(eval_dir: str | Path) -> dict:
    """The model and the baseline on one test split (``wirecoder evaluate``'s evaluation.json)."""
    path = Path(eval_dir) / "evaluation.json"
    try:
        evaluation = json.loads(path.read_text())
        return {"sentences": evaluation["model"]["sentences"],
                **{s: _scores(evaluation, s) for s in ("model", "baseline") if s in evaluation}}
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise WirecoderError(f"{path}: not a complete `wirecoder evaluate` output ({exc})") from exc


def render_headline(h: dict) -> str:
    """Model against baseline; the better value of each row in bold."""
    rows = [("event types micro / macro F1", ("event_micro", "event_macro")),
            ("sub-event types micro / macro F1", ("sub_micro", "sub_macro")),
            ("event vs no-event accuracy", ("accuracy",)),
            ("spans, strict micro F1 (P / R)", ("spans_strict", "spans_precision", "spans_recall"))]
    systems = [s for s in ("model", "baseline") if s in h]
    lines = [f"| test split ({h['sentences']:,} sentences) | " + " | ".join("wirecoder" if s == "model" else s for s in systems)
             + " |", "|---" * (len(systems) + 1) + "|"]
    for title, keys in rows:
        cells = []
        for s in systems:
            vals = [h[s].get(k) for k in keys]
            best = [v is not None and all(v >= (h[o].get(k) or 0) for o in systems) for v, k in zip(vals, keys)]
            fmt = [f"**{v:.3f}**" if b else f"{v:.3f}" if v is not None else "-" for v, b in zip(vals, best)]
            cells.append(f"{fmt[0]} ({' / '.join(fmt[1:])})" if len(keys) == 3 else " / ".join(fmt))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def add_row(results_file: str | Path, row: dict) -> None:
    """Add or replace (by name) a row of the results file."""
    path = Path(results_file)
    rows = json.loads(path.read_text()) if path.is_file() else []
    rows = [r for r in rows if r["name"] != row["name"]] + [row]
    atomic_write_json(path, rows)


def _cell(row: dict, path: tuple[str, ...]) -> str:
    if path[0] == "train_minutes":
        return f"{row['train_minutes']:.1f} min" if row.get("train_minutes") is not None else "-"
    part = row.get(path[0]) or {}
    values = [part.get(k) for k in path[1:]]
    return " / ".join(f"{v:.3f}" if v is not None else "-" for v in values)


def render_table(rows: list[dict]) -> str:
    head = "| | " + " | ".join(title for title, _ in COLUMNS) + " |"
    lines = [head, "|---" * (len(COLUMNS) + 1) + "|"]
    for r in rows:
        lines.append(f"| {r['name']} | " + " | ".join(_cell(r, path) for _, path in COLUMNS) + " |")
    notes = [f"- *{r['name']}*: {r['note']}" for r in rows if r.get("note")]
    return "\n".join(lines + ([""] + notes if notes else []))


def replace_between(text: str, marker: str, content: str) -> str:
    """``text`` with everything between ``<!-- MARKER-START -->`` and ``<!-- MARKER-END -->`` replaced."""
    pattern = re.compile(rf"(<!-- {re.escape(marker)}-START -->\n).*?(<!-- {re.escape(marker)}-END -->)", re.S)
    if not pattern.search(text):
        raise WirecoderError(f"no <!-- {marker}-START --> ... <!-- {marker}-END --> block in the README")
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(2), text, count=1)


def render_results(results) -> str:
    """A results file's table: a list of rows (ablation) or one model-vs-baseline headline."""
    return render_table(results) if isinstance(results, list) else render_headline(results)


def render_into(readme: str | Path, marker: str, results_file: str | Path) -> None:
    readme = Path(readme)
    results = json.loads(Path(results_file).read_text())
    atomic_write_text(readme, replace_between(readme.read_text(encoding="utf-8"), marker, render_results(results)))
