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

import numpy as np

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


# Unicode whitespace (what str.isspace() accepts) as code points, for the vectorised decoder.
_SPACE_CODES = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)


def _next_non_space(text: str) -> np.ndarray:
    """For each character offset i (and len(text)), the first offset >= i that is not whitespace."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    n = len(codes)
    idx = np.where(np.isin(codes, _SPACE_CODES), n, np.arange(n))
    out = np.empty(n + 1, dtype=np.int64)
    out[n] = n
    if n:
        out[:n] = np.minimum.accumulate(idx[::-1])[::-1]
    return out


def decode_windows(word_ids: np.ndarray, offsets: np.ndarray, tags: np.ndarray, scores: np.ndarray,
                   texts: Sequence[str], id2tag: Sequence[str]) -> list[list[DecodedSpan]]:
    """:func:`words_from_encoding` then :func:`decode_words` for every window of a batch at once,
    in numpy (one Python step per span, not per token or word).

    ``word_ids`` (windows × tokens) holds -1 where a token belongs to no word of the sentence
    (special, context and padding tokens); ``offsets`` (windows × tokens × 2) are character offsets
    into ``texts[w]``; ``tags`` and ``scores`` are each token's best tag id and its probability.
    """
    n_windows, n_tokens = word_ids.shape
    starts, ends = offsets[..., 0].astype(np.int64), offsets[..., 1].astype(np.int64)
    valid = (word_ids >= 0) & (ends > starts)
    # Some tokenizers (RoBERTa, SentencePiece) include the leading space in the offset: skip it.
    for w in np.flatnonzero(valid.any(1)):
        nn = _next_non_space(texts[w])
        starts[w] = np.where(valid[w], nn[np.clip(starts[w], 0, len(nn) - 1)], starts[w])
    valid &= ends > starts
    win, tok = np.nonzero(valid)  # row-major: windows in order, tokens in order within each
    if len(win) == 0:
        return [[] for _ in range(n_windows)]
    wid = word_ids[win, tok]
    new_word = np.ones(len(win), dtype=bool)
    new_word[1:] = (wid[1:] != wid[:-1]) | (win[1:] != win[:-1])
    first = np.flatnonzero(new_word)
    last = np.append(first[1:], len(win)) - 1
    w_win = win[first]
    w_start = starts[win[first], tok[first]]
    w_end = ends[win[last], tok[last]]
    tag_names = np.asarray(id2tag, dtype=object)[tags[win[first], tok[first]]]
    w_score = scores[win[first], tok[first]].astype(np.float64)
    prefix = np.array([t[0] for t in tag_names])
    label = np.array([t[2:] for t in tag_names], dtype=object)
    in_span = prefix != "O"
    # An I- word continues the span before it only if that word is in a span of the same label in
    # the same window; otherwise any B- or I- word starts a span (decode_words' rule).
    cont = np.zeros(len(first), dtype=bool)
    cont[1:] = (prefix[1:] == "I") & in_span[:-1] & (label[1:] == label[:-1]) & (w_win[1:] == w_win[:-1])
    span_start = in_span & ~cont
    span_id = np.cumsum(span_start) - 1
    members = np.flatnonzero(in_span)
    n_spans = int(span_start.sum())
    out: list[list[DecodedSpan]] = [[] for _ in range(n_windows)]
    if n_spans == 0:
        return out
    sid = span_id[members]
    mean = np.bincount(sid, weights=w_score[members], minlength=n_spans) / np.bincount(sid, minlength=n_spans)
    heads = np.flatnonzero(span_start)
    ends_of = np.zeros(n_spans, dtype=np.int64)
    np.maximum.at(ends_of, sid, w_end[members])
    for k, h in enumerate(heads.tolist()):
        out[int(w_win[h])].append(DecodedSpan(int(w_start[h]), int(ends_of[k]), str(label[h]), float(mean[k])))
    return out
