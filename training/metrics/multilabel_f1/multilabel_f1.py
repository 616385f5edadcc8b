"""Multi-label precision/recall/F1 (micro, macro, per class) with scikit-learn, as a local evaluate module."""

import datasets
import evaluate
import numpy as np
from sklearn.metrics import classification_report

_DESCRIPTION = "Micro/macro F1 and a per-class report for multi-hot label vectors."


class MultilabelF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description="predictions, references: multi-hot 0/1 vectors; label_names: class names",
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int32")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
            ),
        )

    def _compute(self, predictions, references, label_names=None):
        y_pred = np.asarray(predictions, dtype=int)
        y_true = np.asarray(references, dtype=int)
        names = list(label_names) if label_names is not None else [str(i) for i in range(y_true.shape[1])]
        report = classification_report(
            y_true, y_pred, labels=list(range(len(names))), target_names=names, output_dict=True, zero_division=0
        )
        return {
            "micro_precision": float(report["micro avg"]["precision"]),
            "micro_recall": float(report["micro avg"]["recall"]),
            "micro_f1": float(report["micro avg"]["f1-score"]),
            "macro_f1": float(report["macro avg"]["f1-score"]),
            # support-weighted, the average published ACLED-coding results quote
            "weighted_f1": float(report["weighted avg"]["f1-score"]),
            "per_class": {
                n: {
                    "precision": float(report[n]["precision"]),
                    "recall": float(report[n]["recall"]),
                    "f1": float(report[n]["f1-score"]),
                    "support": int(report[n]["support"]),
                }
                for n in names
            },
        }
