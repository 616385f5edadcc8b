"""predict's speed on the CPU at several token budgets per batch, and with the former batches of 64
sentences (one run; the README's "Batches by token budget" table).

    python scripts/batch_budget.py --model runs/default [--unit reports|sentences] [--texts N]
        [--budgets 1024 2048 4096] [--repeats 3]
"""

import argparse
import logging

from training.benchmark import budget_sweep

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a trained wirecoder directory (its ONNX export runs when present)")
    p.add_argument("--unit", choices=["reports", "sentences"], default="reports")
    p.add_argument("--texts", type=int, default=None, help="number of test texts (default: all)")
    p.add_argument("--budgets", type=int, nargs="+", default=[1024, 2048, 4096, 8192, 16384])
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name, rate in budget_sweep(a.model, a.budgets, a.unit, a.texts, a.repeats).items():
        print(f"{a.unit:9s} {name:>14s}  {rate:8.1f} texts/s")
