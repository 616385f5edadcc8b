import json

import torch
from transformers import AutoModel, AutoTokenizer

import model  # noqa: F401  (registers the Auto classes)
from model.modeling import WirecoderConfig, WirecoderModel
from model.taxonomy import BIO_TAGS, SUB_EVENT_TYPES


def test_one_forward_pass_gives_both_heads_and_a_loss(tiny_encoder_dir):
    tok = AutoTokenizer.from_pretrained(str(tiny_encoder_dir))
    m = WirecoderModel.from_encoder(str(tiny_encoder_dir))
    batch = tok(["Troops clashed with militants.", "Police arrested two men in Kaduna."], padding=True, return_tensors="pt")
    labels = torch.zeros(2, len(SUB_EVENT_TYPES))
    tags = torch.zeros_like(batch["input_ids"])
    out = m(**batch, labels=labels, tag_labels=tags)
    assert out.sentence_logits.shape == (2, 25)
    assert out.token_logits.shape == (*batch["input_ids"].shape, len(BIO_TAGS))
    assert out.loss.ndim == 0 and out.loss.item() > 0
    out.loss.backward()
    assert m.sentence_head.weight.grad is not None and m.token_head.weight.grad is not None


def test_save_and_reload_round_trips_weights_labels_and_thresholds(tiny_encoder_dir, tmp_path):
    tok = AutoTokenizer.from_pretrained(str(tiny_encoder_dir))
    m = WirecoderModel.from_encoder(str(tiny_encoder_dir), thresholds=[0.3] * 25, sentence_loss_weight=2.0).eval()
    m.save_pretrained(str(tmp_path))
    assert (tmp_path / "model.safetensors").is_file()
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["model_type"] == "wirecoder"
    assert cfg["sub_event_types"] == list(SUB_EVENT_TYPES)
    assert cfg["id2label"]["1"] == "B-ACTOR" and cfg["thresholds"] == [0.3] * 25
    assert cfg["encoder_config"]["hidden_size"] == 32

    again = AutoModel.from_pretrained(str(tmp_path)).eval()
    assert isinstance(again, WirecoderModel) and isinstance(again.config, WirecoderConfig)
    assert again.config.sentence_loss_weight == 2.0
    batch = tok(["The army reached Deir al-Zor on Tuesday."], return_tensors="pt")
    with torch.no_grad():
        a, b = m(**batch), again(**batch)
    torch.testing.assert_close(a.sentence_logits, b.sentence_logits)
    torch.testing.assert_close(a.token_logits, b.token_logits)
