"""Which sentences go through the encoder together: batches by token budget.

A batch's cost is its padded size, rows × the longest row. Sentences run longest first, and a batch
takes sentences until one more would push its padded size past ``max_tokens`` (or its count past
``max_count``): short sentences travel in large batches, which keeps a GPU busy, and long ones in small
batches, which bounds memory. A batch always holds at least one sentence; a sentence longer than the
encoder's window runs as several overlapping windows (rows), each ``window`` tokens long.
"""

from __future__ import annotations

import math

from model.errors import WirecoderError

# Padded tokens per forward pass. On 2 CPU cores throughput is within noise from 1 k to 4 k tokens and
# falls beyond (the activations leave the caches; README, speed section); on a GPU, larger batches keep
# its matrix units busy (not measured yet: no GPU in the sessions that built this).
CPU_BATCH_TOKENS = 2048
CUDA_BATCH_TOKENS = 32768


def check_batch_limit(name: str, value) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise WirecoderError(f"{name} must be a positive integer or None, not {value!r}")


def default_batch_tokens(device_type: str) -> int:
    return CUDA_BATCH_TOKENS if device_type == "cuda" else CPU_BATCH_TOKENS


def rows_of(n_tokens: int, window: int, stride: int) -> int:
    """Windows a sentence of ``n_tokens`` tokens (special tokens included) runs as: consecutive windows
    overlap by ``stride`` tokens."""
    if n_tokens <= window:
        return 1
    step = max(1, window - stride)
    return 1 + math.ceil((n_tokens - window) / step)


def token_batches(lengths: list[int], max_tokens: int, max_count: int | None, window: int,
                  stride: int = 0) -> list[list[int]]:
    """Indices into ``lengths`` (tokens per sentence), longest first, cut into batches whose padded
    size (rows × the longest row, capped at ``window``) stays within ``max_tokens`` and whose count
    stays within ``max_count`` (None: no limit)."""
    check_batch_limit("max_tokens", max_tokens)
    check_batch_limit("max_count", max_count)
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    batch: list[int] = []
    rows = width = 0
    for i in order:
        r, w = rows_of(lengths[i], window, stride), min(lengths[i], window)
        full = batch and ((rows + r) * max(width, w) > max_tokens or (max_count is not None and len(batch) >= max_count))
        if full:
            batches.append(batch)
            batch, rows, width = [], 0, 0
        batch.append(i)
        rows, width = rows + r, max(width, w)
    if batch:
        batches.append(batch)
    return batches
