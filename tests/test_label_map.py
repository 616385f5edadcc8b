"""Label maps and `wirecoder evaluate --label-map` on foreign data with other span labels."""

import json
from pathlib import Path

import pytest

from tests.conftest import MINI_CORPUS
from training.cli import main
from training.corpus import CorpusError, Record, Span, read_records
from training.evaluation import score
from training.label_map import (
    LabelMap,
    load_label_map,
    map_predicted_spans,
    map_spans,
    parse_label_map,
    read_mapped_records,
)

IMPORT = Path(__file__).parent / "fixtures" / "import"
RE3D_MAP = Path(__file__).resolve().parent.parent / "data" / "label_maps" / "re3d.json"


def test_label_map_renames_merges_and_drops():
    lm = parse_label_map({"PARTICIPANT": ["ACTOR", "TARGET"], "PLACE": "LOCATION", "AMOUNT": None})
    gold = [Span(0, 6, "PARTICIPANT"), Span(7, 12, "PLACE"), Span(13, 15, "AMOUNT"), Span(16, 20, "DATE")]
    assert map_spans(gold, lm) == [Span(0, 6, "PARTICIPANT"), Span(7, 12, "LOCATION"), Span(16, 20, "DATE")]
    pred = [Span(0, 6, "ACTOR"), Span(7, 12, "TARGET"), Span(13, 15, "LOCATION"), Span(16, 20, "TRIGGER")]
    assert [s.label for s in map_predicted_spans(pred, lm)] == ["PARTICIPANT", "PARTICIPANT", "LOCATION", "TRIGGER"]
    assert lm.scored_labels(["PARTICIPANT", "LOCATION", "DATE"]) == ["DATE", "LOCATION", "PARTICIPANT"]
    assert lm.unknown_labels(["PARTICIPANT", "DATE", "MONEY", "GPE"]) == ["GPE", "MONEY"]


@pytest.mark.parametrize("obj, message", [
    (["ACTOR"], "a label map is a JSON object"),
    ({"ORG": "ACTORS"}, "'ORG' maps to unknown label(s) ACTORS"),
    ({"ORG": 3}, "'ORG' must map to one of our span labels"),
    ({"ORG": []}, "'ORG' must map to one of our span labels"),
    ({"ORG": ["ACTOR"], "PER": ["ACTOR", "TARGET"]}, "ACTOR is merged into both 'ORG' and 'PER'"),
    ({"ORG": ["ACTOR"], "AGENT": "ACTOR"}, "'AGENT' -> ACTOR clashes with 'ORG'"),
])
def test_bad_label_maps_are_clear_errors(obj, message):
    with pytest.raises(CorpusError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_label_map(obj, "m.json")


def test_malformed_label_map_file_names_the_line(tmp_path):
    bad = tmp_path / "m.json"
    bad.write_text('{"ORG": "ACTOR",\n "PER": }\n')
    with pytest.raises(CorpusError, match=r"m.json:2: malformed JSON"):
        load_label_map(bad)
    with pytest.raises(CorpusError, match="no such label map"):
        load_label_map(tmp_path / "missing.json")


def test_lists_are_refused_for_import():
    with pytest.raises(CorpusError, match="for `wirecoder evaluate` only"):
        parse_label_map({"P": ["ACTOR", "TARGET"]}).require_single_targets()


def test_shipped_re3d_map():
    lm = load_label_map(RE3D_MAP)
    assert lm.entries["PARTICIPANT"] == ["ACTOR", "TARGET"]
    assert lm.entries["QUANTITY"] is None and lm.entries["NATIONALITY"] is None and lm.entries["OTHER"] is None
    assert lm.scored_labels(["LOCATION", "DATE", "WEAPON", "PARTICIPANT"]) == ["DATE", "LOCATION", "PARTICIPANT", "WEAPON"]


def test_foreign_records_are_mapped_before_they_are_checked():
    lm = load_label_map(IMPORT / "foreign_map.json")
    records, has_sentence_labels = read_mapped_records([IMPORT / "foreign_eval.jsonl"], lm)
    assert not has_sentence_labels
    assert [s.label for s in records[0].spans] == ["PARTICIPANT", "LOCATION", "DATE"]
    assert [s.label for s in records[1].spans] == ["PARTICIPANT", "LOCATION"]  # AMOUNT dropped
    # Repeated sentences are allowed in evaluation data.
    assert records[1].text == records[2].text
    _, has_sentence_labels = read_mapped_records([IMPORT / "foreign_with_events.jsonl"], lm)
    assert has_sentence_labels


def test_unmapped_foreign_labels_are_listed():
    with pytest.raises(CorpusError, match="no mapping for label\\(s\\) AMOUNT, PLACE, WHEN"):
        read_mapped_records([IMPORT / "foreign_eval.jsonl"], parse_label_map({"PARTICIPANT": ["ACTOR", "TARGET"]}))


def test_scoring_merged_labels_per_label_precision_and_recall():
    lm = load_label_map(IMPORT / "foreign_map.json")
    text = "Rebels attacked Kitari on Monday."
    gold = Record("x", "x", text, [], [Span(0, 6, "PARTICIPANT"), Span(16, 22, "LOCATION")])
    pred = [Span(0, 6, "ACTOR"), Span(16, 22, "TARGET"), Span(26, 32, "TRIGGER")]
    s = score([gold], [[]], [map_predicted_spans(pred, lm)], span_labels=lm.scored_labels(["PARTICIPANT", "LOCATION"]),
              score_events=False)
    assert "sub_event_types" not in s
    per = s["spans"]["per_label"]
    assert per["PARTICIPANT"]["precision"] == 0.5 and per["PARTICIPANT"]["recall"] == 1.0
    assert per["LOCATION"]["recall"] == 0.0 and "TRIGGER" not in per


def test_evaluate_with_label_map_scores_spans_only(trained_dir, tmp_path, capsys):
    rc = main(["evaluate", "--model", str(trained_dir), "--data", str(IMPORT / "foreign_eval.jsonl"),
               "--label-map", str(IMPORT / "foreign_map.json"), "--baseline-data", str(MINI_CORPUS),
               "--output-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "sub-event types" not in captured.out and "spans strict precision" in captured.out
    assert "Per span label, strict (precision / recall / F1, support)" in captured.out
    assert "Per span label, overlap (precision / recall / F1, support)" in captured.out
    result = json.loads((tmp_path / "evaluation.json").read_text())
    assert result["model"]["sentences"] == 3 and "sub_event_types" not in result["model"]
    assert set(result["model"]["spans"]["per_label"]) <= {"PARTICIPANT", "LOCATION", "DATE"}
    assert result["model"]["spans"]["per_label"]["PARTICIPANT"]["support"] == 2
    assert not (tmp_path / "confusion_event_types.png").exists()


def test_evaluate_with_label_map_and_sentence_labels_scores_both(trained_dir, tmp_path, capsys):
    rc = main(["evaluate", "--model", str(trained_dir), "--data", str(IMPORT / "foreign_with_events.jsonl"),
               "--label-map", str(IMPORT / "foreign_map.json"), "--baseline-data", str(MINI_CORPUS),
               "--output-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "sub-event types micro F1" in out


def test_evaluate_with_a_bad_label_map_is_a_clear_error(trained_dir, tmp_path, capsys):
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"PARTICIPANT": "PERSON"}))
    rc = main(["evaluate", "--model", str(trained_dir), "--data", str(IMPORT / "foreign_eval.jsonl"),
               "--label-map", str(bad), "--output-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 1 and "maps to unknown label(s) PERSON" in err and "Traceback" not in err


def test_identity_map_keeps_our_labels():
    lm = LabelMap.identity()
    assert map_spans([Span(0, 1, "ACTOR")], lm) == [Span(0, 1, "ACTOR")]


def test_evaluate_scores_real_text_next_to_the_test_split(trained_dir, tmp_path, capsys):
    rc = main(["evaluate", "--model", str(trained_dir), "--data", str(MINI_CORPUS),
               "--real-text", str(IMPORT / "foreign_with_events.jsonl"),
               "--real-text-label-map", str(IMPORT / "foreign_map.json"),
               "--baseline-data", str(MINI_CORPUS), "--output-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "Real text (" in captured.out and "test split, model" in captured.out and "real text, model" in captured.out
    test = json.loads((tmp_path / "evaluation.json").read_text())
    real = json.loads((tmp_path / "real_text" / "evaluation.json").read_text())
    n_test = sum(r.split == "test" for r in read_records(MINI_CORPUS))
    n_real = len((IMPORT / "foreign_with_events.jsonl").read_text().splitlines())
    assert test["model"]["sentences"] == n_test and real["model"]["sentences"] == n_real
    assert "sub_event_types" in real["model"] and set(real["model"]["spans"]["per_label"]) <= {"PARTICIPANT", "LOCATION"}
