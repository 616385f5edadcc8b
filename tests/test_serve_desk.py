"""The coding desk in a real browser: `wirecoder serve`'s app on a free port, driven in headless Chromium
through selenium. Paste a report, see the highlights, correct a span label, a sub-event type and a
missing span, export the rows (ACLED CSV) and the corrections (JSONL that `wirecoder train --data`
reads).

The tiny test model predicts random labels, so the server here codes with a stub whose predictions
are fixed by hand (``FixedCoder``): the highlights to expect are known without running a model.
"""

import contextlib
import csv
import json
import shutil
import socket
import threading
import time

import pytest

from model.events import build_events
from model.results import Prediction, ScoredLabel, SentenceResult, SpanResult
from model.sentences import split_sentences
from model.taxonomy import SUB_TO_EVENT
from training.corpus import read_records
from training.serve import create_app
from training.writers import COLOURS, AcledCsvWriter

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver; "
           ".ci/run installs them)")

REPORT = ("Syrian army troops clashed with Islamic State fighters near Palmyra on Monday, killing four militants. "
          "The army said it would push towards the airbase next week.")
FIRST = REPORT.split(". ")[0] + "."
# (words, label) per sentence, and the first sentence's one sub-event type: what FixedCoder predicts.
SPANS = [[("Syrian army troops", "ACTOR"), ("clashed", "TRIGGER"), ("Islamic State fighters", "ACTOR"),
          ("Palmyra", "LOCATION"), ("Monday", "DATE")],
         [("The army", "ACTOR")]]


def coded(doc_id: str, text: str, labels) -> Prediction:
    """``text`` coded as given: ``labels(i)`` -> (sub-event types, [(words, label)]) of sentence i; the
    event rows built from them by the library's own builder (the expected values for the desk)."""
    pred = Prediction(id=doc_id, text=text)
    for i, (start, end) in enumerate(split_sentences(text)):
        subs, words = labels(i)
        subs = sorted((ScoredLabel(s, score) for s, score in subs), key=lambda x: -x.score)
        for w, label in words:
            at = text.find(w, start, end)
            if at >= 0:
                pred.spans.append(SpanResult(at, at + len(w), w, label, 0.8, i))
        events: dict[str, float] = {}
        for s in subs:
            events.setdefault(SUB_TO_EVENT[s.label], s.score)
        pred.sentences.append(SentenceResult(start, end, text[start:end], [ScoredLabel(*e) for e in events.items()], subs))
    pred.events = build_events(text, pred.sentences, pred.spans, None, doc_id)
    return pred


def fixed_labels(i):
    return ([("Armed clash", 0.91)] if i == 0 else [], SPANS[i] if i < len(SPANS) else [])


class FixedCoder:
    """Codes any text with hand-fixed labels: the words of SPANS where they occur, Armed clash (0.91)
    for the first sentence, no event for the others."""

    def __init__(self, coder):
        self.config, self.thresholds, self.max_length = coder.config, coder.thresholds, coder.max_length

    def predict(self, texts, batch_size=64, ids=None, **_):
        return [coded(ids[n] if ids else str(n), text, fixed_labels) for n, text in enumerate(texts)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(app):
    """``app`` on a free localhost port, in a uvicorn thread; yields its base URL."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture()
def server(tiny_coder):
    with serving(create_app(FixedCoder(tiny_coder))) as url:
        yield url


@pytest.fixture()
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


def wait_for(predicate, what, timeout=120):  # generous: the first rows load the gazetteer
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def marks(driver, selector):
    return [(m.get_attribute("textContent"), m.get_attribute("data-label"))
            for m in driver.find_elements("css selector", selector + " mark")]


def row_cells(driver):
    """Per row of the desk's event table: report, event type, sub-event type, actor1 and score."""
    cols = ("event_type", "sub_event_type", "actor1", "score")
    return [[r.find_element("css selector", "td").text] + [r.find_element("css selector", f"td[data-col='{c}']").text for c in cols]
            for r in driver.find_elements("css selector", "#rows tbody tr")]


def chips(driver, sentence):
    return [c.text for c in driver.find_elements("css selector", f".sent[data-sent='{sentence}'] .chip")]


def downloaded(driver, name):
    file = driver.downloads / name
    return wait_for(lambda: file.is_file() and file.stat().st_size > 0 and file, f"the download {name}").read_text(encoding="utf-8")


def select_words(driver, words):
    """Select, as a user dragging the mouse would, part of ``words`` in the editor's sentence (the middle
    of the first and last word, so the desk has to widen the selection to whole words)."""
    driver.execute_script("""
        const [words] = arguments; const box = document.querySelector('#edit-text');
        const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
        let node; while ((node = walker.nextNode())) { const at = node.data.indexOf(words);
          if (at >= 0) { const r = document.createRange(); r.setStart(node, at + 1); r.setEnd(node, at + words.length - 1);
            const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r); return; } }
        throw new Error('words not found: ' + words);""", words)


def test_paste_highlight_correct_and_export(server, browser, tmp_path):
    from selenium.webdriver.support.select import Select

    browser.get(server + "/")
    wait_for(lambda: len(browser.find_elements("css selector", "#legend mark")) == 8, "the model's labels")
    browser.find_element("id", "input").send_keys(REPORT)
    browser.find_element("id", "code").click()
    wait_for(lambda: len(browser.find_elements("css selector", "#report .sent")) == 2, "the coded report")

    # The highlights, by label and colour, and each sentence's event types.
    assert marks(browser, "#report .sent[data-sent='0']") == SPANS[0]
    assert marks(browser, "#report .sent[data-sent='1']") == SPANS[1]
    palmyra = browser.find_element("css selector", "#report mark[data-label='LOCATION']")
    assert palmyra.value_of_css_property("background-color") == "rgba(254, 202, 116, 1)" == _rgba(COLOURS["LOCATION"])
    assert chips(browser, 0) == ["Battles · Armed clash 0.91"] and chips(browser, 1) == ["no event"]
    assert row_cells(browser) == [["report", "Battles", "Armed clash", "Syrian army troops", "0.91"]]

    # Correct the first sentence: a span's label, a missing span, one more sub-event type.
    browser.find_element("css selector", "#report .sent[data-sent='0']").click()
    wait_for(lambda: browser.find_element("id", "editor").is_displayed(), "the editor")
    Select(browser.find_element("css selector", "#edit-spans select[aria-label='label of Islamic State fighters']")).select_by_value("TARGET")
    select_words(browser, "four militants")
    Select(browser.find_element("id", "span-label")).select_by_value("FATALITIES")
    browser.find_element("id", "add-span").click()
    browser.find_element("css selector", "#edit-types input[value='Attack']").click()
    browser.find_element("id", "edit-done").click()

    assert marks(browser, "#report .sent[data-sent='0']") == [
        ("Syrian army troops", "ACTOR"), ("clashed", "TRIGGER"), ("Islamic State fighters", "TARGET"),
        ("Palmyra", "LOCATION"), ("Monday", "DATE"), ("four militants", "FATALITIES")]
    assert chips(browser, 0) == ["Battles · Armed clash 0.91", "Violence against civilians · Attack ✓"]

    # The rows follow the corrections (rebuilt by the server), and the CSV is the library's ACLED CSV of them.
    wait_for(lambda: len(row_cells(browser)) == 2, "the corrected rows")
    assert sorted(row_cells(browser)) == [["report", "Battles", "Armed clash", "Syrian army troops", "0.91"],
                                          ["report", "Violence against civilians", "Attack", "Syrian army troops", "1.00"]]
    corrected = {0: ([("Armed clash", 0.91), ("Attack", 1.0)], [
        ("Syrian army troops", "ACTOR"), ("clashed", "TRIGGER"), ("Islamic State fighters", "TARGET"),
        ("Palmyra", "LOCATION"), ("Monday", "DATE"), ("four militants", "FATALITIES")])}
    expected = coded("report", REPORT, lambda i: corrected.get(i, fixed_labels(i)))
    writer = AcledCsvWriter()
    browser.find_element("id", "export-csv").click()
    exported = downloaded(browser, "wirecoder_events.csv")
    assert exported == writer.header() + writer.record(expected, "report", "report", None)
    rows = list(csv.DictReader(exported.splitlines()))
    assert sorted(r["sub_event_type"] for r in rows) == ["Armed clash", "Attack"]
    assert {r["actor2"] for r in rows} == {"Islamic State fighters"}

    browser.find_element("id", "export-jsonl").click()
    lines = downloaded(browser, "wirecoder_corrections.jsonl").splitlines()
    assert len(lines) == 1  # only the corrected sentence
    record = json.loads(lines[0])
    at = {w: FIRST.index(w) for w in ("Syrian army troops", "clashed", "Islamic State fighters", "Palmyra", "Monday", "four militants")}
    assert record == {
        "id": "report-s1", "doc_id": "report", "text": FIRST, "sub_event_types": ["Armed clash", "Attack"],
        "spans": [{"start": at[w], "end": at[w] + len(w), "label": lab} for w, lab in [
            ("Syrian army troops", "ACTOR"), ("clashed", "TRIGGER"), ("Islamic State fighters", "TARGET"),
            ("Palmyra", "LOCATION"), ("Monday", "DATE"), ("four militants", "FATALITIES")]]}
    # `wirecoder train --data` reads JSONL with this reader: the export is accepted as it is.
    (tmp_path / "corrections.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    [rec] = read_records(tmp_path / "corrections.jsonl")
    assert rec.text == FIRST and rec.sub_event_types == ["Armed clash", "Attack"]
    assert [(FIRST[s.start:s.end], s.label) for s in rec.spans][-1] == ("four militants", "FATALITIES")


def test_open_a_jsonl_file_and_export_every_sentence(server, browser, tmp_path):
    src = tmp_path / "reports.jsonl"
    src.write_text(json.dumps({"id": "a1", "text": REPORT}) + "\n" + json.dumps({"text": "Police arrested two men."}) + "\n")
    browser.get(server + "/")
    wait_for(lambda: len(browser.find_elements("css selector", "#legend mark")) == 8, "the model's labels")
    browser.find_element("id", "file").send_keys(str(src))
    wait_for(lambda: "2 reports from reports.jsonl" in browser.find_element("id", "status").text, "the file to load")
    browser.find_element("id", "code").click()
    wait_for(lambda: len(browser.find_elements("css selector", "#report .sent")) == 3, "the coded reports")
    assert [h.text for h in browser.find_elements("css selector", "#report h2")] == ["a1", "reports-2"]
    browser.find_element("id", "export-all").click()
    browser.find_element("id", "export-jsonl").click()
    records = [json.loads(x) for x in downloaded(browser, "wirecoder_corrections.jsonl").splitlines()]
    assert [(r["id"], r["sub_event_types"]) for r in records] == [
        ("a1-s1", ["Armed clash"]), ("a1-s2", []), ("reports-2-s1", ["Armed clash"])]
    (tmp_path / "all.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert len(read_records(tmp_path / "all.jsonl")) == 3


def test_the_desk_asks_for_the_token_and_sends_it(tiny_coder, browser):
    with serving(create_app(FixedCoder(tiny_coder), token="desk-token")) as url:
        browser.get(url + "/")
        wait_for(lambda: browser.find_element("id", "token-box").is_displayed(), "the token prompt")
        browser.find_element("id", "token").send_keys("desk-token")
        browser.find_element("id", "token-save").click()
        wait_for(lambda: len(browser.find_elements("css selector", "#legend mark")) == 8, "the model's labels")
        assert not browser.find_element("id", "token-box").is_displayed()
        browser.find_element("id", "input").send_keys(REPORT)
        browser.find_element("id", "code").click()
        wait_for(lambda: len(browser.find_elements("css selector", "#report .sent")) == 2, "the coded report")
        assert marks(browser, "#report .sent[data-sent='1']") == SPANS[1]


def _rgba(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, 1)"
