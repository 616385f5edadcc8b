"""``wirecoder data import`` and ``wirecoder data export-labelstudio``: argument parsing and printing.

The conversion itself lives in ``training/importers``; this module only wires files to it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.corpus import CorpusError
from model.files import atomic_write_json, atomic_write_text
from training.readers import has_invalid_utf8, jsonl_objects, open_text

FORMATS = ("acled", "conll", "labelstudio", "jsonl")


def _summary(n_records: int, src: str, out: str, skipped, fixed) -> str:
    lines = [f"imported {n_records} records from {src} into {out}; skipped {sum(skipped.values())}"]
    lines += [f"  skipped {n:>6d}  {reason}" for reason, n in skipped.most_common()]
    lines += [f"  fixed   {n:>6d}  {reason}" for reason, n in fixed.most_common()]
    return "\n".join(lines)


def import_main(argv: list[str]) -> int:
    from training.importers import import_file
    from training.importers.conll import SCHEMES
    from training.label_map import load_label_map

    p = argparse.ArgumentParser(prog="wirecoder data import",
                                description="Convert labelled data to wirecoder JSONL records (see data/README.md).")
    p.add_argument("--from", dest="fmt", required=True, choices=FORMATS, help="the format of SRC")
    p.add_argument("src", help="the file to import")
    p.add_argument("-o", "--output", required=True, help="the JSONL file to write")
    p.add_argument("--label-map", help="JSON map of the source's span labels to ours (a label or null to drop)")
    p.add_argument("--scheme", choices=SCHEMES, default="auto", help="CoNLL tagging scheme (default: detected)")
    args = p.parse_args(argv)
    label_map = load_label_map(args.label_map) if args.label_map else None
    result = import_file(args.fmt, args.src, label_map=label_map, scheme=args.scheme)
    if not result.records:
        raise CorpusError(f"{args.src}: nothing to import ({sum(result.skipped.values())} skipped: "
                          f"{', '.join(f'{r} ({n})' for r, n in result.skipped.most_common()) or 'empty file'})")
    body = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in result.records)
    atomic_write_text(args.output, body)
    print(_summary(len(result.records), args.src, args.output, result.skipped, result.fixed))
    return 0


def read_export_input(path: Path) -> tuple[list[tuple[str, str, str]], bool]:
    """(id, doc_id, text) items and whether they are already sentences.

    ``.jsonl``: one sentence per object (``text``, optional ``id`` and ``doc_id``), as our records;
    any other file: one document per non-empty line, split into sentences by the model.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    items = []
    with open_text(path) as fh:
        if path.suffix != ".jsonl":
            for lineno, line in enumerate(fh, 1):
                line = line.rstrip("\r\n")
                if has_invalid_utf8(line):
                    raise CorpusError(f"{path}:{lineno}: not valid UTF-8")
                if line.strip():
                    items.append((f"{path.stem}-{lineno}", f"{path.stem}-{lineno}", line))
            return items, False
        for lineno, obj, error in jsonl_objects(fh):
            if error is not None:
                raise CorpusError(f"{path}:{lineno}: {error}")
            if not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise CorpusError(f"{path}:{lineno}: expected an object with a non-empty 'text'")
            rid = str(obj.get("id", f"{path.stem}-{lineno}"))
            items.append((rid, str(obj.get("doc_id", rid)), obj["text"]))
    return items, True


def export_labelstudio_main(argv: list[str]) -> int:
    from model.predictor import EventCoder
    from training.importers.labelstudio import labeling_config, task_from_prediction

    p = argparse.ArgumentParser(prog="wirecoder data export-labelstudio",
                                description="Write Label Studio tasks (one per sentence) with the model's predictions "
                                            "as pre-annotations, and a labeling config next to them.")
    p.add_argument("--model", required=True, help="a directory written by `wirecoder train`")
    p.add_argument("input", help=".jsonl sentences (text, optional id/doc_id) or a text file with one report per line")
    p.add_argument("-o", "--output", required=True, help="the tasks JSON to write (e.g. tasks.json)")
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)
    items, pre_split = read_export_input(Path(args.input))
    if not items:
        raise CorpusError(f"{args.input}: no texts to export")
    coder = EventCoder.from_pretrained(args.model)
    version = f"wirecoder {Path(args.model).resolve().name} {getattr(coder.config, 'corpus_version', '') or ''}".strip()
    preds = coder.predict([t for _, _, t in items], batch_size=args.batch_size, ids=[i for i, _, _ in items],
                          split_into_sentences=not pre_split)
    tasks = []
    for (rid, doc_id, _), pred in zip(items, preds):
        for k, sent in enumerate(pred.sentences):
            task_id = rid if pre_split else f"{rid}-s{k + 1}"
            spans = [(s.start - sent.start, s.end - sent.start, s.label, s.score) for s in pred.spans if s.sentence == k]
            subs = [(x.label, x.score) for x in sent.sub_event_types]
            tasks.append(task_from_prediction(task_id, doc_id, sent.text, subs, spans, version))
    out = Path(args.output)
    config_path = out.with_name(f"{out.stem}.labelconfig.xml")
    atomic_write_json(out, tasks)
    atomic_write_text(config_path, labeling_config())
    print(f"wrote {len(tasks)} tasks to {out} and the labeling config to {config_path}")
    return 0
