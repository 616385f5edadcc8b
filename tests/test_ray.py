"""Ray Data batch prediction (the [ray] extra): 2 workers on a local Ray instance give the records
single-process `wirecoder predict` gives, in the same order, from JSONL and Parquet; `predict --ray`
refuses what it cannot do, and says how to install Ray when it is missing."""

import importlib.util
import json
import logging
import sys

import pytest

from training.cli import main

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is the optional [ray] extra (pip install -e '.[ray]')")

TEXTS = [
    "Gunmen killed two farmers near Gao on Monday. Police arrested two men in Kaduna.",
    "Teachers marched through Nairobi on Thursday.",
    "The army shelled positions north of Palmyra, killing four fighters, officials said.",
    "Protesters burned tyres in Bamako.",
    "Rebels attacked a convoy near Goma; three soldiers were wounded.",
]
# Five good records (one without an id, one with its own date) and, third, a bad one.
RECORDS = [{"id": "doc-0", "text": TEXTS[0], "date": "2024-03-04"}, {"id": "doc-1", "text": TEXTS[1]},
           {"id": "doc-bad", "text": "   "}, {"text": TEXTS[2]}, {"id": "doc-3", "text": TEXTS[3]}, {"id": "doc-4", "text": TEXTS[4]}]
IDS = ["doc-0", "doc-1", "doc-bad", "line-4", "doc-3", "doc-4"]


@pytest.fixture(scope="module")
def local_ray():
    import ray

    # 3 logical CPUs on any machine: each of the 2 actors holds one for the whole run and reading the
    # input needs a third (with 2, reading waits forever). Small object store, no dashboard, quiet.
    for attempt in range(3):
        try:
            ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 1024**2,
                     logging_level=logging.ERROR, configure_logging=False)
            break
        except Exception as exc:  # Ray waits a fixed 30 s for its node to start: too short on a busy machine
            ray.shutdown()
            if attempt == 2 or "timed out during startup" not in str(exc):
                raise
    yield ray
    ray.shutdown()


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@needs_ray
@pytest.mark.timeout(900)
def test_two_ray_workers_equal_single_process_predict_jsonl(local_ray, saved_model_dir, tmp_path, monkeypatch, recwarn):
    from training.ray_files import predict_files

    monkeypatch.chdir(tmp_path)  # a relative input path: bad records name the file as given
    _jsonl(tmp_path / "in.jsonl", RECORDS)
    assert main(["predict", "in.jsonl", "--model", str(saved_model_dir), "-o", "single.jsonl",
                 "--document-date", "2024-05-01"]) == 0
    # Two documents per task: the records go through both workers.
    stats = predict_files("in.jsonl", "ray.jsonl", saved_model_dir, workers=2, docs_per_task=2, document_date="2024-05-01")
    assert (stats.written, stats.errors) == (6, 1)
    # Ray Data warns when an actor pool gets fewer input blocks than actors: one worker would do it all.
    assert not [w for w in recwarn if "concurrent actors" in str(w.message)]
    got = _lines(tmp_path / "ray.jsonl")
    assert [r["id"] for r in got] == IDS
    assert got[2] == {"id": "doc-bad", "source": "in.jsonl:3", "error": "empty or whitespace-only text"}
    assert [r["text"] for r in got if "text" in r] == TEXTS
    assert got == _lines(tmp_path / "single.jsonl")


@needs_ray
@pytest.mark.timeout(900)
def test_predict_ray_cli_parquet_in_and_out_equal_plain_predict(local_ray, saved_model_dir, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": r.get("id"), "text": r["text"], "date": r.get("date")} for r in RECORDS]), src)
    single, on_ray = tmp_path / "single.jsonl", tmp_path / "ray.parquet"
    assert main(["predict", str(src), "--model", str(saved_model_dir), "-o", str(single)]) == 0
    assert main(["predict", str(src), "--model", str(saved_model_dir), "-o", str(on_ray), "--ray", "--ray-workers", "2",
                 "--chunk-size", "2"]) == 0
    assert "6 documents coded" in capsys.readouterr().err
    table = pq.read_table(on_ray)
    assert table.column_names == ["id", "record"]
    got = [json.loads(r) for r in table.column("record").to_pylist()]
    # Parquet rows without an id are numbered by row, as CSV rows are.
    assert table.column("id").to_pylist() == [*IDS[:3], "row-4", *IDS[4:]]
    assert got[2] == {"id": "doc-bad", "source": f"{src}:row 3", "error": "empty or whitespace-only text"}
    assert got == _lines(single)


def test_plain_predict_reads_parquet(saved_model_dir, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": r.get("id"), "text": r["text"]} for r in RECORDS]), src)
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(src), "--model", str(saved_model_dir), "-o", str(out)]) == 0
    got = _lines(out)
    assert [r["id"] for r in got] == ["doc-0", "doc-1", "doc-bad", "row-4", "doc-3", "doc-4"]
    assert got[2] == {"id": "doc-bad", "source": f"{src}:row 3", "error": "empty or whitespace-only text"}
    assert [r["text"] for r in got if "text" in r] == TEXTS


def test_plain_predict_refuses_parquet_without_text_column(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ["a"], "body": ["Protesters burned tyres in Bamako."]}), src)
    err = _refused(["predict", str(src), "--model", str(tmp_path), "-o", str(tmp_path / "out.jsonl")], capsys)
    assert err == f"wirecoder: error: {src}: no column 'text' (columns: 'id', 'body')"


def _refused(argv, capsys) -> str:
    """What `wirecoder` prints for a refused command (exit status 1, one error line)."""
    assert main(argv) == 1
    return capsys.readouterr().err.strip()


@pytest.mark.parametrize("extra, message", [
    (["--resume"], "--ray does not take --resume"),
    (["--shard", "1/2", "--strict"], "--ray does not take --shard, --strict"),
    (["--ray-workers", "0"], "--ray-workers must be at least 1, not 0"),
])
def test_predict_ray_refuses_what_it_cannot_do(tmp_path, capsys, extra, message):
    src = _jsonl(tmp_path / "in.jsonl", RECORDS)
    argv = ["predict", str(src), "--model", str(tmp_path), "-o", str(tmp_path / "out.jsonl"), "--ray", *extra]
    assert _refused(argv, capsys) == f"wirecoder: error: {message}"


def test_predict_ray_refuses_csv_in_and_html_out(tmp_path, capsys):
    csv_in = tmp_path / "in.csv"
    csv_in.write_text("id,text\na,Protesters burned tyres in Bamako.\n", encoding="utf-8")
    err = _refused(["predict", str(csv_in), "--model", str(tmp_path), "-o", str(tmp_path / "o.jsonl"), "--ray"], capsys)
    assert err == f"wirecoder: error: --ray reads .jsonl or .parquet files (or a folder of them), not {csv_in}"
    src = _jsonl(tmp_path / "in.jsonl", RECORDS)
    err = _refused(["predict", str(src), "--model", str(tmp_path), "-o", str(tmp_path / "o.html"), "--ray"], capsys)
    assert err == "wirecoder: error: --ray writes -o X.jsonl or -o X.parquet"


def test_predict_ray_without_ray_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as when it is not installed
    src = _jsonl(tmp_path / "in.jsonl", RECORDS)
    err = _refused(["predict", str(src), "--model", str(tmp_path), "-o", str(tmp_path / "out.jsonl"), "--ray"], capsys)
    assert err.startswith("wirecoder: error: Ray Data is not installed (")
    assert err.endswith("install the extra: pip install 'wirecoder[ray]' (or pip install -e '.[ray]' in a checkout)")
