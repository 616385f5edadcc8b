"""An exponential moving average of the weights during training (issue 9, item 6).

After each optimizer step ``shadow = decay * shadow + (1 - decay) * weights``, starting from the
weights training starts from. Evaluations on dev and checkpoints use the averaged weights, so the
checkpoint chosen on dev, and the model written at the end, are averages: flatter minima, which
are said to carry better to text unlike the training data.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from transformers import TrainerCallback

from model.errors import WirecoderError


class WeightAverage:
    """The shadow copy of a model's floating-point parameters."""

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise WirecoderError(f"--ema_decay must be between 0 and 1 (exclusive), not {decay}")
        self.decay = decay
        self.training = False  # set while the Trainer trains: evaluations then score the average
        self.params = [p for p in model.parameters() if p.dtype.is_floating_point]
        self.shadow = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def update(self) -> None:
        torch._foreach_mul_(self.shadow, self.decay)
        torch._foreach_add_(self.shadow, [p.detach() for p in self.params], alpha=1.0 - self.decay)

    @torch.no_grad()
    def copy_to_model(self) -> None:
        for p, s in zip(self.params, self.shadow):
            p.copy_(s)

    @contextmanager
    def swapped_in(self):
        """The averaged weights in the model for the duration; the trained ones back afterwards."""
        live = [p.detach().clone() for p in self.params]
        self.copy_to_model()
        try:
            yield
        finally:
            with torch.no_grad():
                for p, saved in zip(self.params, live):
                    p.copy_(saved)


class WeightAverageCallback(TrainerCallback):
    def __init__(self, average: WeightAverage):
        self.average = average

    def on_train_begin(self, args, state, control, **kwargs):
        self.average.training = True

    def on_step_end(self, args, state, control, **kwargs):
        self.average.update()

    def on_train_end(self, args, state, control, **kwargs):
        self.average.training = False
