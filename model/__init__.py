"""wirecoder: ACLED event coding of conflict reports with one fine-tuned encoder.

>>> from model import EventCoder
>>> coder = EventCoder.from_pretrained("runs/default")
>>> coder.predict(["Gunmen killed two farmers near Gao on Monday."])
"""

from model.modeling import WirecoderConfig, WirecoderModel
from model.predictor import EventCoder, ModelLoadError
from model.results import EventRow, Prediction, ScoredLabel, SentenceResult, SpanResult
from model.taxonomy import EVENT_TAXONOMY, EVENT_TYPES, SPAN_LABELS, SUB_EVENT_TYPES

__all__ = [
    "EVENT_TAXONOMY",
    "EVENT_TYPES",
    "SPAN_LABELS",
    "SUB_EVENT_TYPES",
    "EventCoder",
    "EventRow",
    "ModelLoadError",
    "Prediction",
    "ScoredLabel",
    "SentenceResult",
    "SpanResult",
    "WirecoderConfig",
    "WirecoderModel",
]
