"""A moving average of the weights (--ema_decay): the update, the swap, and what training saves."""

import pytest
import torch
from safetensors.torch import load_file

from model.errors import WirecoderError
from training.cli import main
from training.ema import WeightAverage

from conftest import MINI_CORPUS


def test_the_average_follows_decay_times_shadow_plus_the_rest_times_weights():
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 2.0]]))
    avg = WeightAverage(model, decay=0.9)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[3.0, 0.0]]))
    avg.update()  # 0.9 * [1, 2] + 0.1 * [3, 0] = [1.2, 1.8]
    assert torch.allclose(avg.shadow[0], torch.tensor([[1.2, 1.8]]))
    avg.update()  # 0.9 * [1.2, 1.8] + 0.1 * [3, 0] = [1.38, 1.62]
    assert torch.allclose(avg.shadow[0], torch.tensor([[1.38, 1.62]]))
    with avg.swapped_in():
        assert torch.allclose(model.weight, torch.tensor([[1.38, 1.62]]))
    assert torch.equal(model.weight, torch.tensor([[3.0, 0.0]]))  # the trained weights come back


def test_decay_out_of_range_is_a_clear_error():
    with pytest.raises(WirecoderError, match="--ema_decay must be between 0 and 1"):
        WeightAverage(torch.nn.Linear(2, 1), 1.0)


def _train(out, tiny_encoder_dir, *extra):
    rc = main(["train", "--base-model", str(tiny_encoder_dir), "--data", str(MINI_CORPUS), "--output-dir", str(out),
               "--num_train_epochs", "3", "--per_device_train_batch_size", "4", "--learning_rate", "3e-3", "--seed", "3",
               "--evaluate_after_training", "false", "--disable_tqdm", "true", *extra])
    assert rc == 0
    return load_file(str(out / "model.safetensors"))


def test_training_saves_the_average(tmp_path, tiny_encoder_dir):
    """A decay near 1 keeps the average at the starting weights: the saved encoder is then the base
    encoder, although training moved the live weights far from it."""
    base = load_file(str(tiny_encoder_dir / "model.safetensors"))
    key = "encoder.encoder.layer.0.attention.self.query.weight"
    base_w = base[key.removeprefix("encoder.")]
    plain = _train(tmp_path / "plain", tiny_encoder_dir, "--save_strategy", "no", "--load_best_model_at_end", "false")
    assert (plain[key] - base_w).abs().max() > 1e-2
    slow = _train(tmp_path / "ema", tiny_encoder_dir, "--save_strategy", "no", "--load_best_model_at_end", "false",
                  "--ema_decay", "0.999999")
    assert (slow[key] - base_w).abs().max() < 1e-4
    # With checkpoints and the best one loaded at the end, the saved model is an average too.
    best = _train(tmp_path / "ema-best", tiny_encoder_dir, "--ema_decay", "0.999999")
    assert (best[key] - base_w).abs().max() < 1e-4
