"""Label alignment (spans -> BIO on first sub-words) and decoding (BIO -> character spans)."""

import pytest
from transformers import AutoTokenizer

from model.spans import IGNORE, decode_words, tag_words, words_from_encoding
from model.taxonomy import BIO_TAGS
from training.corpus import parse_markup

LABEL2ID = {t: i for i, t in enumerate(BIO_TAGS)}

TRICKY = [
    "[ACTOR Al-Shabaab’s] fighters [TRIGGER ambushed] a [TARGET Kenyan] convoy near [LOCATION Mandera], killing [FATALITIES 12].",
    "[ACTOR Zapatistas] [TRIGGER marched] in [LOCATION San Cristóbal de las Casas] on [DATE 1 janvier] — «peacefully».",
    "[ACTOR Hayat Tahrir al-Sham (HTS)] [TRIGGER overran] [LOCATION Kafr Nabudah]; [INJURED two-dozen] were hurt.",
    "Drones 🚁 [TRIGGER hit] [LOCATION Odesa] overnight!!! [FATALITIES Three] dead, [ACTOR officials] say.",
    "[ACTOR قوات الدعم السريع] [TRIGGER attacked] [LOCATION El Fasher] on [DATE 12/05/2024].",
]


@pytest.mark.parametrize("markup", TRICKY)
def test_spans_survive_alignment_and_decoding(tiny_encoder_dir, markup):
    tok = AutoTokenizer.from_pretrained(str(tiny_encoder_dir))
    text, spans = parse_markup(markup)
    enc = tok(text, return_offsets_mapping=True)
    words = words_from_encoding(enc["offset_mapping"], enc.word_ids(), text)
    tags = tag_words(words, spans, LABEL2ID, len(enc["input_ids"]))
    # Only the first sub-word of a word is labelled; special tokens and continuations are ignored.
    assert tags[0] == IGNORE and tags[-1] == IGNORE
    assert sum(t != IGNORE for t in tags) == len(words)
    decoded = decode_words(words, [BIO_TAGS[tags[w.first_token]] for w in words], [1.0] * len(words))
    assert [(text[d.start:d.end], d.label) for d in decoded] == [(text[s.start:s.end], s.label) for s in spans]


def test_multi_token_words_get_one_tag(tiny_encoder_dir):
    tok = AutoTokenizer.from_pretrained(str(tiny_encoder_dir))
    text = "Zzyzxville residents protested"
    enc = tok(text, return_offsets_mapping=True)
    words = words_from_encoding(enc["offset_mapping"], enc.word_ids(), text)
    assert [text[w.start:w.end] for w in words] == ["Zzyzxville", "residents", "protested"]
    assert len(enc["input_ids"]) > len(words) + 2  # the made-up name is several sub-words


def test_stray_inside_tag_starts_a_span_and_label_change_splits():
    from model.spans import Word

    words = [Word(0, 3, 1), Word(4, 8, 2), Word(9, 12, 3)]
    spans = decode_words(words, ["I-ACTOR", "I-ACTOR", "I-TARGET"], [0.9, 0.7, 0.5])
    assert [(s.start, s.end, s.label) for s in spans] == [(0, 8, "ACTOR"), (9, 12, "TARGET")]
    assert spans[0].score == pytest.approx(0.8)
