"""Batch prediction on Ray Data (the optional ``[ray]`` extra): one ``EventCoder`` per worker of an
actor pool, mapped over a dataset, on a laptop or a cluster (``ray.init(address=...)`` first).

>>> import ray
>>> from model.ray_predict import predict_jsonl
>>> ray.init()                      # or ray.init(address="auto") on a cluster
>>> predict_jsonl(["archive/2024-*.jsonl"], "coded.jsonl", "runs/default", workers=8)

Each output line is the record ``wirecoder predict -o X.jsonl`` writes for the same input record, in
input order. Input records are JSONL objects with ``id`` and ``text``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from model.errors import WirecoderError
from model.files import atomic_write_text

logger = logging.getLogger(__name__)


class _CoderActor:
    """One model per Ray worker, loaded once; maps a batch of records to JSONL lines."""

    def __init__(self, model_dir: str, batch_size: int, backend: str):
        from model.predictor import EventCoder

        self.coder = EventCoder.from_pretrained(model_dir, backend=backend)
        self.batch_size = batch_size

    def __call__(self, batch: dict) -> dict:
        ids, texts = [str(i) for i in batch["id"]], [str(t) for t in batch["text"]]
        preds = self.coder.predict(texts, batch_size=self.batch_size, ids=ids)
        return {"id": ids, "record": [json.dumps(p.to_dict(), ensure_ascii=False) for p in preds]}


def predict_dataset(dataset, model_dir: str | Path, workers: int = 1, batch_size: int = 64, docs_per_task: int = 256,
                    backend: str = "auto"):
    """``dataset`` (a Ray Dataset with ``id`` and ``text`` columns) mapped to ``id`` and ``record`` (the
    JSONL line), by ``workers`` actors; each takes one GPU when the cluster has GPUs."""
    import ray

    if not isinstance(workers, int) or workers < 1:
        raise WirecoderError(f"workers must be a positive integer, not {workers!r}")
    missing = {"id", "text"} - set(dataset.schema().names)
    if missing:
        raise WirecoderError(f"the dataset lacks the column(s) {', '.join(sorted(missing))}: records need an id and a text")
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    return dataset.map_batches(_CoderActor, fn_constructor_kwargs={"model_dir": str(model_dir), "batch_size": batch_size,
                                                                   "backend": backend},
                               batch_size=docs_per_task, batch_format="numpy", concurrency=workers, num_gpus=gpus)


def predict_jsonl(inputs: str | Path | list, output: str | Path, model_dir: str | Path, workers: int = 1,
                  batch_size: int = 64, docs_per_task: int = 256, backend: str = "auto") -> int:
    """Code JSONL files into one JSONL file, in input order; returns the number of records."""
    import ray

    ray.data.DataContext.get_current().execution_options.preserve_order = True
    paths = [str(p) for p in inputs] if isinstance(inputs, (list, tuple)) else str(inputs)
    coded = predict_dataset(ray.data.read_json(paths), model_dir, workers, batch_size, docs_per_task, backend)
    lines = [row["record"] + "\n" for row in coded.iter_rows()]
    atomic_write_text(output, "".join(lines))
    logger.info("%d records coded into %s by %d Ray workers", len(lines), output, workers)
    return len(lines)
