"""Inference speed, measured as ratios within one run (machines are noisy; absolute numbers are not).

Compares, on the same texts:
* ``EventCoder.predict`` — one forward pass for both heads, length-sorted dynamic batches;
* the naive way — transformers ``pipeline("token-classification")`` and
  ``pipeline("text-classification")`` called one text at a time, with models of the same size built
  from the same encoder.
Also reports the share of this machine's measured fp32 matmul peak that ``predict`` reaches, and the
other CPU paths on the same texts: the ONNX Runtime export in fp32 and int8 (``wirecoder export``, the
CPU default when a model directory holds one) and PyTorch's dynamic int8 (``--int8``).
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer, pipeline

from model.errors import WirecoderError
from model.modeling import WirecoderModel
from model.predictor import EventCoder
from model.taxonomy import BIO_TAGS, SUB_EVENT_TYPES
from training.corpus import CORPUS_DIR, read_records


def corpus_texts(unit: str = "reports", limit: int | None = None) -> list[str]:
    """Texts from the shipped corpus's test split: whole reports, or single sentences (the shape of
    monitor bulletins, ACLED notes and spreadsheet rows)."""
    if unit not in ("reports", "sentences"):
        raise WirecoderError("unit must be 'reports' or 'sentences'")
    test = [r for r in read_records(CORPUS_DIR) if r.split == "test"]
    if unit == "sentences":
        texts = [r.text for r in test]
    else:
        by_doc: dict[str, list[str]] = defaultdict(list)
        for r in test:
            by_doc[r.doc_id].append(r.text)
        texts = [" ".join(s) for s in by_doc.values()]
    return texts[:limit] if limit else texts


def matmul_peak_flops(n: int = 1024, repeats: int = 20) -> float:
    """fp32 FLOP/s of a large square matmul on this machine and thread count: the practical peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def encoder_flops(model: WirecoderModel, token_counts: list[int]) -> float:
    """Useful forward FLOPs: 2 per non-embedding weight per token, plus attention's QK^T and AV."""
    enc = model.config.encoder_config
    weights = sum(p.numel() for n, p in model.named_parameters() if "embeddings" not in n and p.dim() > 1)
    layers, hidden = enc.num_hidden_layers, enc.hidden_size
    return sum(2 * weights * t + 4 * layers * t * t * hidden for t in token_counts)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _best_seconds(runs: dict, repeats: int) -> dict[str, float]:
    """Each run's best time of ``repeats``; the runs take turns within a repeat, so that a busy spell
    on a shared machine hits them alike."""
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            best[name] = min(best[name], _timed(run))
    return best


def run_benchmark(model_dir: str | None, base_model: str, n_texts: int | None = None, batch_size: int | None = None,
                  unit: str = "reports", repeats: int = 1) -> dict:
    """Every path on the same texts; each timing is the best of ``repeats``, the paths taking turns
    within a repeat so that a busy spell on a shared machine hits them alike."""
    if not isinstance(repeats, int) or repeats < 1:
        raise WirecoderError(f"repeats must be a positive integer, not {repeats!r}")
    texts = corpus_texts(unit, n_texts)
    if model_dir:
        coder = EventCoder.from_pretrained(model_dir, device="cpu", backend="torch")
    else:  # speed does not depend on trained weights
        coder = EventCoder(WirecoderModel.from_encoder(base_model), AutoTokenizer.from_pretrained(base_model), device="cpu")
    tokenizer = coder.tokenizer
    token_counts = [len(tokenizer(t, truncation=True, max_length=512)["input_ids"]) for t in texts]
    n_tokens = sum(token_counts)

    tok_model = AutoModelForTokenClassification.from_pretrained(base_model, num_labels=len(BIO_TAGS)).eval()
    cls_model = AutoModelForSequenceClassification.from_pretrained(
        base_model, num_labels=len(SUB_EVENT_TYPES), problem_type="multi_label_classification"
    ).eval()
    ner = pipeline("token-classification", model=tok_model, tokenizer=tokenizer, device="cpu")
    clf = pipeline("text-classification", model=cls_model, tokenizer=tokenizer, device="cpu", top_k=None)

    def naive():
        for t in texts:
            ner(t)
            clf(t, truncation=True)

    fp32_results = coder.predict(texts, batch_size=batch_size)  # also the warm-up of the fp32 path
    for t in texts[:4]:
        ner(t)
        clf(t, truncation=True)
    with tempfile.TemporaryDirectory(prefix="wirecoder-benchmark-") as tmp:
        # The opt-in PyTorch int8 path quantizes a copy in place.
        paths = {"ours": coder, "naive": None, **_onnx_coders(coder, model_dir, Path(tmp)),
                 "int8": copy.deepcopy(coder).quantize()}
        for name, c in paths.items():
            if c is not None and name != "ours":
                c.predict(texts[:8], batch_size=batch_size)
        seconds = _best_seconds({name: naive if c is None else (lambda c=c: c.predict(texts, batch_size=batch_size))
                                 for name, c in paths.items()}, repeats)
    t_ours, t_naive, t_int8 = seconds["ours"], seconds["naive"], seconds["int8"]
    onnx_seconds = {name: seconds[name] for name in ONNX_PATHS}
    # Sentence-level FLOPs: predict encodes sentences, so count the tokens it actually runs.
    sent_tokens = [
        len(tokenizer(t[s.start : s.end], truncation=True, max_length=coder.max_length)["input_ids"])
        for t, r in zip(texts, fp32_results)
        for s in r.sentences
    ]
    peak = max(matmul_peak_flops() for _ in range(repeats))
    achieved = encoder_flops(coder.model, sent_tokens) / t_ours
    return {
        "unit": unit,
        "texts": len(texts),
        "tokens": n_tokens,
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "predict_texts_per_s": len(texts) / t_ours,
        "predict_tokens_per_s": n_tokens / t_ours,
        "naive_texts_per_s": len(texts) / t_naive,
        "naive_tokens_per_s": n_tokens / t_naive,
        "speedup": t_naive / t_ours,
        "int8_texts_per_s": len(texts) / t_int8,
        "int8_speedup": t_naive / t_int8,
        **{f"{name}_texts_per_s": len(texts) / t for name, t in onnx_seconds.items()},
        **{f"{name}_speedup": t_naive / t for name, t in onnx_seconds.items()},
        "matmul_peak_gflops": peak / 1e9,
        "predict_gflops": achieved / 1e9,
        "fraction_of_peak": achieved / peak,
    }


# The ONNX exports timed: fp32, static int8 (the default) and dynamic int8.
ONNX_PATHS = {"onnx": None, "onnx_int8": "int8", "onnx_int8_dynamic": "int8-dynamic"}


def _onnx_coders(coder: EventCoder, model_dir: str | None, tmp: Path) -> dict[str, EventCoder]:
    """Coders running the model's ONNX exports (``ONNX_PATHS``), written under ``tmp`` from
    ``model_dir`` or from ``coder``'s untrained model."""
    from model.onnx_runtime import load_onnx_dir
    from training.export import export_onnx

    if model_dir is None:
        model_dir = tmp / "model"
        coder.model.save_pretrained(str(model_dir))
        coder.tokenizer.save_pretrained(str(model_dir))
    coders = {}
    for name, quantize in ONNX_PATHS.items():
        export_onnx(model_dir, tmp / name, quantize)
        coders[name] = EventCoder(*load_onnx_dir(tmp / name, int8=quantize is not None))
    return coders


def format_benchmark(r: dict) -> str:
    return "\n".join(
        [
            f"{r['texts']} {r['unit']}, {r['tokens']} tokens, {r['threads']} threads, best of {r.get('repeats', 1)}",
            f"EventCoder.predict   {r['predict_texts_per_s']:8.1f} texts/s  {r['predict_tokens_per_s']:9.0f} tokens/s",
            f"naive pipelines      {r['naive_texts_per_s']:8.1f} texts/s  {r['naive_tokens_per_s']:9.0f} tokens/s",
            f"speed-up             {r['speedup']:8.1f}x",
            f"predict, ONNX fp32   {r['onnx_texts_per_s']:8.1f} texts/s  ({r['onnx_speedup']:.1f}x the naive way)",
            f"predict, ONNX int8   {r['onnx_int8_texts_per_s']:8.1f} texts/s  ({r['onnx_int8_speedup']:.1f}x the naive way)",
            f"  int8, dynamic      {r['onnx_int8_dynamic_texts_per_s']:8.1f} texts/s  "
            f"({r['onnx_int8_dynamic_speedup']:.1f}x the naive way)",
            f"predict, torch int8  {r['int8_texts_per_s']:8.1f} texts/s  ({r['int8_speedup']:.1f}x the naive way)",
            f"fp32 matmul peak     {r['matmul_peak_gflops']:8.1f} GFLOP/s; predict reaches {r['predict_gflops']:.1f} GFLOP/s "
            f"= {r['fraction_of_peak']:.0%} of peak",
        ]
    )


def budget_sweep(model_dir: str, budgets: list[int], unit: str = "reports", n_texts: int | None = None,
                 repeats: int = 3) -> dict[str, float]:
    """texts/s of ``predict`` (the model directory's default path on the CPU) at each token budget, and
    with the former batches of 64 sentences, best of ``repeats``; the settings take turns within each
    repeat, so that a busy spell on a shared machine hits them alike."""
    texts = corpus_texts(unit, n_texts)
    coder = EventCoder.from_pretrained(model_dir, device="cpu")
    settings = {"64 sentences": {"batch_size": 64, "batch_tokens": 10**9},
                **{f"{b} tokens": {"batch_tokens": b} for b in budgets}}
    coder.predict(texts[:8])  # warm-up (the gazetteer loads once)
    best = _best_seconds({name: (lambda kw=kwargs: coder.predict(texts, **kw)) for name, kwargs in settings.items()},
                         repeats)
    return {name: len(texts) / seconds for name, seconds in best.items()}
