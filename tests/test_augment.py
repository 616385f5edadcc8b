"""Mention replacement: labels kept, offsets exact, a new variant each time, off by default."""

from __future__ import annotations

import json

import numpy as np

from conftest import MINI_CORPUS
from model.taxonomy import SUB_EVENT_TYPES
from training.augment import MentionReplacementDataset, mention_inventory, replace_mentions
from training.corpus import Record, Span
from training.features import example_encoder


def _record(text, spans, labels=("Armed clash",)):
    marks = [Span(text.index(s), text.index(s) + len(s), lab) for s, lab in spans]
    return Record(id="r", doc_id="d", text=text, sub_event_types=list(labels), spans=marks)


class FixedDraws:
    """A stand-in generator: always replaces, and picks the given forms in order."""

    def __init__(self, picks):
        self.picks = list(picks)

    def random(self):
        return 0.0

    def integers(self, n):
        return self.picks.pop(0)


def test_replacement_rewrites_text_and_moves_every_span():
    r = _record("Militants attacked Gao on Monday, killing 3 soldiers.",
                [("Militants", "ACTOR"), ("attacked", "TRIGGER"), ("Gao", "LOCATION"), ("Monday", "DATE"),
                 ("3", "FATALITIES"), ("soldiers", "TARGET")])
    inventory = {"ACTOR": ["JNIM fighters"], "LOCATION": ["Tillaberi region"], "DATE": ["late on 4 March"],
                 "TARGET": ["border guards"]}
    text, spans = replace_mentions(r.text, r.spans, inventory, FixedDraws([0, 0, 0, 0]), rate=1.0)
    assert text == "JNIM fighters attacked Tillaberi region on late on 4 March, killing 3 border guards."
    got = [(text[s.start:s.end], s.label) for s in spans]
    assert got == [("JNIM fighters", "ACTOR"), ("attacked", "TRIGGER"), ("Tillaberi region", "LOCATION"),
                   ("late on 4 March", "DATE"), ("3", "FATALITIES"), ("border guards", "TARGET")]


def test_rate_zero_changes_nothing():
    r = _record("Police arrested two journalists in Harare.", [("Police", "ACTOR"), ("Harare", "LOCATION")])
    text, spans = replace_mentions(r.text, r.spans, {"ACTOR": ["Soldiers"], "LOCATION": ["Bulawayo"]},
                                   np.random.default_rng(0), rate=0.0)
    assert text == r.text and spans == sorted(r.spans, key=lambda s: s.start)


def test_inventory_holds_distinct_forms_of_replaceable_labels_only():
    a = _record("Police fired on protesters in Lagos.", [("Police", "ACTOR"), ("fired", "TRIGGER"), ("Lagos", "LOCATION")])
    b = _record("Police detained 4 people in Abuja.", [("Police", "ACTOR"), ("4", "INJURED"), ("Abuja", "LOCATION")])
    assert mention_inventory([a, b]) == {"ACTOR": ["Police"], "LOCATION": ["Abuja", "Lagos"]}


def test_dataset_gives_a_fresh_variant_with_the_sentence_labels(tiny_coder):
    r = _record("Gunmen killed two farmers near Gao.", [("Gunmen", "ACTOR"), ("Gao", "LOCATION")], ["Attack"])
    inventory = {"ACTOR": ["police", "army", "militia", "rebels", "soldiers"], "LOCATION": ["kidal", "mopti", "segou"]}
    encode = example_encoder(tiny_coder.tokenizer, tiny_coder.config.label2id, 64)
    ds = MentionReplacementDataset([r], encode, inventory, rate=1.0, seed=1)
    variants = {tuple(ds[0]["input_ids"]) for _ in range(20)}
    assert len(variants) > 3  # a new draw each time the sentence is seen
    item = ds[0]
    expected = [1.0 if name == "Attack" else 0.0 for name in SUB_EVENT_TYPES]
    assert item["labels"] == expected
    # The first word is an ACTOR in every variant: its first sub-word carries B-ACTOR.
    b_actor = tiny_coder.config.label2id["B-ACTOR"]
    assert item["tag_labels"][1] == b_actor


def test_training_with_mention_replacement_runs(tmp_path, tiny_encoder_dir):
    from training.cli import main

    out = tmp_path / "run"
    rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
               "--num_train_epochs", "1", "--per_device_train_batch_size", "4", "--mention_replacement", "0.5",
               "--evaluate_after_training", "false", "--disable_tqdm", "true", "--save_strategy", "no",
               "--load_best_model_at_end", "false"])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert "--mention_replacement 0.5" in metrics["command"]
