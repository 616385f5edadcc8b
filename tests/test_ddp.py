"""`wirecoder train` under torchrun with 2 CPU processes (gloo): DistributedDataParallel unchanged,
only rank 0 writes, and the result loads and predicts like a single-process run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model.predictor import EventCoder
from conftest import MINI_CORPUS

REPO = Path(__file__).resolve().parent.parent
TEXTS = ["Gunmen killed two farmers near Gao on Monday.", "Police arrested two men in Kaduna. Teachers marched."]


def _tensor_shapes(model_dir: Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as f:
        return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}


@pytest.fixture(scope="module")
def ddp_run(tiny_encoder_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    out, logs = root / "model", root / "logs"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "--log-dir", str(logs), "--redirects", "3", "-m", "training.cli", "train",
           "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
           "--num_train_epochs", "2", "--per_device_train_batch_size", "2", "--learning_rate", "1e-3",
           "--ddp_backend", "gloo", "--disable_tqdm", "true"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    rank_logs = {p.parent.name: p.read_text(encoding="utf-8") for p in logs.rglob("stderr.log")}
    assert proc.returncode == 0, proc.stderr[-3000:] + "\n".join(v[-2000:] for v in rank_logs.values())
    return out, rank_logs


def test_two_ranks_train_and_only_rank_0_writes(ddp_run, trained_dir):
    out, rank_logs = ddp_run
    assert sorted(rank_logs) == ["0", "1"]
    for log in rank_logs.values():  # both ranks trained (each read the corpus and ran the Trainer)
        assert "sentences: train" in log
        # One process group of two: gradients are averaged, not two models trained side by side.
        assert "training on 2 process(es), distributed" in log
    assert "written to" in rank_logs["0"] and "written to" not in rank_logs["1"]
    # The same files as a single-process run, and no leftovers of a second writer.
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in trained_dir.iterdir())
    assert not list(out.glob(".*.tmp"))


def test_the_ddp_model_loads_and_predicts_like_a_single_process_one(ddp_run, trained_dir):
    out, _ = ddp_run
    ddp_cfg, single_cfg = (json.loads((d / "config.json").read_text()) for d in (out, trained_dir))
    assert sorted(ddp_cfg) == sorted(single_cfg)
    for key in ("id2label", "sub_event_types", "encoder_config", "max_length"):
        assert ddp_cfg[key] == single_cfg[key]
    assert _tensor_shapes(out) == _tensor_shapes(trained_dir)
    coder = EventCoder.from_pretrained(out, device="cpu", backend="torch")
    preds = coder.predict(TEXTS)
    assert [len(p.sentences) for p in preds] == [1, 2]
    # Predictions are those of the saved weights: a second load predicts the very same.
    again = EventCoder.from_pretrained(out, device="cpu", backend="torch").predict(TEXTS)
    assert [p.to_dict() for p in preds] == [p.to_dict() for p in again]
