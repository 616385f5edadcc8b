"""Shared fixtures: no network, a tiny random encoder and tokenizer, a tiny corpus.

The tiny encoder (BERT, 2 layers, hidden size 32) and its word-list tokenizer are built here, so
the suite never needs a download and runs in minutes on 2 CPU cores.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MINI_CORPUS = FIXTURES / "mini_corpus.txt"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test runs with outbound connections failing (loopback excepted)."""

    def guard(self, address, *args, **kwargs):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1")) or self.family == socket.AF_UNIX:
            return real_connect(self, address, *args, **kwargs)
        raise NetworkBlocked(f"tests must not use the network (tried {address!r})")

    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard)


SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _vocab() -> list[str]:
    words = set()
    for path in FIXTURES.glob("*.txt"):
        text = re.sub(r"\[[A-Z]+ ", " ", path.read_text(encoding="utf-8")).replace("]", " ")
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text))
    words.update("the a of and in on at to by with killed army police said".split())
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = letters + [f"##{c}" for c in letters] + [f"##{s}" for s in ("s", "ed", "ing", "er", "ian")]
    digits = [str(d) for d in range(10)] + [f"##{d}" for d in range(10)]
    punct = list(".,;:!?'\"()-–—/%&") + ["’", "“", "”"]
    return SPECIAL + sorted(words) + pieces + digits + punct


def build_tokenizer(out_dir: Path):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(_vocab()))}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )
    fast.save_pretrained(str(out_dir))
    return fast


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT and its tokenizer, saved like any local HF encoder."""
    import torch
    from transformers import BertConfig, BertModel

    out = tmp_path_factory.mktemp("tiny-encoder")
    tokenizer = build_tokenizer(out)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_coder(tiny_encoder_dir):
    """An untrained EventCoder on the tiny encoder (random but deterministic outputs)."""
    import torch
    from transformers import AutoTokenizer

    from model.modeling import WirecoderModel
    from model.predictor import EventCoder

    torch.manual_seed(0)
    model = WirecoderModel.from_encoder(str(tiny_encoder_dir), max_length=128)
    return EventCoder(model, AutoTokenizer.from_pretrained(str(tiny_encoder_dir)), device="cpu")


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory, tiny_encoder_dir) -> Path:
    """The tiny encoder fine-tuned for a few steps on the mini corpus through `wirecoder train`."""
    from training.cli import main

    out = tmp_path_factory.mktemp("trained")
    rc = main(
        [
            "train",
            "--base-model", str(tiny_encoder_dir),
            "--data", str(MINI_CORPUS),
            "--output-dir", str(out),
            "--num_train_epochs", "2",
            "--per_device_train_batch_size", "4",
            "--learning_rate", "1e-3",
            "--disable_tqdm", "true",
        ]
    )
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def saved_model_dir(tmp_path_factory, tiny_coder) -> Path:
    """The untrained tiny coder saved like a trained model (for tests that only need files)."""
    out = tmp_path_factory.mktemp("saved-model")
    tiny_coder.model.save_pretrained(str(out))
    tiny_coder.tokenizer.save_pretrained(str(out))
    return out


@pytest.fixture
def int8_export_beside_weights(saved_model_dir, tmp_path) -> Path:
    """A model directory holding both its PyTorch weights and an int8 ONNX export."""
    import shutil

    from training.cli import main

    model_dir = tmp_path / "model"
    shutil.copytree(saved_model_dir, model_dir)
    assert main(["export", "--model", str(model_dir), "--quantize", "int8"]) == 0
    return model_dir


@pytest.fixture
def loaded_backends(monkeypatch) -> list[str]:
    """The forward-pass class of every EventCoder.from_pretrained call, in order."""
    from model.predictor import EventCoder

    kinds: list[str] = []
    real = EventCoder.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        coder = real(cls, *args, **kwargs)
        kinds.append(type(coder.model).__name__)
        return coder

    monkeypatch.setattr(EventCoder, "from_pretrained", classmethod(spy))
    return kinds
