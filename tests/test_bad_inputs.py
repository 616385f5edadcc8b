"""Damaged models, bad devices, unwritable outputs and malformed configs: one line naming the file
and the problem, exit status 1, never a traceback."""

from __future__ import annotations

import json
import shutil

import pytest

from training.cli import main


def one_line_error(argv, capsys) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("wirecoder: error: "), err
    return last


@pytest.fixture
def doc(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Gunmen killed two farmers near Gao."}) + "\n", encoding="utf-8")
    return src


@pytest.fixture
def model_copy(saved_model_dir, tmp_path):
    out = tmp_path / "model"
    shutil.copytree(saved_model_dir, out)
    return out


def predict(model, doc, *extra):
    return ["predict", "--model", str(model), str(doc), *extra]


def edit_config(model, **changes):
    cfg_file = model / "config.json"
    cfg = json.loads(cfg_file.read_text())
    for key, value in changes.items():
        if key == "hidden_size":
            cfg["encoder_config"]["hidden_size"] = value
        else:
            cfg[key] = value
    cfg_file.write_text(json.dumps(cfg))


@pytest.mark.parametrize("damage", ["truncated", "random"])
def test_damaged_weights_name_the_file(model_copy, doc, capsys, damage):
    weights = model_copy / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncated" else bytes(range(256)) * 64)
    line = one_line_error(predict(model_copy, doc), capsys)
    assert "model.safetensors" in line and "damaged" in line


def test_fake_shard_index_names_the_missing_shard(model_copy, doc, capsys):
    (model_copy / "model.safetensors").unlink()
    index = model_copy / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {}, "weight_map": {"encoder.x": "model-00001-of-00002.safetensors"}}))
    line = one_line_error(predict(model_copy, doc), capsys)
    assert "model.safetensors.index.json" in line and "model-00001-of-00002.safetensors" in line and "missing" in line
    index.write_text("not json")
    line = one_line_error(predict(model_copy, doc), capsys)
    assert "model.safetensors.index.json" in line and "malformed" in line


def test_shard_without_the_models_tensors_is_refused(model_copy, doc, capsys):
    # A well-formed shard holding other tensors would otherwise load as random weights.
    from safetensors.torch import save_file
    import torch

    (model_copy / "model.safetensors").unlink()
    save_file({"other": torch.zeros(2)}, str(model_copy / "model-00001-of-00001.safetensors"))
    (model_copy / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": {"other": "model-00001-of-00001.safetensors"}}))
    line = one_line_error(predict(model_copy, doc), capsys)
    assert "lack" in line and "encoder." in line


def test_missing_tokenizer_is_named(model_copy, doc, capsys):
    (model_copy / "tokenizer.json").unlink()
    line = one_line_error(predict(model_copy, doc), capsys)
    assert "tokenizer.json" in line
    (model_copy / "tokenizer.json").write_text("{broken")
    line = one_line_error(predict(model_copy, doc), capsys)
    assert "tokenizer.json" in line


@pytest.mark.parametrize("change, expected", [
    ({"max_length": "abc"}, "max_length"),
    ({"max_length": 0}, "max_length"),
    ({"thresholds": [0.5, 0.5]}, "thresholds"),
    ({"thresholds": ["x"] * 25}, "thresholds"),
    ({"classifier_dropout": 3}, "classifier_dropout"),
    ({"encoder_config": "bert"}, "encoder_config"),
    ({"hidden_size": -5}, "hidden_size"),
    ({"hidden_size": 64}, "model.safetensors"),  # a valid value the weights do not fit
])
def test_bad_config_values_are_named(model_copy, doc, capsys, change, expected):
    edit_config(model_copy, **change)
    line = one_line_error(predict(model_copy, doc), capsys)
    assert "config.json" in line and expected in line


def test_output_that_is_a_directory_or_unwritable(saved_model_dir, doc, tmp_path, capsys):
    line = one_line_error(predict(saved_model_dir, doc, "-o", str(tmp_path)), capsys)
    assert str(tmp_path) in line and "directory" in line
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    line = one_line_error(predict(saved_model_dir, doc, "-o", str(blocker / "out.jsonl")), capsys)
    assert "out.jsonl" in line and "cannot write" in line


def test_dev_full_as_output(saved_model_dir, doc, tmp_path, capsys):
    if not __import__("os").path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    line = one_line_error(predict(saved_model_dir, doc, "-o", "/dev/full"), capsys)
    assert "/dev/full" in line and "No space left" in line


def test_device_without_cuda_or_unknown(saved_model_dir, doc, capsys):
    import torch

    if not torch.cuda.is_available():
        line = one_line_error(predict(saved_model_dir, doc, "--device", "cuda"), capsys)
        assert "--device cuda" in line and "CUDA" in line
    line = one_line_error(predict(saved_model_dir, doc, "--device", "gpu"), capsys)
    assert "--device gpu" in line


@pytest.mark.parametrize("name, content, expected", [
    ("bad.yaml", "num_train_epochs: [1\n", "malformed YAML"),
    ("bad.json", '{"num_train_epochs":', "malformed JSON"),
    ("list.yaml", "- 1\n- 2\n", "mapping"),
    ("value.yaml", "num_train_epochs: many\n", "num_train_epochs"),
])
def test_malformed_training_config(tmp_path, capsys, name, content, expected):
    cfg = tmp_path / name
    cfg.write_text(content)
    line = one_line_error(["train", "--config", str(cfg), "--output-dir", str(tmp_path / "out")], capsys)
    assert name in line and expected in line


def test_every_atomic_output_names_an_unwritable_path(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "r1", "doc_id": "d", "text": "Gunmen killed two farmers near Gao.",
                               "sub_event_types": ["Attack"], "spans": []}) + "\n")
    line = one_line_error(["data", "import", "--from", "jsonl", str(src), "-o", str(tmp_path)], capsys)
    assert str(tmp_path) in line and "directory" in line
    line = one_line_error(["data", "import", "--from", "jsonl", str(src), "-o", str(src / "out.jsonl")], capsys)
    assert "cannot write" in line and "not a folder" in line


def test_atomic_writes_get_the_usual_file_mode(tmp_path):
    import os

    from model.files import atomic_write_text

    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "out.json", "{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o644


def _one_record(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "r1", "doc_id": "d", "text": "Gunmen killed two farmers near Gao.",
                               "sub_event_types": ["Attack"], "spans": []}) + "\n")
    return src


def test_an_atomic_output_through_a_link_keeps_the_link(tmp_path):
    src = _one_record(tmp_path)
    target = tmp_path / "real" / "out.jsonl"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target)
    assert main(["data", "import", "--from", "jsonl", str(src), "-o", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert json.loads(target.read_text().splitlines()[0])["id"] == "r1"


def test_an_atomic_output_to_a_device_writes_to_it_and_leaves_it_a_device(tmp_path, capsys):
    import os
    import stat
    import threading

    src = _one_record(tmp_path)
    if os.path.exists("/dev/full"):
        line = one_line_error(["data", "import", "--from", "jsonl", str(src), "-o", "/dev/full"], capsys)
        assert "/dev/full" in line and "No space left" in line
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # not replaced by a regular file
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    got = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()))
    reader.start()
    assert main(["data", "import", "--from", "jsonl", str(src), "-o", str(pipe)]) == 0
    reader.join(timeout=30)
    assert json.loads(got[0].decode().splitlines()[0])["id"] == "r1"
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
