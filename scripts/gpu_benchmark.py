"""GPU throughput of EventCoder.predict, fp32 against bf16, with the GPU's busy share (one run).

    python scripts/gpu_benchmark.py --model runs/default [--unit sentences|reports|both] [--texts 20000]
        [--batch-tokens N] [--json]
"""

import argparse
import json
import logging

from training.gpu_benchmark import format_gpu_benchmark, run_gpu_benchmark

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a trained wirecoder directory")
    p.add_argument("--unit", choices=["reports", "sentences", "both"], default="both")
    p.add_argument("--texts", type=int, default=20000, help="texts per run (the test split, repeated)")
    p.add_argument("--batch-size", type=int, default=None, help="at most this many sentences per batch (default: no limit)")
    p.add_argument("--batch-tokens", type=int, default=None, help="padded tokens per batch (default: 32768 on a GPU)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    units = ["sentences", "reports"] if a.unit == "both" else [a.unit]
    results = [run_gpu_benchmark(a.model, u, a.texts, a.batch_size, a.device, batch_tokens=a.batch_tokens) for u in units]
    print(json.dumps(results, indent=2) if a.json else "\n\n".join(map(format_gpu_benchmark, results)))
