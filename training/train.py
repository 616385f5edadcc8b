"""``wirecoder train``: fine-tune the joint model with the Trainer, tune thresholds, save, evaluate."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path

import datasets
import numpy as np
import torch
from transformers import AutoConfig, AutoTokenizer, EvalPrediction, Trainer, set_seed

from model.errors import BaseModelError, WirecoderError
from model.modeling import WirecoderModel
from model.spans import IGNORE
from model.taxonomy import SUB_EVENT_TYPES
from training.arguments import DataArguments, ModelArguments, WirecoderTrainingArguments, default_base_model
from training.corpus import corpus_files
from training.augment import MentionReplacementDataset, mention_inventory
from training.features import WirecoderCollator, encode_records, example_encoder, record_contexts
from model.files import atomic_write_json
from training.metrics import load_metric
from training.sources import parse_sources, read_sources, weighted_sampler, yardstick
from training.splits import assign_missing_splits, by_split
from training.calibration import fit_temperature, reliability
from training.thresholds import tune_thresholds

logger = logging.getLogger(__name__)


def load_base_encoder(path: str, **config_kwargs) -> tuple[WirecoderModel, object]:
    """A fresh wirecoder model on top of a local encoder, and its (fast) tokenizer."""
    p = Path(path)
    if not p.is_dir():
        raise BaseModelError(f"--base-model {path}: no such directory")
    if not (p / "config.json").is_file():
        raise BaseModelError(f"--base-model {path}: not a Hugging Face model directory (no config.json)")
    try:
        cfg = AutoConfig.from_pretrained(str(p))
    except (ValueError, OSError, KeyError) as exc:
        raise BaseModelError(f"--base-model {path}: unreadable config ({exc})") from exc
    if cfg.model_type == "wirecoder":
        raise BaseModelError(f"--base-model {path}: this is a trained wirecoder model, not a base encoder")
    if getattr(cfg, "is_encoder_decoder", False) or getattr(cfg, "is_decoder", False) or not hasattr(cfg, "hidden_size"):
        raise BaseModelError(f"--base-model {path}: {cfg.model_type} is not an encoder model")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(p))
    except (ValueError, OSError) as exc:
        raise BaseModelError(f"--base-model {path}: no usable tokenizer ({exc})") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise BaseModelError(f"--base-model {path}: needs a fast tokenizer (tokenizer.json) for character offsets")
    try:
        model = WirecoderModel.from_encoder(str(p), **config_kwargs)
    except (ValueError, OSError) as exc:
        raise BaseModelError(f"--base-model {path}: cannot load the encoder ({exc})") from exc
    return model, tokenizer


def corpus_version(paths: list[str]) -> str:
    """A short content hash of the training sources, recorded in the model config and card."""
    h = hashlib.sha256()
    for p in paths:
        for f in corpus_files(p):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return "sha256:" + h.hexdigest()[:12]


def make_compute_metrics(id2label: dict[int, str]):
    span_f1, multilabel_f1 = load_metric("span_f1"), load_metric("multilabel_f1")

    def compute_metrics(p: EvalPrediction) -> dict[str, float]:
        sent_logits, tag_ids = p.predictions
        labels, tag_labels = p.label_ids
        pred = (1 / (1 + np.exp(-sent_logits)) >= 0.5).astype(int)
        sent = multilabel_f1.compute(predictions=pred, references=labels.astype(int), label_names=list(SUB_EVENT_TYPES))
        refs, preds = [], []
        for row_pred, row_gold in zip(tag_ids, tag_labels):
            keep = row_gold != IGNORE
            refs.append([id2label[int(t)] for t in row_gold[keep]])
            preds.append([id2label[int(t)] for t in row_pred[keep]])
        spans = span_f1.compute(predictions=preds, references=refs)
        return {
            "sub_event_micro_f1": sent["micro_f1"],
            "sub_event_macro_f1": sent["macro_f1"],
            "span_f1": spans["f1"],
            "combined_f1": (sent["micro_f1"] + spans["f1"]) / 2,
        }

    return compute_metrics


def _argmax_tags(logits, labels):
    # Keep only what the metrics need: token logits are large and would pile up over the eval set.
    sent_logits, token_logits = logits
    return sent_logits, token_logits.argmax(dim=-1)


def _finalise_output_dir(out: Path, args: WirecoderTrainingArguments) -> None:
    """The delivered model holds no pickles: Trainer's training_args.bin becomes JSON; checkpoints
    (which carry pickled optimizer state for resuming) go once training has finished."""
    (out / "training_args.bin").unlink(missing_ok=True)
    atomic_write_json(out / "training_args.json", json.loads(args.to_json_string()))
    if not args.keep_checkpoints:
        for ckpt in out.glob("checkpoint-*"):
            shutil.rmtree(ckpt, ignore_errors=True)


def init_sentence_bias(model: WirecoderModel, labels: np.ndarray) -> None:
    """Start each sub-event logit at its training prior (log-odds), so early steps learn to tell
    classes apart instead of spending an epoch learning that most sentences are negative."""
    prior = np.clip(labels.mean(0), 1e-3, 0.5)
    with torch.no_grad():
        model.sentence_head.bias.copy_(torch.as_tensor(np.log(prior / (1 - prior)), dtype=model.sentence_head.bias.dtype))


def make_optimizer(model: WirecoderModel, args: WirecoderTrainingArguments) -> torch.optim.Optimizer:
    """AdamW with the fresh heads on a higher learning rate than the pre-trained encoder; no weight
    decay on biases and norms. The Trainer's scheduler scales both groups alike."""
    groups: dict[tuple[bool, bool], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_head = not name.startswith("encoder.")
        decay = p.dim() > 1
        groups.setdefault((is_head, decay), []).append(p)
    return torch.optim.AdamW(
        [
            {
                "params": params,
                "lr": args.learning_rate * (args.head_lr_multiplier if is_head else 1.0),
                "weight_decay": args.weight_decay if decay else 0.0,
            }
            for (is_head, decay), params in groups.items()
        ],
        lr=args.learning_rate,
        betas=(args.adam_beta1, args.adam_beta2),
        eps=args.adam_epsilon,
    )


class WirecoderTrainer(Trainer):
    """The Trainer, drawing training sentences by their source's weight when sources differ,
    evaluating and checkpointing a moving average of the weights when given one (training/ema.py),
    and adding R-Drop's consistency term when asked (training/rdrop.py)."""

    def __init__(self, *args, sample_weights=None, weight_average=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sample_weights = sample_weights
        self.weight_average = weight_average
        if weight_average is not None:
            from training.ema import WeightAverageCallback

            self.add_callback(WeightAverageCallback(weight_average))

    def evaluate(self, *args, **kwargs):
        if self.weight_average is None or not self.weight_average.training:
            return super().evaluate(*args, **kwargs)
        # During training: score the average, then go on training the live weights.
        with self.weight_average.swapped_in():
            return super().evaluate(*args, **kwargs)

    def _save_checkpoint(self, model, trial):
        if self.weight_average is None:
            return super()._save_checkpoint(model, trial)
        with self.weight_average.swapped_in():
            return super()._save_checkpoint(model, trial)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.args.rdrop_alpha > 0 and model.training:
            from training.rdrop import rdrop_loss

            loss, outputs = rdrop_loss(model, inputs, self.args.rdrop_alpha)
            return (loss, outputs) if return_outputs else loss
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    def _get_train_sampler(self, train_dataset=None):
        if self.sample_weights is not None:
            return weighted_sampler(self.sample_weights, self.args.seed)
        return super()._get_train_sampler(train_dataset)


def run_training(model_args: ModelArguments, data_args: DataArguments, args: WirecoderTrainingArguments) -> dict:
    started = time.time()
    set_seed(args.seed)
    sources = parse_sources(data_args.data)
    records, source_of = read_sources(sources)
    assign_missing_splits(records, data_args.dev_fraction, data_args.test_fraction)
    splits = by_split(records)
    source_index = {id(r): i for r, i in zip(records, source_of)}
    if not splits["train"]:
        raise WirecoderError("no training sentences: every report is in dev or test")
    if not splits["dev"]:
        raise WirecoderError("no dev sentences: the best checkpoint and the thresholds are chosen on dev")
    logger.info("sentences: train %d, dev %d, test %d", *(len(splits[s]) for s in ("train", "dev", "test")))

    base = model_args.base_model or default_base_model()
    version = corpus_version([s.path for s in sources])
    model, tokenizer = load_base_encoder(
        base,
        max_length=max(model_args.max_length, 256),
        sentence_loss_weight=model_args.sentence_loss_weight,
        token_loss_weight=model_args.token_loss_weight,
        classifier_dropout=model_args.classifier_dropout,
        corpus_version=version,
        context_sentences=model_args.context_sentences,
        context_tokens=model_args.context_tokens,
    )
    label2id = model.config.label2id
    k, k_tokens = model_args.context_sentences, model_args.context_tokens
    # The context comes on top of the sentence's own max_length tokens.
    max_length = model_args.max_length + (k_tokens + 1 if k else 0)

    def encode(recs):
        return encode_records(recs, tokenizer, label2id, max_length, record_contexts(recs, tokenizer, k, k_tokens))

    train_ds = encode(splits["train"])
    train_set = train_ds
    if data_args.mention_replacement > 0 and k:
        raise WirecoderError("--mention_replacement and --context_sentences cannot be combined yet")
    if data_args.mention_replacement > 0:
        inventory = mention_inventory(splits["train"])
        logger.info("mention replacement at %.2f from %s", data_args.mention_replacement,
                    ", ".join(f"{len(v)} {k}" for k, v in inventory.items()))
        train_set = MentionReplacementDataset(splits["train"], example_encoder(tokenizer, label2id, model_args.max_length),
                                              inventory, data_args.mention_replacement, args.seed)
    # Each source is scored on its own dev split; one of them (the first, unless --dev_source says
    # otherwise) chooses the checkpoint and the thresholds, so an import cannot move the yardstick.
    dev_of = {s.name: [r for r in splits["dev"] if source_index[id(r)] == i] for i, s in enumerate(sources)}
    stick = yardstick(sources, data_args.dev_source, [bool(dev_of[s.name]) for s in sources])
    dev_records = splits["dev"] if stick == "all" else dev_of[stick]
    dev_ds = encode(dev_records)
    eval_sets: dict | datasets.Dataset = dev_ds
    per_source = sum(bool(v) for v in dev_of.values()) > 1
    if per_source:
        eval_sets = {name: dev_ds if name == stick else encode(recs)
                     for name, recs in dev_of.items() if recs}
        if stick == "all":
            eval_sets["all"] = dev_ds
        args.metric_for_best_model = f"{stick}_{args.metric_for_best_model.removeprefix('eval_')}"
    weights = [sources[source_index[id(r)]].weight for r in splits["train"]]
    sample_weights = weights if len(set(weights)) > 1 else None

    init_sentence_bias(model, np.asarray(train_ds["labels"]))
    weight_average = None
    if args.ema_decay > 0:
        from training.ema import WeightAverage

        weight_average = WeightAverage(model, args.ema_decay)
    args.label_names = ["labels", "tag_labels"]
    args.remove_unused_columns = False
    trainer = WirecoderTrainer(
        model=model,
        args=args,
        sample_weights=sample_weights,
        weight_average=weight_average,
        train_dataset=train_set,
        eval_dataset=eval_sets,
        data_collator=WirecoderCollator(tokenizer),
        processing_class=tokenizer,
        compute_metrics=make_compute_metrics(model.config.id2label),
        preprocess_logits_for_metrics=_argmax_tags,
        optimizers=(make_optimizer(model, args), None),
    )
    # Said out loud: a launcher that does not reach the Trainer's process group trains N separate models.
    logger.info("training on %d process(es), %s", args.world_size, args.parallel_mode.value)
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    if weight_average is not None and not args.load_best_model_at_end:
        weight_average.copy_to_model()  # else the best checkpoint, already an average, is loaded

    # Thresholds of the multi-label head, tuned on dev with the best checkpoint (already loaded).
    dev_pred = trainer.predict(dev_ds)
    dev_logits = np.asarray(dev_pred.predictions[0], dtype=np.float64)
    # Labels must come back with the predictions: with length grouping the Trainer reorders the
    # eval set too, so dev_ds["labels"] would pair each prediction with another sentence's labels.
    dev_labels = np.asarray(dev_pred.label_ids[0], dtype=int)
    temperature = fit_temperature(dev_logits, dev_labels) if model_args.temperature_scaling else 1.0
    dev_probs = 1 / (1 + np.exp(-dev_logits / temperature))
    thresholds = tune_thresholds(dev_probs, dev_labels, shrink=model_args.threshold_shrink)
    trainer.model.config.thresholds = [float(t) for t in thresholds]
    trainer.model.config.temperature = temperature
    logger.info("sentence-head temperature %.3f; dev ECE %.4f", temperature, reliability(dev_probs, dev_labels)["ece"])
    # Cards and configs name the weights, not this machine's path to them.
    base_id = "sentence-transformers/all-MiniLM-L6-v2" if model_args.base_model is None else Path(base).name
    trainer.model.config.base_model_name = base_id

    out = Path(args.output_dir)
    trainer.save_model(str(out))  # save_pretrained: safetensors + config.json with both label maps
    # Under torchrun / accelerate launch every rank gets here; only the first writes the output, and
    # only once every rank is done with the checkpoints it is about to delete.
    trainer.accelerator.wait_for_everyone()
    writes = trainer.is_world_process_zero()
    if writes:
        tokenizer.save_pretrained(str(out))
        _finalise_output_dir(out, args)
    train_seconds = time.time() - started

    summary = {
        "command": args.command,
        "base_model": base,
        "base_model_id": base_id,
        "corpus_version": version,
        "sentences": {s: len(v) for s, v in splits.items()},
        "train_seconds": round(train_seconds, 1),
        "best_dev_combined_f1": trainer.state.best_metric,
        "thresholds": dict(zip(SUB_EVENT_TYPES, trainer.model.config.thresholds)),
        "temperature": temperature,
        "log_history": trainer.state.log_history,
    }
    if per_source:
        summary["dev_source"] = stick
        summary["dev_by_source"] = {name: {k.removeprefix("eval_"): v for k, v in trainer.evaluate(ds).items()
                                           if k.endswith("f1")} for name, ds in eval_sets.items()}
        summary["sources"] = [{"path": s.path, "name": s.name, "weight": s.weight} for s in sources]
    if not writes:  # the per-source evaluation above needs every rank; the rest is the first's
        return summary
    from training.plots import plot_training_curve

    plot_training_curve(trainer.state.log_history, out / "training_curve.png",
                        prefix=f"eval_{stick}_" if per_source else "eval_")

    if data_args.evaluate_after_training and splits["test"]:
        from model.predictor import EventCoder
        from training.baseline import Baseline
        from training.evaluation import evaluate_all

        coder = EventCoder(trainer.model, tokenizer)
        summary["test"] = evaluate_all(coder, splits["test"], Baseline().fit(splits["train"]), out,
                                       batch_size=args.per_device_eval_batch_size)
    atomic_write_json(out / "metrics.json", summary)

    from training.model_card import write_model_card

    write_model_card(out, summary, trainer.model.config)
    logger.info("model, metrics.json, training_curve.png and README.md written to %s", out)
    return summary
