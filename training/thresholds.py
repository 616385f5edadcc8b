"""Decision thresholds for the multi-label head, tuned on dev to maximise F1."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

GRID = np.round(np.arange(0.1, 0.91, 0.05), 2)
MIN_POSITIVES = 5  # below this many dev examples a per-class threshold is noise: use the global one


def tune_thresholds(probs: np.ndarray, labels: np.ndarray, grid: np.ndarray = GRID, shrink: float = 0.0) -> np.ndarray:
    """One threshold per class: the dev-F1 optimum where the class has enough dev positives, else the
    threshold that maximises micro-F1 over all classes.

    ``shrink`` (pseudo-positives) pulls each class's optimum toward the global one by its number of
    dev positives n: t = (n t_class + shrink t_global) / (n + shrink). A per-class optimum found on
    a few dozen dev sentences is partly noise; on text unlike dev the global one is the safer bet.
    """
    probs, labels = np.asarray(probs), np.asarray(labels).astype(int)
    global_scores = [f1_score(labels, probs >= t, average="micro", zero_division=0) for t in grid]
    global_t = float(grid[int(np.argmax(global_scores))])
    out = np.full(probs.shape[1], global_t, dtype=np.float32)
    for k in range(probs.shape[1]):
        n = int(labels[:, k].sum())
        if n >= MIN_POSITIVES:
            scores = [f1_score(labels[:, k], probs[:, k] >= t, zero_division=0) for t in grid]
            best = max(scores)
            # Among equally good thresholds prefer the one closest to the global threshold.
            candidates = [t for t, s in zip(grid, scores) if s >= best - 1e-9]
            t_class = float(min(candidates, key=lambda t: abs(t - global_t)))
            out[k] = (n * t_class + shrink * global_t) / (n + shrink)
    return out
