"""The forward pass on ONNX Runtime: what ``EventCoder`` runs on the CPU when a model directory holds
an export written by ``wirecoder export`` (training/export.py).

Only the forward pass differs from the PyTorch path: the same tokenizer, windows, thresholds and span
decoding run around it. The graph takes the tokenizer's inputs (``input_ids``, ``attention_mask`` and,
for BERT-like encoders, ``token_type_ids``) with dynamic batch and sequence axes, and returns both
heads' logits (``sentence_logits``, ``token_logits``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from model.errors import ModelLoadError

logger = logging.getLogger(__name__)

# The export's files, fastest first: a directory holding both runs the int8 graph (its accuracy cost
# is measured in the README's speed section).
INT8_FILE = "model_int8.onnx"
FP32_FILE = "model.onnx"
ONNX_FILES = (INT8_FILE, FP32_FILE)
OUTPUTS = ("sentence_logits", "token_logits")


def onnx_file(path: str | Path, int8: bool | None = None) -> Path | None:
    """The export in ``path`` that prediction runs: int8 when present (or as ``int8`` asks), else fp32."""
    names = ONNX_FILES if int8 is None else (INT8_FILE,) if int8 else (FP32_FILE,)
    return next((Path(path) / n for n in names if (Path(path) / n).is_file()), None)


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def cpu_count() -> int:
    """Cores this process may run on (a job scheduler's CPU set, not the whole machine)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class OnnxModel:
    """An exported wirecoder forward pass: ``model(inputs) -> (sentence_logits, token_logits)``."""

    def __init__(self, file: str | Path, config, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelLoadError(f"{file}: running an ONNX export needs onnxruntime (pip install onnxruntime)") from exc
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or cpu_count()
        try:
            self.session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors for a bad file
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"{file}: not a loadable ONNX model ({first})") from exc
        self.file = Path(file)
        self.config = config
        self.input_names = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        if sorted(outputs) != sorted(OUTPUTS):
            raise ModelLoadError(f"{file}: not a wirecoder export (outputs {outputs}, expected {list(OUTPUTS)})")

    @property
    def int8(self) -> bool:
        return self.file.name == INT8_FILE

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        missing = [k for k in self.input_names if k not in inputs]
        if missing:
            raise ModelLoadError(f"{self.file}: the tokenizer gives no {missing[0]!r}, which the export needs")
        feed = {k: np.ascontiguousarray(inputs[k], dtype=np.int64) for k in self.input_names}
        sentence_logits, token_logits = self.session.run(list(OUTPUTS), feed)
        return sentence_logits, token_logits


def load_onnx_dir(path: str | Path, int8: bool | None = None, threads: int | None = None):
    """(OnnxModel, tokenizer) from a checked directory holding an export (see :func:`onnx_file`)."""
    from model.loading import check_model_dir, load_tokenizer
    from model.modeling import WirecoderConfig

    path = check_model_dir(path, weights=False)
    file = onnx_file(path, int8)
    if file is None:
        want = INT8_FILE if int8 else FP32_FILE if int8 is False else " or ".join(ONNX_FILES)
        raise ModelLoadError(f"{path}: no ONNX export ({want}); write one with `wirecoder export --model {path}`")
    config = WirecoderConfig.from_pretrained(str(path))
    return OnnxModel(file, config, threads), load_tokenizer(path)
