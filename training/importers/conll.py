"""CoNLL / BIO files -> records: a token per line (token first, tag last), blank line between sentences.

Schemes: IOB1, IOB2 and BIOES (BILOU's L-/U- read as E-/S-), detected or given. ``-DOCSTART-``
lines start a new report; without them every sentence is its own report (so the hash split can
spread them). Text is rebuilt by joining tokens with single spaces, without a space before closing
punctuation or after opening brackets, and span offsets are computed on that text.

Bad sequences are repaired and counted: an I- (or E-) tag that does not continue a span of its type
starts a new span (conlleval's reading); in BIOES a span left open (no E-) ends at its last tag.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from model.errors import WirecoderError
from training.corpus import CorpusError, Record, Span
from training.importers import ImportResult, drop_event_only_spans, resolve_labels

logger = logging.getLogger(__name__)

SCHEMES = ("auto", "iob1", "iob2", "bioes")
_PREFIX_ALIASES = {"B": "B", "I": "I", "E": "E", "S": "S", "L": "E", "U": "S"}
_NO_SPACE_BEFORE = set(".,;:!?)]}%…”’") | {"'", "''", "n't", "'s", "'re", "'ve", "'ll", "'d", "'m"}
_NO_SPACE_AFTER = set("([{$“‘") | {"``"}

REPAIR_STARTS = "I-/E- tag not continuing a span of its type: started a new span"
REPAIR_OPEN = "BIOES span not closed by E-: ended at its last tag"


@dataclass
class Sentence:
    doc: int
    tokens: list[str] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)  # (prefix B/I/E/S/O, type)
    line: int = 0


def parse_tag(tag: str, where: str) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    prefix, sep, label = tag.partition("-")
    if not sep or not label or prefix.upper() not in _PREFIX_ALIASES:
        raise CorpusError(f"{where}: malformed tag {tag!r} (expected O, or B-/I-/E-/S- followed by a label)")
    return _PREFIX_ALIASES[prefix.upper()], label


def read_sentences(path: Path) -> tuple[list[Sentence], bool]:
    """Sentences with their tags; also whether the file marks documents with -DOCSTART-."""
    sentences: list[Sentence] = []
    cur: Sentence | None = None
    doc, has_docstart = 0, False
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 ({exc})") from exc
    for lineno, raw in enumerate(lines, 1):
        cols = raw.split()
        if not cols:
            cur = None
            continue
        if cols[0] == "-DOCSTART-":
            doc, has_docstart, cur = doc + 1, True, None
            continue
        if len(cols) < 2:
            raise CorpusError(f"{path}:{lineno}: expected a token and a tag separated by whitespace, got {raw.strip()!r}")
        if cur is None:
            cur = Sentence(doc=doc, line=lineno)
            sentences.append(cur)
        cur.tokens.append(cols[0])
        cur.tags.append(parse_tag(cols[-1], f"{path}:{lineno}"))
    return sentences, has_docstart


def detect_scheme(sentences: list[Sentence]) -> str:
    """BIOES if E-/S- occur; IOB1 if spans start with I- and B- only ever splits adjacent spans; else IOB2."""
    i_starts = b_starts = 0
    for s in sentences:
        prev = ("O", "")
        for p, t in s.tags:
            if p in ("E", "S"):
                return "bioes"
            continues = prev[0] != "O" and prev[1] == t
            if p == "I" and not continues:
                i_starts += 1
            elif p == "B" and not continues:
                b_starts += 1
            prev = (p, t)
    return "iob1" if i_starts and not b_starts else "iob2"


def decode(tags: list[tuple[str, str]], scheme: str, repairs: Counter) -> list[tuple[int, int, str]]:
    """Token spans (start, end exclusive, type) of one sentence."""
    chunks: list[tuple[int, int, str]] = []
    open_: list = []  # [start, type] of the span being read

    def close(end: int) -> None:
        if open_:
            chunks.append((open_[0], end, open_[1]))
            open_.clear()

    for i, (p, t) in enumerate(tags):
        continues = bool(open_) and open_[1] == t
        if p == "O":
            if open_ and scheme == "bioes":
                repairs[REPAIR_OPEN] += 1
            close(i)
        elif p == "B":
            if open_ and scheme == "bioes":
                repairs[REPAIR_OPEN] += 1
            close(i)
            open_[:] = [i, t]
        elif p == "S":
            if open_:
                repairs[REPAIR_OPEN] += 1
            close(i)
            chunks.append((i, i + 1, t))
        else:  # I or E
            if not continues:
                if scheme != "iob1":  # in IOB1 an I- after O is how a span starts
                    repairs[REPAIR_STARTS] += 1
                close(i)
                open_[:] = [i, t]
            if p == "E":
                close(i + 1)
    if open_ and scheme == "bioes":
        repairs[REPAIR_OPEN] += 1
    close(len(tags))
    return chunks


def join_tokens(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Text with single spaces between tokens except around punctuation, and each token's offsets."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos, glue_next, quote_open = 0, True, False
    for tok in tokens:
        space = not glue_next
        glue_next = tok in _NO_SPACE_AFTER
        if tok in _NO_SPACE_BEFORE or tok.lower() in _NO_SPACE_BEFORE:
            space = False
        if tok == '"':
            # Straight quotes alternate: an opening one glues to what follows, a closing one to what precedes.
            space, glue_next = (space, True) if not quote_open else (False, False)
            quote_open = not quote_open
        if space:
            parts.append(" ")
            pos += 1
        parts.append(tok)
        offsets.append((pos, pos + len(tok)))
        pos += len(tok)
    return "".join(parts), offsets


def read(path: Path, label_map=None, scheme: str = "auto", **_options) -> ImportResult:
    if scheme not in SCHEMES:
        raise WirecoderError(f"--scheme must be one of {', '.join(SCHEMES)}")
    result = ImportResult()
    sentences, has_docstart = read_sentences(path)
    if scheme == "auto":
        scheme = detect_scheme(sentences)
        logger.info("%s: tagging scheme %s", path, scheme.upper())
    mapping = resolve_labels(label_map, {t for s in sentences for p, t in s.tags if p != "O"}, str(path))
    for n, sent in enumerate(sentences, 1):
        text, offsets = join_tokens(sent.tokens)
        spans = []
        for a, b, t in decode(sent.tags, scheme, result.fixed):
            label = mapping[t]
            if label is None:
                result.fixed[f"span dropped by the label map ({t})"] += 1
                continue
            spans.append(Span(offsets[a][0], offsets[b - 1][1], label))
        doc_id = f"{path.stem}-d{sent.doc}" if has_docstart else f"{path.stem}-{n}"
        record = Record(id=f"{path.stem}-{n}", doc_id=doc_id, text=text, sub_event_types=[], spans=spans,
                        source=f"{path}:{sent.line}")
        drop_event_only_spans(record, result)
        result.records.append(record)
    return result
