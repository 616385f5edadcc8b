"""PNG figures: the training curve and the event-type confusion matrix (matplotlib, no display)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from model.files import atomic_write_bytes  # noqa: E402


def _save(fig, path: str | Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def plot_training_curve(log_history: list[dict], path: str | Path, prefix: str = "eval_") -> None:
    """Train loss and, from the dev set whose metrics start with ``prefix``, loss and F1 per epoch."""
    train = [(h["epoch"], h["loss"]) for h in log_history if "loss" in h and "epoch" in h]
    dev = [(h["epoch"], h[f"{prefix}loss"]) for h in log_history if f"{prefix}loss" in h]
    f1 = {k: [(h["epoch"], h[f"{prefix}{k}"]) for h in log_history if f"{prefix}{k}" in h] for k in ("sub_event_micro_f1", "span_f1", "combined_f1")}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for pts, name in ((train, "train loss"), (dev, "dev loss")):
        if pts:
            ax1.plot(*zip(*pts), marker="o", label=name)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax1.legend()
    for k, pts in f1.items():
        if pts:
            ax2.plot(*zip(*pts), marker="o", label=f"dev {k}")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("F1")
    ax2.set_ylim(0, 1)
    ax2.legend()
    fig.suptitle("wirecoder training")
    _save(fig, path)


def plot_confusion(labels: list[str], matrix: np.ndarray, path: str | Path) -> None:
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    top = matrix.max() if matrix.size else 0
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", color="white" if matrix[i, j] > top / 2 else "black")
    ax.set_title("Event types on the test split (+ none)")
    _save(fig, path)


def plot_reliability(curves: dict[str, dict], path: str | Path) -> None:
    """Reliability diagram: observed frequency of a sub-event type against its score, per score bin
    (``training.calibration.reliability`` dicts), one curve per data set; the diagonal is perfect."""
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    for name, rel in curves.items():
        ax.plot(rel["mean_score"], rel["observed"], marker="o", label=f"{name} (ECE {rel['ece']:.3f})")
        hist.plot(rel["mean_score"], np.log10(np.maximum(rel["count"], 1)), marker=".", label=name)
    ax.set_ylabel("observed frequency")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Sub-event type scores: reliability")
    hist.set_xlabel("score (bin mean)")
    hist.set_ylabel("log10 count")
    _save(fig, path)
