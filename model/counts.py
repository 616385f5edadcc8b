"""Casualty count expressions -> integers ("at least 12" -> 12, "six" -> 6, "dozens" -> None)."""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12, "both": 2, "couple": 2, "pair": 2,
}
_SCALES = {"hundred": 100, "thousand": 1000}
_AGE_WORDS = {"year", "years", "month", "months", "week", "weeks", "day"}
# Words that make a count vague: the text is kept, the number is not guessed.
_VAGUE = {"dozens", "scores", "hundreds", "thousands", "several", "many", "some", "few", "numerous", "multiple", "unknown", "unspecified"}


def parse_count(text: str) -> int | None:
    """The number a count expression states, or None when it states none exactly.

    Qualifiers such as "at least", "more than", "about" are dropped (ACLED codes the stated
    minimum); ranges take the lower bound ("10 to 15" -> 10); of a sum ("five soldiers and a child")
    only the first number counts, as a span holds one count.
    """
    s = text.lower().replace(",", "")
    words = re.findall(r"\d+|[a-z]+", s)
    if any(w in _VAGUE for w in words):
        return None
    total, current, seen = 0, 0, False
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w.isdigit():
            if nxt in _AGE_WORDS:  # "a 14-year-old boy": 14 is an age, the count is the article
                if seen:
                    break
                continue
            return int(w) if not seen else total + current
        if w in ("a", "an") and nxt in _UNITS:  # "a dozen"
            continue
        if w in _UNITS:
            if seen and w in ("a", "an"):
                break
            current += _UNITS[w]
            seen = True
        elif w in _SCALES and seen:
            current *= _SCALES[w]
            if w == "thousand":
                total, current = total + current, 0
        elif w == "and" and seen and nxt in _UNITS and nxt not in ("a", "an"):
            continue
        elif seen:
            break
    return total + current if seen else None
