"""The GPU benchmark's code, run on the CPU with the tiny trained model (no timing is asserted)."""

from training.gpu_benchmark import UtilisationSampler, format_gpu_benchmark, repeat_to, run_gpu_benchmark


def test_repeat_to_cycles_through_the_texts():
    assert repeat_to(["a", "b", "c"], 7) == ["a", "b", "c", "a", "b", "c", "a"]


def test_gpu_benchmark_compares_fp32_and_bf16_on_the_same_texts(trained_dir):
    r = run_gpu_benchmark(str(trained_dir), "sentences", n_texts=40, batch_size=16, device="cpu")
    assert r["texts"] == 40 and r["tokens"] > 40
    for precision in ("fp32", "bf16"):
        assert r[precision]["tokens_per_s"] > 0
        assert r[precision]["tokens_per_s"] == r["tokens"] / r[precision]["seconds"]
        assert r[precision]["gpu_utilisation"] is None  # no GPU to sample
    assert 0.0 <= r["identical_codes"] <= 1.0
    text = format_gpu_benchmark(r)
    assert "predict bf16" in text and "GPU busy n/a" in text and "coded identically" in text


def test_the_sampler_reads_nothing_without_a_gpu():
    import torch

    with UtilisationSampler(torch.device("cpu"), interval=0.01) as sampler:
        pass
    assert sampler.samples == [] and sampler.mean is None
