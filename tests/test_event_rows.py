"""One ACLED row per event: constructed multi-sentence reports and the rows a coder would write.

The merging is tested on constructed sentence results (sub-event types and spans stated by hand),
since the tiny random model predicts nothing meaningful; the plumbing of document dates through
``predict`` and the command line is tested with models forced to predict known tags.
"""

import csv
import json

import pytest

from model.errors import WirecoderError
from model.events import build_events
from model.results import ScoredLabel, SentenceResult, SpanResult

DOC_DATE = "2024-03-06"  # a Wednesday


def report(*sentences, document_date=DOC_DATE, geocode=True, doc_key="doc"):
    """Rows of a document given as (sentence text, [sub-event types], {label: [span texts]})."""
    text, sents, spans = "", [], []
    for i, (sentence, subs, labelled) in enumerate(sentences):
        start = len(text) + (1 if text else 0)
        text = f"{text} {sentence}" if text else sentence
        sents.append(SentenceResult(start, start + len(sentence), sentence, [],
                                    [ScoredLabel(s, 0.9 - 0.1 * k) for k, s in enumerate(subs)]))
        for label, found in labelled.items():
            for span in found:
                at = start + sentence.index(span)
                spans.append(SpanResult(at, at + len(span), span, label, 0.9, i))
    spans.sort(key=lambda s: s.start)
    return text, build_events(text, sents, spans, document_date, doc_key, geocode=geocode)


def test_a_toll_repeated_by_a_second_sentence_is_one_event_with_the_larger_count():
    text, rows = report(
        ("Gunmen killed five soldiers near Gao on Tuesday.", ["Attack"],
         {"ACTOR": ["Gunmen"], "FATALITIES": ["five soldiers"], "LOCATION": ["near Gao"], "DATE": ["on Tuesday"]}),
        ("Officials said seven soldiers died in the attack.", ["Attack"], {"FATALITIES": ["seven soldiers"]}),
    )
    assert len(rows) == 1
    r = rows[0]
    assert (r.sub_event_type, r.event_type) == ("Attack", "Violence against civilians")
    assert r.sentences == [0, 1] and r.fatalities == 7 and r.fatalities_text == "seven soldiers"  # not 12
    assert r.notes == text
    assert (r.event_date, r.year, r.time_precision, r.date_source) == ("2024-03-05", 2024, 1, "span")
    assert (r.location, r.country, r.admin1, r.geo_precision, r.geonames_id) == ("Gao", "Mali", "Gao", 2, 2457163)
    assert r.event_id.startswith("MLI") and len(r.event_id) == 11
    assert [(s.label, text[s.start:s.end]) for s in r.evidence] == [
        ("ACTOR", "Gunmen"), ("FATALITIES", "five soldiers"), ("LOCATION", "near Gao"), ("DATE", "on Tuesday"),
        ("FATALITIES", "seven soldiers")]


def test_attacks_on_two_days_in_two_towns_stay_two_and_a_bare_follow_up_joins_the_latest():
    _, rows = report(
        ("Militants attacked Gao on Monday.", ["Attack"], {"ACTOR": ["Militants"], "LOCATION": ["Gao"], "DATE": ["on Monday"]}),
        ("On Tuesday militants attacked Mopti.", ["Attack"], {"ACTOR": ["militants"], "LOCATION": ["Mopti"], "DATE": ["On Tuesday"]}),
        ("Three civilians died there.", ["Attack"], {"FATALITIES": ["Three civilians"]}),
    )
    assert [(r.location, r.event_date, r.sentences, r.fatalities) for r in rows] == [
        ("Gao", "2024-03-04", [0], None), ("Mopti", "2024-03-05", [1, 2], 3)]


def test_same_place_different_days_and_different_actors_are_distinct():
    _, rows = report(
        ("JNIM fighters attacked Gao on Monday.", ["Attack"], {"ACTOR": ["JNIM fighters"], "LOCATION": ["Gao"], "DATE": ["on Monday"]}),
        ("JNIM fighters attacked Gao again on Wednesday.", ["Attack"],
         {"ACTOR": ["JNIM fighters"], "LOCATION": ["Gao"], "DATE": ["on Wednesday"]}),
        ("Islamic State fighters attacked Gao on Wednesday.", ["Attack"],
         {"ACTOR": ["Islamic State fighters"], "LOCATION": ["Gao"], "DATE": ["on Wednesday"]}),
    )
    assert [(r.actor1, r.event_date) for r in rows] == [
        ("JNIM fighters", "2024-03-04"), ("JNIM fighters", "2024-03-06"), ("Islamic State fighters", "2024-03-06")]


def test_two_types_in_one_sentence_are_two_rows_and_merge_with_their_own_kind():
    _, rows = report(
        ("Troops clashed with Al-Shabaab near Afgoye and shelled the town.", ["Armed clash", "Shelling/artillery/missile attack"],
         {"ACTOR": ["Troops"], "TARGET": ["Al-Shabaab"], "LOCATION": ["near Afgoye"]}),
        ("Al-Shabaab fighters lost 12 men in the clash.", ["Armed clash"],
         {"TARGET": ["Al-Shabaab fighters"], "FATALITIES": ["12 men"]}),
    )
    assert [(r.sub_event_type, r.sentences, r.fatalities) for r in rows] == [
        ("Armed clash", [0, 1], 12), ("Shelling/artillery/missile attack", [0], None)]
    assert rows[0].actor2 == "Al-Shabaab"  # "Al-Shabaab fighters" is the same actor
    assert (rows[0].country, rows[0].geo_precision) == ("Somalia", 2)


def test_a_region_and_a_town_inside_it_are_one_place_the_town_kept():
    _, rows = report(
        ("Boko Haram attacked a village in Borno State on Sunday.", ["Attack"],
         {"ACTOR": ["Boko Haram"], "LOCATION": ["Borno State"], "DATE": ["on Sunday"]}),
        ("The attack on Sunday was near Maiduguri, police said.", ["Attack"],
         {"LOCATION": ["near Maiduguri"], "DATE": ["on Sunday"]}),
        ("Separately, Boko Haram attacked Kano on Sunday.", ["Attack"],
         {"ACTOR": ["Boko Haram"], "LOCATION": ["Kano"], "DATE": ["on Sunday"]}),
    )
    assert [(r.location, r.admin1, r.geo_precision, r.sentences) for r in rows] == [
        ("Maiduguri", "Borno", 2, [0, 1]), ("Kano", "Kano", 1, [2])]


def test_without_a_date_span_the_document_date_is_used_with_week_precision():
    _, rows = report(("Police arrested two protesters in Nairobi.", ["Arrests"], {"LOCATION": ["Nairobi"]}))
    assert (rows[0].event_date, rows[0].time_precision, rows[0].date_source, rows[0].date) == (DOC_DATE, 2, "document", None)


def test_without_a_document_date_no_date_is_invented_and_raw_texts_decide():
    _, rows = report(
        ("Gunmen attacked Gao on Monday.", ["Attack"], {"LOCATION": ["Gao"], "DATE": ["on Monday"]}),
        ("Gunmen attacked Gao on Tuesday.", ["Attack"], {"LOCATION": ["Gao"], "DATE": ["on Tuesday"]}),
        ("Gunmen attacked Gao on Tuesday, officials said.", ["Attack"], {"LOCATION": ["Gao"], "DATE": ["on Tuesday"]}),
        document_date=None,
    )
    assert [(r.event_date, r.year, r.time_precision, r.date, r.sentences) for r in rows] == [
        (None, None, None, "on Monday", [0]), (None, None, None, "on Tuesday", [1, 2])]


def test_a_dateline_with_a_year_dates_the_document():
    _, rows = report(
        ("BAMAKO, March 4, 2024 (Reuters) - Gunmen attacked Gao on Sunday.", ["Attack"],
         {"LOCATION": ["Gao"], "DATE": ["on Sunday"]}),
        document_date=None,
    )
    assert (rows[0].event_date, rows[0].time_precision) == ("2024-03-03", 1)


def test_an_unresolvable_place_keeps_its_text_and_the_others_resolve():
    _, rows = report(
        ("Gunmen attacked Xqzzyville on Monday.", ["Attack"], {"LOCATION": ["Xqzzyville"], "DATE": ["on Monday"]}),
        ("Troops shelled Homs on Monday.", ["Shelling/artillery/missile attack"], {"LOCATION": ["Homs"], "DATE": ["on Monday"]}),
    )
    assert [(r.location, r.location_text, r.country, r.latitude) for r in rows][0] == ("Xqzzyville", "Xqzzyville", None, None)
    assert (rows[1].location, rows[1].country) == ("Homs", "Syria")
    assert rows[0].event_id.startswith("XXX")


def test_event_ids_are_stable_and_depend_on_the_document():
    first = report(("Gunmen attacked Gao.", ["Attack"], {"LOCATION": ["Gao"]}))[1][0].event_id
    again = report(("Gunmen attacked Gao.", ["Attack"], {"LOCATION": ["Gao"]}))[1][0].event_id
    other = report(("Gunmen attacked Gao.", ["Attack"], {"LOCATION": ["Gao"]}), doc_key="other")[1][0].event_id
    assert first == again != other


def test_no_event_sentences_no_rows_and_no_gazetteer_needed():
    _, rows = report(("The weather was fine in Gao.", [], {"LOCATION": ["Gao"]}), geocode=False)
    assert rows == []


# -- document dates through predict and the command line ----------------------------------------

TEXT = "Gunmen killed two farmers near Gao on Monday."


def test_predict_takes_one_document_date_or_one_per_text(tiny_coder):
    from test_predictor import forced

    coder = forced(tiny_coder, "B-DATE", "Attack")  # every word a DATE span: the first is the weekday
    texts = ["Tuesday gunmen attacked.", "Tuesday gunmen attacked.", "Tuesday gunmen attacked."]
    res = coder.predict(texts, ids=["a", "b", "c"], document_date=[DOC_DATE, None, "2024-03-13"])
    assert [(r.events[0].event_date, r.events[0].date) for r in res] == [
        ("2024-03-05", "Tuesday"), (None, "Tuesday"), ("2024-03-12", "Tuesday")]
    one = coder.predict(texts[:2], document_date=DOC_DATE)
    assert [r.events[0].event_date for r in one] == ["2024-03-05", "2024-03-05"]
    with pytest.raises(WirecoderError, match="2 document dates for 3 texts"):
        coder.predict(texts, document_date=[DOC_DATE, DOC_DATE])
    with pytest.raises(WirecoderError, match="'March 6' is not an ISO date"):
        coder.predict(texts, document_date="March 6")


@pytest.fixture
def actors_only(saved_model_dir, monkeypatch):
    """Every word an ACTOR span and every sentence an Attack: rows exist, with no DATE span, so each
    row's date is its document's date."""
    from test_predictor import forced

    from model.predictor import EventCoder

    real = EventCoder.from_pretrained
    monkeypatch.setattr(EventCoder, "from_pretrained",
                        staticmethod(lambda path, **kw: forced(real(path, **kw), "B-ACTOR", "Attack")))
    return saved_model_dir


def _acled(main, argv, out, capsys):
    rc = main(["predict", *argv, "-o", str(out), "--format", "acled"])
    err = capsys.readouterr().err
    return rc, err, list(csv.DictReader(out.open(encoding="utf-8")))


def test_jsonl_dates_and_document_date_reach_the_rows(actors_only, tmp_path, capsys):
    from training.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "a", "text": TEXT, "date": "2024-03-06"}, {"id": "b", "text": TEXT},
        {"id": "c", "text": TEXT, "date": "6 March 2024"}]), encoding="utf-8")
    out = tmp_path / "events.csv"
    rc, err, rows = _acled(main, ["--model", str(actors_only), str(src), "--document-date", "2024-01-10"], out, capsys)
    assert rc == 0 and "1 bad records" in err
    assert [(r["source"], r["event_date"], r["year"], r["time_precision"]) for r in rows] == [
        ("a", "2024-03-06", "2024", "2"), ("b", "2024-01-10", "2024", "2")]
    bad = json.loads((tmp_path / "events.bad-records.jsonl").read_text())
    assert bad["id"] == "c" and "'6 March 2024' is not an ISO date" in bad["error"]
    # Without --document-date, b has no date at all.
    rc, _, rows = _acled(main, ["--model", str(actors_only), str(src)], out, capsys)
    assert [(r["source"], r["event_date"]) for r in rows] == [("a", "2024-03-06"), ("b", "")]


def test_csv_date_column_reaches_the_rows(actors_only, tmp_path, capsys):
    from training.cli import main

    src = tmp_path / "in.csv"
    src.write_text(f'id,published,text\na,2024-03-06,"{TEXT}"\nb,,"{TEXT}"\n', encoding="utf-8")
    out = tmp_path / "events.csv"
    rc, _, rows = _acled(main, ["--model", str(actors_only), str(src), "--date-column", "published",
                                "--document-date", "2023-12-31"], out, capsys)
    assert rc == 0
    assert [(r["source"], r["event_date"]) for r in rows] == [("a", "2024-03-06"), ("b", "2023-12-31")]
    rc = main(["predict", "--model", str(actors_only), str(src), "--date-column", "when", "-o", str(out)])
    assert rc == 1 and "no column 'when'" in capsys.readouterr().err
    rc = main(["predict", "--model", str(actors_only), str(src), "--document-date", "yesterday", "-o", str(out)])
    assert rc == 1 and "--document-date 'yesterday' is not an ISO date" in capsys.readouterr().err


def test_acled_header_is_acleds_columns_in_acleds_order():
    from training.writers import AcledCsvWriter

    assert AcledCsvWriter().header().strip().split(",")[:18] == [
        "event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type", "actor1", "actor2",
        "country", "admin1", "admin2", "location", "latitude", "longitude", "geo_precision", "source", "notes",
        "fatalities"]


def test_html_and_summary_show_each_rows_resolved_date_and_place():
    from model.results import Prediction
    from training.writers import HtmlWriter, text_summary

    sentence = ("Gunmen killed five soldiers near Gao on Tuesday.", ["Attack"],
                {"ACTOR": ["Gunmen"], "FATALITIES": ["five soldiers"], "LOCATION": ["near Gao"], "DATE": ["on Tuesday"]})
    text, rows = report(sentence)
    pred = Prediction(id="r1", text=text, events=rows)
    page = HtmlWriter().record(pred, "r1", "in.jsonl:1", None)
    assert "<td>2024-03-05 (day)</td>" in page
    assert "<td>Gao, Mali 16.272, -0.045 (near the place)</td>" in page and "<td>5</td>" in page
    assert "in Gao, Mali 16.272, -0.045 (near the place); on 2024-03-05 (day); killed 5" in text_summary(pred)
