"""Neighbouring sentences as context (issue 9, item 3): what is read, what is tagged, what is pooled."""

import json

import pytest
import torch
from transformers import AutoTokenizer

from model.context import contexts_by_document, previous_sentences, trim_context
from model.modeling import WirecoderModel
from model.predictor import EventCoder
from model.spans import IGNORE
from training.cli import main
from training.corpus import Span
from training.features import WirecoderCollator, encode_batch

from conftest import MINI_CORPUS

REPORT = ["Gunmen attacked a village near Gao on Monday.", "Two of them died in hospital.", "Police said."]


def test_previous_sentences_of_one_report():
    assert previous_sentences(REPORT, 1) == [None, REPORT[0], REPORT[1]]
    assert previous_sentences(REPORT, 2) == [None, REPORT[0], REPORT[0] + " " + REPORT[1]]
    assert previous_sentences(REPORT, 0) == [None, None, None]


def test_contexts_follow_each_report_in_reading_order():
    docs = ["a", "a", "b", "a", "b"]
    texts = ["A1.", "A2.", "B1.", "A3.", "B2."]
    assert contexts_by_document(docs, texts, 1) == [None, "A1.", None, "A2.", "B1."]
    assert contexts_by_document(docs, texts, 2) == [None, "A1.", None, "A1. A2.", "B1."]


@pytest.fixture(scope="module")
def tokenizer(tiny_encoder_dir):
    return AutoTokenizer.from_pretrained(str(tiny_encoder_dir))


def test_trim_context_keeps_the_words_nearest_the_sentence(tokenizer):
    text = "The army said a patrol was ambushed near Gao."
    # The tiny tokenizer spells "Gao" g ##a ##o: the last 5 tokens are "near Gao.", the last 4 "Gao.",
    # and 3 would cut the word, so nothing of it is kept.
    assert trim_context(tokenizer, text, 5) == "near Gao."
    assert trim_context(tokenizer, text, 4) == "Gao."
    assert trim_context(tokenizer, text, 3) is None
    assert trim_context(tokenizer, text, 100) == text
    assert trim_context(tokenizer, "", 5) is None and trim_context(tokenizer, None, 5) is None


def test_context_tokens_are_neither_tagged_nor_pooled(tokenizer):
    label2id = {t: i for i, t in enumerate(["O", "B-LOCATION", "I-LOCATION"])}
    sentence = "Troops killed four militants near Palmyra."
    spans = [[Span(34, 41, "LOCATION")]]  # "Palmyra"
    alone = encode_batch([sentence], spans, tokenizer, label2id, 64)
    paired = encode_batch([sentence], spans, tokenizer, label2id, 64, contexts=["Police fired tear gas in Nairobi."])
    # [CLS] troops killed four militants near palmyra . [SEP]: 9 tokens, "palmyra" the 7th.
    assert len(alone["input_ids"][0]) == 9
    assert alone["tag_labels"][0] == [IGNORE, 0, 0, 0, 0, 0, label2id["B-LOCATION"], 0, IGNORE]
    # With context the sentence keeps its tokens and tags; the context's 7 tokens and its [SEP]
    # follow, untagged and outside the pooled mask.
    assert paired["input_ids"][0][:9] == alone["input_ids"][0]
    assert paired["tag_labels"][0] == alone["tag_labels"][0] + [IGNORE] * 8
    assert paired["sentence_mask"][0] == [1] * 9 + [0] * 8
    other = encode_batch(["Palmyra."], [[]], tokenizer, label2id, 64, contexts=[None])
    batch = WirecoderCollator(tokenizer)([{k: v[0] for k, v in paired.items()}, {k: v[0] for k, v in other.items()}])
    # "[CLS] palmyra . [SEP] [SEP]" (an empty context) padded to 17 tokens: padding is not pooled either.
    assert batch["sentence_mask"][1].tolist() == [1] * 5 + [0] * 12


@pytest.fixture(scope="module")
def context_coder(tiny_encoder_dir, tokenizer):
    torch.manual_seed(0)
    model = WirecoderModel.from_encoder(str(tiny_encoder_dir), max_length=128, context_sentences=1)
    return EventCoder(model, tokenizer, device="cpu")


def test_a_report_gives_each_sentence_the_one_before_it(context_coder):
    report = " ".join(REPORT)
    whole = context_coder.sentence_scores  # the pre-split path with explicit contexts is the reference
    expected = whole(REPORT, contexts=[None, REPORT[0], REPORT[1]])
    got = context_coder.predict([report])[0]
    assert [s.text for s in got.sentences] == REPORT
    pre_split = context_coder.predict(REPORT, split_into_sentences=False, contexts=[None, REPORT[0], REPORT[1]])
    for i, sentence in enumerate(got.sentences):
        assert [(x.label, x.score) for x in sentence.sub_event_types] == \
            [(x.label, x.score) for x in pre_split[i].sentences[0].sub_event_types]
    # The context is read: the same sentence scores differently after another sentence or alone.
    alone = whole([REPORT[1]])
    assert not torch.allclose(torch.from_numpy(alone[0]), torch.from_numpy(expected[1]))
    other = whole([REPORT[1]], contexts=["Police fired tear gas at students in Nairobi."])
    assert not torch.allclose(torch.from_numpy(other[0]), torch.from_numpy(expected[1]))


def test_spans_stay_inside_their_sentence(context_coder):
    report = " ".join(REPORT)
    result = context_coder.predict([report])[0]
    for span in result.spans:
        sentence = result.sentences[span.sentence]
        assert sentence.start <= span.start < span.end <= sentence.end
        assert report[span.start:span.end] == span.text


def test_wrong_number_of_contexts_is_a_clear_error(context_coder):
    from model.errors import WirecoderError

    with pytest.raises(WirecoderError, match="2 contexts for 3 texts"):
        context_coder.predict(REPORT, split_into_sentences=False, contexts=[None, "x"])


def test_training_with_context_saves_it_and_the_model_reads_it(tmp_path, tiny_encoder_dir):
    out = tmp_path / "run"
    rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
               "--num_train_epochs", "1", "--per_device_train_batch_size", "4", "--context_sentences", "1",
               "--evaluate_after_training", "false", "--disable_tqdm", "true"])
    assert rc == 0
    config = json.loads((out / "config.json").read_text())
    assert config["context_sentences"] == 1 and config["context_tokens"] == 64
    coder = EventCoder.from_pretrained(out, backend="torch")
    assert coder.context_sentences == 1
    assert len(coder.predict([" ".join(REPORT)])[0].sentences) == 3


def test_context_and_mention_replacement_are_refused_together(tmp_path, tiny_encoder_dir, capsys):
    rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir",
               str(tmp_path / "run"), "--context_sentences", "1", "--mention_replacement", "0.3",
               "--disable_tqdm", "true"])
    assert rc != 0
    assert "cannot be combined" in capsys.readouterr().err


def test_real_text_sentences_are_grouped_into_reports_by_a_field(tmp_path, context_coder):
    from model.errors import WirecoderError
    from training.evaluation import _group_into_reports, record_contexts
    from training.corpus import read_jsonl_file

    f = tmp_path / "real.jsonl"
    rows = [{"id": "r1", "text": REPORT[0], "source": "doc-a"}, {"id": "r2", "text": "Fighting erupted.", "source": "doc-b"},
            {"id": "r3", "text": REPORT[1], "source": "doc-a"}]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    records = read_jsonl_file(f)
    assert record_contexts(context_coder, records) == [None, None, None]  # each record its own report
    _group_into_reports(records, [str(f)], "source")
    assert record_contexts(context_coder, records) == [None, None, REPORT[0]]
    with pytest.raises(WirecoderError, match="3 record"):
        _group_into_reports(records, [str(f)], "document")


def test_a_context_model_is_not_exported_to_a_graph_that_would_ignore_its_mask(tmp_path, context_coder, capsys):
    context_coder.model.save_pretrained(str(tmp_path / "m"))
    context_coder.tokenizer.save_pretrained(str(tmp_path / "m"))
    rc = main(["export", "--model", str(tmp_path / "m")])
    assert rc != 0
    assert "cannot be exported yet" in capsys.readouterr().err
    assert not list((tmp_path / "m").glob("*.onnx"))
