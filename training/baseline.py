"""The scikit-learn baseline the transformer has to beat.

* sentences: TF-IDF (word 1-2 grams) + one-vs-rest logistic regression over sub-event types;
* spans: logistic regression (log-loss SGD) over hand-made word features (the word, its shape,
  affixes and neighbours) predicting IOB2 tags on the same regex words the evaluation scores.

Solvers are chosen for corpus v2's size (10,800 sentences, 350,000 words): with lbfgs the two
fits took six minutes on 2 cores, liblinear and SGD take about one and a half.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier

from model.spans import WORD_RE, decode_words, regex_words, word_bio
from model.taxonomy import SUB_EVENT_TYPES, multi_hot
from training.corpus import Record, Span


def _shape(w: str) -> str:
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[A-Z]", "X", re.sub(r"[a-z]", "x", re.sub(r"\d", "d", w))))


def _word_features(words: list[str], i: int) -> dict[str, object]:
    w = words[i]
    f: dict[str, object] = {
        "w": w.lower(),
        "shape": _shape(w),
        "suf3": w[-3:].lower(),
        "pre3": w[:3].lower(),
        "title": w.istitle(),
        "digit": w.isdigit(),
    }
    for off in (-2, -1, 1, 2):
        j = i + off
        f[f"w{off:+d}"] = words[j].lower() if 0 <= j < len(words) else "<pad>"
        if 0 <= j < len(words):
            f[f"title{off:+d}"] = words[j].istitle()
    return f


class Baseline:
    def __init__(self) -> None:
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self.sentence_clf = OneVsRestClassifier(LogisticRegression(solver="liblinear", C=10.0, class_weight="balanced"))
        self.word_vectorizer = DictVectorizer()
        self.tagger = SGDClassifier(loss="log_loss", alpha=1e-6, max_iter=15, tol=None, random_state=0)

    def fit(self, records: Sequence[Record]) -> Baseline:
        texts = [r.text for r in records]
        y = multi_hot([r.sub_event_types for r in records])
        with warnings.catch_warnings():
            # Classes absent from a small training set are predicted as constant 0: expected.
            warnings.simplefilter("ignore", UserWarning)
            self.sentence_clf.fit(self.vectorizer.fit_transform(texts), y)
        feats, tags = [], []
        for r in records:
            words = WORD_RE.findall(r.text)
            feats.extend(_word_features(words, i) for i in range(len(words)))
            tags.extend(word_bio(r.text, r.spans))
        x = self.word_vectorizer.fit_transform(feats)
        # SGD takes only 32-bit sparse indices; DictVectorizer may hand back 64-bit ones.
        x.indices, x.indptr = x.indices.astype(np.int32), x.indptr.astype(np.int32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.tagger.fit(x, tags)
        return self

    def predict(self, texts: Sequence[str]) -> tuple[list[list[str]], list[list[Span]]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            probs = self.sentence_clf.predict_proba(self.vectorizer.transform(texts))
        subs = [[SUB_EVENT_TYPES[k] for k in np.flatnonzero(p >= 0.5)] for p in probs]
        spans = []
        for text in texts:
            words = regex_words(text)
            if not words:
                spans.append([])
                continue
            strings = [text[w.start : w.end] for w in words]
            tags = self.tagger.predict(self.word_vectorizer.transform([_word_features(strings, i) for i in range(len(words))]))
            spans.append([Span(d.start, d.end, d.label) for d in decode_words(words, list(tags), [1.0] * len(words))])
        return subs, spans
