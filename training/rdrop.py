"""R-Drop consistency regularisation (issue 9, item 6; Liang et al., 2021).

Each training batch goes through the model twice, with independent dropout masks (one forward
pass over the batch stacked on itself). The loss is the task loss averaged over both passes plus
``alpha`` times the symmetric KL divergence between the two passes' predictions, for both heads:
the sentence head's 25 independent Bernoulli scores and the token head's tag distribution. A model
that must agree with itself under dropout leans less on any single cue word.
"""

from __future__ import annotations

import torch

from model.errors import WirecoderError


def bernoulli_symmetric_kl(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """KL(a||b) + KL(b||a) for independent Bernoulli variables given by logits, per element.
    For Bernoulli distributions this sum has the closed form (p_a - p_b)(logit_a - logit_b)."""
    return (torch.sigmoid(logits_a) - torch.sigmoid(logits_b)) * (logits_a - logits_b)


def categorical_symmetric_kl(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """KL(a||b) + KL(b||a) for categorical distributions over the last dimension, per row."""
    log_a, log_b = torch.log_softmax(logits_a, -1), torch.log_softmax(logits_b, -1)
    return ((log_a.exp() - log_b.exp()) * (log_a - log_b)).sum(-1)


def rdrop_loss(model: torch.nn.Module, inputs: dict, alpha: float) -> tuple[torch.Tensor, object]:
    """The R-Drop loss of one batch, and the model's outputs for the first copy of it."""
    if alpha <= 0:
        raise WirecoderError(f"--rdrop_alpha must be positive to use R-Drop, not {alpha}")
    n = inputs["input_ids"].shape[0]
    doubled = {k: torch.cat([v, v]) if torch.is_tensor(v) else v for k, v in inputs.items()}
    out = model(**doubled)
    config = getattr(model, "module", model).config  # DistributedDataParallel wraps the model
    sent_a, sent_b = out.sentence_logits[:n], out.sentence_logits[n:]
    # Summed over the 25 types and averaged over sentences, like the sentence head's BCE.
    sentence_kl = bernoulli_symmetric_kl(sent_a.float(), sent_b.float()).sum(-1).mean()
    tok_a, tok_b = out.token_logits[:n].float(), out.token_logits[n:].float()
    tags = inputs.get("tag_labels")
    keep = (tags != -100) if tags is not None else inputs["attention_mask"].bool()
    token_kl = categorical_symmetric_kl(tok_a[keep], tok_b[keep]).mean() if keep.any() else tok_a.new_zeros(())
    # The two directions are averaged (the 1/2), as in the paper; out.loss already averages both copies.
    consistency = 0.5 * (config.sentence_loss_weight * sentence_kl + config.token_loss_weight * token_kl)
    loss = out.loss + alpha * consistency
    out.sentence_logits, out.token_logits = sent_a, out.token_logits[:n]
    return loss, out
