"""Batch prediction on Ray Data (the optional ``[ray]`` extra): one ``EventCoder`` per worker of an
actor pool (``map_batches`` with a callable class), mapped over a dataset, on a laptop or a cluster.

>>> import ray
>>> from model.ray_predict import predict_dataset
>>> ray.init()                      # or ray.init(address="auto") on a cluster
>>> coded = predict_dataset(ray.data.read_parquet("archive/"), "runs/default", workers=8)

Files in, files out, exactly as ``wirecoder predict`` reads and writes them: ``predict --ray``
(training/ray_files.py).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from model.errors import WirecoderError

logger = logging.getLogger(__name__)


def require_ray():
    """The ``ray`` module, or a WirecoderError that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (ray without the [data] extra lacks pyarrow and pandas)
    except ImportError as exc:
        raise WirecoderError(f"Ray Data is not installed ({exc}); install the extra: pip install 'wirecoder[ray]' "
                             "(or pip install -e '.[ray]' in a checkout)") from None
    return ray


class _CoderActor:
    """One model per Ray worker, loaded once; adds a ``prediction`` column (the JSONL object as a string,
    empty for a row without text) to each batch."""

    def __init__(self, model_dir: str, batch_size: int | None, backend: str, device: str | None, quantize: bool,
                 document_date: str | None, batch_tokens: int | None = None):
        from model.predictor import EventCoder

        self.coder = EventCoder.from_pretrained(model_dir, device=device, quantize=quantize, backend=backend,
                                                batch_tokens=batch_tokens)
        self.batch_size = batch_size
        self.document_date = document_date

    def __call__(self, batch: dict) -> dict:
        n = len(batch["id"])
        dates = batch["date"] if "date" in batch else [None] * n
        good = [i for i in range(n) if batch["text"][i]]
        preds = self.coder.predict([str(batch["text"][i]) for i in good], batch_size=self.batch_size,
                                   ids=[str(batch["id"][i]) for i in good],
                                   document_date=[dates[i] or self.document_date for i in good]) if good else []
        out = [""] * n
        for i, pred in zip(good, preds):
            out[i] = json.dumps(pred.to_dict(), ensure_ascii=False)
        return {**batch, "prediction": out}


def predict_dataset(dataset, model_dir: str | Path, workers: int = 1, batch_size: int | None = None,
                    docs_per_task: int = 256, backend: str = "auto", device: str | None = None, quantize: bool = False,
                    document_date: str | None = None, batch_tokens: int | None = None):
    """``dataset`` (a Ray Dataset with ``id`` and ``text`` columns, optionally ``date``, ISO) with a
    ``prediction`` column added: each document's coded record as a JSON string ("" where the text is
    empty or null), computed by ``workers`` actors, each with a GPU (or a share of one) when the cluster has GPUs."""
    ray = require_ray()
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise WirecoderError(f"workers must be a positive integer, not {workers!r}")
    missing = {"id", "text"} - set(dataset.schema().names)
    if missing:
        raise WirecoderError(f"the dataset lacks the column(s) {', '.join(sorted(missing))}: records need an id and a text")
    # A GPU per worker, or an equal share of each when there are more workers than GPUs.
    gpus = min(1.0, ray.cluster_resources().get("GPU", 0) / workers) if device in (None, "cuda") else 0
    # Blocks of docs_per_task rows: a single input file is one block, which would feed one worker only.
    dataset = dataset.repartition(target_num_rows_per_block=docs_per_task)
    return dataset.map_batches(
        _CoderActor, batch_size=docs_per_task, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers),
        num_gpus=gpus, fn_constructor_kwargs={"model_dir": str(model_dir), "batch_size": batch_size, "backend": backend,
                                              "device": device, "quantize": quantize, "document_date": document_date,
                                              "batch_tokens": batch_tokens})
