"""Scores that mean what they say: temperature scaling of the sentence head and reliability figures.

A fine-tuned head is over-confident (scores near 0 or 1 whether right or wrong). One temperature T,
fitted on dev by minimising the binary cross-entropy of sigmoid(logit / T), keeps every decision's
order and makes a 0.8 right about 80 % of the time on text like dev. The reliability figure and the
expected calibration error (ECE) show how far that holds on other text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

logger = logging.getLogger(__name__)

T_BOUNDS = (0.05, 20.0)


def logits_of(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _bce(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    z = logits / temperature
    # log(1 + e^z) - y z, computed stably.
    return float(np.mean(np.logaddexp(0.0, z) - labels * z))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in ``T_BOUNDS`` that minimises the mean BCE of sigmoid(logits / T) against 0/1 labels."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    # Optimised over log T: the loss is smooth and unimodal there.
    res = minimize_scalar(lambda lt: _bce(logits, labels, float(np.exp(lt))), bounds=np.log(T_BOUNDS), method="bounded")
    return float(np.exp(res.x))


def top_label(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's highest score and whether that type is gold: the score a reader looks at."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    top = probs.argmax(1)
    rows = np.arange(len(probs))
    return probs[rows, top], labels[rows, top]


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> dict:
    """Per equal-width score bin: mean score, observed frequency, count; and the ECE (count-weighted
    mean gap) over every (sentence, class) score."""
    p = np.asarray(probs, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    idx = np.minimum((p * bins).astype(int), bins - 1)
    count = np.bincount(idx, minlength=bins)
    mean_p = np.bincount(idx, weights=p, minlength=bins) / np.maximum(count, 1)
    freq = np.bincount(idx, weights=y, minlength=bins) / np.maximum(count, 1)
    ece = float(np.sum(count * np.abs(mean_p - freq)) / max(len(p), 1))
    keep = count > 0
    return {"bins": bins, "mean_score": mean_p[keep].tolist(), "observed": freq[keep].tolist(),
            "count": count[keep].astype(int).tolist(), "ece": ece}


def calibrate_model(model_dir: str | Path, data: Sequence[str] | None = None, shrink: float = 30.0,
                    temperature_scaling: bool = False, batch_size: int = 64) -> dict:
    """``wirecoder calibrate``: refit a saved model's temperature and thresholds on the dev split of
    ``data`` (default: the shipped corpus) and rewrite its config.json in place (atomically).

    For models trained before temperature scaling existed, and for users whose own dev data should
    set the thresholds. Returns the new values and the dev ECE before and after.
    """
    from model.errors import WirecoderError
    from model.files import atomic_write_json
    from model.loading import has_torch_weights
    from model.predictor import EventCoder
    from model.taxonomy import SUB_EVENT_TYPES, multi_hot
    from training.corpus import CORPUS_DIR, read_records
    from training.evaluation import record_contexts
    from training.splits import by_split
    from training.thresholds import tune_thresholds

    if shrink < 0:
        raise WirecoderError(f"--threshold-shrink must be at least 0, not {shrink}")
    dev = by_split(read_records(list(data) if data else [CORPUS_DIR]))["dev"]
    if not dev:
        raise WirecoderError("no dev sentences to calibrate on (records need split=dev, or a corpus with a dev split)")
    # The PyTorch weights when there are any: thresholds are fitted on what the model itself scores,
    # not on an int8 export's approximation of it.
    coder = EventCoder.from_pretrained(model_dir, backend="torch" if has_torch_weights(model_dir) else "auto")
    before_t = coder.temperature
    labels = multi_hot([r.sub_event_types for r in dev], SUB_EVENT_TYPES)
    probs = coder.sentence_scores([r.text for r in dev], batch_size, contexts=record_contexts(coder, dev))
    logits = logits_of(probs) * before_t  # back to raw logits
    temperature = fit_temperature(logits, labels) if temperature_scaling else 1.0
    calibrated = 1 / (1 + np.exp(-logits / temperature))
    thresholds = tune_thresholds(calibrated, labels, shrink=shrink)
    cfg_file = Path(model_dir) / "config.json"
    cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    cfg["temperature"] = temperature
    cfg["thresholds"] = [round(float(t), 4) for t in thresholds]
    atomic_write_json(cfg_file, cfg)
    logger.info("%s: temperature %.3f, thresholds refitted on %d dev sentences", cfg_file, temperature, len(dev))
    return {"dev_sentences": len(dev), "temperature": temperature, "previous_temperature": before_t,
            "thresholds": dict(zip(SUB_EVENT_TYPES, cfg["thresholds"])),
            "dev_ece_before": reliability(probs, labels)["ece"], "dev_ece_after": reliability(calibrated, labels)["ece"]}
