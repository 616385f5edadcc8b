"""Does a user's own ACLED export help the types it holds without hurting the others?

Two short trainings of the real encoder from the same seed: the shipped corpus alone, and the corpus
plus an imported ACLED-style export (`wirecoder data import --from acled`, one record per note) drawn
at a weight. The second run takes as many more steps as the export's weighted share adds, so both
see the same number of corpus sentences: the export comes on top of the corpus, not instead of part
of it (in a short run, fewer corpus sentences alone would lower every other type). Both are scored on the corpus's test split, on the types the export does NOT hold, and on
the export's held-out notes, on the types it holds. ``scripts/own_data_check.py`` runs it over
several seeds to measure the noise; ``tests/test_own_data.py`` runs one seed and checks the result
against that measured noise.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from model.taxonomy import SUB_EVENT_TYPES
from training.corpus import CORPUS_DIR, Record, read_records
from training.splits import assign_missing_splits, by_split

logger = logging.getLogger(__name__)

# Short, fixed training: long enough for the real encoder to learn most types, short enough for CI.
STEPS = 150
EXPORT_WEIGHT = 8.0
# The export has no splits: its notes are hashed into train/dev/test, with a large test share so the
# held-out part has a few dozen notes of each type.
DEV_FRACTION, TEST_FRACTION = 0.1, 0.3


def combine_exports(csv_files: Sequence[Path], out: Path) -> Path:
    """One ACLED-style CSV from several files with the same header (the user's "export")."""
    rows, header = [], None
    for f in csv_files:
        with open(f, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = header or reader.fieldnames
            rows.extend(reader)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return out


def train_args(out: Path, seed: int, export_jsonl: Path | None, steps: int = STEPS) -> list[str]:
    args = ["train", "--output-dir", str(out), "--seed", str(seed), "--max_steps", str(steps),
            "--eval_steps", str(steps), "--save_steps", str(steps), "--evaluate_after_training", "false",
            "--disable_tqdm", "true", "--dev_fraction", str(DEV_FRACTION), "--test_fraction", str(TEST_FRACTION),
            "--data", str(CORPUS_DIR),
            # Pinned to the settings its bounds were measured with; R-Drop would also double CI's time.
            "--rdrop_alpha", "0"]
    if export_jsonl is not None:
        args += ["--data", f"{export_jsonl}:{EXPORT_WEIGHT:g}"]
    return args


def export_splits(export_jsonl: Path) -> dict[str, list[Record]]:
    records = read_records([export_jsonl])
    assign_missing_splits(records, DEV_FRACTION, TEST_FRACTION)
    return by_split(records)


def mixed_steps(steps: int, n_corpus_train: int, n_export_train: int) -> int:
    """Steps that give the corpus + export run the corpus-only run's corpus sentences."""
    return round(steps * (n_corpus_train + EXPORT_WEIGHT * n_export_train) / n_corpus_train)


def micro_f1(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], types: Sequence[str]) -> float:
    """Micro F1 over the given sub-event types only (scikit-learn)."""
    mlb = MultiLabelBinarizer(classes=list(types))
    keep = set(types)
    y_true = mlb.fit_transform([[t for t in g if t in keep] for g in gold])
    y_pred = mlb.transform([[t for t in p if t in keep] for p in pred])
    return float(f1_score(y_true, y_pred, average="micro", zero_division=0))


def score_model(model_dir: Path, export_types: Sequence[str], export_test: Sequence[Record]) -> dict:
    """F1 on the corpus test split over the types absent from the export, and on the export's
    held-out notes over its own types."""
    from model.predictor import EventCoder
    from training.evaluation import predict_records

    coder = EventCoder.from_pretrained(model_dir, backend="torch")
    corpus_test = by_split(read_records([CORPUS_DIR]))["test"]
    absent = [t for t in SUB_EVENT_TYPES if t not in set(export_types)]
    corpus_pred, _ = predict_records(coder, corpus_test)
    export_pred, _ = predict_records(coder, export_test)
    return {
        "corpus_test_absent_types_micro_f1": micro_f1([r.sub_event_types for r in corpus_test], corpus_pred, absent),
        "corpus_test_export_types_micro_f1": micro_f1([r.sub_event_types for r in corpus_test], corpus_pred, export_types),
        "export_test_micro_f1": micro_f1([r.sub_event_types for r in export_test], export_pred, export_types),
        "export_test_notes": len(export_test),
        "corpus_test_sentences": len(corpus_test),
    }


def run_check(work: Path, export_csvs: Sequence[Path], seeds: Sequence[int], steps: int = STEPS) -> dict:
    """Import the export, train both arms for every seed, score them; returns per-seed scores."""
    from training.cli import main

    work.mkdir(parents=True, exist_ok=True)
    export_csv = combine_exports(export_csvs, work / "export.csv")
    export_jsonl = work / "export.jsonl"
    if main(["data", "import", "--from", "acled", str(export_csv), "-o", str(export_jsonl)]) != 0:
        raise RuntimeError("the export did not import")
    export_types = sorted({t for r in read_records([export_jsonl]) for t in r.sub_event_types})
    export = export_splits(export_jsonl)
    held_out = export["test"]
    n_corpus = len(by_split(read_records([CORPUS_DIR]))["train"])
    arm_steps = {"corpus": steps, "corpus+export": mixed_steps(steps, n_corpus, len(export["train"]))}
    out: dict = {"steps": arm_steps, "export_weight": EXPORT_WEIGHT, "export_types": export_types,
                 "export_notes": {k: len(v) for k, v in export.items()}, "seeds": {}}
    for seed in seeds:
        for arm, data in (("corpus", None), ("corpus+export", export_jsonl)):
            model_dir = work / f"{arm.replace('+', '-plus-')}-seed{seed}"
            if (model_dir / "metrics.json").is_file():  # trained by an earlier, interrupted run
                logger.info("reusing %s", model_dir)
            elif main(train_args(model_dir, seed, data, arm_steps[arm])) != 0:
                raise RuntimeError(f"training {arm} (seed {seed}) failed")
            out["seeds"].setdefault(str(seed), {})[arm] = score_model(model_dir, export_types, held_out)
            logger.info("seed %d %s: %s", seed, arm, json.dumps(out["seeds"][str(seed)][arm]))
    return out


def summarise(result: dict) -> dict:
    """Mean and spread over seeds of each arm, and the per-seed change the export brings."""
    arms = ("corpus", "corpus+export")
    keys = ("corpus_test_absent_types_micro_f1", "export_test_micro_f1")
    per_seed = list(result["seeds"].values())
    summary = {}
    for key in keys:
        values = {arm: np.array([s[arm][key] for s in per_seed]) for arm in arms}
        summary[key] = {
            **{f"{arm}_mean": float(v.mean()) for arm, v in values.items()},
            **{f"{arm}_range": float(v.max() - v.min()) for arm, v in values.items()},
            "change_per_seed": (values["corpus+export"] - values["corpus"]).round(4).tolist(),
        }
    return summary
