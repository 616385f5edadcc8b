"""Throughput on a GPU: tokens/s of ``EventCoder.predict`` in fp32 and in bf16, the GPU's busy share
while it runs, and whether the two precisions code the texts alike.

Run by ``scripts/gpu_benchmark.py`` on a CUDA machine; on a CPU it runs the same code (slowly), which
is how the tests cover it.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Sequence

import numpy as np
import torch

from model.predictor import EventCoder
from training.benchmark import corpus_texts


def repeat_to(texts: Sequence[str], n: int) -> list[str]:
    """``n`` texts cycling through ``texts`` (the test split is smaller than a GPU's appetite)."""
    return [texts[i % len(texts)] for i in range(n)]


class UtilisationSampler:
    """The GPU's utilisation (percent of time a kernel ran) sampled every ``interval`` seconds, from
    NVML through torch when pynvml is installed, else from ``nvidia-smi``; None where neither works."""

    def __init__(self, device: torch.device, interval: float = 0.1):
        self.device, self.interval = device, interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> float | None:
        if self.device.type != "cuda":
            return None
        try:
            return float(torch.cuda.utilization(self.device))
        except Exception:  # pynvml missing or unsupported: fall back to the command-line tool
            if shutil.which("nvidia-smi") is None:
                return None
            out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                                  "-i", str(self.device.index or 0)], capture_output=True, text=True, timeout=5)
            return float(out.stdout.strip().splitlines()[0]) if out.returncode == 0 and out.stdout.strip() else None

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self._read()
            if value is None:
                return
            self.samples.append(value)
            self._stop.wait(self.interval)

    def __enter__(self) -> UtilisationSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.samples)) if self.samples else None


def _coded(predictions) -> list[tuple]:
    """What a coder reads: each sentence's labels and each span, without the scores."""
    return [(tuple(tuple(x.label for x in s.sub_event_types) for s in p.sentences),
             tuple((x.start, x.end, x.label) for x in p.spans)) for p in predictions]


def _scores(predictions) -> np.ndarray:
    return np.array([x.score for p in predictions for s in p.sentences for x in s.sub_event_types]
                    + [x.score for p in predictions for x in p.spans])


def run_gpu_benchmark(model_dir: str, unit: str = "sentences", n_texts: int = 20000, batch_size: int | None = None,
                      device: str = "cuda", precisions: Sequence[str] = ("fp32", "bf16"),
                      batch_tokens: int | None = None) -> dict:
    """``batch_size``/``batch_tokens``: predict's limits (default: no count limit, the device's token
    budget)."""
    texts = repeat_to(corpus_texts(unit), n_texts)
    out: dict = {"unit": unit, "texts": len(texts), "device": device, "batch_size": batch_size}
    results = {}
    for precision in precisions:
        coder = EventCoder.from_pretrained(model_dir, device=device, backend="torch", precision=precision,
                                           batch_tokens=batch_tokens)
        out["batch_tokens"] = coder.batch_tokens
        if precision == precisions[0]:
            out["tokens"] = sum(len(ids) for ids in coder.tokenizer(texts, truncation=True, max_length=512)["input_ids"])
            out["gpu"] = torch.cuda.get_device_name(coder.device) if coder.device.type == "cuda" else None
        coder.predict(texts[:512], batch_size=batch_size)  # warm-up
        if coder.device.type == "cuda":
            torch.cuda.synchronize(coder.device)
        with UtilisationSampler(coder.device) as sampler:
            start = time.perf_counter()
            results[precision] = coder.predict(texts, batch_size=batch_size)
            seconds = time.perf_counter() - start
        out[precision] = {"seconds": seconds, "texts_per_s": len(texts) / seconds,
                          "tokens_per_s": out["tokens"] / seconds, "gpu_utilisation": sampler.mean}
    if len(precisions) == 2:
        a, b = (results[p] for p in precisions)
        same = [x == y for x, y in zip(_coded(a), _coded(b))]
        out["identical_codes"] = float(np.mean(same))
        sa, sb = _scores(a), _scores(b)
        out["max_score_difference"] = float(np.abs(sa - sb).max()) if len(sa) == len(sb) and len(sa) else None
    return out


def format_gpu_benchmark(r: dict) -> str:
    limit = f"batches of {r['batch_tokens']} tokens" + (f", at most {r['batch_size']} texts" if r["batch_size"] else "")
    lines = [f"{r['texts']} {r['unit']}, {r['tokens']} tokens, {limit}, {r['gpu'] or r['device']}"]
    for precision in ("fp32", "bf16"):
        if precision in r:
            p = r[precision]
            util = "n/a" if p["gpu_utilisation"] is None else f"{p['gpu_utilisation']:.0f} %"
            lines.append(f"predict {precision}  {p['texts_per_s']:9.1f} texts/s  {p['tokens_per_s']:10.0f} tokens/s  "
                         f"GPU busy {util}")
    if "identical_codes" in r:
        diff = r["max_score_difference"]
        lines.append(f"bf16 vs fp32: {r['identical_codes']:.1%} of texts coded identically; largest score difference "
                     + ("n/a (different labels)" if diff is None else f"{diff:.4f}"))
    return "\n".join(lines)
