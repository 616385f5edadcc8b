"""The wirecoder model: one encoder, two heads, one forward pass.

* sentence head: mean-pooled encoder states -> 25 independent sub-event type logits (multi-label;
  event types are derived from sub-event types by the taxonomy);
* token head: every token state -> BIO tag logits over the 8 span labels.

The encoder is any Hugging Face encoder (BERT, MiniLM, RoBERTa, DeBERTa, ...); its config is kept
whole inside ours (``encoder_config``) so a saved wirecoder directory needs nothing else to load.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedConfig, PreTrainedModel
from transformers.configuration_utils import SubConfigSpec
from transformers.utils import ModelOutput

from model.taxonomy import BIO_TAGS, SUB_EVENT_TYPES


class WirecoderConfig(PreTrainedConfig):
    model_type = "wirecoder"
    sub_configs_defaults = {"encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="bert")}

    encoder_config: dict | PreTrainedConfig | None = None
    # Sentence-head label map (the token-head map is the standard id2label/label2id).
    sub_event_types: list[str] | None = None
    # Per sub-event type decision thresholds on the sigmoid score, tuned on the dev split.
    thresholds: list[float] | None = None
    # Temperature of the sentence head's sigmoid, fitted on dev after training (1: none).
    temperature: float = 1.0
    sentence_loss_weight: float = 1.0
    token_loss_weight: float = 1.0
    classifier_dropout: float = 0.1
    max_length: int = 256
    # Sentences before each sentence given to the encoder as a second segment (model/context.py),
    # cut to their last context_tokens tokens; 0: each sentence alone.
    context_sentences: int = 0
    context_tokens: int = 64
    corpus_version: str | None = None

    def __post_init__(self, **kwargs):
        if self.sub_event_types is None:
            self.sub_event_types = list(SUB_EVENT_TYPES)
        if self.thresholds is None:
            self.thresholds = [0.5] * len(self.sub_event_types)
        if self.id2label is None:
            self.id2label = dict(enumerate(BIO_TAGS))
            self.label2id = {t: i for i, t in enumerate(BIO_TAGS)}
        super().__post_init__(**kwargs)


@dataclass
class WirecoderOutput(ModelOutput):
    loss: torch.Tensor | None = None
    sentence_logits: torch.Tensor | None = None
    token_logits: torch.Tensor | None = None


class WirecoderModel(PreTrainedModel):
    config_class = WirecoderConfig
    config: WirecoderConfig
    base_model_prefix = "wirecoder"
    main_input_name = "input_ids"
    _supports_sdpa = True

    def __init__(self, config: WirecoderConfig):
        super().__init__(config)
        self.encoder = AutoModel.from_config(config.encoder_config)
        hidden = config.encoder_config.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.sentence_head = nn.Linear(hidden, len(config.sub_event_types))
        self.token_head = nn.Linear(hidden, len(config.id2label))
        self.post_init()

    def _init_weights(self, module):
        # The encoder knows how to initialise its own modules and buffers (e.g. BERT's position ids);
        # for the two Linear heads its initialiser is the library's standard normal init.
        self.encoder._init_weights(module)

    @classmethod
    def from_encoder(cls, encoder_path: str, **config_kwargs) -> WirecoderModel:
        """A new wirecoder model whose encoder weights come from a local encoder directory."""
        encoder = AutoModel.from_pretrained(encoder_path)
        config = WirecoderConfig(encoder_config=encoder.config, **config_kwargs)
        model = cls(config)
        model.encoder = encoder
        return model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        tag_labels: torch.Tensor | None = None,
        sentence_mask: torch.Tensor | None = None,
        **kwargs,
    ) -> WirecoderOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        encoder_inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            encoder_inputs["token_type_ids"] = token_type_ids
        states = self.encoder(**encoder_inputs).last_hidden_state

        # Mean over real tokens: what sentence-transformers encoders such as MiniLM were trained for;
        # with context, over the sentence's own tokens only (the context is read through attention).
        mask = (attention_mask if sentence_mask is None else sentence_mask).unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        sentence_logits = self.sentence_head(self.dropout(pooled))
        token_logits = self.token_head(self.dropout(states))

        loss = None
        if labels is not None or tag_labels is not None:
            loss = sentence_logits.new_zeros(())
            if labels is not None:
                # Summed over classes, averaged over sentences: a mean over 25 mostly-negative classes
                # would shrink this head's gradient 25-fold next to the token loss, and it stalls.
                bce = nn.functional.binary_cross_entropy_with_logits(
                    sentence_logits, labels.to(sentence_logits.dtype), reduction="none"
                )
                loss = loss + self.config.sentence_loss_weight * bce.sum(-1).mean()
            if tag_labels is not None:
                loss = loss + self.config.token_loss_weight * nn.functional.cross_entropy(
                    token_logits.flatten(0, 1), tag_labels.flatten(), ignore_index=-100
                )
        return WirecoderOutput(loss=loss, sentence_logits=sentence_logits, token_logits=token_logits)


AutoConfig.register("wirecoder", WirecoderConfig)
AutoModel.register(WirecoderConfig, WirecoderModel)
