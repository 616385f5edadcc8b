"""R-Drop (--rdrop_alpha): the two divergences, the loss without dropout, and what training does."""

import math

import pytest
import torch
from transformers import AutoTokenizer

from model.errors import WirecoderError
from model.modeling import WirecoderModel
from training.cli import main
from training.rdrop import bernoulli_symmetric_kl, categorical_symmetric_kl, rdrop_loss

from conftest import MINI_CORPUS

SENTENCES = ["Gunmen killed two farmers near Gao on Monday.", "Teachers marched to the ministry in Accra.",
             "Police fired tear gas at students in Nairobi.", "The minister visited a school."]


def _kl_bernoulli(p, q):
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def test_bernoulli_divergence_is_the_sum_of_both_kls():
    za, zb = torch.tensor([0.3, -2.0, 4.0]), torch.tensor([-1.0, -2.0, 1.5])
    got = bernoulli_symmetric_kl(za, zb)
    for i in range(3):
        p, q = 1 / (1 + math.exp(-za[i].item())), 1 / (1 + math.exp(-zb[i].item()))
        assert got[i].item() == pytest.approx(_kl_bernoulli(p, q) + _kl_bernoulli(q, p), rel=1e-5, abs=1e-7)
    assert got[1].item() == 0.0  # the same prediction twice: no divergence


def test_categorical_divergence_is_the_sum_of_both_kls():
    a, b = torch.tensor([[1.0, 0.0, -1.0]]), torch.tensor([[0.0, 2.0, 0.5]])
    pa, pb = torch.softmax(a, -1)[0].tolist(), torch.softmax(b, -1)[0].tolist()
    expected = sum(x * math.log(x / y) for x, y in zip(pa, pb)) + sum(y * math.log(y / x) for x, y in zip(pa, pb))
    assert categorical_symmetric_kl(a, b).item() == pytest.approx(expected, rel=1e-5)


def _batch(tiny_encoder_dir, n=4):
    tok = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    enc = tok(SENTENCES[:n], padding=True, return_tensors="pt")
    labels = torch.zeros(n, 25)
    labels[0, 3] = 1
    tags = torch.where(enc["attention_mask"].bool(), torch.zeros_like(enc["input_ids"]), torch.full_like(enc["input_ids"], -100))
    return {**enc, "labels": labels, "tag_labels": tags}


def test_without_dropout_the_loss_is_the_plain_loss(tiny_encoder_dir):
    model = WirecoderModel.from_encoder(str(tiny_encoder_dir)).eval()  # eval: no dropout, two equal passes
    batch = _batch(tiny_encoder_dir)
    plain = model(**batch)
    loss, out = rdrop_loss(model, batch, alpha=5.0)
    assert loss.item() == pytest.approx(plain.loss.item(), rel=1e-5)
    assert out.sentence_logits.shape == plain.sentence_logits.shape  # outputs of one copy, not both
    assert torch.allclose(out.token_logits, plain.token_logits, atol=1e-5)


def test_with_dropout_the_two_passes_disagree_and_the_loss_grows_with_alpha(tiny_encoder_dir):
    model = WirecoderModel.from_encoder(str(tiny_encoder_dir)).train()
    batch = _batch(tiny_encoder_dir)
    torch.manual_seed(0)
    small, _ = rdrop_loss(model, batch, alpha=1.0)
    torch.manual_seed(0)  # the same dropout masks: only alpha differs
    big, _ = rdrop_loss(model, batch, alpha=3.0)
    assert big.item() > small.item()
    with pytest.raises(WirecoderError, match="rdrop_alpha"):
        rdrop_loss(model, batch, alpha=0.0)


def _disagreement(model_dir, tiny_encoder_dir) -> float:
    """How much two dropout passes of a trained model disagree on the sentence head."""
    model = WirecoderModel.from_pretrained(str(model_dir)).train()
    batch = _batch(tiny_encoder_dir)
    torch.manual_seed(1)
    total = 0.0
    with torch.no_grad():
        for _ in range(20):  # averaged over many pairs of dropout masks
            a, b = (model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]) for _ in range(2))
            total += bernoulli_symmetric_kl(a.sentence_logits, b.sentence_logits).sum(-1).mean().item()
            total += categorical_symmetric_kl(a.token_logits, b.token_logits)[batch["attention_mask"].bool()].mean().item()
    return total / 20


def test_training_with_rdrop_makes_the_model_agree_with_itself_under_dropout(tmp_path, tiny_encoder_dir):
    def train(out, *extra):
        rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
                   "--num_train_epochs", "8", "--per_device_train_batch_size", "4", "--learning_rate", "3e-3",
                   "--seed", "3", "--save_strategy", "no", "--load_best_model_at_end", "false",
                   "--evaluate_after_training", "false", "--disable_tqdm", "true", *extra])
        assert rc == 0
        return out

    plain = _disagreement(train(tmp_path / "plain"), tiny_encoder_dir)
    consistent = _disagreement(train(tmp_path / "rdrop", "--rdrop_alpha", "100"), tiny_encoder_dir)
    assert consistent < 0.5 * plain  # measured: about 15 times less


def test_a_negative_alpha_is_refused(tmp_path, tiny_encoder_dir, capsys):
    rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS),
               "--output-dir", str(tmp_path / "m"), "--rdrop_alpha", "-1"])
    assert rc == 1
    assert "--rdrop_alpha must be 0 (off) or positive, not -1.0" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
