"""Static int8 quantization of an exported graph (``wirecoder export --quantize int8``).

Static quantization fixes every activation's scale once, from calibration sentences, so a sentence's
scores do not depend on the sentences it is batched with (dynamic quantization recomputes activation
scales per batch, and the load test in the README saw scores move by up to 0.08). The calibration
sentences are the shipped corpus's train split (never test), tokenised the way ``EventCoder`` tokenises
them: length-sorted batches of several sizes, padded to the batch's longest sentence.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

logger = logging.getLogger(__name__)

# Enough sentences for stable activation ranges; more only slows the export.
CALIBRATION_SENTENCES = 300
# Batches of several sizes, so the ranges cover padding as prediction batches have it.
CALIBRATION_BATCH_SIZES = (1, 8, 32)
# A matrix product's output stays fp32 (ONNX Runtime's MatMulIntegerToFloat): requantizing it before
# the residual sum and LayerNorm measured three times the logit error for no speed.
STATIC_OPTIONS = {"OpTypesToExcludeOutputQuantization": ["MatMul"]}


def calibration_sentences(n: int = CALIBRATION_SENTENCES, seed: int = 0, data=None) -> list[str]:
    """``n`` train-split sentences of ``data`` (default: the shipped corpus), a fixed random sample."""
    from training.corpus import CORPUS_DIR, read_records

    texts = sorted({r.text for r in read_records(data if data is not None else CORPUS_DIR) if r.split == "train"})
    return random.Random(seed).sample(texts, min(n, len(texts)))


class CorpusCalibrationReader(CalibrationDataReader):
    """The graph's inputs for ``sentences``: length-sorted batches, cycling through ``batch_sizes``."""

    def __init__(self, sentences: list[str], tokenizer, max_length: int, input_names,
                 batch_sizes=CALIBRATION_BATCH_SIZES):
        ordered = sorted(sentences, key=len, reverse=True)
        self.batches: list[dict[str, np.ndarray]] = []
        lo, k = 0, 0
        while lo < len(ordered):
            size = batch_sizes[k % len(batch_sizes)]
            enc = tokenizer(ordered[lo : lo + size], truncation=True, max_length=max_length, padding=True,
                            return_tensors="np")
            self.batches.append({n: enc[n].astype(np.int64) for n in input_names})
            lo, k = lo + size, k + 1
        self._iter = iter(self.batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._iter, None)

    def rewind(self) -> None:
        self._iter = iter(self.batches)


def quantize_static_int8(src: Path, dst: Path, tokenizer, max_length: int, input_names,
                         sentences: list[str] | None = None) -> None:
    """``src`` (an fp32 export) as a QDQ graph with int8 matrix products and fixed activation scales."""
    import tempfile

    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    reader = CorpusCalibrationReader(sentences if sentences is not None else calibration_sentences(), tokenizer,
                                     max_length, input_names)
    with tempfile.TemporaryDirectory(prefix="wirecoder-quantize-") as tmp:
        # Calibration observes only tensors whose type is known; the fused (com.microsoft) ops need
        # ONNX Runtime's symbolic shape inference for that (auto_merge: a graph exported with
        # min(max_length, sequence) shapes needs the two symbolic dimensions merged).
        typed = Path(tmp) / "typed.onnx"
        quant_pre_process(str(src), str(typed), skip_optimization=True, auto_merge=True)
        quantize_static(
            str(typed), str(dst), reader, quant_format=QuantFormat.QDQ,
            # Every matrix product: the dense layers', the attention's (export leaves attention unfused
            # for this) and the token head's.
            op_types_to_quantize=["MatMul"], per_channel=True,
            # uint8 activations with int8 weights: the CPU kernels' fast path (ONNX Runtime's guidance).
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            # The fused ops hide some tensors' types from the quantizer's own shape inference.
            extra_options={**STATIC_OPTIONS, "DefaultTensorType": onnx.TensorProto.FLOAT},
        )
