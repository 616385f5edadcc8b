"""Several training sources: PATH:WEIGHT, weighted draws, per-source dev scores, the yardstick."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import MINI_CORPUS
from model.errors import WirecoderError
from training.cli import main
from training.sources import parse_sources, weighted_sampler


def test_paths_weights_and_names():
    got = [(s.path, s.weight, s.name) for s in parse_sources(["data/corpus", "notes/acled.jsonl:0.25", "other/acled.jsonl:2"])]
    assert got == [("data/corpus", 1.0, "corpus"), ("notes/acled.jsonl", 0.25, "acled"), ("other/acled.jsonl", 2.0, "acled_2")]


@pytest.mark.parametrize("entries, message", [
    (["a.jsonl:-1"], "weight must be a number >= 0"),
    (["a.jsonl:0", "b.jsonl:0"], "every --data source has weight 0"),
])
def test_bad_weights_are_refused(entries, message):
    with pytest.raises(WirecoderError, match=message):
        parse_sources(entries)


def test_an_existing_path_with_a_colon_is_a_path(tmp_path):
    odd = tmp_path / "notes:2"
    odd.write_text("")
    assert [(s.path, s.weight) for s in parse_sources([str(odd)])] == [(str(odd), 1.0)]


def test_weighted_draws_follow_the_weights():
    draws = Counter(weighted_sampler([1.0, 1.0, 0.0, 0.0], seed=0))
    assert set(draws) <= {0, 1} and sum(draws.values()) == 4
    many = Counter(i < 100 for i in weighted_sampler([3.0] * 100 + [1.0] * 100, seed=1))
    # 200 draws, sentences of the first source three times as likely: about 150 of them.
    assert 125 <= many[True] <= 175


def _second_source(path):
    rows = [
        ("n1", "train", "Police arrested six students in Kisumu on Thursday.", ["Arrests"]),
        ("n2", "train", "Gunmen kidnapped two farmers in Kaduna on Sunday.", ["Abduction/forced disappearance"]),
        ("n3", "dev", "Police fired tear gas at students in Nairobi.", ["Protest with intervention"]),
        ("n4", "dev", "Bandits burned granaries in Zamfara on Monday.", ["Looting/property destruction"]),
    ]
    with open(path, "w", encoding="utf-8") as fh:
        for rid, split, text, subs in rows:
            fh.write(json.dumps({"id": rid, "doc_id": rid, "split": split, "text": text, "sub_event_types": subs,
                                 "spans": []}) + "\n")


def test_each_source_is_scored_on_its_own_dev_and_the_first_is_the_yardstick(tmp_path, tiny_encoder_dir):
    notes = tmp_path / "my_notes.jsonl"
    _second_source(notes)
    out = tmp_path / "run"
    assert main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--data", f"{notes}:0.5",
                 "--output-dir", str(out), "--num_train_epochs", "1", "--per_device_train_batch_size", "4",
                 "--evaluate_after_training", "false", "--disable_tqdm", "true"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["dev_source"] == "mini_corpus"
    assert set(m["dev_by_source"]) == {"mini_corpus", "my_notes"}
    assert "combined_f1" in m["dev_by_source"]["my_notes"]
    assert m["sources"][1] == {"path": str(notes), "name": "my_notes", "weight": 0.5}
    # The checkpoint was chosen on the yardstick's dev split.
    assert any("eval_mini_corpus_combined_f1" in h for h in m["log_history"])


def test_unknown_dev_source_is_a_clear_error(tmp_path, tiny_encoder_dir, capsys):
    notes = tmp_path / "my_notes.jsonl"
    _second_source(notes)
    rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--data", str(notes),
               "--dev_source", "acled", "--output-dir", str(tmp_path / "run")])
    assert rc == 1
    assert "--dev_source 'acled' is not one of the sources: mini_corpus, my_notes (or all)" in capsys.readouterr().err
