"""Event dates relative to a document date, ACLED time precision, datelines (hand-computed dates)."""

import datetime as dt

import pytest

from model.dates import DAY, MONTH, WEEK, dateline_date, document_dates, resolve_date, to_date
from model.errors import WirecoderError

WEDNESDAY = dt.date(2024, 3, 6)  # a Wednesday


@pytest.mark.parametrize("text, iso, precision", [
    ("on Tuesday", "2024-03-05", DAY),
    ("Tuesday", "2024-03-05", DAY),
    ("on Tuesday night", "2024-03-05", DAY),
    ("on Sunday morning", "2024-03-03", DAY),
    ("Thursday", "2024-02-29", DAY),  # the last Thursday before the report: 2024 is a leap year
    ("on Wednesday", "2024-03-06", DAY),  # the report's own weekday is the report's day
    ("last Wednesday", "2024-02-28", DAY),
    ("yesterday", "2024-03-05", DAY),
    ("two days ago", "2024-03-04", DAY),
    ("last night", "2024-03-05", DAY),
    ("overnight", "2024-03-05", DAY),
    ("this morning", "2024-03-06", DAY),
    ("at dawn", "2024-03-06", DAY),
    ("in the early hours of Monday", "2024-03-04", DAY),
    ("on 3 March", "2024-03-03", DAY),
    ("March 4", "2024-03-04", DAY),
    ("on the night of 3 March", "2024-03-03", DAY),
    ("on Friday, March 1", "2024-03-01", DAY),
    ("on 30 December", "2023-12-30", DAY),  # the past, not nine months ahead
    ("last week", "2024-02-28", WEEK),
    ("in December 2014", "2014-12-16", MONTH),  # a month: its middle day
    ("last month", "2024-02-15", MONTH),
    ("late last month", "2024-02-15", MONTH),
    ("early this month", "2024-03-03", MONTH),  # the middle of 1-6 March: never after the report
    ("in mid-February", "2024-02-15", MONTH),
    ("earlier this year", "2024-02-02", MONTH),  # the middle of 1 January - 6 March
    ("in 2014", "2014-07-02", MONTH),
    ("last weekend", "2024-03-02", WEEK),  # its Saturday
    ("in the past week", "2024-02-28", WEEK),
    ("the previous day", "2024-03-05", DAY),
    ("on Thursday last week", "2024-02-29", DAY),
    ("in November last year", "2023-11-15", MONTH),
    ("Sunday's", "2024-03-03", DAY),
])
def test_dates_relative_to_the_document_date(text, iso, precision):
    r = resolve_date(text, WEDNESDAY)
    assert r is not None, text
    assert (r.iso, r.precision) == (iso, precision)


def test_without_a_document_date_only_absolute_dates_resolve():
    assert resolve_date("on Tuesday", None) is None
    assert resolve_date("last week", None) is None
    assert resolve_date("overnight", None) is None
    r = resolve_date("on 3 March 2024", None)
    assert (r.iso, r.precision) == ("2024-03-03", DAY)
    assert resolve_date("in December 2014", None).iso == "2014-12-16"


def test_unreadable_date_text_gives_none():
    assert resolve_date("at an unknown time", WEDNESDAY) is None
    assert resolve_date("   ", WEDNESDAY) is None


@pytest.mark.parametrize("text, expected", [
    ("KABUL, March 4, 2024 (Reuters) - Gunmen attacked a checkpoint.", dt.date(2024, 3, 4)),
    ("Monday, March 4, 2024\nGunmen attacked a checkpoint.", dt.date(2024, 3, 4)),
    ("GAO, Mali, 4 March 2024 /AFP/ - Gunmen attacked.", dt.date(2024, 3, 4)),
    # No year: nothing is guessed.
    ("KABUL, March 4 (Reuters) - Gunmen attacked a checkpoint.", None),
    # A date inside the story is no dateline.
    ("Gunmen killed two people on 3 March 2024 in Gao.", None),
    ("Gunmen attacked. On March 4, 2024 the army replied.", None),
])
def test_dateline_gives_the_document_date(text, expected):
    assert dateline_date(text) == expected


def test_document_dates_one_for_all_or_one_each():
    assert document_dates("2024-03-06", 2) == [WEDNESDAY, WEDNESDAY]
    assert document_dates([WEDNESDAY, None], 2) == [WEDNESDAY, None]
    assert document_dates(None, 2) == [None, None]
    assert to_date("2024-03-06T08:30:00") == WEDNESDAY
    assert to_date(dt.datetime(2024, 3, 6, 8)) == WEDNESDAY
    with pytest.raises(WirecoderError, match="1 document dates for 2 texts"):
        document_dates(["2024-03-06"], 2)
    with pytest.raises(WirecoderError, match=r"document date 1 '6/3/2024' is not an ISO date"):
        document_dates(["2024-03-06", "6/3/2024"], 2)
    with pytest.raises(WirecoderError, match="not int"):
        to_date(20240306)
