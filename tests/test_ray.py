"""Ray Data batch prediction (the [ray] extra): 2 workers on a local Ray instance give the records
single-process `wirecoder predict` gives, in the same order."""

import json

import pytest

from training.cli import main

ray = pytest.importorskip("ray", reason="Ray is the optional [ray] extra (pip install -e '.[ray]')")

TEXTS = [
    "Gunmen killed two farmers near Gao on Monday. Police arrested two men in Kaduna.",
    "Teachers marched through Nairobi on Thursday.",
    "The army shelled positions north of Palmyra, killing four fighters, officials said.",
    "Protesters burned tyres in Bamako.",
    "Rebels attacked a convoy near Goma; three soldiers were wounded.",
]


@pytest.fixture(scope="module")
def local_ray():
    # Logical CPUs: each of the 2 actors holds one for its lifetime, and reading the input needs a third.
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.timeout(600)
def test_two_ray_workers_equal_single_process_predict(local_ray, saved_model_dir, tmp_path):
    from model.ray_predict import predict_jsonl

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"doc-{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    single, on_ray = tmp_path / "single.jsonl", tmp_path / "ray.jsonl"
    assert main(["predict", str(src), "--model", str(saved_model_dir), "-o", str(single)]) == 0
    # Two documents per task: the five records go through both workers.
    assert predict_jsonl(src, on_ray, saved_model_dir, workers=2, docs_per_task=2) == 5
    expected = [json.loads(line) for line in single.read_text(encoding="utf-8").splitlines()]
    got = [json.loads(line) for line in on_ray.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in got] == [f"doc-{i}" for i in range(5)]
    assert got == expected
