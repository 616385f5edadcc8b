"""Batches by token budget (model/batching.py): short sentences share large batches, long ones go in
small batches, no forward pass exceeds the budget, and the budget never changes what is coded."""

import pytest
import torch

from model.batching import CPU_BATCH_TOKENS, token_batches
from model.errors import WirecoderError
from model.predictor import EventCoder


def test_batches_fill_up_to_the_padded_token_budget_longest_first():
    # Sorted: 50 (#1), 40 (#4), 30 (#2), 10 (#0), 5 (#3). Padded size = rows x the longest row:
    # [50, 40] -> 2 x 50 = 100 fits 100; + 30 would be 150. [30, 10, 5] -> 3 x 30 = 90.
    assert token_batches([10, 50, 30, 5, 40], max_tokens=100, max_count=None, window=512) == [[1, 4], [2, 0, 3]]
    # A count limit cuts as well.
    assert token_batches([10, 50, 30, 5, 40], max_tokens=100, max_count=2, window=512) == [[1, 4], [2, 0], [3]]
    # A sentence longer than the budget still runs, alone.
    assert token_batches([300, 20, 20], max_tokens=100, max_count=None, window=512) == [[0], [1, 2]]
    assert token_batches([], max_tokens=100, max_count=None, window=512) == []


def test_a_sentence_over_the_window_counts_as_its_overlapping_windows():
    # 300 tokens in windows of 128 overlapping by 32 (steps of 96): 128, then 2 more windows = 3 rows,
    # padded size 3 x 128 = 384. With a budget of 512 one 128-token sentence fits beside it, two do not.
    assert token_batches([300, 128, 128], max_tokens=512, max_count=None, window=128, stride=32) == [[0, 1], [2]]
    assert token_batches([300, 128, 128], max_tokens=640, max_count=None, window=128, stride=32) == [[0, 1, 2]]


@pytest.mark.parametrize("bad", [0, -5, "4096", 2.5, True])
def test_a_bad_budget_is_refused(tiny_coder, bad):
    with pytest.raises(WirecoderError, match="batch_tokens must be a positive integer"):
        tiny_coder.predict(["Gunmen attacked a convoy."], batch_tokens=bad)
    with pytest.raises(WirecoderError, match="batch_tokens must be a positive integer"):
        EventCoder(tiny_coder.model, tiny_coder.tokenizer, device="cpu", batch_tokens=bad)


def _recorded_shapes(coder, texts, **kwargs):
    shapes = []
    real_forward = coder.model.forward

    def recording_forward(*args, **kw):
        shapes.append(tuple(kw["input_ids"].shape))
        return real_forward(*args, **kw)

    coder.model.forward = recording_forward
    try:
        return coder.predict(texts, **kwargs), shapes
    finally:
        del coder.model.forward


def _comparable(preds):
    return [([(s.label, round(s.score, 2)) for s in p.sub_event_types],
             [(s.start, s.end, s.label) for s in p.spans]) for p in preds]


def test_forward_passes_respect_the_budget_and_the_results_do_not_depend_on_it(tiny_coder):
    short = [f"Police arrested {n} men in Kano." for n in range(2, 200)]
    long = ["Gunmen " + "attacked the village and burned the market " * 8 + "on Monday." for _ in range(6)]
    texts = short + long
    # The former batching: 64 sentences a batch, whatever their length (no token budget).
    by_count, count_shapes = _recorded_shapes(tiny_coder, texts, batch_size=64, batch_tokens=10**9)
    by_tokens, token_shapes = _recorded_shapes(tiny_coder, texts, batch_tokens=2048)
    assert all(rows * width <= 2048 for rows, width in token_shapes)
    # The long sentences (two 128-token windows each) share a batch of their own; the 15-16 token ones
    # go in batches of over 100, instead of 58 of them padded to 128 beside the long ones: about half
    # the padded tokens.
    assert max(rows for rows, _ in token_shapes) > 64
    assert sum(r * w for r, w in token_shapes) < 0.6 * sum(r * w for r, w in count_shapes)
    assert len(token_shapes) < len(count_shapes)
    assert _comparable(by_tokens) == _comparable(by_count)
    # Both limits at once: the count caps batches of short sentences.
    _, capped = _recorded_shapes(tiny_coder, texts, batch_size=16, batch_tokens=2048)
    assert max(rows for rows, _ in capped) <= 16


def test_the_default_budget_is_the_cpu_one_and_from_pretrained_takes_another(tiny_coder, saved_model_dir):
    assert tiny_coder.batch_tokens == CPU_BATCH_TOKENS
    coder = EventCoder.from_pretrained(saved_model_dir, device="cpu", backend="torch", batch_tokens=256)
    assert coder.batch_tokens == 256
    _, shapes = _recorded_shapes(coder, ["Rebels shelled Goma. " * 3, "Troops fired on protesters in Kasese."] * 40)
    assert all(rows * width <= 256 for rows, width in shapes)


def test_one_long_unpunctuated_text_runs_in_windows_within_the_budget(tiny_coder):
    text = " ".join(["gunmen attacked the village and"] * 600)  # 3,000 words, one sentence
    _, shapes = _recorded_shapes(tiny_coder, [text], batch_tokens=512)
    # Windows of the model's 128 tokens: 4 to a forward pass.
    assert len(shapes) > 5 and all(rows <= 4 and width == 128 for rows, width in shapes)


def test_predict_cli_takes_a_token_budget(saved_model_dir, tmp_path, capsys):
    from training.cli import main

    src = tmp_path / "in.txt"
    src.write_text("Gunmen killed two farmers near Gao on Monday.\nTeachers marched in Nairobi.\n", encoding="utf-8")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["predict", "--model", str(saved_model_dir), "--backend", "torch", "--lines", str(src), "-o", str(a)]) == 0
    assert main(["predict", "--model", str(saved_model_dir), "--backend", "torch", "--lines", str(src), "-o", str(b),
                 "--batch-tokens", "16"]) == 0
    assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["predict", "--model", str(saved_model_dir), "--lines", str(src), "-o", str(tmp_path / "c.jsonl"),
                 "--batch-tokens", "0"]) == 1
    assert "--batch-tokens" in capsys.readouterr().err
    assert not (tmp_path / "c.jsonl").exists()
