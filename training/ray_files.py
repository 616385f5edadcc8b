"""``wirecoder predict --ray``: JSONL or Parquet files coded on Ray Data (model/ray_predict.py), each
output record the one ``wirecoder predict -o X.jsonl`` writes for the same input record, in input order.

>>> import ray
>>> from training.ray_files import predict_files
>>> ray.init()                      # or ray.init(address="auto") on a cluster
>>> predict_files(["archive/2024-01.jsonl", "archive/2024-02.parquet"], "coded.jsonl", "runs/default", workers=8)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from model.errors import WirecoderError
from model.files import atomic_open
from model.ray_predict import predict_dataset, require_ray
from training.readers import read_bytes  # the CLI's one JSONL and Parquet parser

logger = logging.getLogger(__name__)

INPUT_SUFFIXES = (".jsonl", ".parquet")
OUTPUT_SUFFIXES = (".jsonl", ".parquet")


def _file_records(row: dict, names: dict[str, str]) -> list[dict]:
    """One input file (read whole by a Ray task) to its records, parsed as ``wirecoder predict`` parses
    them, so bad records, default ids and ``source`` names match; empty strings stand for none."""
    name = names.get(row["path"], row["path"])
    return [{"id": d.id, "text": d.text or "", "date": d.date or "", "source": d.where, "error": d.error or ""}
            for d in read_bytes(bytes(row["bytes"]), name)]


def _record(row: dict) -> str:
    """The output record (a JSON object) of a coded row: the prediction, or the bad record's id, source
    and error, as ``wirecoder predict`` writes them."""
    if row["error"]:
        return json.dumps({"id": row["id"], "source": row["source"], "error": row["error"]}, ensure_ascii=False)
    return row["prediction"]


@dataclass
class RayRunStats:
    written: int = 0
    errors: int = 0


def _local_names(inputs: list[str]) -> tuple[list[str], dict[str, str]]:
    """Local inputs as absolute paths (Ray workers may run elsewhere than the driver's folder), and the
    name each file was given by, for messages and ``source`` fields; URIs (s3://, gs://) stay as they are."""
    paths, names = [], {}
    for given in inputs:
        if "://" in given or not Path(given).exists():
            paths.append(given)
            continue
        full = str(Path(given).resolve())
        paths.append(full)
        if Path(full).is_file():
            names[full] = given
        else:
            names.update({str(f): str(Path(given) / f.relative_to(full)) for f in Path(full).rglob("*") if f.is_file()})
    return paths, names


def predict_files(inputs: str | Path | list, output: str | Path, model_dir: str | Path, workers: int = 1,
                  batch_size: int | None = None, docs_per_task: int = 256, backend: str = "auto",
                  device: str | None = None, quantize: bool = False, document_date: str | None = None,
                  batch_tokens: int | None = None) -> RayRunStats:
    """Code ``.jsonl`` and ``.parquet`` files (paths, folders or URIs Ray Data reads) into ``output``:
    ``.jsonl`` (the lines ``wirecoder predict`` writes) or ``.parquet`` (columns ``id`` and ``record``,
    that line's JSON object), in input order. Needs ``ray.init()`` first (else Ray starts a local one)."""
    ray = require_ray()
    output = Path(output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise WirecoderError(f"cannot write {output}: the Ray runner writes {' or '.join(OUTPUT_SUFFIXES)} files")
    given = [str(p) for p in inputs] if isinstance(inputs, (list, tuple)) else [str(inputs)]
    for p in given:
        if "://" not in p and not Path(p).exists():
            raise WirecoderError(f"input {p} does not exist")
    paths, names = _local_names(given)
    # Records leave in input order (output line n is input record n), as plain predict writes them.
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    files = ray.data.read_binary_files(paths, include_paths=True, file_extensions=[s[1:] for s in INPUT_SUFFIXES])
    docs = files.flat_map(_file_records, fn_kwargs={"names": names})
    coded = predict_dataset(docs, model_dir, workers, batch_size, docs_per_task, backend, device, quantize, document_date,
                            batch_tokens)
    stats = RayRunStats()
    with atomic_open(output) as fh:
        if output.suffix.lower() == ".jsonl":
            for row in coded.iter_rows():
                fh.write((_record(row) + "\n").encode("utf-8"))
                stats.written += 1
                stats.errors += bool(row["error"])
        else:
            stats = _write_parquet(coded, fh)
    logger.info("%d records coded into %s by %d Ray workers (%d bad)", stats.written, output, workers, stats.errors)
    return stats


def _write_parquet(coded, fh) -> RayRunStats:
    import pyarrow as pa
    import pyarrow.parquet as pq

    stats = RayRunStats()
    schema = pa.schema([("id", pa.string()), ("record", pa.string())])
    with pq.ParquetWriter(fh, schema) as writer:
        for batch in coded.iter_batches(batch_size=1024, batch_format="pandas"):
            rows = batch.to_dict("records")
            writer.write_table(pa.table({"id": [r["id"] for r in rows],
                                         "record": [_record(r) for r in rows]}, schema=schema))
            stats.written += len(rows)
            stats.errors += sum(bool(r["error"]) for r in rows)
    return stats
