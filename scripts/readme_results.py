"""Write the README's results tables from evaluation outputs (never pasted by hand).

    python scripts/readme_results.py add --results scripts/results/ablation.json --name NAME --eval OUT_DIR \
        [--metrics RUN/metrics.json] [--note TEXT]
    python scripts/readme_results.py headline --results scripts/results/test_split.json --eval OUT_DIR
    python scripts/readme_results.py render --results scripts/results/ablation.json --marker ABLATION [--readme README.md]
"""

import argparse

from model.files import atomic_write_json
from training.readme_results import add_row, collect, collect_headline, render_into

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("add", help="add (or replace) one row from a `wirecoder evaluate --real-text` output folder")
    a.add_argument("--results", required=True)
    a.add_argument("--name", required=True)
    a.add_argument("--eval", required=True, help="the --output-dir of `wirecoder evaluate`")
    a.add_argument("--metrics", help="the run's metrics.json (for its training time)")
    a.add_argument("--note", default="")
    h = sub.add_parser("headline", help="the model-vs-baseline test table from a `wirecoder evaluate` output folder")
    h.add_argument("--results", required=True)
    h.add_argument("--eval", required=True)
    r = sub.add_parser("render", help="write the results file's table into the README between its markers")
    r.add_argument("--results", required=True)
    r.add_argument("--marker", required=True)
    r.add_argument("--readme", default="README.md")
    args = p.parse_args()
    if args.command == "add":
        add_row(args.results, collect(args.name, args.eval, args.metrics, args.note))
    elif args.command == "headline":
        atomic_write_json(args.results, collect_headline(args.eval))
    else:
        render_into(args.readme, args.marker, args.results)
