"""The benchmark runs end to end (speed itself is measured by scripts/benchmark.py, never asserted)."""

import pytest

from training.benchmark import corpus_texts, format_benchmark, run_benchmark


def test_benchmark_reports_both_paths_on_the_same_texts(tiny_encoder_dir):
    r = run_benchmark(None, str(tiny_encoder_dir), n_texts=12, batch_size=8, unit="sentences", repeats=2)
    assert r["texts"] == 12 and r["tokens"] > 12 and r["repeats"] == 2
    for key in ("predict_texts_per_s", "naive_texts_per_s", "int8_texts_per_s", "onnx_texts_per_s",
                "onnx_int8_texts_per_s", "onnx_int8_dynamic_texts_per_s", "matmul_peak_gflops"):
        assert r[key] > 0
    assert r["speedup"] == pytest.approx(r["predict_texts_per_s"] / r["naive_texts_per_s"])
    assert r["onnx_int8_speedup"] == pytest.approx(r["onnx_int8_texts_per_s"] / r["naive_texts_per_s"])
    assert "speed-up" in format_benchmark(r) and "of peak" in format_benchmark(r) and "ONNX int8" in format_benchmark(r)
    assert "best of 2" in format_benchmark(r)


def test_benchmark_texts_are_whole_test_reports_or_sentences():
    reports, sentences = corpus_texts("reports"), corpus_texts("sentences")
    assert len(reports) < len(sentences)
    assert sum(len(t.split()) for t in reports) == sum(len(t.split()) for t in sentences)


def test_budget_sweep_times_every_budget_and_the_former_batches(saved_model_dir):
    from training.benchmark import budget_sweep

    r = budget_sweep(str(saved_model_dir), [256, 1024], unit="sentences", n_texts=10, repeats=1)
    assert list(r) == ["64 sentences", "256 tokens", "1024 tokens"] and all(v > 0 for v in r.values())
