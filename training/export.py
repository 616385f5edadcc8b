"""``wirecoder export``: a trained model's forward pass (both heads) as an ONNX graph for ONNX Runtime.

The export directory holds the graph (``model.onnx``, or ``model_int8.onnx`` with ``--quantize
int8``), the model's config.json and its tokenizer, so ``EventCoder.from_pretrained`` loads it like
any model directory (model/onnx_runtime.py). Exported into the model directory itself, the graph sits
beside the PyTorch weights and CPU prediction runs it by default.

Steps: the legacy TorchScript exporter with eager attention (the graph ONNX Runtime's transformer
optimizer recognises, so attention, embeddings+LayerNorm, GELU and skip+LayerNorm become fused
kernels), then the optimizer, then optional int8 quantization (static, with activation scales fixed
from corpus sentences: training/quantize.py; or ONNX Runtime's dynamic scheme); every graph is
checked against the PyTorch model on sample sentences before it is written.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import torch

from model.errors import WirecoderError
from model.files import atomic_write_bytes
from model.loading import load_model_dir
from model.onnx_runtime import FP32_FILE, INT8_FILE, OUTPUTS, OnnxModel

logger = logging.getLogger(__name__)

# "int8": static int8 (training/quantize.py), activation scales fixed from corpus sentences, so a
# sentence's scores do not depend on its batch. "int8-dynamic": ONNX Runtime's dynamic int8, whose
# activation scales follow each batch (kept for comparison; see the README's speed section).
QUANTIZE = ("int8", "int8-dynamic")
# Encoders whose graphs ONNX Runtime's "bert" optimizer fuses (others keep the session-level fusions).
BERT_LIKE = ("bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra", "mpnet")
# Sentences of different lengths (one batch with padding) for the check against PyTorch.
CHECK_TEXTS = [
    "Gunmen killed two farmers near Gao on Monday, residents said.",
    "Police fired tear gas at hundreds of protesters in Nairobi.",
    "No incident was reported.",
]
# Largest |logit| difference from PyTorch an fp32 graph may show (float reassociation in fused kernels).
FP32_TOLERANCE = 1e-3
# Largest one an int8 graph may show: int8 rounding moves logits by tenths, a broken graph by more.
INT8_TOLERANCE = 1.0


class _BothHeads(torch.nn.Module):
    """The model's forward with plain tensor inputs and the two logits as outputs."""

    def __init__(self, model, input_names: list[str]):
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs):
        out = self.model(**dict(zip(self.input_names, inputs)))
        return out.sentence_logits, out.token_logits


def _torch_export(model, tokenizer, file: Path, opset: int) -> list[str]:
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names]
    enc = tokenizer(CHECK_TEXTS, padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes |= {"sentence_logits": {0: "batch"}, "token_logits": {0: "batch", 1: "sequence"}}
    # eval(): the exporter restores the wrapper's mode afterwards, and a new Module starts in training mode.
    torch.onnx.export(_BothHeads(model, names).eval(), tuple(enc[n] for n in names), str(file), dynamo=False,
                      input_names=names, output_names=list(OUTPUTS), dynamic_axes=axes, opset_version=opset)
    return names


def _fuse(src: Path, dst: Path, encoder_config, attention: bool = True) -> bool:
    """ONNX Runtime's transformer fusions for BERT-like encoders; False when they do not apply.
    ``attention=False`` leaves self-attention as plain MatMul/Softmax nodes (for static int8)."""
    if encoder_config.model_type not in BERT_LIKE:
        return False
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_attention = attention
    optimized = optimize_model(str(src), model_type="bert", num_heads=encoder_config.num_attention_heads,
                               hidden_size=encoder_config.hidden_size, optimization_options=options)
    logger.info("fused operators: %s", {k: v for k, v in optimized.get_fused_operator_statistics().items() if v})
    optimized.save_model_to_file(str(dst))
    return True


def _quantize_int8(src: Path, dst: Path, scheme: str, tokenizer, max_length: int, input_names: list[str]) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if scheme == "int8":
        from training.quantize import quantize_static_int8

        quantize_static_int8(src, dst, tokenizer, max_length, input_names)
        return
    # Dynamic: activation scales computed per batch, so a sentence's scores depend on its batch.
    # Per-channel weight scales: one outlier row no longer coarsens a whole matrix. Every matrix
    # product is quantized, the heads included: keeping the heads in fp32 measured no better on the
    # test split (README, speed section).
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                     # The fused (com.microsoft) ops hide some tensors' types from shape inference.
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _max_difference(model, tokenizer, file: Path) -> tuple[float, float]:
    """Largest |logit| difference between the graph and PyTorch on CHECK_TEXTS: (sentence, token)."""
    enc = tokenizer(CHECK_TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        ref = model(**{k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc})
    sent, tok = OnnxModel(file, model.config)({k: v.numpy() for k, v in enc.items()})
    real = enc["attention_mask"].numpy().astype(bool)  # padding positions' token logits are never read
    return (float(np.abs(sent - ref.sentence_logits.numpy()).max()),
            float(np.abs(tok - ref.token_logits.numpy())[real].max()))


def export_onnx(model_dir: str | Path, out_dir: str | Path | None = None, quantize: str | None = None,
                opset: int = 17) -> Path:
    """Write the ONNX export of ``model_dir`` into ``out_dir`` (default: ``model_dir`` itself); returns the graph's path."""
    if quantize not in (None, *QUANTIZE):
        raise WirecoderError(f"--quantize must be one of {', '.join(QUANTIZE)}, not {quantize!r}")
    model_dir = Path(model_dir)
    out_dir = Path(out_dir) if out_dir is not None else model_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise WirecoderError(f"cannot write the export to {out_dir}: it is a file")
    model, tokenizer = load_model_dir(model_dir)
    if getattr(model.config, "context_sentences", 0):
        # The graph would take no sentence_mask and pool the context with the sentence: wrong scores.
        raise WirecoderError(f"{model_dir}: a model that reads context (context_sentences="
                             f"{model.config.context_sentences}) cannot be exported yet; predict with PyTorch")
    model.eval()
    try:
        # Eager attention exports as the MatMul/Softmax pattern the optimizer fuses into one kernel.
        model.set_attn_implementation("eager")
    except (ValueError, AttributeError) as exc:
        logger.info("keeping the encoder's attention implementation (%s)", exc)
    target = out_dir / (INT8_FILE if quantize else FP32_FILE)
    with tempfile.TemporaryDirectory(prefix="wirecoder-export-") as tmp:
        raw, fused = Path(tmp) / "raw.onnx", Path(tmp) / "fused.onnx"
        input_names = _torch_export(model, tokenizer, raw, opset)
        # Static int8 quantizes MatMul nodes: inside a fused Attention node the Q/K/V projections would
        # stay fp32, so its graph leaves attention unfused (5-10 % faster at 0.2-0.3 points of F1; README,
        # speed section). The fp32 check below then covers the very graph that is quantized.
        graph = fused if _fuse(raw, fused, model.config.encoder_config, attention=quantize != "int8") else raw
        sent_diff, tok_diff = _max_difference(model, tokenizer, graph)
        if max(sent_diff, tok_diff) > FP32_TOLERANCE and graph is fused:
            logger.warning("fused graph differs from PyTorch by %.2g; writing the unfused one", max(sent_diff, tok_diff))
            graph = raw
            sent_diff, tok_diff = _max_difference(model, tokenizer, graph)
        if max(sent_diff, tok_diff) > FP32_TOLERANCE:
            raise WirecoderError(f"the exported graph differs from the PyTorch model by {max(sent_diff, tok_diff):.2g} "
                                 f"(over {FP32_TOLERANCE}); this encoder does not export cleanly")
        if quantize:
            quantized = Path(tmp) / "int8.onnx"
            max_length = min(int(model.config.max_length), int(getattr(tokenizer, "model_max_length", 512) or 512), 512)
            _quantize_int8(graph, quantized, quantize, tokenizer, max_length, input_names)
            graph = quantized
            diff = _max_difference(model, tokenizer, graph)
            logger.info("int8 graph vs PyTorch: max |logit| difference %.3f (sentence), %.3f (token)", *diff)
            if max(diff) > INT8_TOLERANCE:
                raise WirecoderError(f"the int8 graph differs from the PyTorch model by {max(diff):.2g} (over "
                                     f"{INT8_TOLERANCE}); export without --quantize")
        out_dir.mkdir(parents=True, exist_ok=True)
        if out_dir.resolve() != model_dir.resolve():
            atomic_write_bytes(out_dir / "config.json", (model_dir / "config.json").read_bytes())
            tokenizer.save_pretrained(str(out_dir))
        atomic_write_bytes(target, graph.read_bytes())
    logger.info("wrote %s", target)
    return target
