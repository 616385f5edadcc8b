"""`wirecoder train` and `wirecoder evaluate` end to end on the tiny encoder and the mini corpus."""

import json

import pytest

from model.predictor import EventCoder
from training.cli import main
from tests.conftest import MINI_CORPUS


def test_train_writes_model_metrics_curve_and_card(trained_dir):
    for name in ("model.safetensors", "config.json", "tokenizer.json", "metrics.json", "training_curve.png",
                 "README.md", "evaluation.json", "evaluation.txt", "confusion_event_types.png"):
        assert (trained_dir / name).is_file(), name
    # No pickles in the delivered model, and intermediate checkpoints are cleaned up.
    assert not list(trained_dir.glob("*.bin")) and not list(trained_dir.glob("checkpoint-*"))
    metrics = json.loads((trained_dir / "metrics.json").read_text())
    assert metrics["sentences"] == {"train": 12, "dev": 5, "test": 5}
    assert set(metrics["test"]) == {"model", "baseline"}
    assert len(metrics["thresholds"]) == 25
    card = (trained_dir / "README.md").read_text()
    assert card.startswith("---\nbase_model:") and "library_name: transformers" in card
    assert "corpus_version: sha256:" in card and "| Spans strict micro f1 |" in card
    config = json.loads((trained_dir / "config.json").read_text())
    assert config["thresholds"] == list(metrics["thresholds"].values())


def test_trained_model_reloads_and_scores_what_the_in_memory_model_scored(trained_dir):
    """metrics.json holds the test scores of the model still in memory after training; the model
    loaded back from disk must score exactly the same."""
    from training.corpus import read_records
    from training.evaluation import predict_records, score

    in_memory = json.loads((trained_dir / "metrics.json").read_text())["test"]["model"]
    test = [r for r in read_records(MINI_CORPUS) if r.split == "test"]
    subs, spans = predict_records(EventCoder.from_pretrained(trained_dir), test)
    reloaded = score(test, subs, spans)
    for key in ("sub_event_types", "event_types", "spans", "spans_overlap", "event_detection_accuracy"):
        assert reloaded[key] == in_memory[key], key


def test_training_learns_the_mini_corpus(tmp_path, tiny_encoder_dir):
    """Many epochs on a few sentences: the loss must fall a lot (the pipeline really trains)."""
    out = tmp_path / "run"
    rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
               "--num_train_epochs", "30", "--learning_rate", "3e-3", "--per_device_train_batch_size", "4",
               "--evaluate_after_training", "false", "--disable_tqdm", "true", "--save_strategy", "no",
               "--load_best_model_at_end", "false"])
    assert rc == 0
    losses = [h["loss"] for h in json.loads((out / "metrics.json").read_text())["log_history"] if "loss" in h]
    assert losses[-1] < 0.5 * losses[0]


def test_evaluate_command_reports_model_and_baseline(trained_dir, tmp_path, capsys):
    rc = main(["evaluate", "--model", str(trained_dir), "--data", str(MINI_CORPUS), "--baseline-data", str(MINI_CORPUS),
               "--output-dir", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "sub-event types micro F1" in out and "baseline" in out
    result = json.loads((tmp_path / "evaluation.json").read_text())
    assert result["model"]["sentences"] == 5
    assert (tmp_path / "confusion_event_types.png").stat().st_size > 1000


def test_config_file_is_read_and_flags_override_it(tmp_path):
    from training.arguments import parse_train_args

    cfg = tmp_path / "train.json"
    cfg.write_text(json.dumps({"num_train_epochs": 3, "learning_rate": 0.001, "output_dir": "x"}))
    m, d, t = parse_train_args(["--config", str(cfg), "--learning_rate", "0.01", "--data", "a", "--data", "b"])
    assert t.num_train_epochs == 3 and t.learning_rate == 0.01 and t.output_dir == "x"
    assert d.data == ["a", "b"]


def run_cli(argv, capsys):
    rc = main(argv)
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize("setup, message", [
    (lambda tmp, enc: str(tmp / "nowhere"), "no such directory"),
    (lambda tmp, enc: str(tmp), "not a Hugging Face model directory"),
])
def test_bad_base_model_is_a_clear_error(tmp_path, tiny_encoder_dir, capsys, setup, message):
    rc, err = run_cli(["train", "--base-model", setup(tmp_path, tiny_encoder_dir), "--data", str(MINI_CORPUS),
                       "--output-dir", str(tmp_path / "out")], capsys)
    assert rc == 1 and message in err and "Traceback" not in err


def test_trained_model_as_base_model_is_refused(trained_dir, tmp_path, capsys):
    rc, err = run_cli(["train", "--base-model", str(trained_dir), "--data", str(MINI_CORPUS),
                       "--output-dir", str(tmp_path / "out")], capsys)
    assert rc == 1 and "a trained wirecoder model, not a base encoder" in err


def test_bad_training_data_stops_before_training(tmp_path, tiny_encoder_dir, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("@doc x | split=train\nArmed clash | [ACTOR Troops] [TRIGER fought].\n", encoding="utf-8")
    rc, err = run_cli(["train", "--base-model", str(tiny_encoder_dir), "--data", str(bad), "--output-dir", str(tmp_path / "o")], capsys)
    assert rc == 1 and f"{bad}:2: unknown span label 'TRIGER'" in err
    assert not (tmp_path / "o").exists()


def test_evaluate_refuses_a_non_wirecoder_model(tiny_encoder_dir, tmp_path, capsys):
    rc, err = run_cli(["evaluate", "--model", str(tiny_encoder_dir), "--output-dir", str(tmp_path)], capsys)
    assert rc == 1 and "not a wirecoder model" in err and "Traceback" not in err


def test_saved_thresholds_are_tuned_on_dev_predictions_in_dev_order(trained_dir):
    """Thresholds come from the dev sentences' own scores (a reordering bug once paired them wrongly)."""
    import numpy as np

    from training.corpus import read_records
    from model.taxonomy import multi_hot
    from training.thresholds import tune_thresholds

    coder = EventCoder.from_pretrained(trained_dir)
    dev = [r for r in read_records(MINI_CORPUS) if r.split == "dev"]
    enc = coder.tokenizer([r.text for r in dev], padding=True, return_tensors="pt")
    import torch

    with torch.no_grad():
        probs = torch.sigmoid(coder.model(**enc).sentence_logits).numpy()
    labels = multi_hot([r.sub_event_types for r in dev])
    expected = tune_thresholds(probs, labels)
    assert np.allclose(coder.config.thresholds, expected)
