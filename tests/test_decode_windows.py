"""The batch decoder (numpy) gives exactly the spans of the word-by-word decoder it replaces."""

import re

import numpy as np
import pytest
from transformers import AutoTokenizer

from conftest import FIXTURES
from model.context import first_segment_word_ids
from model.predictor import _sentence_word_ids
from model.spans import decode_windows, decode_words, words_from_encoding
from model.taxonomy import BIO_TAGS

ODD_SPACING = [
    "Gunmen\u00a0killed  two farmers\tnear Gao on Monday.",
    "  Police fired tear gas in Nairobi.\n",
    "Troops\u2009clashed with militants near Palmyra, killing four.",
]


def _sentences() -> list[str]:
    text = re.sub(r"\[[A-Z]+ |\]", "", (FIXTURES / "mini_corpus.txt").read_text(encoding="utf-8"))
    lines = [line.split(" | ", 1)[1] for line in text.splitlines() if " | " in line and not line.startswith("@")]
    return lines + ODD_SPACING


@pytest.fixture(scope="module")
def untrimmed_bpe(tmp_path_factory):
    """A byte-level BPE whose offsets include each word's leading space (as RoBERTa's may)."""
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(_sentences(), vocab_size=400, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    bpe._tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", bpe.token_to_id("</s>")), ("<s>", bpe.token_to_id("<s>")), trim_offsets=False)
    return PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>")


def _reference(enc, texts, tags, scores):
    out = []
    for w, text in enumerate(texts):
        words = words_from_encoding(enc["offset_mapping"][w].tolist(), first_segment_word_ids(enc, w), text)
        out.append(decode_words(words, [BIO_TAGS[tags[w, x.first_token]] for x in words],
                                [float(scores[w, x.first_token]) for x in words]))
    return out


@pytest.mark.parametrize("which", ["wordpiece", "untrimmed_bpe"])
@pytest.mark.parametrize("with_context", [False, True])
def test_batch_decoder_equals_the_word_by_word_decoder(which, with_context, tiny_encoder_dir, untrimmed_bpe):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder_dir)) if which == "wordpiece" else untrimmed_bpe
    texts = _sentences()
    contexts = [texts[i - 1] if i % 2 else "" for i in range(len(texts))] if with_context else None
    enc = tokenizer(texts, contexts, padding=True, return_offsets_mapping=True, return_tensors="pt")
    rng = np.random.default_rng(0)
    n_windows, n_tokens = enc["input_ids"].shape
    for trial in range(5):
        # Random tags, skewed to spans so that B/I runs, label changes and orphan I- tags all occur.
        tags = rng.choice(len(BIO_TAGS), size=(n_windows, n_tokens), p=None if trial % 2 else
                          np.r_[0.3, np.full(len(BIO_TAGS) - 1, 0.7 / (len(BIO_TAGS) - 1))])
        scores = rng.random((n_windows, n_tokens)).astype(np.float32)
        got = decode_windows(_sentence_word_ids(enc, list(range(n_windows))), enc["offset_mapping"].numpy(), tags,
                             scores, texts, BIO_TAGS)
        assert got == _reference(enc, texts, tags, scores)
    assert sum(len(s) for s in got) > 20  # the comparison saw many spans


def test_leading_spaces_never_start_a_span(untrimmed_bpe):
    text = "Gunmen\u00a0killed  two farmers"
    enc = untrimmed_bpe([text], return_offsets_mapping=True, return_tensors="pt")
    n = enc["input_ids"].shape[1]
    tags = np.full((1, n), BIO_TAGS.index("B-ACTOR"))
    spans = decode_windows(_sentence_word_ids(enc, [0]), enc["offset_mapping"].numpy(), tags,
                           np.ones((1, n), dtype=np.float32), [text], BIO_TAGS)[0]
    assert [text[s.start:s.end] for s in spans] == ["Gunmen", "killed", "two", "farmers"]
