"""Neighbouring sentences as context for the sentence head.

With ``context_sentences = k > 0`` in the model config, each sentence is encoded as a pair: the
sentence itself (first segment, the only one tagged and pooled) and the k sentences before it in the
same report (second segment, cut to its last ``context_tokens`` tokens). The encoder's attention
lets "Two of them died in hospital." see the attack it continues; the heads read only the sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def previous_sentences(sentences: Sequence[str], k: int) -> list[str | None]:
    """For each sentence of one report, the k sentences before it joined by a space (None: the first)."""
    return contexts_by_document([""] * len(sentences), sentences, k)


def contexts_by_document(doc_ids: Sequence[str], sentences: Sequence[str], k: int) -> list[str | None]:
    """Contexts for sentences listed in reading order, each tagged with its report's id."""
    seen: dict[str, list[str]] = {}
    out: list[str | None] = []
    for doc, text in zip(doc_ids, sentences):
        before = seen.setdefault(doc, [])
        out.append(" ".join(before[-k:]) or None if k > 0 else None)
        before.append(text)
    return out


def trim_context(tokenizer, context: str | None, max_tokens: int) -> str | None:
    """The end of ``context`` that fits in ``max_tokens`` tokens, starting at a whole word: the words
    nearest the sentence matter most."""
    if not context or max_tokens <= 0:
        return None
    enc = tokenizer(context, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    if len(offsets) <= max_tokens:
        return context
    start = offsets[-max_tokens][0]
    while start < len(context) and start > 0 and not context[start - 1].isspace():
        start += 1  # never half a word: skip to the next one
    return context[start:].strip() or None


def pair_inputs(sentences: Sequence[str], contexts: Sequence[str | None] | None) -> tuple[list[str], list[str] | None]:
    """Tokenizer arguments: sentences alone (``contexts`` None: a model without context), or
    (sentence, context) pairs; a missing context is an empty second segment, so a report's first
    sentence is encoded the same way in training and prediction, whatever it is batched with."""
    if contexts is None:
        return list(sentences), None
    return list(sentences), [c or "" for c in contexts]


def first_segment_word_ids(encoding, index: int) -> list[int | None]:
    """The tokenizer's word ids of the sentence's own tokens; None on special and context tokens
    (context word ids restart at 0 and would otherwise be mistaken for the sentence's words)."""
    return [w if s == 0 else None for w, s in zip(encoding.word_ids(index), encoding.sequence_ids(index))]


def own_tokens(sequence_ids: Sequence[int | None]) -> list[int]:
    """1 on the tokens the sentence head pools (the sentence and its special tokens), 0 from the
    context on; padding is removed by the attention mask."""
    cut = sequence_ids.index(1) if 1 in sequence_ids else len(sequence_ids)
    return [1] * cut + [0] * (len(sequence_ids) - cut)


def sentence_mask(encoding, attention_mask: torch.Tensor) -> torch.Tensor:
    """:func:`own_tokens` for every row of a padded batch, as a tensor like ``attention_mask``."""
    rows = [own_tokens(encoding.sequence_ids(i)) for i in range(attention_mask.shape[0])]
    return torch.tensor(rows, dtype=attention_mask.dtype) * attention_mask
