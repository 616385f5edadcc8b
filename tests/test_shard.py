"""`wirecoder predict --shard K/N`: N shards together hold every record of the unsharded run, once."""

import json

import pytest

from training.cli import main

TEXTS = [
    "Gunmen killed two farmers near Gao on Monday.",
    "Police arrested two men in Kaduna.",
    "Teachers marched through Nairobi on Thursday.",
    "The army shelled positions north of Palmyra, killing four fighters.",
    "Protesters burned tyres in Bamako.",
    "Rebels attacked a convoy near Goma, police said.",
    "A bomb exploded at a market in Maiduguri on Friday.",
]


def _input(tmp_path):
    rows = [json.dumps({"id": f"d{i}", "text": t}) for i, t in enumerate(TEXTS)]
    rows.insert(4, json.dumps({"id": "bad"}))  # a bad record (no text) counts as a record of its shard
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _predict(model_dir, src, out, *extra):
    assert main(["predict", str(src), "--model", str(model_dir), "-o", str(out), "--backend", "torch", *extra]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_shards_together_equal_the_unsharded_run(saved_model_dir, tmp_path):
    src = _input(tmp_path)
    whole = _predict(saved_model_dir, src, tmp_path / "all.jsonl")
    shards = [_predict(saved_model_dir, src, tmp_path / f"part{k}.jsonl", "--shard", f"{k}/3") for k in (1, 2, 3)]
    # Records 0..7 of the input (the bad one is record 4) dealt round-robin over 3 shards.
    assert [[r["id"] for r in s] for s in shards] == [["d0", "d3", "d5"], ["d1", "bad", "d6"], ["d2", "d4"]]
    by_id = {r["id"]: r for s in shards for r in s}
    assert len(by_id) == len(whole) == 8
    assert [by_id[r["id"]] for r in whole] == whole


def test_a_sharded_run_resumes_only_into_its_own_shard(saved_model_dir, tmp_path, capsys):
    src = _input(tmp_path)
    out = tmp_path / "part1.jsonl"
    first = _predict(saved_model_dir, src, out, "--shard", "1/2")
    assert main(["predict", str(src), "--model", str(saved_model_dir), "-o", str(out), "--shard", "2/2", "--resume"]) == 1
    assert "another input" in capsys.readouterr().err
    assert main(["predict", str(src), "--model", str(saved_model_dir), "-o", str(out), "--shard", "1/2", "--resume"]) == 0
    assert "already complete" in capsys.readouterr().err
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == first


@pytest.mark.parametrize("bad", ["0/3", "4/3", "1", "a/b", "1/0", "-1/2"])
def test_shard_values_outside_1_to_n_are_refused(saved_model_dir, tmp_path, capsys, bad):
    rc = main(["predict", str(_input(tmp_path)), "--model", str(saved_model_dir), f"--shard={bad}"])
    assert rc == 1 and "--shard must be K/N with 1 <= K <= N" in capsys.readouterr().err
