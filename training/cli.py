"""The ``wirecoder`` command: subcommands parse arguments and call the library; no logic lives here."""

from __future__ import annotations

import argparse
import json
import logging
import sys

logger = logging.getLogger("wirecoder")

USAGE = """usage: wirecoder <command> [options]

commands:
  train        fine-tune a model (defaults: shipped corpus, all-MiniLM-L6-v2)
  evaluate     score a trained model against the test split, with the baseline
  data check   validate a corpus and print its statistics

Run `wirecoder <command> --help` for the options of a command."""


def _train(argv: list[str]) -> int:
    from training.arguments import parse_train_args
    from training.train import run_training

    model_args, data_args, train_args = parse_train_args(argv)
    summary = run_training(model_args, data_args, train_args)
    if "test" in summary:
        from training.evaluation import format_report

        print(format_report(summary["test"]))
    print(f"\nmodel written to {train_args.output_dir}")
    return 0


def _evaluate(argv: list[str]) -> int:
    from training.evaluation import format_report, run_evaluation

    p = argparse.ArgumentParser(prog="wirecoder evaluate", description="Score a trained model on labelled sentences.")
    p.add_argument("--model", required=True, help="a directory written by `wirecoder train`")
    p.add_argument("--data", action="append", help="labelled corpus/JSONL files or folders (default: the shipped corpus); "
                   "their test split is used, or every sentence when a source has no splits")
    p.add_argument("--output-dir", required=True, help="where evaluation.json, evaluation.txt and the PNG go")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--baseline-data", action="append", help="train split for the baseline (default: the shipped corpus)")
    args = p.parse_args(argv)
    result = run_evaluation(args.model, args.data, args.output_dir, args.batch_size, args.baseline_data)
    print(format_report(result))
    return 0


def _data_check(argv: list[str]) -> int:
    from training.corpus import CORPUS_DIR, read_records
    from training.corpus_check import corpus_stats, format_stats

    p = argparse.ArgumentParser(prog="wirecoder data check", description="Validate a corpus and print its statistics.")
    p.add_argument("paths", nargs="*", default=[str(CORPUS_DIR)], help="corpus files or folders (default: the shipped corpus)")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.add_argument("--max-near-duplicate-share", type=float, default=0.01,
                   help="fail when more than this share of sentences has a near-duplicate")
    args = p.parse_args(argv)
    stats = corpus_stats(read_records(args.paths, require_split=True))
    print(json.dumps(stats, indent=2) if args.json else format_stats(stats))
    if stats["near_duplicate_sentence_share"] > args.max_near_duplicate_share:
        print(f"error: {stats['near_duplicate_sentence_share']:.2%} of sentences have a near-duplicate", file=sys.stderr)
        return 1
    return 0


COMMANDS = {"train": _train, "evaluate": _evaluate, ("data", "check"): _data_check}


def main(argv: list[str] | None = None) -> int:
    from model.predictor import ModelLoadError
    from training.corpus import CorpusError
    from training.train import BaseModelError

    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    handler = COMMANDS.get(tuple(argv[:2])) or COMMANDS.get(argv[0])
    if handler is None:
        print(f"wirecoder: unknown command {' '.join(argv[:2])!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    rest = argv[2:] if tuple(argv[:2]) in COMMANDS else argv[1:]
    try:
        return handler(rest)
    except (CorpusError, ModelLoadError, BaseModelError, FileNotFoundError, ValueError) as exc:
        # User errors get one clear line, not a traceback.
        print(f"wirecoder: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
