"""Strict entity-level precision/recall/F1 over BIO sequences (seqeval), as a local evaluate module."""

import datasets
import evaluate
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

_DESCRIPTION = "Strict (exact boundary and label) span F1 with seqeval, IOB2 scheme, overall and per label."


class SpanF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description="predictions, references: lists of IOB2 tag sequences of equal lengths",
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string")),
                    "references": datasets.Sequence(datasets.Value("string")),
                }
            ),
        )

    def _compute(self, predictions, references):
        report = classification_report(
            references, predictions, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
        )
        micro = report.pop("micro avg")
        macro = report.pop("macro avg")
        report.pop("weighted avg", None)
        return {
            "precision": float(micro["precision"]),
            "recall": float(micro["recall"]),
            "f1": float(micro["f1-score"]),
            "macro_f1": float(macro["f1-score"]),
            "per_label": {
                label: {
                    "precision": float(v["precision"]),
                    "recall": float(v["recall"]),
                    "f1": float(v["f1-score"]),
                    "support": int(v["support"]),
                }
                for label, v in sorted(report.items())
            },
        }
