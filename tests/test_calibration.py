"""Calibration: temperature fitted on dev, reliability/ECE, threshold shrinkage, `wirecoder calibrate`."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import MINI_CORPUS
from training.calibration import fit_temperature, reliability
from training.cli import main
from training.thresholds import tune_thresholds


def test_fitted_temperature_undoes_a_known_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, size=(20000, 3))
    labels = (rng.random(true_logits.shape) < 1 / (1 + np.exp(-true_logits))).astype(int)
    # A model three times too sure of itself: the fitted temperature must be close to 3.
    assert fit_temperature(3 * true_logits, labels) == pytest.approx(3.0, rel=0.06)
    assert fit_temperature(true_logits, labels) == pytest.approx(1.0, rel=0.06)


def test_reliability_bins_and_ece_by_hand():
    rel = reliability(np.array([0.05, 0.15, 0.95, 0.95]), np.array([0, 0, 1, 0]), bins=10)
    assert rel["count"] == [1, 1, 2]
    assert rel["observed"] == [0.0, 0.0, 0.5]
    # |0.05-0| + |0.15-0| + 2*|0.95-0.5|, over 4 scores.
    assert rel["ece"] == pytest.approx((0.05 + 0.15 + 0.9) / 4)


def test_threshold_shrinkage_moves_a_class_toward_the_global_threshold():
    # Class 0: 10 positives at 0.3, 10 negatives at 0.2 -> its own best threshold is 0.25 (first
    # grid point that separates them, closest to the global one). Class 1 has many positives at 0.85
    # and negatives at 0.75 and dominates the global (micro) optimum of 0.8.
    n0, n1 = 10, 200
    probs = np.zeros((2 * n0 + 2 * n1, 2))
    labels = np.zeros_like(probs, dtype=int)
    probs[:n0, 0], labels[:n0, 0] = 0.3, 1
    probs[n0 : 2 * n0, 0] = 0.2
    probs[2 * n0 : 2 * n0 + n1, 1], labels[2 * n0 : 2 * n0 + n1, 1] = 0.85, 1
    probs[2 * n0 + n1 :, 1] = 0.75
    plain = tune_thresholds(probs, labels)
    assert plain[0] == pytest.approx(0.3) and plain[1] == pytest.approx(0.8)
    shrunk = tune_thresholds(probs, labels, shrink=10)
    # (10 * 0.3 + 10 * 0.8) / (10 + 10) for class 0; class 1 already sits at the global value.
    assert shrunk[0] == pytest.approx(0.55) and shrunk[1] == pytest.approx(0.8)


def test_calibrate_command_rewrites_temperature_and_scores_follow_it(trained_dir, tmp_path, capsys):
    from model.predictor import EventCoder

    model = tmp_path / "model"
    shutil.copytree(trained_dir, model)
    before = EventCoder.from_pretrained(model, device="cpu")
    texts = ["Gunmen killed two farmers near Gao on Monday.", "Protesters marched in Bamako."]
    scores = before.sentence_scores(texts)
    raw_logits = np.log(scores / (1 - scores)) * before.temperature  # what the head itself said
    assert main(["calibrate", "--model", str(model), "--data", str(MINI_CORPUS), "--threshold-shrink", "5", "--temperature"]) == 0
    assert f"temperature {before.temperature:.3f} ->" in capsys.readouterr().out
    cfg = json.loads((model / "config.json").read_text())
    t = cfg["temperature"]
    assert t > 0 and t != 1.0
    after = EventCoder.from_pretrained(model, device="cpu")
    expected = 1 / (1 + np.exp(-raw_logits / t))
    np.testing.assert_allclose(after.sentence_scores(texts), expected, rtol=1e-4, atol=1e-5)
    assert after.thresholds.tolist() == pytest.approx(cfg["thresholds"])


def test_calibrate_refuses_data_without_dev(trained_dir, tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "Police arrested a man.", "sub_event_types": ["Arrests"],
                                "spans": [], "split": "train"}) + "\n")
    assert main(["calibrate", "--model", str(trained_dir), "--data", str(data)]) == 1
    assert "no dev sentences" in capsys.readouterr().err


def test_evaluate_writes_reliability_figure_and_ece(trained_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(trained_dir), "--data", str(MINI_CORPUS), "--baseline-data", str(MINI_CORPUS),
                 "--output-dir", str(out)]) == 0
    assert "ECE, top score per sentence" in capsys.readouterr().out
    assert (out / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rel = json.loads((out / "evaluation.json").read_text())["model"]["calibration"]
    assert 0 < sum(rel["count"]) and sum(rel["count"]) % 25 == 0  # every sentence x every sub-event type


def test_top_label_is_each_sentences_highest_score_and_whether_it_is_gold():
    from training.calibration import top_label

    conf, hit = top_label(np.array([[0.1, 0.7, 0.2], [0.9, 0.05, 0.3]]), np.array([[0, 0, 1], [1, 0, 0]]))
    assert conf.tolist() == [0.7, 0.9] and hit.tolist() == [0, 1]


def test_training_with_temperature_scaling_stores_the_fitted_temperature(tmp_path, tiny_encoder_dir):
    out = tmp_path / "run"
    assert main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
                 "--num_train_epochs", "1", "--per_device_train_batch_size", "4", "--temperature_scaling", "true",
                 "--evaluate_after_training", "false", "--disable_tqdm", "true", "--save_strategy", "no",
                 "--load_best_model_at_end", "false"]) == 0
    t = json.loads((out / "config.json").read_text())["temperature"]
    assert t == json.loads((out / "metrics.json").read_text())["temperature"]
    assert t != 1.0 and 0.05 <= t <= 20
