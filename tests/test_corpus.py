import json

import pytest

from training.corpus import CorpusError, Span, parse_markup, read_records, to_markup
from tests.conftest import MINI_CORPUS


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_markup_gives_text_and_exact_offsets():
    text, spans = parse_markup("[ACTOR Syrian army] [TRIGGER shelled] [LOCATION Deir al-Zor’s] east on [DATE Tuesday].")
    assert text == "Syrian army shelled Deir al-Zor’s east on Tuesday."
    assert [(text[s.start:s.end], s.label) for s in spans] == [
        ("Syrian army", "ACTOR"), ("shelled", "TRIGGER"), ("Deir al-Zor’s", "LOCATION"), ("Tuesday", "DATE")]
    assert to_markup(text, spans) == "[ACTOR Syrian army] [TRIGGER shelled] [LOCATION Deir al-Zor’s] east on [DATE Tuesday]."


def test_mini_corpus_reads_with_reports_and_splits():
    records = read_records(MINI_CORPUS, require_split=True)
    assert len(records) == 22
    first = records[0]
    assert first.id == "mini-0001-s1" and first.doc_id == "mini-0001" and first.split == "train"
    assert first.meta["country"] == "Syria"
    assert {r.split for r in records} == {"train", "dev", "test"}


HEADER = "@doc d1 | split=train | country=Chad | style=wire\n"


@pytest.mark.parametrize(
    "body, message",
    [
        ("Battle royale | Troops fought.\n", "unknown sub-event type 'Battle royale'"),
        ("Armed clash | [SOLDIER Troops] fought.\n", "unknown span label 'SOLDIER'"),
        ("Armed clash | [ACTOR Troops ]fought.\n", "whitespace"),
        ("Armed clash | [ACTOR Troops fought.\n", "malformed span markup"),
        ("none | [TRIGGER Troops] will fight.\n", "TRIGGER span 'Troops' in a sentence labelled with no event"),
        ("none | Troops will fight.\nnone | Troops  will fight.\n", "duplicate sentence"),
        ("Armed clash Troops fought.\n", "expected '<sub-event types or none> | <sentence>'"),
    ],
)
def test_bad_corpus_lines_name_file_and_line(tmp_path, body, message):
    p = write(tmp_path, "bad.txt", HEADER + body)
    with pytest.raises(CorpusError) as err:
        read_records(p)
    assert message in str(err.value)
    assert f"{p}:2" in str(err.value) or f"{p}:3" in str(err.value)


def test_sentence_before_header_is_an_error(tmp_path):
    p = write(tmp_path, "bad.txt", "none | No header here.\n")
    with pytest.raises(CorpusError, match=r"bad.txt:1: sentence before any '@doc' header"):
        read_records(p)


def test_report_straddling_two_splits_is_an_error(tmp_path):
    rows = [{"id": "a1", "doc_id": "d1", "text": "First sentence.", "split": "train"},
            {"id": "a2", "doc_id": "d1", "text": "Second sentence.", "split": "test"}]
    with pytest.raises(CorpusError, match=r"data.jsonl:2: report 'd1' straddles splits"):
        read_records(jsonl(tmp_path, rows))


def test_a_report_declared_twice_is_an_error(tmp_path):
    a = write(tmp_path, "a.txt", HEADER + "none | First sentence of the report.\n")
    b = write(tmp_path, "b.txt", "@doc d1 | split=test | country=Chad\nnone | Second sentence of the report.\n")
    with pytest.raises(CorpusError, match=r"b.txt:2: duplicate id 'd1-s1'"):
        read_records([a, b])


def jsonl(tmp_path, rows):
    p = tmp_path / "data.jsonl"
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return p


GOOD = {"id": "a1", "doc_id": "a", "text": "Gunmen killed two farmers.", "sub_event_types": ["Attack"],
        "spans": [{"start": 0, "end": 6, "label": "ACTOR"}]}


@pytest.mark.parametrize(
    "row, message",
    [
        ('{"id": "x", "text": "Broken', "data.jsonl:1: malformed JSON"),
        ({"id": "x", "sub_event_types": []}, "data.jsonl:1: missing or non-string 'text'"),
        ({**GOOD, "sub_event_types": ["Massacre"]}, "unknown sub-event type 'Massacre'"),
        ({**GOOD, "spans": [{"start": 0, "end": 6, "label": "ACTOR"}, {"start": 3, "end": 13, "label": "TRIGGER"}]}, "overlapping spans"),
        ({**GOOD, "spans": [{"start": 20, "end": 99, "label": "TARGET"}]}, "out of range"),
        ({**GOOD, "spans": [{"start": 6, "end": 13, "label": "TRIGGER"}]}, "whitespace at an edge"),
        ({**GOOD, "spans": [{"start": 0, "end": 6, "label": "PERSON"}]}, "unknown span label 'PERSON'"),
    ],
)
def test_bad_jsonl_records_are_rejected_with_line(tmp_path, row, message):
    with pytest.raises(CorpusError) as err:
        read_records(jsonl(tmp_path, [row]))
    assert message in str(err.value)


def test_duplicate_ids_are_rejected(tmp_path):
    other = {**GOOD, "text": "Gunmen killed three farmers."}
    with pytest.raises(CorpusError, match=r"data.jsonl:2: duplicate id 'a1'"):
        read_records(jsonl(tmp_path, [GOOD, other]))


def test_invalid_utf8_is_rejected(tmp_path):
    p = tmp_path / "data.jsonl"
    p.write_bytes(b'{"id": "a", "text": "caf\xe9"}\n')
    with pytest.raises(CorpusError, match=r"data.jsonl:1: invalid UTF-8"):
        read_records(p)


def test_spans_round_trip_from_jsonl(tmp_path):
    rec = read_records(jsonl(tmp_path, [GOOD]))[0]
    assert rec.spans == [Span(0, 6, "ACTOR")] and rec.split is None
