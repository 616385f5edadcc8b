import pytest

from model.counts import parse_count
from model.sentences import split_sentences


def sentences(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviations_initials_and_decimals_do_not_split():
    text = ("Lt. Gen. Abdel Fattah al-Burhan met U.S. envoy J. Smith at 10 a.m. on Monday. "
            "The talks lasted 2.5 hours, officials said.")
    assert sentences(text) == [
        "Lt. Gen. Abdel Fattah al-Burhan met U.S. envoy J. Smith at 10 a.m. on Monday.",
        "The talks lasted 2.5 hours, officials said.",
    ]


def test_quotes_and_datelines_stay_with_their_sentence():
    text = ('KABUL, Afghanistan (AP) — Gunmen attacked a checkpoint. "We lost two men," a commander said. '
            "“They fled east.” Police later arrested three suspects!")
    assert sentences(text) == [
        "KABUL, Afghanistan (AP) — Gunmen attacked a checkpoint.",
        '"We lost two men," a commander said.',
        "“They fled east.”",
        "Police later arrested three suspects!",
    ]


def test_offsets_are_exact_and_cover_all_text():
    text = "  First line of a report.\n\nSecond paragraph here? Yes.   Third one\n"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["First line of a report.", "Second paragraph here?", "Yes.", "Third one"]
    covered = "".join(text[s:e] for s, e in spans)
    assert covered.replace(" ", "") == "".join(text.split()).replace(" ", "")


def test_whitespace_text_has_no_sentences():
    assert split_sentences("   \n\t ") == []


@pytest.mark.parametrize(
    "text, value",
    [("at least 12", 12), ("six", 6), ("dozens", None), ("a 14-year-old boy", 1), ("more than 1,200", 1200),
     ("twenty-five", 25), ("three hundred", 300), ("a dozen", 12), ("scores of", None), ("10 to 15", 10),
     ("two thousand five hundred", 2500), ("one", 1),
     # regressions: a multiplier, a half, an age after the article, decimals with a scale, zero
     ("two dozen", 24), ("half a dozen", 6), ("a nine-year-old girl", 1), ("1.5 million", 1_500_000),
     ("no one", 0), ("none", 0), ("three hundred and forty two", 342), ("five soldiers and a child", 5)],
)
def test_count_expressions_parse_to_integers(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Asked about a truce, the rebels said no. Fighting resumed at dawn.",
         ["Asked about a truce, the rebels said no.", "Fighting resumed at dawn."]),
        ("Gunmen stormed the village. 😢 Three people were killed.",
         ["Gunmen stormed the village.", "😢 Three people were killed."]),
        ("The attack began at 5 p.m. Police arrived later.", ["The attack began at 5 p.m.", "Police arrived later."]),
        ("It was condemned by the U.S. He said more.", ["It was condemned by the U.S.", "He said more."]),
        # the abbreviations still hold where the sentence goes on
        ("Checkpoint No. 5 was hit. U.S. envoy Jones left at 10 a.m. on Monday.",
         ["Checkpoint No. 5 was hit.", "U.S. envoy Jones left at 10 a.m. on Monday."]),
    ],
)
def test_sentence_ends_after_words_that_can_be_abbreviations(text, expected):
    assert sentences(text) == expected
