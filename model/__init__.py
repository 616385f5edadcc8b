"""wirecoder: ACLED event coding of conflict reports with one fine-tuned encoder.

>>> from model import EventCoder
>>> coder = EventCoder.from_pretrained("runs/default")
>>> coder.predict(["Gunmen killed two farmers near Gao on Monday."])
"""

from importlib import import_module

from model.taxonomy import EVENT_TAXONOMY, EVENT_TYPES, SPAN_LABELS, SUB_EVENT_TYPES

# Names are imported on first use, so corpus tools that only need the taxonomy (``wirecoder data
# check`` and friends) do not pay for importing torch and transformers.
_LAZY = {
    "WirecoderConfig": "model.modeling",
    "WirecoderModel": "model.modeling",
    "EventCoder": "model.predictor",
    "ModelLoadError": "model.errors",
    "EventRow": "model.results",
    "Prediction": "model.results",
    "ScoredLabel": "model.results",
    "SentenceResult": "model.results",
    "SpanResult": "model.results",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")


__all__ = [
    "EVENT_TAXONOMY",
    "EVENT_TYPES",
    "SPAN_LABELS",
    "SUB_EVENT_TYPES",
    *_LAZY,
]
