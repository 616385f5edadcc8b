"""Event dates: a DATE span ("on Tuesday night", "in December 2014") -> an ISO date and ACLED's
``time_precision`` (1 the day, 2 the week, 3 the month or vaguer), relative to the document's date.

``dateparser`` (offline, English only to stay fast) does the parsing; the rules here are the ones it
lacks: a weekday means the last such day on or before the document date (dateparser skips a whole
week when the weekday is the document's own), "overnight" and vague qualifiers ("early", "late",
"mid", "earlier this month") are stripped or mapped, and a month or year is coded to its middle day,
never after the document date. Without a document date no date is invented: only an explicit
absolute date with a year ("on 3 March 2024") resolves.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from model.errors import WirecoderError

# How sure the date is, in ACLED's codes.
DAY, WEEK, MONTH = 1, 2, 3

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_OVERNIGHT = re.compile(r"^(?:overnight|during the night|in the night|at night|late at night|tonight)$", re.I)
# Qualifiers dateparser does not read; the rest of the phrase still dates the event.
_QUALIFIERS = re.compile(
    r"\b(?:early|earlier|late|later|mid|middle of|the middle of|beginning of|the beginning of|start of|"
    r"the start of|end of|the end of|since|until|from|around|about|approximately|as of|by|during|"
    r"sometime|some time|in the early hours of|the early hours of|early hours of|shortly after|"
    r"shortly before|before dawn on|before dawn|at dawn on|at dawn|at dusk on|dawn|morning of)\b",
    re.I,
)
_LEADING = re.compile(r"^(?:on|in|at|of|the|this past|past)\s+", re.I)
_PARTS_OF_DAY = re.compile(r"\b(?:morning|afternoon|evening|night|noon|midday|midnight|dawn|dusk)\b", re.I)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ResolvedDate:
    date: dt.date
    precision: int  # DAY, WEEK or MONTH

    @property
    def iso(self) -> str:
        return self.date.isoformat()


_local = threading.local()


def _parser(base: dt.datetime):
    """One DateDataParser per thread and document date: building one costs more than parsing."""
    from dateparser.date import DateDataParser

    cache = getattr(_local, "parsers", None)
    if cache is None:
        cache = _local.parsers = {}
    p = cache.get(base)
    if p is None:
        if len(cache) > 64:
            cache.clear()
        settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True,
                    "DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first"}
        p = cache[base] = DateDataParser(languages=["en"], settings=settings)
    return p


def to_date(value, what: str = "document date") -> dt.date | None:
    """A document date as given by a user (``datetime.date``, ``datetime`` or ISO ``YYYY-MM-DD``), or None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        try:
            return dt.datetime.fromisoformat(value.strip()).date()  # "2024-03-06T08:30:00Z"
        except ValueError:
            raise WirecoderError(f"{what} {value!r} is not an ISO date (YYYY-MM-DD)") from None
    raise WirecoderError(f"{what} must be an ISO date string or a datetime.date, not {type(value).__name__}")


def document_dates(value, n: int) -> list[dt.date | None]:
    """``predict``'s ``document_date``: one date for all ``n`` texts, or a list or tuple of one per text."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise WirecoderError(f"{len(value)} document dates for {n} texts: give one date, or one per text")
        return [to_date(v, f"document date {i}") for i, v in enumerate(value)]
    return [to_date(value)] * n


def _clean(text: str) -> str:
    text = re.sub(r"['’]s\b", "", text.strip()).strip(".,;:()\"'")  # "Sunday's attack"
    text = _QUALIFIERS.sub(" ", text)
    text = _SPACES.sub(" ", text).strip(" ,")
    while True:
        stripped = _LEADING.sub("", text)
        if stripped == text:
            return text
        text = stripped


_MONTH_LAST_YEAR = re.compile(r"\b((?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?) (?:of )?last year\b", re.I)
# "in the past week" reaches here as "week": _clean drops "in the past".
_PAST_WEEK = re.compile(r"^(?:(?:the |this )?(?:past|last|previous) )?(?:week|seven days|few days|several days)$")
_WEEKEND = re.compile(r"^(?:last |this |the |this past |past )?weekend$")
_DAY_BEFORE = re.compile(r"^(?:the )?(?:previous day|day before|a day earlier|day earlier)$")


def _relative_rules(text: str, doc: dt.date) -> ResolvedDate | None:
    """Phrases dateparser does not read, relative to the document date ``doc``."""
    if _DAY_BEFORE.match(text):
        return ResolvedDate(doc - dt.timedelta(days=1), DAY)
    if _PAST_WEEK.match(text):
        return ResolvedDate(doc - dt.timedelta(days=7), WEEK)  # as dateparser codes "last week"
    if _WEEKEND.match(text):  # the last Saturday before the report
        return ResolvedDate(doc - dt.timedelta(days=(doc.weekday() - 5) % 7 or 7), WEEK)
    weekday = _WEEKDAY.search(text)
    if weekday and re.search(r"\b(?:last|previous) week\b", text):  # "on Thursday last week"
        monday = doc - dt.timedelta(days=doc.weekday() + 7)
        return ResolvedDate(monday + dt.timedelta(days=_WEEKDAYS.index(weekday.group(1).lower())), DAY)
    return None


def _middle(first: dt.date, last: dt.date, cap: dt.date | None) -> dt.date:
    """The middle of the part of a period up to the document date ("earlier this month")."""
    if cap is not None:
        last = max(first, min(last, cap))
    return first + (last - first) // 2


def _month_bounds(d: dt.date) -> tuple[dt.date, dt.date]:
    first = d.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


@lru_cache(maxsize=4096)
def resolve_date(text: str, document_date: dt.date | None) -> ResolvedDate | None:
    """The event date a DATE span gives, or None when it cannot be resolved (see the module docstring)."""
    if not text or not text.strip():
        return None
    cleaned = _clean(text)
    if _OVERNIGHT.match(cleaned):
        # The night before the report: the same rule dateparser applies to "last night".
        return ResolvedDate(document_date - dt.timedelta(days=1), DAY) if document_date else None
    if not cleaned:
        return ResolvedDate(document_date, DAY) if document_date and _PARTS_OF_DAY.search(text) else None
    if document_date is None and not _YEAR.search(cleaned):
        return None  # relative to nothing: never guessed
    if document_date is not None:
        ruled = _relative_rules(cleaned.lower(), document_date)
        if ruled is not None:
            return ruled
        # "in November last year" -> "in November 2023": dateparser reads the year, not the phrase.
        cleaned = _MONTH_LAST_YEAR.sub(lambda m: f"{m.group(1)} {document_date.year - 1}", cleaned)
    base = dt.datetime.combine(document_date or dt.date(2000, 1, 1), dt.time(12))
    data = _parser(base).get_date_data(cleaned)
    if data is None or data.date_obj is None:
        # "on the night of 3 March", "Tuesday evening prayers": try again without the time of day.
        without = _SPACES.sub(" ", _PARTS_OF_DAY.sub(" ", cleaned)).strip()
        if not without or without.lower() in ("this", "today", "the"):
            return ResolvedDate(document_date, DAY) if document_date else None
        data = _parser(base).get_date_data(without) if without != cleaned else None
        if data is None or data.date_obj is None:
            return None
    found = data.date_obj.date()
    period = data.period or "day"
    weekday = _WEEKDAY.search(cleaned)
    if weekday and document_date and period in ("day", "time", "part_of_day") and "last" not in cleaned.lower():
        # "Tuesday" in a report dated Tuesday is that day, not a week earlier.
        back = (document_date.weekday() - _WEEKDAYS.index(weekday.group(1).lower())) % 7
        found = document_date - dt.timedelta(days=back)
    cap = document_date
    if period in ("day", "time", "part_of_day"):
        return ResolvedDate(found, DAY)
    if period == "week":
        return ResolvedDate(min(found, cap) if cap else found, WEEK)
    if period == "month":
        first, last = _month_bounds(found)
        return ResolvedDate(_middle(first, last, cap), MONTH)
    first, last = dt.date(found.year, 1, 1), dt.date(found.year, 12, 31)
    return ResolvedDate(_middle(first, last, cap), MONTH)  # a year: ACLED's vaguest code is 3


# "KABUL, March 4, 2024 (Reuters) -", "Monday, March 4, 2024", "GAO, Mali, 4 March 2024 /AFP/ -":
# a month name with a day and a year within the first line's opening characters.
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATELINE = re.compile(
    r"(?:\b(?:" + "|".join(_WEEKDAYS) + r"),?\s+)?"
    r"(?:\b\d{1,2}\s+" + _MONTHS + r"|\b" + _MONTHS + r"\s+\d{1,2}(?:st|nd|rd|th)?)\s*,?\s+(?:19|20)\d\d\b",
    re.I,
)

# What may stand before the date: place names, each followed by a comma ("GAO, Mali, ").
_DATELINE_PLACE = re.compile(r"\s*(?:[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*\s*,\s*){0,3}")


def dateline_date(text: str, head: int = 120) -> dt.date | None:
    """The document date its dateline states, or None.

    Only a dateline with a year counts: "KABUL, March 4 (Reuters)" alone gives no year, and a year is
    never guessed. The date must open the text (within ``head`` characters, before the first full stop).
    """
    opening = text[:head].split("\n", 1)[0]
    cut = re.search(r"[.!?](?:\s|$)", opening)
    m = _DATELINE.search(opening[: cut.start() + 1] if cut else opening)
    if m is None or not _DATELINE_PLACE.fullmatch(opening[: m.start()]):
        return None
    data = _dateline_parser().get_date_data(m.group(0))
    return data.date_obj.date() if data is not None and data.date_obj is not None else None


@lru_cache(maxsize=1)
def _dateline_parser():
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["en"], settings={"STRICT_PARSING": True, "DATE_ORDER": "DMY"})
