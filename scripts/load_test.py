"""Load test of `wirecoder serve` on localhost: concurrent clients, p50/p99 latency and throughput next
to offline `predict` on the same texts; every answer is checked against offline `predict`.

    python scripts/load_test.py --model runs/default [--requests 2000] [--clients 20] [--unit sentences|reports]
                                [--time-limit 900] [--json]

The server runs in its own process on a free localhost port and is stopped at the end.
"""

import argparse
import json
import logging
import sys

from training.benchmark import corpus_texts
from training.serve_load import format_load_test, run_load_test

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a directory written by `wirecoder train`")
    p.add_argument("--requests", type=int, default=2000, help="requests to send, one text each")
    p.add_argument("--clients", type=int, default=20, help="concurrent clients")
    p.add_argument("--unit", choices=["sentences", "reports"], default="sentences",
                   help="texts: the shipped corpus's test sentences or whole test reports, in turn")
    p.add_argument("--time-limit", type=float, default=900.0, help="stop sending after this many seconds")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = run_load_test(a.model, corpus_texts(a.unit), a.requests, a.clients, a.time_limit, batch_size=a.batch_size)
    print(json.dumps(result, indent=2) if a.json else format_load_test(result))
    sys.exit(0 if result["ok"] + result["ok_within_score_rounding"] == result["requests"] else 1)
