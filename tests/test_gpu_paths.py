"""The GPU path's pieces, run on the CPU (CI has no GPU): tokenising ahead on a thread and bf16 autocast."""

import numpy as np
import pytest

from model.errors import WirecoderError
from model.predictor import EventCoder

REPORTS = [
    "Gunmen killed two farmers near Gao on Monday. Police said the attackers fled on motorbikes.",
    "Police fired tear gas at students in Nairobi. Hundreds of teachers marched through Kisumu on Thursday.",
    "Russian forces shelled Kherson on Tuesday, killing a 70-year-old woman.",
    "A flood swept away a bridge in Garissa last month.",
    "JNIM militants seized the town of Boni after the army withdrew. Malian soldiers arrested a local chief.",
]


def _as_comparable(predictions):
    return [([(s.text, [(x.label, x.score) for x in s.sub_event_types]) for s in p.sentences],
             [(x.start, x.end, x.label, x.score) for x in p.spans]) for p in predictions]


def test_tokenising_ahead_on_a_thread_changes_nothing(trained_dir):
    plain = EventCoder.from_pretrained(trained_dir, backend="torch")
    ahead = EventCoder.from_pretrained(trained_dir, backend="torch")
    ahead.prefetch = True
    assert plain.prefetch is False  # the CPU default; on CUDA it is on
    # batch_size 2 over 9 sentences: 5 batches, each tokenised while the one before runs.
    assert _as_comparable(ahead.predict(REPORTS, batch_size=2)) == _as_comparable(plain.predict(REPORTS, batch_size=2))


def test_bf16_autocast_runs_and_stays_close_to_fp32(trained_dir):
    fp32 = EventCoder.from_pretrained(trained_dir, backend="torch")
    assert fp32.precision == "fp32"  # "auto" on a CPU
    bf16 = EventCoder.from_pretrained(trained_dir, backend="torch", precision="bf16")
    sentences = [s for r in REPORTS for s in r.split(". ")]
    a, b = fp32.sentence_scores(sentences), bf16.sentence_scores(sentences)
    assert not np.array_equal(a, b)  # bfloat16 matmuls really ran
    assert np.abs(a - b).max() < 0.05
    pa, pb = fp32.predict(REPORTS), bf16.predict(REPORTS)
    assert [[(s.start, s.end) for s in p.sentences] for p in pa] == [[(s.start, s.end) for s in p.sentences] for p in pb]


def test_precision_is_checked(trained_dir, int8_export_beside_weights):
    with pytest.raises(WirecoderError, match="precision must be one of auto, fp32, bf16"):
        EventCoder.from_pretrained(trained_dir, backend="torch", precision="fp16")
    with pytest.raises(WirecoderError, match="bf16 applies to the PyTorch model"):
        EventCoder.from_pretrained(int8_export_beside_weights, backend="onnx", precision="bf16")
