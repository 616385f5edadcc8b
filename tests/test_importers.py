"""`wirecoder data import` for ACLED CSV, CoNLL/BIO, Label Studio and JSONL; Label Studio export.

Fixtures in tests/fixtures/import/ are short invented texts, including broken files: every one
must end in a clear error (exit 1, file named, no traceback) or a counted skip, never a crash.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from model.taxonomy import SPAN_LABELS, SUB_EVENT_TYPES
from tests.conftest import MINI_CORPUS
from training.cli import main
from training.corpus import CorpusError, read_corpus_file, read_records
from training.importers import acled, conll, import_file
from training.importers.labelstudio import labeling_config
from training.label_map import load_label_map

IMPORT = Path(__file__).parent / "fixtures" / "import"


def run_import(capsys, tmp_path, fmt, name, *extra):
    out = tmp_path / "out.jsonl"
    rc = main(["data", "import", "--from", fmt, str(IMPORT / name), "-o", str(out), *extra])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err, out


def by_id(path):
    return {r.id: r for r in read_records(path)}


def spans_of(r):
    return [(r.text[s.start:s.end], s.label) for s in sorted(r.spans, key=lambda s: s.start)]


# -- ACLED --------------------------------------------------------------------------------------


def test_acled_import_labels_each_note_as_one_event_with_weak_spans(tmp_path, capsys):
    rc, out, err, path = run_import(capsys, tmp_path, "acled", "acled_export.csv")
    assert rc == 0, err
    recs = by_id(path)  # what training reads: valid records
    first = recs["TST1001"]
    # The whole note is one unit carrying the event's type, whichever sentence a name matched in.
    assert first.text == ("On 3 March 2023, military forces of Nigeria clashed with an unidentified armed group near "
                          "Birnin Gwari. Three soldiers were killed. The area has seen repeated fighting.")
    assert first.doc_id == "TST1001" and first.sub_event_types == ["Armed clash"]
    assert spans_of(first) == [("3 March 2023", "DATE"), ("military forces of Nigeria", "ACTOR"),
                               ("unidentified armed group", "TARGET"), ("Birnin Gwari", "LOCATION"),
                               ("Three", "FATALITIES")]
    # No weak span anywhere: the note still reports its event.
    assert recs["TST1002"].sub_event_types == ["Attack"] and recs["TST1002"].spans == []
    # "3" of the date is never taken for the toll; digits match too.
    assert ("5", "FATALITIES") in spans_of(recs["TST1008"]) and ("9 March 2014", "DATE") in spans_of(recs["TST1008"])
    assert "imported 7 records" in out and "skipped 4" in out
    for reason in ("empty notes", "old type 'Remote violence' without a deciding keyword",
                   "unknown event/sub-event type 'Time travel'", "duplicate sentence"):
        assert reason in out


def test_acled_old_taxonomy_is_mapped_to_current_names(tmp_path, capsys):
    rc, out, err, path = run_import(capsys, tmp_path, "acled", "acled_export.csv")
    recs = by_id(path)
    assert recs["TST1004"].sub_event_types == ["Remote explosive/landmine/IED"]  # "IED" in the note
    assert recs["TST1006"].sub_event_types == ["Violent demonstration"]  # stones thrown
    assert recs["TST1007"].sub_event_types == ["Peaceful protest"]
    assert recs["TST1008"].sub_event_types == ["Armed clash"]
    assert recs["TST1009"].sub_event_types == ["Other"]
    # Every value of the old-name map is a current sub-event type or a rule returning one.
    for name, rule in acled.OLD_TAXONOMY.items():
        assert rule in SUB_EVENT_TYPES or callable(rule), name
    assert acled.sub_event_type_of("Violence against civilians", "", "x")[0] == "Attack"
    assert acled.sub_event_type_of("Remote violence", "", "A drone struck a car.")[0] == "Air/drone strike"
    assert acled.sub_event_type_of("Remote violence", "", "Mortar rounds hit a market.")[0] == "Shelling/artillery/missile attack"


def test_acled_actor_brackets_and_dates():
    assert acled.actor_name("Military Forces of Nigeria (2015-2023)") == "Military Forces of Nigeria"
    assert acled.actor_name("Unidentified Armed Group (Nigeria)") == "Unidentified Armed Group"
    row = {"actor1": "Police Forces of Kenya (2022-)", "actor2": "", "event_date": "2024-01-09",
           "location": "Kisumu", "fatalities": "1"}
    text = "On January 9, 2024, police forces of Kenya shot one man in Kisumu."
    spans = [(text[s.start:s.end], s.label) for s in acled.weak_spans(text, row)]
    assert spans == [("January 9, 2024", "DATE"), ("police forces of Kenya", "ACTOR"), ("one", "FATALITIES"),
                     ("Kisumu", "LOCATION")]


def test_acled_wrong_columns_is_a_clear_error(tmp_path, capsys):
    rc, out, err, path = run_import(capsys, tmp_path, "acled", "acled_wrong_columns.csv")
    assert rc == 1 and "Traceback" not in err
    assert "missing ACLED column(s) event_id_cnty, actor2, fatalities" in err and "acled_wrong_columns.csv:1" in err
    assert not path.exists()


def test_acled_file_with_only_empty_notes_imports_nothing(tmp_path, capsys):
    src = tmp_path / "empty.csv"
    src.write_text(",".join(acled.REQUIRED_COLUMNS) + "\nX1,2023-01-01,Battles,Armed clash,A,B,Here,0,\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    rc = main(["data", "import", "--from", "acled", str(src), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "nothing to import" in err and "empty notes (1)" in err and not out.exists()


def _acled_csv(path, notes: str, fatalities: str = "0", event_date: str = "2023-01-01") -> None:
    import csv as csv_module

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv_module.writer(fh)
        w.writerow(acled.REQUIRED_COLUMNS)
        w.writerow(["X1", "2023-01-01", "Battles", "Armed clash", "A", "B", "Here", "0", "Fighting went on near Here."])
        w.writerow(["X2", event_date, "Battles", "Armed clash", "A", "B", "Gao", fatalities, notes])


def test_acled_huge_notes_field_imports_and_a_bad_one_names_its_line(tmp_path, capsys, monkeypatch):
    src = tmp_path / "big.csv"
    note = "Fighters of A clashed with B near Gao " + "and fighting went on " * 12_000 + "all day."
    _acled_csv(src, note)  # 250,000 characters: over the csv module's default limit of 131,072
    out = tmp_path / "o.jsonl"
    assert main(["data", "import", "--from", "acled", str(src), "-o", str(out)]) == 0, capsys.readouterr().err
    assert len(max(out.read_text().splitlines(), key=len)) > 250_000
    monkeypatch.setattr(acled, "FIELD_SIZE_LIMIT", 10_000)
    rc = main(["data", "import", "--from", "acled", str(src), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err and "big.csv:3: " in err and "field" in err


@pytest.mark.parametrize("value, expected", [
    ("2014-03-09T00:00:00", (2014, 3, 9)), ("2014-03-09 00:00:00", (2014, 3, 9)), ("9-Mar-14", (2014, 3, 9)),
    ("March 9 2014", (2014, 3, 9)), ("09.03.2014", (2014, 3, 9)), ("2014/03/09", (2014, 3, 9)),
    ("12/25/2014", (2014, 12, 25)), ("9 March, 2014", (2014, 3, 9)), ("Mar 9, 2014", (2014, 3, 9)),
])
def test_acled_dates_in_other_formats(value, expected):
    from datetime import date

    assert acled.parse_date(value) == date(*expected)


@pytest.mark.parametrize("text, fatalities, event_date, wanted", [
    ("On the 9th of March, twenty-five soldiers were killed in Gao.", "25", "09 March 2014",
     [("9th of March", "DATE"), ("twenty-five", "FATALITIES")]),
    ("Forty two people died in Gao on March 9th.", "42", "2014-03-09", [("Forty two", "FATALITIES"), ("March 9th", "DATE")]),
    ("One hundred and twelve bodies were found in Gao.", "112", "2014-03-09", [("One hundred and twelve", "FATALITIES")]),
    ("A hundred people were killed in Gao on 9 Mar.", "100", "9-Mar-14", [("A hundred", "FATALITIES"), ("9 Mar", "DATE")]),
])
def test_acled_counts_as_words_and_dates_in_the_note_get_spans(text, fatalities, event_date, wanted):
    row = {"actor1": "", "actor2": "", "event_date": event_date, "location": "", "fatalities": fatalities}
    spans = [(text[s.start:s.end], s.label) for s in acled.weak_spans(text, row)]
    assert sorted(spans) == sorted(wanted)
    from model.counts import parse_count

    count = next(t for t, label in wanted if label == "FATALITIES")
    assert parse_count(count) == int(fatalities)  # the span reads back as the row's number


# -- CoNLL --------------------------------------------------------------------------------------


def test_conll_iob2_with_docstart_label_map_and_repair(tmp_path, capsys):
    rc, out, err, path = run_import(capsys, tmp_path, "conll", "conll_iob2.conll", "--label-map",
                                    str(IMPORT / "conll_label_map.json"))
    assert rc == 0, err
    recs = read_records(path)
    assert [r.doc_id for r in recs] == ["conll_iob2-d1", "conll_iob2-d1", "conll_iob2-d2"]
    assert recs[0].text == "Rebels attacked Kitari on Monday."
    assert spans_of(recs[0]) == [("Rebels", "ACTOR"), ("Kitari", "LOCATION"), ("Monday", "DATE")]
    # Quotes, brackets and the possessive are glued; NUM is dropped by the map (null).
    assert recs[1].text == 'The army said two "fighters" were killed near Old Kitari (north).'
    assert spans_of(recs[1]) == [("army", "ACTOR"), ("Old Kitari", "LOCATION")]
    assert recs[2].text == "Police arrested the group's leader in Sefu Town, officials said."
    assert "fixed        1  I-/E- tag not continuing a span of its type" in out
    assert "span dropped by the label map (NUM)" in out


def test_conll_schemes_are_detected_and_decoded():
    lm = load_label_map(IMPORT / "conll_label_map.json")
    iob1 = import_file("conll", IMPORT / "conll_iob1.conll", label_map=lm)
    r = iob1.records[0]
    assert spans_of(r) == [("Gunmen", "ACTOR"), ("Hill Brigade", "ACTOR"), ("Unit", "ACTOR"), ("Malo", "LOCATION")]
    assert not iob1.fixed  # I- starting a span is normal in IOB1
    bioes = import_file("conll", IMPORT / "conll_bioes.conll", label_map=lm)
    assert spans_of(bioes.records[0]) == [("Troops", "ACTOR"), ("North Fala District", "LOCATION"), ("Rivo", "LOCATION"),
                                          ("Friday", "DATE")]
    assert bioes.fixed[conll.REPAIR_OPEN] == 1  # "Rivo" opened with B- and never closed


def test_conll_decode_repairs_bad_sequences():
    fixed = Counter()
    tags = [("O", ""), ("I", "LOC"), ("I", "LOC"), ("I", "ORG"), ("B", "ORG"), ("I", "ORG")]
    assert conll.decode(tags, "iob2", fixed) == [(1, 3, "LOC"), (3, 4, "ORG"), (4, 6, "ORG")]
    assert fixed[conll.REPAIR_STARTS] == 2
    assert conll.detect_scheme([conll.Sentence(0, ["a", "b"], [("I", "X"), ("B", "X")])]) == "iob1"
    assert conll.detect_scheme([conll.Sentence(0, ["a", "b"], [("B", "X"), ("I", "Y")])]) == "iob2"


def test_conll_token_joining_keeps_offsets_exact():
    tokens = ["He", "said", '"', "no", '"', "(", "twice", ")", "and", "did", "n't", "stop", "!"]
    text, offsets = conll.join_tokens(tokens)
    assert text == 'He said "no" (twice) and didn\'t stop!'
    assert [text[a:b] for a, b in offsets] == tokens


@pytest.mark.parametrize("name, message", [
    ("conll_unknown_labels.conll", "label(s) GPE, ORG, WEAPONRY are not ours"),
    ("conll_malformed.conll", "conll_malformed.conll:2: expected a token and a tag"),
    ("conll_bad_tag.conll", "conll_bad_tag.conll:1: malformed tag 'X-ORG'"),
])
def test_conll_broken_files_are_clear_errors(tmp_path, capsys, name, message):
    rc, out, err, path = run_import(capsys, tmp_path, "conll", name)
    assert rc == 1 and message in err and "Traceback" not in err and not path.exists()


def test_conll_label_map_must_name_our_labels(tmp_path, capsys):
    bad = tmp_path / "map.json"
    bad.write_text(json.dumps({"ORG": "ACTORS"}))
    rc, out, err, path = run_import(capsys, tmp_path, "conll", "conll_iob2.conll", "--label-map", str(bad))
    assert rc == 1 and "'ORG' maps to unknown label(s) ACTORS" in err


# -- Label Studio -------------------------------------------------------------------------------


def test_labelstudio_import_tasks_sentences_choices_and_counted_problems(tmp_path, capsys):
    rc, out, err, path = run_import(capsys, tmp_path, "labelstudio", "labelstudio_export.json", "--label-map",
                                    str(IMPORT / "labelstudio_label_map.json"))
    assert rc == 0, err
    recs = by_id(path)
    assert recs["11"].sub_event_types == ["Shelling/artillery/missile attack"]
    # The selection " Kitari" took a space along: trimmed to the word.
    assert spans_of(recs["11"]) == [("Rebels", "ACTOR"), ("shelled", "TRIGGER"), ("Kitari", "LOCATION")]
    # A three-sentence task is split; its choice goes to the sentence holding the trigger.
    assert [recs[f"12-s{i}"].sub_event_types for i in (1, 2, 3)] == [[], ["Arrests"], []]
    assert spans_of(recs["12-s2"]) == [("Police", "ACTOR"), ("arrested", "TRIGGER")] and recs["12-s2"].doc_id == "12"
    assert spans_of(recs["15"]) == [("Protesters", "ACTOR")]
    assert "task without a (non-cancelled) annotation" in out and "task without data.text" in out
    assert "span whose text does not match the task text dropped" in out


@pytest.mark.parametrize("name, message", [
    ("labelstudio_malformed.json", "labelstudio_malformed.json:4: malformed JSON"),
    ("labelstudio_unknown_choice.json", "choice(s) 'Bombardment' are not sub-event types"),
    ("labelstudio_export.json", "label(s) PLACE are not ours"),  # no --label-map for PLACE
])
def test_labelstudio_broken_files_are_clear_errors(tmp_path, capsys, name, message):
    rc, out, err, path = run_import(capsys, tmp_path, "labelstudio", name)
    assert rc == 1 and message in err and "Traceback" not in err and not path.exists()


def test_labeling_config_comes_from_the_taxonomy():
    import xml.etree.ElementTree as ET

    root = ET.fromstring(labeling_config())
    assert [e.get("value") for e in root.iter("Label")] == list(SPAN_LABELS)
    assert [e.get("value") for e in root.iter("Choice")] == list(SUB_EVENT_TYPES)
    assert root.find("Choices").get("choice") == "multiple"


def test_export_labelstudio_writes_tasks_and_config_that_import_back(trained_dir, tmp_path, capsys):
    src = tmp_path / "reports.txt"
    src.write_text("Syrian army troops clashed with Islamic State fighters near Palmyra on Monday. The town is quiet.\n\n"
                   "Police fired tear gas at students in Kisumu.\n", encoding="utf-8")
    out = tmp_path / "tasks.json"
    rc = main(["data", "export-labelstudio", "--model", str(trained_dir), str(src), "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    tasks = json.loads(out.read_text())
    assert [t["data"]["id"] for t in tasks] == ["reports-1-s1", "reports-1-s2", "reports-3-s1"]
    assert tasks[0]["data"]["doc_id"] == "reports-1" and tasks[1]["data"]["text"] == "The town is quiet."
    # What the tasks must hold, from the model itself on the whole reports: each span moved from
    # report offsets to sentence offsets, each sentence's sub-event types, the least score first.
    from model.predictor import EventCoder

    reports = [line for line in src.read_text().splitlines() if line]
    preds = EventCoder.from_pretrained(trained_dir).predict(reports)
    sentences = [(p, k, s) for p in preds for k, s in enumerate(p.sentences)]
    assert len(sentences) == len(tasks)
    for t, (p, k, sent) in zip(tasks, sentences):
        (pred,) = t["predictions"]
        assert set(pred) == {"model_version", "score", "result"}
        spans = [(s.start - sent.start, s.end - sent.start, s.text, s.label) for s in p.spans if s.sentence == k]
        got = [(i["value"]["start"], i["value"]["end"], i["value"]["text"], i["value"]["labels"][0])
               for i in pred["result"] if i["type"] == "labels"]
        assert got == spans
        choices = [i["value"]["choices"] for i in pred["result"] if i["type"] == "choices"]
        assert choices == ([[x.label for x in sent.sub_event_types]] if sent.sub_event_types else [])
        scores = [s.score for s in p.spans if s.sentence == k] + [x.score for x in sent.sub_event_types]
        assert pred["score"] == pytest.approx(min(scores) if scores else 1.0)
    assert (tmp_path / "tasks.labelconfig.xml").read_text().startswith("<View>")
    # Analysts accept the predictions: turning them into annotations must import cleanly.
    for t in tasks:
        t["annotations"] = [{"result": t.pop("predictions")[0]["result"]}]
    (tmp_path / "done.json").write_text(json.dumps(tasks))
    result = import_file("labelstudio", tmp_path / "done.json")
    assert [r.id for r in result.records] == ["reports-1-s1", "reports-1-s2", "reports-3-s1"]


def test_export_labelstudio_from_jsonl_sentences(trained_dir, tmp_path, capsys):
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps({"id": "a-1", "doc_id": "a", "text": "Gunmen attacked Kitari. Nobody was hurt."}) + "\n")
    out = tmp_path / "t.json"
    assert main(["data", "export-labelstudio", "--model", str(trained_dir), str(src), "-o", str(out)]) == 0
    tasks = json.loads(out.read_text())
    assert len(tasks) == 1 and tasks[0]["data"] == {"text": "Gunmen attacked Kitari. Nobody was hurt.", "id": "a-1", "doc_id": "a"}


# -- JSONL --------------------------------------------------------------------------------------


def test_jsonl_is_validated_and_normalised(tmp_path, capsys):
    rc, out, err, path = run_import(capsys, tmp_path, "jsonl", "records.jsonl")
    assert rc == 0, err
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["r-2", "r-3"]
    assert [s["label"] for s in lines[0]["spans"]] == ["ACTOR", "LOCATION"]  # sorted by offset
    assert set(lines[0]) == {"id", "doc_id", "text", "sub_event_types", "spans"}
    assert "skipped      1  duplicate sentence" in out


@pytest.mark.parametrize("name, message", [
    ("records_bad.jsonl", "records_bad.jsonl:2: malformed JSON"),
    ("records_bad_span.jsonl", "records_bad_span.jsonl:1: span 10-60 is out of range"),
])
def test_jsonl_broken_files_are_clear_errors(tmp_path, capsys, name, message):
    rc, out, err, path = run_import(capsys, tmp_path, "jsonl", name)
    assert rc == 1 and message in err and "Traceback" not in err


def test_missing_source_is_a_clear_error(tmp_path, capsys):
    rc, out, err, path = run_import(capsys, tmp_path, "acled", "no_such_file.csv")
    assert rc == 1 and "no such file" in err


def test_import_file_raises_corpus_errors_for_library_users():
    with pytest.raises(CorpusError, match="missing ACLED column"):
        import_file("acled", IMPORT / "acled_wrong_columns.csv")


# -- training on several sources ----------------------------------------------------------------


def test_two_jsonl_sources_without_splits_train_together(tmp_path, tiny_encoder_dir):
    """Each source is split by report (hash of doc_id); both end up in one training run."""
    records = read_corpus_file(MINI_CORPUS)
    sources = []
    for k, part in enumerate((records[::2], records[1::2])):
        path = tmp_path / f"source{k}.jsonl"
        rows = []
        for r in part:
            r.split, r.doc_id = None, r.id  # one report per sentence, no fixed split
            rows.append(json.dumps(r.to_dict()))
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        sources.append(path)
    out = tmp_path / "run"
    rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(sources[0]), "--data", str(sources[1]),
               "--output-dir", str(out), "--num_train_epochs", "1", "--per_device_train_batch_size", "8",
               "--dev_fraction", "0.3", "--test_fraction", "0.2", "--evaluate_after_training", "false",
               "--disable_tqdm", "true", "--save_strategy", "no", "--load_best_model_at_end", "false"])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert sum(metrics["sentences"].values()) == len(records)
    assert metrics["sentences"]["train"] > 0 and metrics["sentences"]["dev"] > 0
    assert (out / "model.safetensors").is_file()


def test_export_input_goes_through_the_shared_jsonl_reader(tmp_path):
    """A byte-order mark is dropped and a bad line is named, as in every other JSONL reader."""
    from training.data_commands import read_export_input

    src = tmp_path / "s.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "a", "text": "Gunmen killed two farmers."}).encode() + b"\n\n[1]\n")
    with pytest.raises(CorpusError, match="s.jsonl:3: expected a JSON object"):
        read_export_input(src)
    src.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "a", "text": "Gunmen killed two farmers."}).encode() + b"\n")
    assert read_export_input(src) == ([("a", "a", "Gunmen killed two farmers.")], True)
