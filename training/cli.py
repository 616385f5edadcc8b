"""The ``wirecoder`` command: subcommands parse arguments and call the library; no logic lives here."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

USAGE = """usage: wirecoder <command> [options]

commands:
  train        fine-tune a model (defaults: shipped corpus, all-MiniLM-L6-v2)
  evaluate     score a trained model against the test split, with the baseline
  calibrate    refit a model's score temperature and thresholds on dev data
  predict      code reports (jsonl, csv, txt, a folder or stdin) into jsonl, csv, acled or html
  export       write a model's ONNX export (optionally int8), which CPU prediction then runs
  data check   validate a corpus and print its statistics
  data sample  a blind sample of the corpus for a second writer
  data agreement
               agreement of the second writer's labels with the corpus
  data import  convert ACLED CSV, CoNLL/BIO, Label Studio or JSONL data to wirecoder JSONL records
  data export-labelstudio
               write Label Studio tasks with the model's predictions as pre-annotations
  serve        an HTTP API (POST /v1/code) and the coding desk in the browser (needs the [serve] extra)

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
    from training.evaluation import format_report, format_side_by_side, run_evaluation

    p = argparse.ArgumentParser(prog="wirecoder evaluate", description="Score a trained model on labelled sentences.")
    p.add_argument("--model", required=True, help="a directory written by `wirecoder train`")
    p.add_argument("--data", action="append", help="labelled corpus/JSONL files or folders (default: the shipped corpus); "
                   "their test split is used, or every sentence when a source has no splits")
    p.add_argument("--output-dir", required=True, help="where evaluation.json, evaluation.txt and the PNG go")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--baseline-data", action="append", help="train split for the baseline (default: the shipped corpus)")
    p.add_argument("--label-map", help="JSON map of the data's span labels to ours (label, list of labels, or null); "
                   "only the labels the data has are scored")
    p.add_argument("--real-text", action="append",
                   help="also score labelled text written by others (e.g. ../shared/reference/re3d-public-domain-events.jsonl), "
                        "side by side with the test split; results in OUTPUT_DIR/real_text/")
    p.add_argument("--real-text-label-map", help="label map for --real-text (e.g. data/label_maps/re3d.json)")
    p.add_argument("--real-text-doc-field", help="JSONL field grouping --real-text sentences into reports, in order "
                   "(re3d: source), for models that read the sentences before each one")
    args = p.parse_args(argv)
    result = run_evaluation(args.model, args.data, args.output_dir, args.batch_size, args.baseline_data, args.label_map,
                            args.real_text, args.real_text_label_map, args.real_text_doc_field)
    print(format_report(result))
    if "real_text" in result:
        print("\nReal text (" + ", ".join(args.real_text) + ")\n" + format_report(result["real_text"]))
        print("\n" + format_side_by_side(result))
    return 0


def _calibrate(argv: list[str]) -> int:
    from training.calibration import calibrate_model

    p = argparse.ArgumentParser(prog="wirecoder calibrate",
                                description="Refit a model's score temperature and thresholds on dev data (config.json rewritten).")
    p.add_argument("--model", required=True, help="a directory written by `wirecoder train`")
    p.add_argument("--data", action="append", help="labelled data whose dev split is used (default: the shipped corpus)")
    p.add_argument("--threshold-shrink", type=float, default=30.0,
                   help="pull per-type thresholds toward the global one (pseudo-positives; 0: per-type optimum)")
    p.add_argument("--temperature", action="store_true", help="also fit a temperature for the scores (default: 1)")
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)
    r = calibrate_model(args.model, args.data, args.threshold_shrink, args.temperature, args.batch_size)
    print(f"{args.model}: temperature {r['previous_temperature']:.3f} -> {r['temperature']:.3f} on {r['dev_sentences']} dev "
          f"sentences; dev ECE {r['dev_ece_before']:.4f} -> {r['dev_ece_after']:.4f}; thresholds refitted")
    return 0


def _predict(argv: list[str]) -> int:
    from model.errors import WirecoderError
    from training.batch_predict import RecordError, input_identity, run_predict
    from model.predictor import EventCoder
    from training.readers import read_inputs
    from training.writers import FORMATS, text_summary

    p = argparse.ArgumentParser(prog="wirecoder predict", description="Code reports with a trained model.")
    p.add_argument("input", help=".jsonl (text, optional id), .csv (--text-column), .parquet (text, optional id), "
                   ".txt (one document; --lines: one per line), a folder of .txt files, or - for stdin (JSONL, or text "
                   "lines with --lines)")
    p.add_argument("--model", required=True, help="a directory written by `wirecoder train`")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from the output's extension, else jsonl)")
    p.add_argument("--text-column", default="text", help="CSV column holding the text")
    p.add_argument("--id-column", default=None, help="CSV column holding the document id (default: id, when there is one)")
    p.add_argument("--delimiter", default=None, help="CSV field delimiter (default: the one of , ; tab | that makes "
                   "--text-column a column of the header)")
    p.add_argument("--date-column", default=None, help="CSV column holding each document's date (ISO YYYY-MM-DD); "
                   "JSONL records give theirs in a 'date' field")
    p.add_argument("--document-date", default=None, help="the date (ISO YYYY-MM-DD) of every document that gives none "
                   "of its own: relative event dates (\"on Tuesday\") count from it")
    p.add_argument("--recursive", action="store_true", help="with a folder input, also code the .txt files of its subfolders")
    p.add_argument("--lines", action="store_true", help="one document per line of a text input")
    p.add_argument("--batch-size", type=int, default=None, help="at most this many sentences per forward pass "
                   "(default: as many as --batch-tokens allows)")
    p.add_argument("--batch-tokens", type=int, default=None, help="padded tokens per forward pass (default: 2048 on "
                   "the CPU, 32768 on a GPU); short sentences go in large batches, long ones in small batches")
    p.add_argument("--chunk-size", type=int, default=256, help="documents read, coded and written at a time")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run writing to the same -o file")
    p.add_argument("--strict", action="store_true", help="stop at the first bad input record")
    p.add_argument("--summary", action="store_true", help="print a short human-readable summary of each document")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--int8", action="store_true", help="int8 encoder on the CPU: about 3x faster, slightly less accurate")
    p.add_argument("--backend", choices=["auto", "onnx", "torch"], default="auto",
                   help="auto (default): the model directory's ONNX export (`wirecoder export`) on the CPU, else PyTorch")
    p.add_argument("--shard", default=None, help="K/N: code only records K, K+N, K+2N, ... of the input (1 <= K <= N; "
                   "counting every record, bad ones too), e.g. one shard per job of a job array")
    p.add_argument("--ray", action="store_true", help="code a .jsonl or .parquet input (file or folder) on Ray Data, "
                   "one model per worker, into -o X.jsonl (the records plain predict writes) or X.parquet (the [ray] extra)")
    p.add_argument("--ray-workers", type=int, default=2, help="with --ray: models (Ray actors) coding at once; default 2")
    p.add_argument("--ray-address", default=None, help="with --ray: the Ray cluster to join (e.g. auto, "
                   "ray://head:10001); default: start a local Ray instance")
    args = p.parse_args(argv)
    shard = _shard(args.shard)
    if args.output and args.input != "-" and Path(args.output).resolve() == Path(args.input).resolve():
        raise WirecoderError(f"the output {args.output} is the input: choose another -o file")
    if (args.batch_size is not None and args.batch_size < 1) or args.chunk_size < 1 or \
            (args.batch_tokens is not None and args.batch_tokens < 1):
        raise WirecoderError("--batch-size, --batch-tokens and --chunk-size must be at least 1")
    fmt = args.format or {".csv": "csv", ".html": "html", ".htm": "html"}.get(Path(args.output).suffix if args.output else "", "jsonl")
    from model.dates import to_date

    document_date = to_date(args.document_date, "--document-date")
    if args.ray:
        return _predict_on_ray(args, document_date)
    # The input first: a missing column or plain text on stdin is reported before the slow model load.
    docs = read_inputs(args.input, lines=args.lines, text_column=args.text_column, id_column=args.id_column,
                       delimiter=_delimiter(args.delimiter), recursive=args.recursive, date_column=args.date_column)
    coder = EventCoder.from_pretrained(args.model, device="cpu" if args.int8 else args.device, quantize=args.int8,
                                       backend="torch" if args.int8 else args.backend, batch_tokens=args.batch_tokens)
    summary_stream = sys.stdout if args.output else sys.stderr
    on_pred = (lambda pred: print(text_summary(pred), file=summary_stream)) if args.summary else None
    try:
        stats = run_predict(coder, docs, args.output, fmt, args.batch_size, args.chunk_size, args.resume, args.strict,
                            show_progress=True, on_prediction=on_pred,
                            input_id=input_identity(args.input, recursive=args.recursive), shard=shard,
                            document_date=document_date.isoformat() if document_date else None)
    except RecordError as exc:
        print(f"wirecoder: error: {exc} (--strict)", file=sys.stderr)
        return 1
    if stats.already_complete:
        print(f"{args.output} is already complete; nothing to resume", file=sys.stderr)
        return 0
    if args.output:
        print(f"{stats.written} documents coded into {args.output} ({fmt}); {stats.errors} bad records"
              + (f"; resumed after {stats.resumed_from}" if stats.resumed_from else ""), file=sys.stderr)
    if stats.duplicate_ids:
        print(f"{stats.duplicate_ids} records repeat an earlier record's id (--strict refuses them)", file=sys.stderr)
    if fmt == "acled" and stats.bad:
        where = f"listed in {stats.bad_records_file}" if stats.bad_records_file else "listed in the warnings above"
        print(f"{len(stats.bad)} bad records have no ACLED row; {where}", file=sys.stderr)
    return 0


def _export(argv: list[str]) -> int:
    from training.export import QUANTIZE, export_onnx

    p = argparse.ArgumentParser(prog="wirecoder export", description="Export a trained model's forward pass to ONNX; "
                                "`wirecoder predict` and EventCoder.from_pretrained run it on the CPU when present.")
    p.add_argument("--model", required=True, help="a directory written by `wirecoder train`")
    p.add_argument("--format", choices=["onnx"], default="onnx")
    p.add_argument("--quantize", choices=QUANTIZE, default=None,
                   help="int8: static int8 (activation scales fixed from corpus sentences, so scores do not depend "
                   "on the batch); int8-dynamic: ONNX Runtime's dynamic int8 (see the README's speed section)")
    p.add_argument("-o", "--output", default=None, help="the export directory (default: the model directory itself, "
                   "so that CPU prediction from it runs the export)")
    args = p.parse_args(argv)
    print(f"wrote {export_onnx(args.model, args.output, args.quantize)}")
    return 0


def _predict_on_ray(args, document_date) -> int:
    """``predict --ray``: training/ray_files.py on a local Ray instance or the cluster at --ray-address."""
    from model.errors import WirecoderError
    from model.ray_predict import require_ray
    from training.ray_files import INPUT_SUFFIXES, OUTPUT_SUFFIXES, predict_files

    unsupported = [flag for flag, used in (("--resume", args.resume), ("--shard", args.shard), ("--strict", args.strict),
                                           ("--summary", args.summary), ("--lines", args.lines), ("--recursive", args.recursive))
                   if used]
    if unsupported:
        raise WirecoderError(f"--ray does not take {', '.join(unsupported)}")
    if "://" not in args.input and not Path(args.input).is_dir() and not args.input.lower().endswith(INPUT_SUFFIXES):
        raise WirecoderError(f"--ray reads {' or '.join(INPUT_SUFFIXES)} files (or a folder of them), not {args.input}")
    if not args.output or not args.output.lower().endswith(OUTPUT_SUFFIXES) or args.format not in (None, "jsonl"):
        raise WirecoderError("--ray writes -o X.jsonl or -o X.parquet")
    if args.ray_workers < 1:
        raise WirecoderError(f"--ray-workers must be at least 1, not {args.ray_workers}")
    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        import os

        # A local instance gets a logical CPU per worker plus one for reading, whatever the core count:
        # actors hold theirs for the whole run, and reading with none left would wait forever.
        local = {} if args.ray_address else {"num_cpus": max(os.cpu_count() or 1, args.ray_workers + 1)}
        ray.init(address=args.ray_address, include_dashboard=False, logging_level=logging.WARNING, **local)
    try:
        stats = predict_files(args.input, args.output, args.model, workers=args.ray_workers, batch_size=args.batch_size,
                              batch_tokens=args.batch_tokens, docs_per_task=args.chunk_size, backend="torch" if args.int8 else args.backend,
                              device="cpu" if args.int8 else args.device, quantize=args.int8,
                              document_date=document_date.isoformat() if document_date else None)
    finally:
        if started:
            ray.shutdown()
    print(f"{stats.written} documents coded into {args.output} on Ray ({args.ray_workers} workers); "
          f"{stats.errors} bad records", file=sys.stderr)
    return 0


def _shard(value: str | None) -> tuple[int, int] | None:
    """``--shard K/N`` (1 <= K <= N): this run codes the input's records number K, K+N, K+2N, ..."""
    from model.errors import WirecoderError

    if value is None:
        return None
    k, sep, n = value.partition("/")
    if not (sep and k.strip().isdigit() and n.strip().isdigit() and 1 <= int(k) <= int(n)):
        raise WirecoderError(f"--shard must be K/N with 1 <= K <= N (e.g. 1/4), not {value!r}")
    return int(k), int(n)


def _delimiter(value: str | None) -> str | None:
    """``--delimiter`` as typed in a shell: ``'\\t'`` or ``tab`` for a tab; one character."""
    from model.errors import WirecoderError

    if value is None:
        return None
    value = {"\\t": "\t", "tab": "\t"}.get(value, value)
    if len(value) != 1:
        raise WirecoderError(f"--delimiter must be one character (or tab), not {value!r}")
    return value


def _data_check(argv: list[str]) -> int:
    from training.corpus import CORPUS_DIR, read_records
    from training.corpus_check import corpus_stats, format_stats

    p = argparse.ArgumentParser(prog="wirecoder data check", description="Validate a corpus and print its statistics.")
    p.add_argument("paths", nargs="*", default=[str(CORPUS_DIR)], help="corpus files or folders (default: the shipped corpus)")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.add_argument("--max-near-duplicate-share", type=float, default=0.01,
                   help="fail when this share of sentences or more has a near-duplicate")
    args = p.parse_args(argv)
    stats = corpus_stats(read_records(args.paths, require_split=True))
    print(json.dumps(stats, indent=2) if args.json else format_stats(stats))
    share = stats["near_duplicate_sentence_share"]
    if share > 0 and share >= args.max_near_duplicate_share:
        print(f"error: {stats['near_duplicate_sentence_share']:.2%} of sentences have a near-duplicate", file=sys.stderr)
        return 1
    return 0


def _data_sample(argv: list[str]) -> int:
    from training.agreement import blind_sample
    from training.corpus import CORPUS_DIR, read_records
    from model.files import atomic_write_text

    p = argparse.ArgumentParser(prog="wirecoder data sample",
                                description="Write a random sample of the corpus without labels or spans, for a "
                                            "second writer to label blind (then `wirecoder data agreement`).")
    p.add_argument("paths", nargs="*", default=[str(CORPUS_DIR)], help="corpus files or folders (default: the shipped corpus)")
    p.add_argument("-o", "--output", required=True, help="the blind corpus-format file to write")
    p.add_argument("--share", type=float, default=0.05, help="share of sentences to sample")
    p.add_argument("--min-size", type=int, default=600, help="sample at least this many sentences")
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args(argv)
    records = read_records(args.paths, require_split=True)
    size = min(len(records), max(args.min_size, round(args.share * len(records))))
    atomic_write_text(args.output, blind_sample(records, size, args.seed))
    print(f"wrote {size} of {len(records)} sentences, unlabelled, to {args.output}")
    return 0


def _data_agreement(argv: list[str]) -> int:
    from training.agreement import agreement, format_agreement
    from training.corpus import CORPUS_DIR, read_corpus_file, read_records
    from model.files import atomic_write_json

    p = argparse.ArgumentParser(prog="wirecoder data agreement",
                                description="Compare a second writer's blind labels with the corpus.")
    p.add_argument("review", help="the sample file, labelled by the second writer (corpus format)")
    p.add_argument("paths", nargs="*", default=[str(CORPUS_DIR)], help="corpus files or folders (default: the shipped corpus)")
    p.add_argument("--json", help="also write the scores and every disagreement to this JSON file")
    args = p.parse_args(argv)
    result = agreement(read_records(args.paths, require_split=True), read_corpus_file(args.review))
    if args.json:
        atomic_write_json(args.json, result)
    print(format_agreement(result))
    return 0


COMMANDS = {"train": _train, "evaluate": _evaluate, "calibrate": _calibrate, "predict": _predict, "export": _export,
            ("data", "check"): _data_check,
            ("data", "sample"): _data_sample, ("data", "agreement"): _data_agreement,
            # Imported lazily (like every handler's dependencies) so `wirecoder --help` stays fast.
            ("data", "import"): lambda argv: __import__("training.data_commands", fromlist=["*"]).import_main(argv),
            ("data", "export-labelstudio"):
                lambda argv: __import__("training.data_commands", fromlist=["*"]).export_labelstudio_main(argv),
            "serve": lambda argv: __import__("training.serve_command", fromlist=["*"]).serve_main(argv)}


def main(argv: list[str] | None = None) -> int:
    from model.errors import WirecoderError

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
    except (WirecoderError, FileNotFoundError) as exc:
        # User errors get one clear line, not a traceback.
        print(f"wirecoder: error: {exc}", file=sys.stderr)
        _quiet_failed_stdout()
        return 1


def _quiet_failed_stdout() -> None:
    """After stdout itself failed (a full disk, a closed pipe), point it at /dev/null so the flush at
    exit does not print a second error with a traceback."""
    import os

    try:
        sys.stdout.flush()
    except OSError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


if __name__ == "__main__":
    sys.exit(main())
