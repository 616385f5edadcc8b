"""`wirecoder predict`: every input kind and output format, bad records, --strict, and --resume after SIGKILL."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from model.spans import WORD_RE
from training.cli import main

REPORT = ("Syrian army troops clashed with Islamic State fighters near Palmyra on Monday, killing four militants. "
          "The army said it would push towards the airbase next week.")


def run(argv, capsys):
    rc = main(["predict", *argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_in_jsonl_out_with_offsets(trained_dir, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": REPORT}, {"text": "Police arrested two men in Kaduna."}])
    out = tmp_path / "out.jsonl"
    rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(out)], capsys)
    assert rc == 0 and "2 documents coded" in err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "line-2"]
    assert [r["text"] for r in rows] == [REPORT, "Police arrested two men in Kaduna."]
    first, second = REPORT.split(". ", 1)
    assert [(s["start"], s["end"], s["text"]) for s in rows[0]["sentences"]] == [
        (0, len(first) + 1, first + "."), (len(first) + 2, len(REPORT), second)]
    for r in rows:
        words = list(WORD_RE.finditer(r["text"]))
        for s in r["spans"]:  # spans start and end on words of the input, inside their sentence
            sentence = r["sentences"][s["sentence"]]
            assert s["start"] in {m.start() for m in words} and s["end"] in {m.end() for m in words}
            assert sentence["start"] <= s["start"] < s["end"] <= sentence["end"]


def test_csv_txt_folder_and_stdin_inputs(trained_dir, tmp_path, capsys, monkeypatch):
    csv_in = tmp_path / "in.csv"
    with csv_in.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["doc", "body"])
        w.writerow(["d1", REPORT])
        w.writerow(["d2", "Teachers marched through Nairobi on Thursday."])
    rc, out, _ = run(["--model", str(trained_dir), str(csv_in), "--text-column", "body", "--id-column", "doc"], capsys)
    assert rc == 0 and [json.loads(x)["id"] for x in out.splitlines()] == ["d1", "d2"]

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "b.txt").write_text("Second report.", encoding="utf-8")
    (folder / "a.txt").write_text(REPORT, encoding="utf-8")
    rc, out, _ = run(["--model", str(trained_dir), str(folder)], capsys)
    assert [json.loads(x)["id"] for x in out.splitlines()] == ["a", "b"]

    lines = tmp_path / "lines.txt"
    lines.write_text("First document.\n\nSecond document.\n", encoding="utf-8")
    rc, out, _ = run(["--model", str(trained_dir), str(lines), "--lines"], capsys)
    assert [json.loads(x)["id"] for x in out.splitlines()] == ["lines:1", "lines:3"]

    import io
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps({"id": "s", "text": REPORT}).encode() + b"\n")))
    rc, out, _ = run(["--model", str(trained_dir), "-"], capsys)
    assert rc == 0 and json.loads(out)["id"] == "s"


@pytest.fixture
def every_event_model(trained_dir, tmp_path):
    """The trained model with every threshold at 0: each sentence carries all 25 sub-event types."""
    import shutil

    model = tmp_path / "every-event"
    shutil.copytree(trained_dir, model)
    config = json.loads((model / "config.json").read_text())
    config["thresholds"] = [0.0] * len(config["thresholds"])
    (model / "config.json").write_text(json.dumps(config))
    return model


@pytest.mark.parametrize("fmt", ["csv", "acled", "html"])
def test_each_format_is_written_and_reads_back(every_event_model, tmp_path, capsys, fmt):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": REPORT}, {"id": "b", "text": "Teachers marched in Nairobi."}])
    out = tmp_path / f"out.{'html' if fmt == 'html' else 'csv'}"
    rc, _, _ = run(["--model", str(every_event_model), str(src), "-o", str(out), "--format", fmt], capsys)
    assert rc == 0
    text = out.read_text(encoding="utf-8")
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
        assert "Palmyra" in text and "ACTOR" in text and text.count("<section>") == 2
        return
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    if fmt == "csv":
        assert [(r["id"], r["sentence"]) for r in rows] == [("a", "0"), ("a", "1"), ("b", "0")]
        assert rows[0]["text"] == REPORT[int(rows[0]["start"]):int(rows[0]["end"])]
    else:
        from training.writers import AcledCsvWriter

        assert list(rows[0])[:len(AcledCsvWriter.ACLED_COLUMNS)] == AcledCsvWriter.ACLED_COLUMNS
        texts = {"a": REPORT, "b": "Teachers marched in Nairobi."}
        sentences_of = {}
        for r in rows:
            offsets = [tuple(map(int, o.split(":"))) for o in r["sentence_offsets"].split(";")]
            assert r["notes"] == " ".join(texts[r["source"]][s:e] for s, e in offsets)
            sentences_of.setdefault((r["source"], r["sub_event_type"]), []).extend(r["sentences"].split(";"))
        # Every sentence reports every type (thresholds at 0); merged or not, each sentence is in
        # exactly one row of each type.
        assert len(sentences_of) == 2 * 25
        assert all(sorted(v) == (["0", "1"] if doc == "a" else ["0"]) for (doc, _), v in sentences_of.items())


def test_bad_records_are_reported_and_the_run_goes_on(trained_dir, tmp_path, capsys, caplog):
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        json.dumps({"id": "ok1", "text": REPORT}).encode() + b"\n"
        + b'{"id": "broken", "text": \n'
        + json.dumps({"id": "num", "text": 42}).encode() + b"\n"
        + json.dumps({"id": "empty", "text": "   "}).encode() + b"\n"
        + b'{"id": "latin1", "text": "caf\xe9"}\n'
        + json.dumps({"id": "ctrl", "text": "Gunmen\x00 attacked \x1b[31m a 🚁 convoy in حلب."}).encode() + b"\n"
        + json.dumps({"id": "huge", "text": "Militia fighters attacked Kisumu. " * 6000}).encode() + b"\n"
    )
    out = tmp_path / "out.jsonl"
    rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(out)], capsys)
    assert rc == 0
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert list(rows) == ["ok1", "line-2", "num", "empty", "line-5", "ctrl", "huge"]
    assert "malformed JSON" in rows["line-2"]["error"] and rows["line-2"]["source"].endswith("in.jsonl:2")
    assert "'text' is int" in rows["num"]["error"]
    assert "empty" in rows["empty"]["error"] and "invalid UTF-8" in rows["line-5"]["error"]
    assert "sentences" in rows["ctrl"] and len(rows["huge"]["sentences"]) == 6000
    assert "in.jsonl:2: malformed JSON" in caplog.text and "4 bad records" in err


def test_strict_stops_at_the_first_bad_record(trained_dir, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": REPORT}, {"id": "b"}])
    rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(tmp_path / "o.jsonl"), "--strict"], capsys)
    assert rc == 1 and "in.jsonl:2: missing 'text' (--strict)" in err


def test_missing_or_foreign_model_is_a_clear_error(tiny_encoder_dir, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": REPORT}])
    rc, _, err = run(["--model", str(tmp_path / "none"), str(src)], capsys)
    assert rc == 1 and "no such model directory" in err
    rc, _, err = run(["--model", str(tiny_encoder_dir), str(src)], capsys)
    assert rc == 1 and "not a wirecoder model" in err and "Traceback" not in err


def test_summary_is_printed_for_each_document(trained_dir, tmp_path, capsys):
    src = tmp_path / "report.txt"
    src.write_text(REPORT, encoding="utf-8")
    rc, out, _ = run(["--model", str(trained_dir), str(src), "-o", str(tmp_path / "r.html"), "--summary"], capsys)
    assert rc == 0 and out.startswith("report: 2 sentences,")
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_resume_after_sigkill_yields_each_input_exactly_once(trained_dir, tmp_path, fmt):
    from training.batch_predict import progress_path

    n = 1500
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": f"d{i}", "text": f"Gunmen attacked village number {i} on Monday."} for i in range(n)])
    out = tmp_path / f"out.{fmt}"
    cmd = [sys.executable, "-m", "training.cli", "predict", "--model", str(trained_dir), str(src), "-o", str(out),
           "--format", fmt, "--chunk-size", "3"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prog = progress_path(out)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if json.loads(prog.read_text())["records"] >= 30:
                break
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = json.loads(prog.read_text())["records"]
    assert 30 <= done_before < n, "the run must be killed part-way"
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed after {done_before}" in resumed.stderr
    if fmt == "jsonl":
        ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    else:
        rows = list(csv.DictReader(open(out, encoding="utf-8")))
        ids = [r["id"] for r in rows]
        assert out.read_text().count("id,sentence,") == 1  # one header
    assert ids == [f"d{i}" for i in range(n)]  # each input exactly once, in order
    again = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "already complete" in again.stderr


def test_output_that_is_the_input_is_refused_and_the_input_kept(trained_dir, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": REPORT}])
    before = src.read_bytes()
    rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(src)], capsys)
    assert rc == 1 and "is the input" in err
    assert src.read_bytes() == before


@pytest.mark.parametrize("flag, value", [("--chunk-size", "0"), ("--chunk-size", "-3"), ("--batch-size", "0")])
def test_sizes_below_one_are_refused_before_writing(trained_dir, tmp_path, capsys, flag, value):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": REPORT}])
    out = tmp_path / "out.jsonl"
    rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(out), flag, value], capsys)
    assert rc == 1 and "at least 1" in err
    assert not out.exists()


def _interrupted_run(trained_dir, tmp_path, capsys, n=6):
    """A finished run whose progress file is then marked incomplete after 2 documents."""
    from training.batch_predict import progress_path

    src = write_jsonl(tmp_path / "in.jsonl", [{"id": f"d{i}", "text": f"Gunmen attacked village {i}."} for i in range(n)])
    out = tmp_path / "out.jsonl"
    assert run(["--model", str(trained_dir), str(src), "-o", str(out), "--chunk-size", "2"], capsys)[0] == 0
    prog = progress_path(out)
    state = json.loads(prog.read_text())
    lines = out.read_bytes().splitlines(keepends=True)
    state.update(records=2, offset=len(b"".join(lines[:2])), complete=False)
    prog.write_text(json.dumps(state))
    return src, out


def test_resume_refuses_another_input_or_format(trained_dir, tmp_path, capsys):
    src, out = _interrupted_run(trained_dir, tmp_path, capsys)
    other = write_jsonl(tmp_path / "other.jsonl", [{"id": "x", "text": REPORT}])
    before = out.read_bytes()
    rc, _, err = run(["--model", str(trained_dir), str(other), "-o", str(out), "--resume"], capsys)
    assert rc == 1 and "another input" in err
    rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(out), "--resume", "--format", "csv"], capsys)
    assert rc == 1 and "written as jsonl, not csv" in err
    assert out.read_bytes() == before
    rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(out), "--resume"], capsys)
    assert rc == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [f"d{i}" for i in range(6)]


def test_resume_refuses_an_output_shortened_since(trained_dir, tmp_path, capsys):
    src, out = _interrupted_run(trained_dir, tmp_path, capsys)
    out.write_bytes(out.read_bytes()[:10])
    rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(out), "--resume"], capsys)
    assert rc == 1 and "changed since" in err
    assert b"\x00" not in out.read_bytes() and len(out.read_bytes()) == 10


def test_byte_order_marks_are_not_part_of_ids_or_text(trained_dir, tmp_path, capsys):
    bom = "\ufeff"
    csv_in = tmp_path / "in.csv"
    csv_in.write_text(bom + "id,text\nr1,Police arrested two men in Kaduna.\n", encoding="utf-8")
    jsonl_in = tmp_path / "in.jsonl"
    jsonl_in.write_text(bom + json.dumps({"id": "j1", "text": "Police arrested two men in Kaduna."}) + "\n", encoding="utf-8")
    txt_in = tmp_path / "in.txt"
    txt_in.write_text(bom + "Police arrested two men in Kaduna.", encoding="utf-8")
    for src, expected_id in ((csv_in, "r1"), (jsonl_in, "j1"), (txt_in, "in")):
        out = tmp_path / f"{src.suffix[1:]}.out.jsonl"
        rc, _, err = run(["--model", str(trained_dir), str(src), "-o", str(out)], capsys)
        assert rc == 0, err
        row = json.loads(out.read_text().splitlines()[0])
        assert row["id"] == expected_id and row["text"] == "Police arrested two men in Kaduna."
