"""Records -> token features for the two heads (multi-hot sub-event types, BIO tags on first sub-words)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import datasets
import torch

from model.spans import IGNORE, tag_words, words_from_encoding
from model.taxonomy import multi_hot
from training.corpus import Record, Span

_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def encode_batch(texts: Sequence[str], spans: Sequence[Sequence[Span]], tokenizer, label2id: dict[str, int], max_length: int) -> dict:
    """Model inputs and ``tag_labels`` (BIO ids on first sub-words) for a batch of sentences."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, return_offsets_mapping=True)
    tags = []
    for i, text in enumerate(texts):
        words = words_from_encoding(enc["offset_mapping"][i], enc.word_ids(i), text)
        tags.append(tag_words(words, spans[i], label2id, len(enc["input_ids"][i])))
    out = {k: enc[k] for k in _MODEL_INPUTS if k in enc}
    out["tag_labels"] = tags
    return out


def example_encoder(tokenizer, label2id: dict[str, int], max_length: int):
    """``encode(texts, spans_lists, label_lists) -> [feature dict, ...]`` for on-the-fly datasets."""

    def encode(texts, spans, labels) -> list[dict]:
        batch = encode_batch(texts, spans, tokenizer, label2id, max_length)
        hot = multi_hot(labels).astype(float).tolist()
        return [{**{k: v[i] for k, v in batch.items()}, "labels": hot[i]} for i in range(len(texts))]

    return encode


def encode_records(records: Sequence[Record], tokenizer, label2id: dict[str, int], max_length: int) -> datasets.Dataset:
    """A datasets.Dataset with model inputs, ``labels`` (multi-hot) and ``tag_labels`` (BIO ids)."""
    raw = datasets.Dataset.from_dict(
        {
            "text": [r.text for r in records],
            "labels": multi_hot([r.sub_event_types for r in records]).astype(float).tolist(),
            "spans": [[{"start": s.start, "end": s.end, "label": s.label} for s in r.spans] for r in records],
        }
    )

    def encode(batch):
        spans = [[Span(s["start"], s["end"], s["label"]) for s in sp] for sp in batch["spans"]]
        return encode_batch(batch["text"], spans, tokenizer, label2id, max_length)

    return raw.map(encode, batched=True, remove_columns=["text", "spans"], desc="tokenising")


@dataclass
class WirecoderCollator:
    """Pads model inputs with the tokenizer and BIO tags with -100 (ignored by the loss)."""

    tokenizer: object

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        inputs = [{k: f[k] for k in _MODEL_INPUTS if k in f} for f in features]
        batch = self.tokenizer.pad(inputs, padding=True, return_tensors="pt")
        width = batch["input_ids"].shape[1]
        if "tag_labels" in features[0]:
            batch["tag_labels"] = torch.tensor(
                [list(f["tag_labels"]) + [IGNORE] * (width - len(f["tag_labels"])) for f in features], dtype=torch.long
            )
        if "labels" in features[0]:
            batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.float)
        return batch
