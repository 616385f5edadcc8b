"""`wirecoder predict` inputs that used to be read wrongly or silently: repeated ids, bad records in
ACLED tables, folders, CSV columns and delimiters, plain text on stdin."""

from __future__ import annotations

import csv
import io
import json
import os
import sys

import pytest

from training.cli import main

TEXT = "Gunmen killed two farmers near Gao on Monday."


def run(argv, capsys):
    rc = main(["predict", *argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def always_attack(saved_model_dir, monkeypatch):
    """The untrained model with every sub-event threshold at 0: each sentence gets events, so ACLED
    rows exist to check."""
    from model.predictor import EventCoder

    real = EventCoder.from_pretrained

    def load(path, **kwargs):
        coder = real(path, **kwargs)
        coder.thresholds[:] = 0.0
        return coder

    monkeypatch.setattr(EventCoder, "from_pretrained", staticmethod(load))
    return saved_model_dir


def test_repeated_ids_warn_keep_acled_event_ids_unique_and_strict_refuses(always_attack, tmp_path, capsys, caplog):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": TEXT}, {"id": "a", "text": TEXT}, {"id": "a#2", "text": TEXT}])
    out = tmp_path / "events.csv"
    rc, _, err = run(["--model", str(always_attack), str(src), "-o", str(out), "--format", "acled"], capsys)
    assert rc == 0 and "1 records repeat an earlier record's id" in err
    assert "in.jsonl:2: id 'a' repeats" in caplog.text
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    ids = [r["event_id_cnty"] for r in rows]
    assert len(rows) == 3 * 25 and len(set(ids)) == len(ids)
    assert {r["source"] for r in rows} == {"a", "a#2"}
    rc, _, err = run(["--model", str(always_attack), str(src), "-o", str(out), "--format", "acled", "--strict"], capsys)
    assert rc == 1 and "in.jsonl:2: id 'a' repeats" in err


def test_acled_lists_the_bad_records_it_leaves_out(always_attack, tmp_path, capsys):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": TEXT}, '{"id": "b", "text": ', {"id": "c", "text": ""}])
    out = tmp_path / "events.csv"
    rc, _, err = run(["--model", str(always_attack), str(src), "-o", str(out), "--format", "acled"], capsys)
    side = tmp_path / "events.bad-records.jsonl"
    assert rc == 0 and f"2 bad records have no ACLED row; listed in {side}" in err
    listed = [json.loads(line) for line in side.read_text().splitlines()]
    assert [(r["id"], r["source"].rsplit(":", 1)[1]) for r in listed] == [("line-2", "2"), ("c", "3")]
    assert "malformed JSON" in listed[0]["error"] and "empty" in listed[1]["error"]
    # A later clean run into the same file must not leave the old list behind.
    jsonl(src, [{"id": "a", "text": TEXT}])
    assert run(["--model", str(always_attack), str(src), "-o", str(out), "--format", "acled"], capsys)[0] == 0
    assert not side.exists()


def test_folder_input_reads_any_case_txt_and_says_what_it_skipped(saved_model_dir, tmp_path, capsys, caplog):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(TEXT)
    (folder / "B.TXT").write_text(TEXT)
    (folder / "notes.md").write_text(TEXT)
    (folder / "sub" / "c.txt").write_text(TEXT)
    os.symlink(folder / "missing.txt", folder / "dead.txt")
    rc, out, _ = run(["--model", str(saved_model_dir), str(folder)], capsys)
    assert rc == 0 and [json.loads(x)["id"] for x in out.splitlines()] == ["B", "a"]
    assert "skipped 3 entries" in caplog.text
    for reason in ("1 broken link", "1 not a .txt file (.md)", "1 subfolder (use --recursive)"):
        assert reason in caplog.text
    rc, out, _ = run(["--model", str(saved_model_dir), str(folder), "--recursive"], capsys)
    assert rc == 0 and [json.loads(x)["id"] for x in out.splitlines()] == ["B", "a", "sub/c"]


def test_a_named_id_column_must_exist(saved_model_dir, tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text(f"doc,text\nd1,{TEXT}\n")
    out = tmp_path / "out.jsonl"
    rc, _, err = run(["--model", str(saved_model_dir), str(src), "--id-column", "nosuch", "-o", str(out)], capsys)
    assert rc == 1 and "no column 'nosuch'" in err and "--id-column" in err
    assert not out.exists()  # refused before anything was written
    rc, stdout, _ = run(["--model", str(saved_model_dir), str(src)], capsys)
    assert rc == 0 and json.loads(stdout)["id"] == "row-1"  # no id column named and none called id: row numbers


@pytest.mark.parametrize("delimiter, flag", [(";", None), ("\t", None), (";", ";"), ("\t", "tab")])
def test_semicolon_and_tab_csv(saved_model_dir, tmp_path, capsys, delimiter, flag):
    src = tmp_path / "in.csv"
    src.write_text(f"id{delimiter}text\nd1{delimiter}Police said: two, maybe three, were hurt.\n", encoding="utf-8")
    rc, out, err = run(["--model", str(saved_model_dir), str(src), *(["--delimiter", flag] if flag else [])], capsys)
    assert rc == 0, err
    row = json.loads(out)
    assert row["id"] == "d1" and row["text"] == "Police said: two, maybe three, were hurt."


def test_plain_text_on_stdin_without_lines_is_named(saved_model_dir, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\nGunmen killed two farmers.\nAnother one.\n")))
    rc, out, err = run(["--model", str(saved_model_dir), "-"], capsys)
    assert rc == 1 and out == ""
    assert "<stdin>:2: this is not JSONL" in err and "--lines" in err


def test_input_problems_are_found_before_the_model_is_loaded(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,body\nd1,Police arrested two men.\n")
    rc, _, err = run(["--model", str(tmp_path / "not-a-model"), str(src)], capsys)
    assert rc == 1 and "no column 'text'" in err and "model" not in err.split("error:")[1].split("(")[0]


def test_a_resumed_acled_run_still_lists_the_bad_records_of_its_first_part(always_attack, tmp_path, capsys):
    from training.batch_predict import progress_path

    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": TEXT}, '{"id": "b", ', {"id": "c", "text": TEXT}, {"id": "d", "text": ""}])
    out = tmp_path / "events.csv"
    argv = ["--model", str(always_attack), str(src), "-o", str(out), "--format", "acled", "--chunk-size", "2"]
    assert run(argv, capsys)[0] == 0
    # Pretend the run was killed after its first chunk (records a and b).
    lines = out.read_bytes().splitlines(keepends=True)
    prog = progress_path(out)
    state = json.loads(prog.read_text())
    state.update(records=2, offset=len(b"".join(lines[:1 + 25])), complete=False)
    prog.write_text(json.dumps(state))
    side = tmp_path / "events.bad-records.jsonl"
    side.unlink()
    rc, _, err = run(argv + ["--resume"], capsys)
    assert rc == 0 and "resumed after 2" in err
    assert [json.loads(line)["id"] for line in side.read_text().splitlines()] == ["line-2", "d"]
    assert [r["source"] for r in csv.DictReader(out.open(encoding="utf-8"))][::25] == ["a", "c"]
