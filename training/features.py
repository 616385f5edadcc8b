"""Records -> token features for the two heads (multi-hot sub-event types, BIO tags on first sub-words)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import datasets
import torch

from model.context import contexts_by_document, first_segment_word_ids, own_tokens, pair_inputs, trim_context
from model.spans import IGNORE, tag_words, words_from_encoding
from model.taxonomy import multi_hot
from training.corpus import Record, Span

_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def encode_batch(texts: Sequence[str], spans: Sequence[Sequence[Span]], tokenizer, label2id: dict[str, int], max_length: int,
                 contexts: Sequence[str | None] | None = None) -> dict:
    """Model inputs and ``tag_labels`` (BIO ids on first sub-words) for a batch of sentences; with
    ``contexts`` (model/context.py) each sentence is paired with its context, whose tokens are
    neither tagged nor pooled (``sentence_mask``)."""
    first, second = pair_inputs(texts, contexts)
    enc = tokenizer(first, second, truncation="only_first" if second is not None else True, max_length=max_length,
                    return_offsets_mapping=True)
    tags, masks = [], []
    for i, text in enumerate(texts):
        words = words_from_encoding(enc["offset_mapping"][i], first_segment_word_ids(enc, i), text)
        tags.append(tag_words(words, spans[i], label2id, len(enc["input_ids"][i])))
        if second is not None:
            masks.append(own_tokens(enc.sequence_ids(i)))
    out = {k: enc[k] for k in _MODEL_INPUTS if k in enc}
    out["tag_labels"] = tags
    if second is not None:
        out["sentence_mask"] = masks
    return out


def record_contexts(records: Sequence[Record], tokenizer, k: int, max_tokens: int) -> list[str | None] | None:
    """Each record's context: the k sentences before it in its report (records in reading order)."""
    if k <= 0:
        return None
    raw = contexts_by_document([r.doc_id for r in records], [r.text for r in records], k)
    return [trim_context(tokenizer, c, max_tokens) for c in raw]


def example_encoder(tokenizer, label2id: dict[str, int], max_length: int):
    """``encode(texts, spans_lists, label_lists) -> [feature dict, ...]`` for on-the-fly datasets."""

    def encode(texts, spans, labels) -> list[dict]:
        batch = encode_batch(texts, spans, tokenizer, label2id, max_length)
        hot = multi_hot(labels).astype(float).tolist()
        return [{**{k: v[i] for k, v in batch.items()}, "labels": hot[i]} for i in range(len(texts))]

    return encode


def encode_records(records: Sequence[Record], tokenizer, label2id: dict[str, int], max_length: int,
                   contexts: Sequence[str | None] | None = None) -> datasets.Dataset:
    """A datasets.Dataset with model inputs, ``labels`` (multi-hot) and ``tag_labels`` (BIO ids)."""
    columns = {
        "text": [r.text for r in records],
        "labels": multi_hot([r.sub_event_types for r in records]).astype(float).tolist(),
        "spans": [[{"start": s.start, "end": s.end, "label": s.label} for s in r.spans] for r in records],
    }
    if contexts is not None:
        columns["context"] = [c or "" for c in contexts]
    raw = datasets.Dataset.from_dict(columns)

    def encode(batch):
        spans = [[Span(s["start"], s["end"], s["label"]) for s in sp] for sp in batch["spans"]]
        return encode_batch(batch["text"], spans, tokenizer, label2id, max_length, batch.get("context"))

    return raw.map(encode, batched=True, remove_columns=[c for c in ("text", "spans", "context") if c in columns],
                   desc="tokenising")


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
        if "sentence_mask" in features[0]:
            batch["sentence_mask"] = torch.tensor(
                [list(f["sentence_mask"]) + [0] * (width - len(f["sentence_mask"])) for f in features], dtype=torch.long
            )
        if "labels" in features[0]:
            batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.float)
        return batch
