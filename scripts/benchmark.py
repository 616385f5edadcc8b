"""Inference speed of EventCoder.predict against the naive transformers pipelines, in one run.

    python scripts/benchmark.py [--model runs/default] [--unit reports|sentences|both] [--texts N] [--repeats 3] [--json]
"""

import argparse
import json
import logging

from training.arguments import default_base_model
from training.benchmark import format_benchmark, run_benchmark

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="a trained wirecoder directory (default: an untrained one on the base encoder)")
    p.add_argument("--base-model", default=None, help="encoder for the naive pipelines (default: all-MiniLM-L6-v2)")
    p.add_argument("--unit", choices=["reports", "sentences", "both"], default="both",
                   help="code whole test reports, single test sentences, or both (default)")
    p.add_argument("--texts", type=int, default=None, help="number of texts to use (default: all of the test split)")
    p.add_argument("--batch-size", type=int, default=None, help="at most this many sentences per batch (default: predict's token budget alone)")
    p.add_argument("--repeats", type=int, default=3, help="time every path this many times, taking turns; keep the best")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    units = ["reports", "sentences"] if a.unit == "both" else [a.unit]
    results = [run_benchmark(a.model, a.base_model or default_base_model(), a.texts, a.batch_size, u,
                             a.repeats) for u in units]
    print(json.dumps(results, indent=2) if a.json else "\n\n".join(map(format_benchmark, results)))
