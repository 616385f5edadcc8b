"""Corpus format v2 (negative families, sentence forms, whole-word spans), its statistics, and the
blind double-labelling tools. Expected numbers are counted by hand from the small files below."""

import pytest

from training.agreement import agreement, blind_sample
from training.corpus import CorpusError, read_corpus_file, read_records
from training.corpus_check import corpus_stats

CORPUS = """\
@doc t-1 | split=train | country=Chad | style=wire
Armed clash form=dateline | [LOCATION N'DJAMENA], [DATE June 3] — [ACTOR Chadian troops] [TRIGGER clashed] with [TARGET rebels] near [LOCATION Mongo] in a battle that lasted from dawn until well after dusk on the third day of the offensive, officials said.
none neg=accident | A fuel tanker exploded on the road to [LOCATION Abéché], killing nine people, police said.
Peaceful protest form=headline | Students [TRIGGER march] in [LOCATION Moundou]
@doc t-2 | split=test | country=Mali | style=acled
Armed clash | On [DATE 4 May 2024], [ACTOR FAMa] [TRIGGER fought] [TARGET JNIM] in [LOCATION Gao].
none neg=statement | The government said the [ACTOR army] would stay in [LOCATION Gao].
"""


def write(tmp_path, text, name="c.txt"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_sentence_attributes_are_read_into_meta(tmp_path):
    recs = read_corpus_file(write(tmp_path, CORPUS))
    assert [r.meta.get("neg") for r in recs] == [None, "accident", None, None, "statement"]
    assert [r.meta.get("form") for r in recs] == ["dateline", None, "headline", None, None]
    assert recs[0].text.startswith("N'DJAMENA, June 3 — Chadian troops")
    assert recs[1].sub_event_types == [] and recs[2].sub_event_types == ["Peaceful protest"]
    assert recs[1].meta["country"] == "Chad"


@pytest.mark.parametrize("line, message", [
    ("Attack neg=crime | Gunmen killed two.", "neg=crime marks a no-event sentence"),
    ("none neg=weather | Rain fell.", "neg='weather' is not one of"),
    ("none form=poem | Rain fell.", "form='poem' is not one of"),
    ("none colour=red | Rain fell.", "unknown sentence attribute 'colour'"),
    ("none neg=crime neg=plan | Rain fell.", "given twice"),
    ("Attack | Men [TRIGGER kill]ed two.", "starts or ends inside a word"),
    ("Attack | Men killed [FATALITIES t]wo.", "starts or ends inside a word"),
    ("Attack | Gun[ACTOR men] killed two.", "starts or ends inside a word"),
])
def test_bad_sentence_lines_name_the_line(tmp_path, line, message):
    p = write(tmp_path, "@doc d-1 | split=train\n" + line + "\n")
    with pytest.raises(CorpusError, match=message) as err:
        read_corpus_file(p)
    assert f"{p}:2:" in str(err.value)


def test_report_id_must_be_a_word(tmp_path):
    with pytest.raises(CorpusError, match=r":1: report id '\|'"):
        read_corpus_file(write(tmp_path, "@doc | split=train\nnone | Rain fell.\n"))


def test_stats_count_lengths_forms_families_and_triggers(tmp_path):
    stats = corpus_stats(read_records(write(tmp_path, CORPUS), require_split=True))
    # sentence word counts: 42, 15, 4, 10, 11
    assert stats["words_over"] == {30: 1, 45: 0, 60: 0}
    assert stats["forms"]["dateline"] == 1 and stats["forms"]["headline"] == 1 and stats["forms"]["quote"] == 0
    assert stats["negative_families"]["accident"] == 1 and stats["negative_families"]["statement"] == 1
    assert stats["negatives_without_family"] == 0
    assert stats["trigger_variety"]["Armed clash"] == 2  # "clashed", "fought"
    assert stats["trigger_variety"]["Peaceful protest"] == 1
    assert stats["trigger_variety"]["Attack"] == 0


def _labelled(tmp_path, name, lines):
    return read_corpus_file(write(tmp_path, "@doc r-1 | split=train\n" + "\n".join(lines) + "\n", name))


def test_agreement_scores_against_hand_counts(tmp_path):
    gold = _labelled(tmp_path, "gold.txt", [
        "Armed clash | [ACTOR Troops] [TRIGGER fought] rebels in [LOCATION Gao].",
        "none neg=plan | The army will advance on [LOCATION Kidal].",
        "Peaceful protest | Teachers [TRIGGER marched] in [LOCATION Bamako].",
        "Armed clash | Rebels [TRIGGER attacked] a post.",
    ])
    review = _labelled(tmp_path, "review.txt", [
        "Armed clash | [ACTOR Troops] [TRIGGER fought] rebels in [LOCATION Gao].",
        "none | The army will advance on [LOCATION Kidal].",
        "Peaceful protest | Teachers [TRIGGER marched] in Bamako.",
        "none | Rebels attacked a post.",
    ])
    result = agreement(gold, review)
    assert result["sentences"] == 4
    assert result["exact_sub_event_set_agreement"] == pytest.approx(0.75)
    # event-type sets: gold B, none, P, B; review B, none, P, none -> p_o = 3/4, p_e = 0.3125
    assert result["event_type_kappa"] == pytest.approx((0.75 - 0.3125) / (1 - 0.3125))
    # 7 gold spans, 5 review spans, all 5 correct -> P 1, R 5/7
    assert result["spans"]["precision"] == pytest.approx(1.0)
    assert result["spans"]["recall"] == pytest.approx(5 / 7)
    assert [d["id"] for d in result["sub_event_disagreements"]] == ["r-1-s4"]


def test_agreement_refuses_changed_text(tmp_path):
    gold = _labelled(tmp_path, "gold.txt", ["Armed clash | Troops fought rebels."])
    review = _labelled(tmp_path, "review.txt", ["Armed clash | Troops fought the rebels."])
    with pytest.raises(CorpusError, match="not in the corpus"):
        agreement(gold, review)


def test_blind_sample_hides_labels_and_reads_back_once_labelled(tmp_path):
    recs = read_records(write(tmp_path, CORPUS), require_split=True)
    blind = blind_sample(recs, 3, seed=1)
    assert "[" not in blind and "neg=" not in blind
    lines = [line for line in blind.splitlines() if line.startswith("? | ")]
    assert len(lines) == 3
    texts = {r.text for r in recs}
    assert all(line[4:] in texts for line in lines)
    filled = blind.replace("? | ", "none | ")
    back = read_corpus_file(write(tmp_path, filled, "filled.txt"))
    assert len(back) == 3 and all(r.split in ("train", "test") for r in back)
    with pytest.raises(CorpusError, match="asked for 9"):
        blind_sample(recs, 9)


def test_data_check_fails_at_the_near_duplicate_limit(tmp_path, capsys):
    from training.cli import main

    body = ("@doc d-1 | split=train\n"
            "none neg=plan | The army will push towards the airbase in the coming days, officials said.\n"
            "none neg=plan | The army will push towards the airbase in the coming days, officials said on Monday.\n"
            "none neg=plan | Rain is expected across the north.\n"
            "none neg=plan | Talks resume next week in the capital.\n")
    p = write(tmp_path, body)
    # 2 of 4 sentences have a near-duplicate: a share of exactly 0.5
    assert main(["data", "check", str(p), "--max-near-duplicate-share", "0.5"]) == 1
    assert "50.00% of sentences have a near-duplicate" in capsys.readouterr().err
    assert main(["data", "check", str(p), "--max-near-duplicate-share", "0.51"]) == 0


@pytest.mark.parametrize("start, end", [(0.0, 4), ("0", 4), (True, 4), (0, 4.5)])
def test_jsonl_span_offsets_must_be_integers(tmp_path, start, end):
    import json

    p = tmp_path / "r.jsonl"
    p.write_text(json.dumps({"id": "a", "text": "Army shelled Gao.", "sub_event_types": [],
                             "spans": [{"start": start, "end": end, "label": "ACTOR"}]}) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"r.jsonl:1: span offsets must be integers"):
        read_records(p)

