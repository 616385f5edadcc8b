import numpy as np

from training.corpus import Record, Span
from training.evaluation import event_confusion, score, word_bio


def rec(text, subs, spans):
    return Record(id=text[:5], doc_id="d", text=text, sub_event_types=subs, spans=spans)


def test_word_bio_tags_words_by_span():
    text = "Al-Shabaab attacked Afgoye."
    assert word_bio(text, [Span(0, 10, "ACTOR"), Span(20, 26, "LOCATION")]) == [
        "B-ACTOR", "I-ACTOR", "I-ACTOR", "O", "B-LOCATION", "O"]


def test_scores_are_strict_on_span_boundaries_and_labels():
    r = rec("Gunmen killed two farmers in Gao.", ["Attack"], [Span(0, 6, "ACTOR"), Span(29, 32, "LOCATION")])
    perfect = score([r], [["Attack"]], [[Span(0, 6, "ACTOR"), Span(29, 32, "LOCATION")]])
    assert perfect["spans"]["f1"] == 1.0 and perfect["sub_event_types"]["micro_f1"] == 1.0
    half = score([r], [["Attack", "Arrests"]], [[Span(0, 13, "ACTOR"), Span(29, 32, "LOCATION")]])
    assert half["spans"]["precision"] == 0.5 and half["spans"]["recall"] == 0.5
    assert half["sub_event_types"]["micro_precision"] == 0.5 and half["event_types"]["micro_recall"] == 1.0


def test_span_scoring_can_be_restricted_to_some_labels():
    r = rec("Gunmen killed two farmers in Gao.", ["Attack"], [Span(0, 6, "ACTOR"), Span(29, 32, "LOCATION")])
    s = score([r], [["Attack"]], [[Span(29, 32, "LOCATION")]], span_labels=["LOCATION"])
    assert s["spans"]["f1"] == 1.0 and set(s["spans"]["per_label"]) == {"LOCATION"}


def test_event_confusion_counts_hits_misses_and_false_alarms():
    names, cm = event_confusion([["Battles"], ["Riots"], []], [["Battles"], ["Protests"], ["Battles"]])
    i = names.index
    assert cm[i("Battles"), i("Battles")] == 1
    assert cm[i("Riots"), i("Protests")] == 1
    assert cm[i("none"), i("Battles")] == 1
    assert cm.sum() == 3 and isinstance(cm, np.ndarray)


def test_overlap_scores_credit_wider_or_narrower_spans_of_the_same_label():
    r = rec("The Kurdish YPG shelled Afrin.", ["Shelling/artillery/missile attack"], [Span(0, 15, "ACTOR"), Span(24, 29, "LOCATION")])
    s = score([r], [["Shelling/artillery/missile attack"]], [[Span(4, 15, "ACTOR"), Span(24, 29, "TARGET")]])
    assert s["spans"]["f1"] == 0.0  # strict: no exact match
    ov = s["spans_overlap"]
    assert ov["per_label"]["ACTOR"]["recall"] == 1.0 and ov["per_label"]["LOCATION"]["recall"] == 0.0
    assert ov["precision"] == 0.5 and ov["recall"] == 0.5


def test_the_baseline_module_does_not_import_the_evaluation():
    """training/baseline.py and training/evaluation.py used to import each other."""
    import subprocess
    import sys

    code = "import sys, training.baseline; assert 'training.evaluation' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_evaluation_scores_the_baseline_it_is_given_and_trains_none(tiny_coder, tmp_path):
    from training.evaluation import evaluate_all

    records = [rec("Gunmen killed two farmers in Gao.", ["Attack"], [Span(0, 6, "ACTOR"), Span(29, 32, "LOCATION")]),
               rec("Police arrested a man in Kano.", ["Arrests"], [Span(0, 6, "ACTOR"), Span(25, 29, "LOCATION")])]

    class Oracle:
        """A 'baseline' that returns the gold labels: its scores must be perfect."""

        def predict(self, texts):
            gold = {r.text: r for r in records}
            return [gold[t].sub_event_types for t in texts], [gold[t].spans for t in texts]

    result = evaluate_all(tiny_coder, records, Oracle(), tmp_path)
    assert result["baseline"]["spans"]["f1"] == 1.0 and result["baseline"]["sub_event_types"]["micro_f1"] == 1.0
    assert "baseline" not in evaluate_all(tiny_coder, records, None, tmp_path / "alone")
    assert (tmp_path / "evaluation.txt").read_text().startswith("Test sentences: 2")
