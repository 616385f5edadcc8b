"""Casualty count expressions -> integers ("at least 12" -> 12, "six" -> 6, "dozens" -> None).

Hand rules rather than a number-word library: the domain needs ages ("a nine-year-old girl" is one
victim), articles ("a child"), vague amounts kept vague, and "dozen" as a multiplier, which
general number parsers (text2num, word2number) do not do.
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "both": 2, "couple": 2, "pair": 2,
}
# Multipliers; from "thousand" up they close a group ("two thousand five hundred").
_SCALES = {"dozen": 12, "hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_AGE_WORDS = {"year", "years", "month", "months", "week", "weeks", "day", "days"}
# Words that make a count vague: the text is kept, the number is not guessed.
_VAGUE = {"dozens", "scores", "hundreds", "thousands", "millions", "several", "many", "some", "few", "numerous",
          "multiple", "unknown", "unspecified"}
_NONE = {"none", "nobody", "no"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?|[a-z]+")


def _is_age(words: list[str], i: int) -> bool:
    """Is words[i] (a number) an age: "14-year-old", "nine months old"?"""
    return i + 1 < len(words) and words[i + 1] in _AGE_WORDS


def parse_count(text: str) -> int | None:
    """The number a count expression states, or None when it states none exactly.

    Qualifiers such as "at least", "more than", "about" are dropped (ACLED codes the stated
    minimum); ranges take the lower bound ("10 to 15" -> 10); of a sum ("five soldiers and a child")
    only the first number counts, as a span holds one count. "No one" and "none" are 0.
    """
    words = _NUMBER.findall(text.lower().replace(",", ""))
    if any(w in _VAGUE for w in words):
        return None
    if words and words[0] in _NONE:
        return 0
    total, current, seen = 0.0, 0.0, False
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if (w[0].isdigit() or w in _UNITS) and _is_age(words, i):
            if seen:
                break  # "a 14-year-old boy": the count was the article
            i += 2
            continue
        if w[0].isdigit():
            if seen:
                break  # "10 to 15": the lower bound
            current, seen = float(w), True
        elif w in ("a", "an"):
            if seen:
                break
            current, seen = 1.0, True  # "a child", "a dozen", "a nine-year-old"
        elif w == "half" and nxt in ("a", "an"):
            current, seen = 0.5, True
            i += 1  # "half a dozen": the article belongs to "half"
        elif w in _UNITS:
            if seen and current == 0 and total > 0:
                current = float(_UNITS[w])  # "two thousand five"
            elif seen and current >= 10 and current % 10 == 0 and _UNITS[w] < 10:
                current += _UNITS[w]  # "twenty five"
            elif seen and current % 100 == 0 and current > 0:
                current += _UNITS[w]  # "hundred and forty"
            elif seen:
                break
            else:
                current, seen = float(_UNITS[w]), True
        elif w in _SCALES:
            current = (current if seen else 1.0) * _SCALES[w]
            seen = True
            if _SCALES[w] >= 1000:
                total, current = total + current, 0.0
        elif w == "and" and seen and (nxt in _UNITS):
            pass
        elif seen:
            break
        i += 1
    return int(total + current) if seen else None
