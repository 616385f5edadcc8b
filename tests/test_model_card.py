"""The model card is built with huggingface_hub (a valid model-index) and records the command from
the parsed arguments, whoever called the training."""

from __future__ import annotations

import sys

from huggingface_hub import ModelCard

from model.modeling import WirecoderConfig
from training.arguments import parse_train_args
from training.model_card import write_model_card


def scores(f1: float) -> dict:
    block = {"micro_f1": f1, "macro_f1": f1 - 0.1}
    return {"event_types": block, "sub_event_types": block, "spans": {"f1": f1, "per_label": {
        "LOCATION": {"precision": f1, "recall": f1, "f1": f1, "support": 3}}}}


def summary(**extra) -> dict:
    return {"base_model_id": "sentence-transformers/all-MiniLM-L6-v2", "base_model": "/somewhere/on/this/machine",
            "corpus_version": "sha256:0123456789ab", "sentences": {"train": 10, "dev": 2, "test": 2},
            "train_seconds": 1.0, "best_dev_combined_f1": 0.5, **extra}


def test_card_metadata_reads_back_as_a_valid_model_index(tmp_path):
    write_model_card(tmp_path, summary(test={"model": scores(0.8), "baseline": scores(0.6)},
                                       command="wirecoder train --num_train_epochs 3.0"), WirecoderConfig())
    card = ModelCard.load(tmp_path / "README.md")
    results = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert results == {"Event types micro f1": 0.8, "Event types macro f1": 0.7, "Sub-event types micro f1": 0.8,
                       "Sub-event types macro f1": 0.7, "Spans strict micro f1": 0.8}
    first = card.data.eval_results[0]
    assert (first.task_type, first.dataset_split, first.dataset_revision) == ("token-classification", "test", "sha256:0123456789ab")
    assert card.data.model_name == "wirecoder" and card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert "- Command: `wirecoder train --num_train_epochs 3.0`" in card.text
    assert "| Spans strict micro f1 | 0.800 | 0.600 |" in card.text


def test_card_without_test_results_has_no_model_index_and_says_the_command_is_unknown(tmp_path):
    write_model_card(tmp_path, summary(), WirecoderConfig())
    text = (tmp_path / "README.md").read_text()
    assert "model-index" not in text and "not recorded" in text and ModelCard.load(tmp_path / "README.md").data.eval_results is None


def test_command_comes_from_the_parsed_arguments_not_sys_argv(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pytest", "-k", "something"])
    cfg = tmp_path / "train.yaml"
    cfg.write_text("learning_rate: 0.001\n")
    *_, args = parse_train_args(["--output-dir", str(tmp_path / "out dir"), "--num_train_epochs", "3",
                                 "--config", str(cfg), "--data", "a.txt", "--data", "b.jsonl",
                                 "--load_best_model_at_end", "false"])
    assert args.command == (f"wirecoder train --data a.txt b.jsonl --output_dir '{tmp_path / 'out dir'}' "
                            "--num_train_epochs 3.0 --learning_rate 0.001 --load_best_model_at_end false")
    assert parse_train_args([])[2].command == "wirecoder train"
