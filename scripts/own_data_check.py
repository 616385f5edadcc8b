"""Measure what a user's own ACLED export does to training, over several seeds (training/own_data_check.py).

    python scripts/own_data_check.py --work /tmp/own --seeds 1 2 3 --out scripts/results/own_data.json

Each seed trains the real encoder twice (corpus; corpus + export), about 3 minutes each on 2 cores.
"""

import argparse
import logging
from pathlib import Path

from model.files import atomic_write_json
from training.own_data_check import STEPS, run_check, summarise

EXPORT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "own_data"

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True, help="a scratch folder for the models")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("--out", required=True, help="the JSON file to write")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = run_check(Path(a.work), sorted(EXPORT.glob("*.csv")), a.seeds, a.steps)
    result["summary"] = summarise(result)
    atomic_write_json(Path(a.out), result)
