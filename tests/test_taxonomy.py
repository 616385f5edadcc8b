from model.taxonomy import BIO_TAGS, EVENT_TAXONOMY, EVENT_TYPES, SPAN_LABELS, SUB_EVENT_TYPES, SUB_TO_EVENT, event_types_of


def test_acled_taxonomy_has_6_types_and_25_sub_types():
    assert len(EVENT_TYPES) == 6
    assert len(SUB_EVENT_TYPES) == 25 == len(set(SUB_EVENT_TYPES))
    assert SUB_TO_EVENT["Suicide bomb"] == "Explosions/Remote violence"
    assert SUB_TO_EVENT["Government regains territory"] == "Battles"
    assert sum(len(v) for v in EVENT_TAXONOMY.values()) == 25


def test_span_labels_and_bio_tags():
    assert SPAN_LABELS == ("ACTOR", "TARGET", "LOCATION", "DATE", "WEAPON", "FATALITIES", "INJURED", "TRIGGER")
    assert BIO_TAGS[0] == "O" and len(BIO_TAGS) == 17


def test_event_types_follow_from_sub_event_types_in_taxonomy_order():
    assert event_types_of(["Arrests", "Armed clash", "Air/drone strike"]) == [
        "Battles", "Explosions/Remote violence", "Strategic developments"]
    assert event_types_of([]) == []
