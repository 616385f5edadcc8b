"""Character spans <-> BIO tags on words.

Two segmentations: the tokenizer's words (offsets from the fast tokenizer; only the first sub-word
of each word carries a tag, the others get -100 in training and are ignored when decoding, so a span
always covers whole words), and :data:`WORD_RE` words, independent of any tokenizer, on which the
evaluation and the baseline compare systems.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from model.taxonomy import BIO_TAGS, SPAN_LABELS

IGNORE = -100
# Tokenizer-independent words: runs of word characters, and each other non-space character alone.
WORD_RE = re.compile(r"\w+|[^\w\s]")
_TAG_IDS = {t: i for i, t in enumerate(BIO_TAGS)}


@dataclass(frozen=True)
class Word:
    start: int  # character offset of the word's first sub-word
    end: int  # character offset after the word's last sub-word
    first_token: int  # index of its first sub-word in the token sequence
    word_id: int = -1  # the tokenizer's word index (shared by the windows of one long text)


def words_from_encoding(offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None], text: str) -> list[Word]:
    """Group sub-word tokens into words with exact character extents in ``text``."""
    words: list[Word] = []
    current = None
    for i, (wid, (s, e)) in enumerate(zip(word_ids, offsets)):
        if wid is None or e <= s:
            continue
        # Some tokenizers (RoBERTa, SentencePiece) include the leading space in the offset.
        while s < e and text[s].isspace():
            s += 1
        if s == e:
            continue
        if current is not None and current[0] == wid:
            current[2] = e
        else:
            if current is not None:
                words.append(Word(current[1], current[2], current[3], current[0]))
            current = [wid, s, e, i]
    if current is not None:
        words.append(Word(current[1], current[2], current[3], current[0]))
    return words


def tag_words(words: Sequence[Word], spans, label2id: dict[str, int], n_tokens: int) -> list[int]:
    """Token-level tag ids for training: B-/I- on the first sub-word of words inside spans, O outside."""
    tags = [IGNORE] * n_tokens
    ordered = sorted(spans, key=lambda s: s.start)
    j = 0
    prev_span = None
    for w in words:
        while j < len(ordered) and ordered[j].end <= w.start:
            j += 1
        span = ordered[j] if j < len(ordered) and ordered[j].start <= w.start < ordered[j].end else None
        if span is None:
            tags[w.first_token] = label2id["O"]
        else:
            prefix = "I" if span is prev_span else "B"
            tags[w.first_token] = label2id[f"{prefix}-{span.label}"]
        prev_span = span
    return tags


@dataclass(frozen=True)
class DecodedSpan:
    start: int
    end: int
    label: str
    score: float


def decode_words(words: Sequence[Word], tags: Sequence[str], scores: Sequence[float]) -> list[DecodedSpan]:
    """BIO tags per word -> character spans. An I- tag that does not continue a span starts one."""
    spans: list[DecodedSpan] = []
    cur: list | None = None  # [label, start, end, [scores]]
    for w, tag, sc in zip(words, tags, scores):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and cur is not None and cur[0] == label:
            cur[2] = w.end
            cur[3].append(sc)
            continue
        if cur is not None:
            spans.append(DecodedSpan(cur[1], cur[2], cur[0], sum(cur[3]) / len(cur[3])))
            cur = None
        if prefix in ("B", "I"):
            cur = [label, w.start, w.end, [sc]]
    if cur is not None:
        spans.append(DecodedSpan(cur[1], cur[2], cur[0], sum(cur[3]) / len(cur[3])))
    return spans


def regex_words(text: str) -> list[Word]:
    """The :data:`WORD_RE` words of ``text`` (``first_token`` is the word's index)."""
    return [Word(m.start(), m.end(), i) for i, m in enumerate(WORD_RE.finditer(text))]


def word_bio(text: str, spans) -> list[str]:
    """IOB2 tags over the :data:`WORD_RE` words of ``text`` (a word belongs to the span holding its
    first character).

    Labels outside our scheme (foreign data scored under its own names, see training/label_map.py)
    get tags of their own.
    """
    words = regex_words(text)
    extra = sorted({s.label for s in spans} - set(SPAN_LABELS))
    tags = BIO_TAGS + tuple(f"{p}-{lab}" for lab in extra for p in ("B", "I"))
    ids = {t: i for i, t in enumerate(tags)} if extra else _TAG_IDS
    return [tags[i] for i in tag_words(words, spans, ids, len(words))]
