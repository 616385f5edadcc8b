"""Sentence splitting with exact character offsets, tuned for wire copy.

Rule-based on purpose: no model download, predictable, and it keeps abbreviations ("Gen.", "U.S.",
"Lt. Col."), decimals, initials, quotes after the full stop and datelines ("KABUL (Reuters) -")
inside their sentence.
"""

from __future__ import annotations

import re

# Lower-cased abbreviations (without the final dot) after which a full stop does not end a sentence.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen lt col maj capt cpt sgt cpl pvt adm cmdr brig rev st sr jr gov sen rep pres
    no nos vol fig approx est dept govt inc ltd co corp bros ave rd mt ft vs etc al
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    u.s u.k u.n e.u a.m p.m i.e e.g u.s.a d.c
    """.split()
)

# Abbreviations that often end a sentence too ("at 5 p.m. Police said"): they end one when the next
# word is a common sentence opener.
_MAY_END_SENTENCE = frozenset("a.m p.m u.s u.k u.n e.u etc d.c u.s.a inc ltd co corp jr sr".split())
_SENTENCE_STARTERS = frozenset(
    """He She It They We I You The A An This That These Those There Their His Her Its Our In On At By For But And
    Police Officials Authorities Witnesses Residents Soldiers Troops No Some Many Several Earlier Later Meanwhile
    However Separately Also After Before When While Since""".split()
)
_CLOSERS = "\"'”’)]»"
_BOUNDARY = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s)")
_PARAGRAPH = re.compile(r"\n\s*\n")


def _word_before(text: str, dot: int) -> str:
    j = dot
    while j > 0 and not text[j - 1].isspace() and text[j - 1] not in "(\"'“‘":
        j -= 1
    return text[j:dot].lower()


def _ends_with_abbreviation(text: str, dot: int, next_word: str) -> bool:
    """Is the full stop at ``dot`` part of an abbreviation or an initial, given the next word?"""
    word = _word_before(text, dot)
    if not word:
        return False
    if word in ("no", "nos"):
        return next_word[:1].isdigit()  # "No. 5", but "the rebels said no. Fighting resumed"
    if word in _MAY_END_SENTENCE:
        return next_word not in _SENTENCE_STARTERS
    if word in ABBREVIATIONS:
        return True
    # Single letters ("J. Smith") and dotted acronyms ("U.S", "a.m") are initials, not sentence ends.
    return len(word) == 1 and word.isalpha() or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    sent_start = start
    for m in _BOUNDARY.finditer(text, start, end):
        punct_end = m.end()
        # The next sentence must start like one: not with a lower-case letter.
        k = punct_end
        while k < end and text[k].isspace():
            k += 1
        if k >= end:
            break
        next_word = re.match(r"\S*", text[k:end]).group().strip("\"'“‘([«.,;:")
        if text[m.start()] == "." and m.group().rstrip(_CLOSERS) == "." and _ends_with_abbreviation(text, m.start(), next_word):
            continue
        if text[k].islower():
            continue
        out.append((sent_start, punct_end))
        sent_start = k
    out.append((sent_start, end))
    return out


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``; whitespace-only text gives []."""
    spans: list[tuple[int, int]] = []
    block_start = 0
    blocks = []
    for m in _PARAGRAPH.finditer(text):
        blocks.append((block_start, m.start()))
        block_start = m.end()
    blocks.append((block_start, len(text)))
    for b_start, b_end in blocks:
        for s, e in _split_block(text, b_start, b_end):
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append((s, e))
    return spans
