"""ACLED CSV export -> one record per event: the whole note carries the event's sub-event type.

An ACLED note describes one event, so the note is one unit with one label; actor, location, date and
fatality strings found in it become weak spans. See "Importing ACLED exports" in data/README.md.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from model.taxonomy import SUB_EVENT_TYPES
from training.corpus import CorpusError, Record, Span
from training.importers import ImportResult

REQUIRED_COLUMNS = ("event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "actor2",
                    "location", "fatalities", "notes")


def _kw(*words: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(words) + r")", re.IGNORECASE)


# Checked in order: the first pattern found in the note decides the sub-event type.
_REMOTE_VIOLENCE_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (_kw("suicide", "VBIED", "car bomb"), "Suicide bomb"),
    (_kw("chemical", "chlorine", "sarin", "mustard gas"), "Chemical weapon"),
    (_kw("air ?strike", "airstrike", "air raid", "drone", "aircraft", "warplane", r"jets?(?!\w)", "helicopter", "bombard(?:ed|ment) from the air"),
     "Air/drone strike"),
    (_kw("IED", "landmine", "land mine", r"mines?(?!\w)", "roadside bomb", "explosive device", "explosive", "UXO", "unexploded"),
     "Remote explosive/landmine/IED"),
    (_kw("grenade"), "Grenade"),
    (_kw("shell", "artillery", "mortar", "rocket", "missile", "MLRS"), "Shelling/artillery/missile attack"),
)
_RIOT_WORDS = _kw("riot", "violent", "clash", "stone", "rock", "threw", "throw", "burn", "torch", "set fire", "vandal",
                  "loot", "barricade", "attack", "destroy", "damage")


def _remote_violence(note: str) -> str | None:
    """Old "Remote violence": the weapon named in the note decides; no weapon word -> skipped."""
    for pattern, sub in _REMOTE_VIOLENCE_RULES:
        if pattern.search(note):
            return sub
    return None


def _riots_protests(note: str) -> str:
    """Old "Riots/Protests": any sign of violence by demonstrators -> Violent demonstration."""
    return "Violent demonstration" if _RIOT_WORDS.search(note) else "Peaceful protest"


# Names from older ACLED taxonomies (event_type, or sub_event_type) -> a current sub-event type, or
# a rule on the note that returns one (None: skipped, counted).
OLD_TAXONOMY: dict[str, str | Callable[[str], str | None]] = {
    "Battle-No change of territory": "Armed clash",
    "Battle-Government regains territory": "Government regains territory",
    "Battle-Non-state actor overtakes territory": "Non-state actor overtakes territory",
    "Remote violence": _remote_violence,
    "Riots/Protests": _riots_protests,
    "Violence against civilians": "Attack",
    "Strategic development": "Other",
}

_NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                 "sixteen seventeen eighteen nineteen twenty").split()
_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty", 90: "ninety"}
# Day before month where both could be either ("03/04/2021"): ACLED and most of its sources write
# dates that way; a month-first date is read only when day-first is impossible ("12/25/2014").
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %B, %Y", "%d-%B-%Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y",
                 "%B %d, %Y", "%B %d %Y", "%b %d, %Y", "%b %d %Y", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y",
                 "%d-%m-%Y", "%Y/%m/%d")
# Notes and descriptions can exceed the csv module's default 131,072 characters per field; beyond
# this a field is more likely a broken quote swallowing the rest of the file.
FIELD_SIZE_LIMIT = 64 * 1024 * 1024
_BRACKETED = re.compile(r"\s*\([^()]*\)\s*$")


def sub_event_type_of(event_type: str, sub_event_type: str, note: str) -> tuple[str | None, str]:
    """The current sub-event type of a row, or None and the reason for skipping it."""
    if sub_event_type in SUB_EVENT_TYPES:
        return sub_event_type, ""
    for name in (sub_event_type, event_type):
        rule = OLD_TAXONOMY.get(name)
        if rule is None:
            continue
        sub = rule(note) if callable(rule) else rule
        if sub is None:
            return None, f"old type {name!r} without a deciding keyword in the note"
        return sub, ""
    shown = sub_event_type or event_type or "(empty)"
    return None, f"unknown event/sub-event type {shown!r}"


def actor_name(actor: str) -> str:
    """"Unidentified Armed Group (Nigeria)" -> "Unidentified Armed Group": ACLED's bracket is not in notes."""
    while _BRACKETED.search(actor):
        actor = _BRACKETED.sub("", actor)
    return actor.strip()


def parse_date(value: str) -> date | None:
    value = value.strip()
    try:
        return datetime.fromisoformat(value).date()  # also "2014-03-09T00:00:00" and "2014-03-09 00:00:00"
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def date_forms(d: date) -> list[str]:
    """Common ways a note writes the event date, longest first so the fullest form wins."""
    forms = [d.isoformat(), f"{d.day:02d}/{d.month:02d}/{d.year}"]
    full, short = d.strftime("%B"), d.strftime("%b")
    days = dict.fromkeys((str(d.day), f"{d.day:02d}", _ordinal(d.day)))
    for month in dict.fromkeys((full, short)):
        for day in days:
            forms += [f"{day} {month} {d.year}", f"{day} {month}"]
        forms += [f"{_ordinal(d.day)} of {month} {d.year}", f"{_ordinal(d.day)} of {month}"]
    # "Mar. 9" (AP style) but never "9 Mar." here: that dot usually ends the sentence.
    for month in dict.fromkeys((full, short, short + ".")):
        for day in days:
            forms += [f"{month} {day}, {d.year}", f"{month} {day} {d.year}", f"{month} {day}"]
    return sorted(dict.fromkeys(forms), key=len, reverse=True)


def _words_below_100(n: int) -> list[str]:
    if n < len(_NUMBER_WORDS):
        return [_NUMBER_WORDS[n]]
    tens, unit = _TENS[n - n % 10], n % 10
    return [tens] if unit == 0 else [f"{tens}-{_NUMBER_WORDS[unit]}", f"{tens} {_NUMBER_WORDS[unit]}"]


def number_words(n: int) -> list[str]:
    """How a note may spell a count below 1,000: "twenty-five", "one hundred and twelve", "a hundred"."""
    if not 0 < n < 1000:
        return []
    if n < 100:
        return _words_below_100(n)
    hundreds, rest = divmod(n, 100)
    heads = [f"{_NUMBER_WORDS[hundreds]} hundred"] + (["a hundred"] if hundreds == 1 else [])
    if rest == 0:
        return heads
    return [f"{head}{joint}{tail}" for head in heads for joint in (" and ", " ") for tail in _words_below_100(rest)]


def number_forms(n: int) -> list[str]:
    return list(dict.fromkeys([str(n), f"{n:,}", *number_words(n)]))


def _phrase_pattern(phrase: str) -> re.Pattern:
    # Word edges only where the phrase starts/ends with a word character ("U.S." ends with a dot).
    left = r"(?<!\w)" if phrase[:1].isalnum() else ""
    right = r"(?!\w)" if phrase[-1:].isalnum() else ""
    return re.compile(left + re.escape(phrase) + right, re.IGNORECASE)


def _find_free(text: str, phrases: list[str], taken: list[Span]) -> tuple[int, int] | None:
    """First occurrence of the first phrase that has one not overlapping ``taken``."""
    for phrase in phrases:
        phrase = phrase.strip()
        if not phrase:
            continue
        for m in _phrase_pattern(phrase).finditer(text):
            if all(m.end() <= s.start or m.start() >= s.end for s in taken):
                return m.start(), m.end()
    return None


def weak_spans(text: str, row: dict[str, str]) -> list[Span]:
    """ACTOR, TARGET, DATE, LOCATION, FATALITIES found in ``text``, in that priority, non-overlapping.

    Dates go before fatality counts so the "3" of "3 March" is never a death toll; actors before
    locations so a country inside an actor's name is not the location.
    """
    wanted: list[tuple[str, list[str]]] = [
        ("ACTOR", [actor_name(row.get("actor1") or "")]),
        ("TARGET", [actor_name(row.get("actor2") or "")]),
    ]
    d = parse_date(row.get("event_date") or "")
    if d is not None:
        wanted.append(("DATE", date_forms(d)))
    wanted.append(("LOCATION", [row.get("location") or ""]))
    try:
        fatalities = int(str(row.get("fatalities") or "0").strip())
    except ValueError:
        fatalities = 0
    if fatalities > 0:
        wanted.append(("FATALITIES", number_forms(fatalities)))
    spans: list[Span] = []
    for label, phrases in wanted:
        hit = _find_free(text, phrases, spans)
        if hit:
            spans.append(Span(hit[0], hit[1], label))
    return sorted(spans, key=lambda s: s.start)


def records_of_event(row: dict[str, str], sub: str, where: str) -> list[Record]:
    """One record per note: an ACLED note describes one event, so the whole note carries its type.

    Splitting the note and labelling only the sentences where a name or date matched (the first
    importer) taught the model that the rest of a note ("The victim was a local trader.") is no
    event, and cost real-text F1 (issue 9).
    """
    note = row["notes"].strip()
    event_id = row["event_id_cnty"].strip()
    meta = {k: row[k].strip() for k in ("country", "event_date") if row.get(k)}
    return [Record(id=event_id, doc_id=event_id, text=note, sub_event_types=[sub], spans=weak_spans(note, row),
                   meta=meta, source=where)]


def check_columns(path: Path, fieldnames) -> None:
    if not fieldnames:
        raise CorpusError(f"{path}:1: empty file, expected an ACLED CSV header")
    missing = [c for c in REQUIRED_COLUMNS if c not in fieldnames]
    if missing:
        hint = " (is the file comma-separated?)" if len(fieldnames) == 1 else ""
        raise CorpusError(f"{path}:1: missing ACLED column(s) {', '.join(missing)}{hint}")


def read(path: Path, label_map=None, **_options) -> ImportResult:
    """Read an ACLED CSV export; ``label_map`` is not used (ACLED columns are fixed)."""
    result = ImportResult()
    previous_limit = csv.field_size_limit(FIELD_SIZE_LIMIT)
    reader = None
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            check_columns(path, reader.fieldnames)
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if None in row or any(v is None for v in row.values()):
                    result.skip("row with a wrong number of fields", where)
                    continue
                if not row["event_id_cnty"].strip():
                    result.skip("missing event_id_cnty", where)
                    continue
                if not row["notes"].strip():
                    result.skip("empty notes", where)
                    continue
                sub, reason = sub_event_type_of(row["event_type"].strip(), row["sub_event_type"].strip(), row["notes"])
                if sub is None:
                    result.skip(reason, where)
                    continue
                result.records.extend(records_of_event(row, sub, where))
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 ({exc})") from exc
    except csv.Error as exc:
        # line_num counts the lines parsed so far: the bad record starts on the next one.
        line = f":{reader.line_num + 1}" if reader is not None else ""
        raise CorpusError(f"{path}{line}: malformed CSV ({exc}; a field may open a quote it never closes)") from exc
    finally:
        csv.field_size_limit(previous_limit)
    return result
