"""Any local Hugging Face encoder works (here a tiny RoBERTa with a byte-level BPE tokenizer, whose
offsets include leading spaces), and training resumes from a checkpoint."""

import json
import re

import pytest

from model.predictor import EventCoder
from tests.conftest import FIXTURES, MINI_CORPUS
from training.cli import main


@pytest.fixture(scope="module")
def tiny_roberta_dir(tmp_path_factory):
    import torch
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

    out = tmp_path_factory.mktemp("tiny-roberta")
    text = (FIXTURES / "mini_corpus.txt").read_text(encoding="utf-8")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([text], vocab_size=600, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe._tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", bpe.token_to_id("</s>")), ("<s>", bpe.token_to_id("<s>")), trim_offsets=True)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                  pad_token="<pad>", mask_token="<mask>", cls_token="<s>", sep_token="</s>",
                                  model_max_length=128, model_input_names=["input_ids", "attention_mask"])
    tok.save_pretrained(str(out))
    torch.manual_seed(0)
    cfg = RobertaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=160, pad_token_id=tok.pad_token_id,
                        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    RobertaModel(cfg).save_pretrained(str(out))
    return out


def test_a_roberta_encoder_trains_and_predicts_with_exact_offsets(tiny_roberta_dir, tmp_path):
    out = tmp_path / "run"
    rc = main(["train", "--base-model", str(tiny_roberta_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
               "--num_train_epochs", "1", "--per_device_train_batch_size", "4", "--disable_tqdm", "true"])
    assert rc == 0
    assert json.loads((out / "config.json").read_text())["encoder_config"]["model_type"] == "roberta"
    coder = EventCoder.from_pretrained(out)
    text = "  Syrian army troops clashed with Islamic State fighters near Palmyra on Monday."
    import torch

    with torch.no_grad():  # force every word into a span to see all word boundaries
        coder.model.token_head.weight.zero_()
        coder.model.token_head.bias.fill_(-10.0)
        coder.model.token_head.bias[coder.model.config.label2id["B-LOCATION"]] = 10.0
    r = coder.predict([text])[0]
    assert [s.text for s in r.spans] == text.replace(".", " .").split()
    # RoBERTa's offsets include the space before a word: the spans must still start on the word.
    assert [(s.start, s.end) for s in r.spans] == [(m.start(), m.end()) for m in re.finditer(r"\w+|\.", text)]


def test_training_resumes_from_a_checkpoint(tiny_encoder_dir, tmp_path):
    out = tmp_path / "run"
    common = ["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
              "--per_device_train_batch_size", "4", "--disable_tqdm", "true", "--keep_checkpoints", "true",
              "--evaluate_after_training", "false",
              # Per epoch, whatever the defaults: the checks below count one log and one checkpoint per epoch.
              "--logging_strategy", "epoch", "--eval_strategy", "epoch", "--save_strategy", "epoch"]
    assert main(common + ["--num_train_epochs", "1", "--seed", "1"]) == 0
    first = [h for h in json.loads((out / "metrics.json").read_text())["log_history"] if "loss" in h]
    checkpoint = max(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    steps = int(checkpoint.name.split("-")[1])
    # Another seed: a run that started over would log a different first-epoch loss.
    assert main(common + ["--num_train_epochs", "2", "--seed", "2", "--resume_from_checkpoint", str(checkpoint)]) == 0
    second = [h for h in json.loads((out / "metrics.json").read_text())["log_history"] if "loss" in h]
    assert [h["step"] for h in second] == [steps, 2 * steps]
    assert second[0]["loss"] == first[0]["loss"]  # epoch 1 restored from the checkpoint, not retrained
    assert max(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*")) == 2 * steps
