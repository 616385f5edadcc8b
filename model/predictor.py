"""``EventCoder``: texts in, coded events out.

text -> sentences (exact offsets) -> length-sorted token batches (long sentences as overlapping
windows) -> one forward pass for both heads -> thresholds and BIO decoding -> results with offsets
into the input string.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from model.batching import check_batch_limit, default_batch_tokens, token_batches
from model.context import first_segment_word_ids, pair_inputs, previous_sentences, sentence_mask, trim_context
from model.dates import document_dates
from model.events import build_events
from model.modeling import WirecoderModel
from model.results import Prediction, ScoredLabel, SentenceResult, SpanResult
from model.sentences import split_sentences
from model.spans import Word, decode_windows, decode_words, words_from_encoding
from model.errors import ModelLoadError, WirecoderError
from model.loading import has_torch_weights, load_model_dir, resolve_device
from model.taxonomy import EVENT_ONLY_SPAN_LABELS, EVENT_TYPES, SUB_EVENT_TYPES, SUB_TO_EVENT


class EventCoder:
    """Codes conflict reports into ACLED event types and spans.

    >>> coder = EventCoder.from_pretrained("runs/default")
    >>> coder.predict(["Gunmen killed two farmers near Gao on Monday."])[0].events
    """

    PRECISIONS = ("auto", "fp32", "bf16")

    def __init__(self, model: WirecoderModel, tokenizer, device: torch.device | str | None = None, stride: int = 32,
                 precision: str = "auto", prefetch: bool | None = None, batch_tokens: int | None = None):
        """``precision``: ``"auto"`` runs PyTorch in bfloat16 autocast on a CUDA GPU that supports it
        and in fp32 elsewhere; ``"fp32"`` always fp32; ``"bf16"`` bfloat16 autocast on any device.
        ``prefetch`` (default: on CUDA) tokenises the next batch on a background thread.
        ``batch_tokens``: padded tokens per forward pass (model/batching.py; default 2,048 on the CPU,
        32,768 on CUDA)."""
        if not getattr(tokenizer, "is_fast", False):
            raise ModelLoadError("wirecoder needs a fast tokenizer (character offsets)")
        if precision not in self.PRECISIONS:
            raise WirecoderError(f"precision must be one of {', '.join(self.PRECISIONS)}, not {precision!r}")
        if isinstance(model, torch.nn.Module):
            self.device = resolve_device(device)
            self.model = model.to(self.device).eval()
        else:  # an ONNX Runtime forward pass (model/onnx_runtime.py), which runs on the CPU
            if device is not None and resolve_device(device).type != "cpu":
                raise WirecoderError(f"an ONNX export runs on the CPU only, not on {device}")
            self.device = torch.device("cpu")
            self.model = model
        on_gpu = self.device.type == "cuda"
        if precision == "auto":
            precision = "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "fp32"
        if precision == "bf16" and not isinstance(self.model, torch.nn.Module):
            raise WirecoderError("bf16 applies to the PyTorch model; an ONNX export runs in its own precision")
        self.precision = precision
        self.prefetch = on_gpu if prefetch is None else bool(prefetch)
        check_batch_limit("batch_tokens", batch_tokens)
        self.batch_tokens = batch_tokens or default_batch_tokens(self.device.type)
        self.tokenizer = tokenizer
        self.config = model.config
        self.max_length = min(int(self.config.max_length), int(getattr(tokenizer, "model_max_length", 512) or 512), 512)
        self.stride = min(stride, self.max_length // 4)
        self.thresholds = np.asarray(self.config.thresholds, dtype=np.float32)
        # Temperature fitted on dev (training/calibration.py): scores that mean what they say.
        self.temperature = float(getattr(self.config, "temperature", None) or 1.0)
        self.id2tag = [self.config.id2label[i] for i in range(len(self.config.id2label))]
        # Sentences before each one read as context (model/context.py); 0 for most models.
        self.context_sentences = int(getattr(self.config, "context_sentences", 0) or 0)
        self.context_tokens = int(getattr(self.config, "context_tokens", 64) or 64)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: torch.device | str | None = None, quantize: bool = False,
                        backend: str = "auto", precision: str = "auto", batch_tokens: int | None = None) -> EventCoder:
        """Load a directory written by ``wirecoder train`` (or ``wirecoder export``).

        ``backend``: ``"auto"`` runs the directory's ONNX export (``wirecoder export``; its int8 graph
        when there is one) with ONNX Runtime when prediction runs on the CPU, else PyTorch;
        ``"onnx"`` requires the export; ``"torch"`` ignores it.
        ``quantize=True`` runs the PyTorch encoder's linear layers in int8 (CPU only): faster, at a
        measured accuracy cost (see the README's speed section). ``precision`` and ``batch_tokens`` as in
        the constructor.
        """
        from model.onnx_runtime import load_onnx_dir, onnx_file, onnxruntime_available

        if backend not in ("auto", "onnx", "torch"):
            raise WirecoderError(f"backend must be 'auto', 'onnx' or 'torch', not {backend!r}")
        has_export = Path(path).is_dir() and onnx_file(path) is not None
        if device is None and has_export and backend != "torch" and not has_torch_weights(path):
            device = "cpu"  # an export alone runs on the CPU, even where CUDA is present
        device = resolve_device(device)  # before loading: a missing CUDA fails fast
        if backend == "onnx" or (backend == "auto" and has_export and device.type == "cpu" and not quantize
                                 and onnxruntime_available()):
            if quantize:
                raise WirecoderError("quantize applies to the PyTorch model; an int8 ONNX export comes from "
                                     "`wirecoder export --quantize int8`")
            model, tokenizer = load_onnx_dir(path)
            return cls(model, tokenizer, device=device, precision="fp32" if precision == "auto" else precision,
                       batch_tokens=batch_tokens)
        model, tokenizer = load_model_dir(path)
        coder = cls(model, tokenizer, device=device, precision=precision, batch_tokens=batch_tokens)
        if quantize:
            coder.quantize()
        return coder

    def quantize(self) -> EventCoder:
        """Dynamic int8 quantization of the encoder's Linear layers; the heads stay in fp32."""
        if self.device.type != "cpu":
            raise WirecoderError("int8 quantization runs on the CPU only; load the model with device='cpu'")
        if not isinstance(self.model, torch.nn.Module):
            raise WirecoderError("this coder runs an ONNX export; its int8 form comes from `wirecoder export --quantize int8`")
        from torch.ao.quantization import quantize_dynamic

        self.model.encoder = quantize_dynamic(self.model.encoder, {torch.nn.Linear}, dtype=torch.qint8)
        return self

    # -- the pipeline -------------------------------------------------------------------------

    def predict(
        self,
        texts: Sequence[str],
        batch_size: int | None = None,
        ids: Sequence[str] | None = None,
        split_into_sentences: bool = True,
        show_progress: bool = False,
        document_date=None,
        contexts: Sequence[str | None] | None = None,
        batch_tokens: int | None = None,
    ) -> list[Prediction]:
        """One :class:`Prediction` per input text, in input order.

        Sentences go through the encoder longest first, in batches of at most ``batch_tokens`` padded
        tokens (default: the coder's) and, when given, at most ``batch_size`` sentences.
        ``split_into_sentences=False`` treats each text as one sentence (for pre-split data).
        ``document_date``: the date the reports were written, which relative event dates ("on
        Tuesday") count from: one ISO ``YYYY-MM-DD`` string or ``datetime.date`` for every text, or a
        list with one (or None) per text. Without it a dateline with a year is used; else event
        dates stay unresolved (never guessed).
        ``contexts``: for a model trained with context (``context_sentences`` in its config) and
        pre-split sentences, the text before each one in its report (or None); split reports give
        their own sentences their context. Models without context ignore it.
        """
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts; wrap a single text in a list")
        check_batch_limit("batch_size", batch_size)
        check_batch_limit("batch_tokens", batch_tokens)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"text {i} is {type(t).__name__}, not str")
        if ids is not None and len(ids) != len(texts):
            raise WirecoderError(f"{len(ids)} ids for {len(texts)} texts: give one id per text")
        if contexts is not None and len(contexts) != len(texts):
            raise WirecoderError(f"{len(contexts)} contexts for {len(texts)} texts: give one (or None) per text")
        ids = [str(i) for i in range(len(texts))] if ids is None else [str(i) for i in ids]
        doc_dates = document_dates(document_date, len(texts))
        units = []  # (text index, start, end)
        unit_context: list[str | None] = []
        for ti, text in enumerate(texts):
            bounds = split_sentences(text) if split_into_sentences else [(0, len(text))] if text.strip() else []
            units.extend((ti, s, e) for s, e in bounds)
            if self.context_sentences:
                if split_into_sentences:
                    unit_context.extend(previous_sentences([text[s:e] for s, e in bounds], self.context_sentences))
                else:
                    unit_context.extend([contexts[ti] if contexts is not None else None] * len(bounds))

        unit_texts = [texts[ti][start:end] for ti, start, end in units]
        unit_out = self._score_units(unit_texts, unit_context if self.context_sentences else None, batch_size,
                                     batch_tokens, show_progress)

        results = [Prediction(id=ids[i], text=t) for i, t in enumerate(texts)]
        for u, (ti, start, end) in enumerate(units):
            probs, spans = unit_out[u]
            self._add_sentence(results[ti], start, end, probs, spans)
        for r in results:
            r.event_types = _max_scores(s for sent in r.sentences for s in sent.event_types)
            r.sub_event_types = _max_scores(s for sent in r.sentences for s in sent.sub_event_types)
        for r, d in zip(results, doc_dates):
            r.events = build_events(r.text, r.sentences, r.spans, d, r.id)
        return results

    def sentence_scores(self, sentences: Sequence[str], batch_size: int | None = None,
                        contexts: Sequence[str | None] | None = None, batch_tokens: int | None = None) -> np.ndarray:
        """Every sub-event type's score (after temperature, before thresholds) for pre-split
        sentences: an array of shape (len(sentences), 25) in input order, columns as SUB_EVENT_TYPES.
        ``contexts``, ``batch_size`` and ``batch_tokens`` as in :meth:`predict`."""
        check_batch_limit("batch_size", batch_size)
        check_batch_limit("batch_tokens", batch_tokens)
        if contexts is not None and len(contexts) != len(sentences):
            raise WirecoderError(f"{len(contexts)} contexts for {len(sentences)} sentences: give one (or None) per sentence")
        if self.context_sentences:
            contexts = list(contexts) if contexts is not None else [None] * len(sentences)
        else:
            contexts = None
        out = np.zeros((len(sentences), len(SUB_EVENT_TYPES)), dtype=np.float32)
        for i, (probs, _) in enumerate(self._score_units(list(sentences), contexts, batch_size, batch_tokens)):
            out[i] = probs
        return out

    def _score_units(self, unit_texts: list[str], contexts: list[str | None] | None, batch_size: int | None,
                     batch_tokens: int | None = None, show_progress: bool = False) -> list[tuple[np.ndarray, list]]:
        """Each sentence's (scores, spans), in input order. Sentences run longest first in batches
        by token budget (model/batching.py), so a batch pads little."""
        budget = batch_tokens or self.batch_tokens
        batches = token_batches(self._token_lengths(unit_texts, contexts), budget, batch_size, self.max_length,
                                self.stride)
        work = [([unit_texts[u] for u in batch], [contexts[u] for u in batch] if contexts is not None else None)
                for batch in batches]
        out: list = [None] * len(unit_texts)
        with tqdm(total=len(batches), desc="predict", unit="batch", disable=not show_progress) as progress:
            for batch, results in zip(batches, self._run_batches(work, (budget, batch_size), progress)):
                for u, result in zip(batch, results):
                    out[u] = result
        return out

    def _token_lengths(self, unit_texts: list[str], contexts: list[str | None] | None) -> list[int]:
        """Tokens each sentence runs as (special tokens included; a context counts at its cap)."""
        # The fast tokenizer without padding or offsets: a small share of predict's time.
        ids = self.tokenizer(unit_texts, add_special_tokens=True, verbose=False)["input_ids"]
        lengths = [len(i) for i in ids]
        if contexts is not None:
            lengths = [n + (self.context_tokens + 1 if c else 0) for n, c in zip(lengths, contexts)]
        return lengths

    def _forward(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Both heads' logits for one batch of windows: the only step that differs between backends."""
        if isinstance(self.model, torch.nn.Module):
            # bf16 autocast: matmuls in bfloat16 (tensor cores), softmax and norms stay in fp32.
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                out = self.model(**inputs)
            return out.sentence_logits, out.token_logits
        sentence_logits, token_logits = self.model({k: v.numpy() for k, v in inputs.items()})
        return torch.from_numpy(sentence_logits), torch.from_numpy(token_logits)

    def _encode(self, unit_texts: list[str], contexts: list[str | None] | None = None):
        """Tokenise one batch: padded windows (long sentences overflow into several), with offsets."""
        if contexts is not None:
            contexts = [trim_context(self.tokenizer, c, self.context_tokens) for c in contexts]
        first, second = pair_inputs(unit_texts, contexts)
        enc = self.tokenizer(
            first,
            second,
            truncation="only_first" if second is not None else True,
            max_length=self.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )
        if second is not None:
            enc["sentence_mask"] = sentence_mask(enc, enc["attention_mask"])
        return enc

    def _run_batch(self, unit_texts: list[str], limits: tuple[int, int | None],
                   contexts: list[str | None] | None = None) -> list[tuple[np.ndarray, list]]:
        return self._score(self._encode(unit_texts, contexts), unit_texts, limits)

    def _run_batches(self, batches: list[tuple[list[str], list | None]], limits: tuple[int, int | None],
                     progress=None):
        """Each batch's results in order. With ``prefetch`` (on CUDA) the next batch is tokenised on a
        background thread while this one runs: there the host side, not the GPU, is the limit."""
        if not self.prefetch or len(batches) < 2:
            for texts, contexts in batches:
                yield self._run_batch(texts, limits, contexts)
                if progress is not None:
                    progress.update()
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wirecoder-tokenise") as pool:
            pending = pool.submit(self._encode, *batches[0])
            for i, (texts, _) in enumerate(batches):
                enc = pending.result()
                if i + 1 < len(batches):
                    pending = pool.submit(self._encode, *batches[i + 1])
                yield self._score(enc, texts, limits)
                if progress is not None:
                    progress.update()

    @torch.inference_mode()
    def _score(self, enc, unit_texts: list[str], limits: tuple[int, int | None]) -> list[tuple[np.ndarray, list]]:
        window_unit = enc["overflow_to_sample_mapping"].tolist()
        # A very long sentence is thousands of windows: the encoder takes only as many at once as the
        # token budget (and batch size) allow, so memory stays bounded, whatever the length of the text.
        budget, batch_size = limits
        max_windows = max(1, budget // enc["input_ids"].shape[1])
        if batch_size is not None:
            max_windows = min(max_windows, batch_size)
        sent_parts, score_parts, tag_parts = [], [], []
        for lo in range(0, len(window_unit), max_windows):
            inputs = {k: enc[k][lo : lo + max_windows].to(self.device)
                      for k in ("input_ids", "attention_mask", "token_type_ids", "sentence_mask") if k in enc}
            sentence_logits, token_logits = self._forward(inputs)
            sent_parts.append(torch.sigmoid(sentence_logits.float() / self.temperature).cpu().numpy())
            score, tag = torch.softmax(token_logits.float(), dim=-1).max(dim=-1)
            score_parts.append(score.cpu().numpy())
            tag_parts.append(tag.cpu().numpy())
        sent_probs, tok_score, tok_tag = (np.concatenate(p) for p in (sent_parts, score_parts, tag_parts))

        # Sentences held by one window (nearly all) are decoded for the whole batch at once in numpy.
        windows_of: dict[int, list[int]] = {}
        for w, u in enumerate(window_unit):
            windows_of.setdefault(u, []).append(w)
        single = [ws[0] for u, ws in sorted(windows_of.items()) if len(ws) == 1]
        spans_of: dict[int, list] = {}
        if single:
            word_ids = _sentence_word_ids(enc, single)
            decoded = decode_windows(word_ids, enc["offset_mapping"][single].numpy(), tok_tag[single], tok_score[single],
                                     [unit_texts[window_unit[w]] for w in single], self.id2tag)
            spans_of = {window_unit[w]: spans for w, spans in zip(single, decoded)}
        results = []
        for u in range(len(unit_texts)):
            ws = windows_of[u]
            if len(ws) == 1:
                results.append((sent_probs[ws[0]], spans_of[u]))
            else:
                probs = np.max(sent_probs[ws], axis=0)
                results.append((probs, self._decode_long(enc, unit_texts[u], ws, tok_tag, tok_score)))
        return results

    def _decode_long(self, enc, text: str, windows: list[int], tok_tag: np.ndarray, tok_score: np.ndarray) -> list:
        """Spans of a sentence spread over several overlapping windows: each word takes its tag from
        the window where it sits farthest from an edge. A window may start inside a word; only
        windows holding the word's first sub-word (earliest start) count."""
        best: dict[int, list] = {}
        for w in windows:
            offsets = enc["offset_mapping"][w].tolist()
            n_real = int(enc["attention_mask"][w].sum())
            for word in words_from_encoding(offsets, first_segment_word_ids(enc, w), text):
                t = word.first_token
                cand = [word.start, word.end, min(t, n_real - 1 - t), self.id2tag[tok_tag[w, t]], float(tok_score[w, t])]
                cur = best.get(word.word_id)
                if cur is None or cand[0] < cur[0] or (cand[0] == cur[0] and cand[2] > cur[2]):
                    cand[1] = max(cand[1], cur[1]) if cur is not None else cand[1]
                    best[word.word_id] = cand
                else:
                    cur[1] = max(cur[1], cand[1])
        entries = [e for _, e in sorted(best.items())]
        words = [Word(e[0], e[1], 0) for e in entries]
        return decode_words(words, [e[3] for e in entries], [e[4] for e in entries])

    def _add_sentence(self, result: Prediction, start: int, end: int, probs: np.ndarray, spans) -> None:
        index = len(result.sentences)
        subs = [
            ScoredLabel(SUB_EVENT_TYPES[k], round(float(probs[k]), 4))
            for k in np.argsort(-probs)
            if probs[k] >= self.thresholds[k]
        ]
        events = {}
        for s in subs:
            events.setdefault(SUB_TO_EVENT[s.label], s.score)
        event_types = [ScoredLabel(e, events[e]) for e in EVENT_TYPES if e in events]
        event_types.sort(key=lambda x: -x.score)
        text = result.text
        sent_spans = [
            SpanResult(start + s.start, start + s.end, text[start + s.start : start + s.end], s.label, round(s.score, 4), index)
            for s in spans
            # Triggers and casualty counts belong to events; without one they are noise.
            if subs or s.label not in EVENT_ONLY_SPAN_LABELS
        ]
        result.sentences.append(SentenceResult(start, end, text[start:end], event_types, subs))
        result.spans.extend(sent_spans)


def _sentence_word_ids(enc, windows: list[int]) -> np.ndarray:
    """The tokenizer's word id of each token of these windows, -1 outside the sentence's own words
    (special, context and padding tokens), as one array: None becomes NaN in C, not in a Python loop."""
    word_ids = np.array([enc.word_ids(w) for w in windows], dtype=float)
    segment = np.array([enc.sequence_ids(w) for w in windows], dtype=float)
    word_ids[segment != 0] = -1  # NaN (special, padding) and 1 (context) alike
    return word_ids.astype(np.int64)


def _max_scores(labels: Iterable[ScoredLabel]) -> list[ScoredLabel]:
    best: dict[str, float] = {}
    for lab in labels:
        best[lab.label] = max(best.get(lab.label, 0.0), lab.score)
    return [ScoredLabel(k, v) for k, v in sorted(best.items(), key=lambda kv: -kv[1])]
