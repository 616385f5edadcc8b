"""The shipped corpus meets the bar set for corpus v2 (issue 8; `wirecoder data check` enforces its rules)."""

import pytest

from model.taxonomy import EVENT_TYPES, SPAN_LABELS, SUB_EVENT_TYPES
from training.cli import main
from training.corpus import CORPUS_DIR, NEGATIVE_FAMILIES, read_records
from training.corpus_check import corpus_stats

# The families issue 8 asks for at least 200 sentences each ("humanitarian" is ours, with no floor).
REQUIRED_FAMILIES = ("accident", "disaster", "crime", "statement", "plan", "background", "judicial")


@pytest.fixture(scope="module")
def stats():
    return corpus_stats(read_records(CORPUS_DIR, require_split=True))


def test_size_reports_and_countries(stats):
    assert stats["sentences"] >= 12000
    assert stats["reports"] >= 1800
    assert stats["countries"] >= 110


def test_every_sub_event_type_has_250_sentences(stats):
    low = {s: n for s, n in stats["sub_event_types"].items() if n < 250}
    assert not low, low


def test_every_sub_event_type_has_40_distinct_triggers(stats):
    low = {s: n for s, n in stats["trigger_variety"].items() if n < 40}
    assert not low, low


def test_every_negative_has_a_family_and_each_family_200(stats):
    assert stats["negatives_without_family"] == 0
    assert set(REQUIRED_FAMILIES) <= set(NEGATIVE_FAMILIES)
    low = {f: stats["negative_families"][f] for f in REQUIRED_FAMILIES if stats["negative_families"][f] < 200}
    assert not low, low


def test_lengths_and_registers_of_real_reports(stats):
    n = stats["sentences"]
    assert stats["words_over"][30] >= 0.20 * n
    assert stats["words_over"][45] >= 0.05 * n
    assert stats["words_over"][60] >= 20
    assert stats["forms"]["headline"] >= 400
    assert stats["forms"]["dateline"] >= 500
    assert stats["styles"].get("acled", 0) >= 2000


def test_each_event_type_appears_30_times_in_test(stats):
    test = stats["splits"]["test"]["event_types"]
    assert all(test[e] >= 30 for e in EVENT_TYPES), test


def test_negatives_multi_events_and_near_duplicates(stats):
    assert stats["no_event_share"] >= 0.30
    assert stats["multi_event_share"] >= 0.08
    assert stats["near_duplicate_sentence_share"] < 0.01


def test_splits_are_about_80_10_10_by_report(stats):
    n = stats["reports"]
    shares = {s: stats["splits"][s]["reports"] / n for s in ("train", "dev", "test")}
    assert 0.7 <= shares["train"] <= 0.85 and 0.08 <= shares["dev"] <= 0.15 and 0.08 <= shares["test"] <= 0.15


def test_all_span_labels_are_used(stats):
    assert all(stats["spans"][lab] >= 300 for lab in SPAN_LABELS), stats["spans"]


def test_counts_are_tagged_where_sentences_give_them():
    """Event sentences that say '<number> killed/dead' carry a FATALITIES span."""
    import re

    records = read_records(CORPUS_DIR)
    pattern = re.compile(r"\b(\d+|two|three|four|five|six|seven|eight|nine|ten)\b (?:\w+ ){0,2}(?:were |was )?(?:killed|dead)\b", re.I)
    missing = [r.id for r in records if r.sub_event_types and pattern.search(r.text) and not any(s.label == "FATALITIES" for s in r.spans)]
    assert len(missing) <= 0.05 * sum(bool(pattern.search(r.text)) for r in records if r.sub_event_types), missing[:20]


def test_data_check_command_prints_the_statistics(capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    assert "sentences" in out and "near-duplicate pairs" in out
    for sub in SUB_EVENT_TYPES:
        assert sub in out


def test_no_sentence_copies_the_reference_data():
    """Corpus sentences are our own: none shares 20 % of its word 5-grams with the re3d reference set."""
    import json
    import re
    from pathlib import Path

    ref = Path(__file__).resolve().parents[2] / "shared" / "reference" / "re3d-public-domain.jsonl"
    if not ref.is_file():
        pytest.skip("../shared/reference is not beside this checkout")

    def grams(text):
        words = re.findall(r"\w+", text.lower())
        return {tuple(words[i:i + 5]) for i in range(len(words) - 4)}

    ref_grams = set().union(*(grams(json.loads(line)["text"]) for line in ref.open(encoding="utf-8")))
    close = [r.source for r in read_records(CORPUS_DIR) if (g := grams(r.text)) and len(g & ref_grams) / len(g) >= 0.2]
    assert not close, close
