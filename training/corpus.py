"""Reading and validating labelled sentences.

Two on-disk forms are read into the same :class:`Record`:

* the project's corpus files (``data/corpus/*.txt``), one annotated sentence per line with inline
  span markup, grouped into reports by ``@doc`` headers that also fix each report's split;
* JSONL records as in the shared annotation scheme (``{"id", "doc_id", "text", "sub_event_types",
  "spans"}``), which is what users bring and what ``wirecoder data import`` writes.

Every problem is raised as :class:`CorpusError` naming the file and line, before any training.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from model.errors import CorpusError  # re-exported: the training code imports it from here
from model.taxonomy import EVENT_ONLY_SPAN_LABELS, SPAN_LABELS, SUB_EVENT_TYPES
from training.readers import jsonl_objects, open_text  # the one JSONL parser

SPLITS = ("train", "dev", "test")
CORPUS_DIR = Path(__file__).resolve().parent.parent / "data" / "corpus"

_SPAN_RE = re.compile(r"\[([A-Z]+) ([^\[\]]+?)\]")
_HEADER_RE = re.compile(r"^@doc\s+(\S+)\s*(.*)$")
_DOC_ID_RE = re.compile(r"[\w.-]+")
_ATTR_RE = re.compile(r"\s+(\w+)=(\S+)")

# Why a sentence reports no event (``none neg=accident | ...``): data check counts each family so
# the corpus keeps enough hard negatives of every kind.
NEGATIVE_FAMILIES = (
    "accident",      # industrial, chemical and transport accidents
    "disaster",      # natural disasters and epidemics
    "crime",         # crime with no political or armed-group side
    "statement",     # diplomacy, statements, claims, denials, condemnations
    "plan",          # plans, threats, forecasts, warnings, operation launches, deployments
    "background",    # background, history, geography, force strength, running tallies
    "judicial",      # trials, sentences and inquiries into past events
    "humanitarian",  # displacement, aid, prices, conditions
)
# What kind of text the sentence is, where it is not plain running prose (``form=headline``).
SENTENCE_FORMS = ("headline", "dateline", "caption", "liveblog", "quote")
_SENTENCE_ATTRS = {"neg": NEGATIVE_FAMILIES, "form": SENTENCE_FORMS}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


@dataclass
class Record:
    id: str
    doc_id: str
    text: str
    sub_event_types: list[str]
    spans: list[Span]
    split: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    source: str = ""  # "file:line", for error messages

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("source")
        if not out["meta"]:
            out.pop("meta")
        if out["split"] is None:
            out.pop("split")
        return out


def text_key(text: str) -> str:
    """What makes two sentences "the same": case and whitespace ignored."""
    return " ".join(text.split()).lower()


def _where(path: Path | str, lineno: int) -> str:
    return f"{path}:{lineno}"


def parse_markup(markup: str, where: str = "<text>") -> tuple[str, list[Span]]:
    """``"[ACTOR Syrian army] [TRIGGER shelled] ..."`` -> plain text and spans."""
    text_parts: list[str] = []
    spans: list[Span] = []
    pos = 0
    length = 0
    for m in _SPAN_RE.finditer(markup):
        before = markup[pos : m.start()]
        text_parts.append(before)
        length += len(before)
        label, inner = m.group(1), m.group(2)
        if label not in SPAN_LABELS:
            raise CorpusError(f"{where}: unknown span label {label!r} (known: {', '.join(SPAN_LABELS)})")
        if inner != inner.strip():
            raise CorpusError(f"{where}: span [{label} {inner}] has leading or trailing whitespace")
        # "[TRIGGER kill]ed" would teach the tagger half-words; spans cover whole words.
        after = markup[m.end() : m.end() + 1]
        if (before[-1:].isalnum() and inner[0].isalnum()) or (after.isalnum() and inner[-1].isalnum()):
            raise CorpusError(f"{where}: span [{label} {inner}] starts or ends inside a word")
        spans.append(Span(length, length + len(inner), label))
        text_parts.append(inner)
        length += len(inner)
        pos = m.end()
    text_parts.append(markup[pos:])
    text = "".join(text_parts)
    if "[" in text or "]" in text:
        raise CorpusError(f"{where}: unbalanced or malformed span markup (square brackets left in {text!r})")
    return text, spans


def to_markup(text: str, spans: Sequence[Span]) -> str:
    """Inverse of :func:`parse_markup`, for writing records back in corpus form."""
    out, pos = [], 0
    for s in sorted(spans, key=lambda s: s.start):
        out.append(text[pos : s.start])
        out.append(f"[{s.label} {text[s.start:s.end]}]")
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def _parse_labels(field_: str, where: str) -> tuple[list[str], dict[str, str]]:
    """``"none neg=accident"`` -> ([], {"neg": "accident"}); ``"Attack form=headline"`` likewise."""
    attrs: dict[str, str] = {}
    for m in _ATTR_RE.finditer(" " + field_):
        key, value = m.group(1), m.group(2)
        if key not in _SENTENCE_ATTRS:
            raise CorpusError(f"{where}: unknown sentence attribute {key!r} (known: {', '.join(_SENTENCE_ATTRS)})")
        if value not in _SENTENCE_ATTRS[key]:
            raise CorpusError(f"{where}: {key}={value!r} is not one of {', '.join(_SENTENCE_ATTRS[key])}")
        if key in attrs:
            raise CorpusError(f"{where}: sentence attribute {key!r} given twice")
        attrs[key] = value
    field_ = _ATTR_RE.sub("", " " + field_).strip()
    if field_.lower() == "none":
        return [], attrs
    if "neg" in attrs:
        raise CorpusError(f"{where}: neg={attrs['neg']} marks a no-event sentence, but it is labelled {field_!r}")
    labels = [x.strip() for x in field_.split(";") if x.strip()]
    for lab in labels:
        if lab not in SUB_EVENT_TYPES:
            raise CorpusError(f"{where}: unknown sub-event type {lab!r}")
    if len(set(labels)) != len(labels):
        raise CorpusError(f"{where}: sub-event type listed twice in {field_!r}")
    return labels, attrs


def read_corpus_file(path: Path | str) -> list[Record]:
    """Parse one corpus file in the annotated-line format (see data/README.md)."""
    path = Path(path)
    records: list[Record] = []
    doc_id: str | None = None
    meta: dict[str, str] = {}
    n_in_doc = 0
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 ({exc})") from exc
    for lineno, raw in enumerate(lines, 1):
        where = _where(path, lineno)
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = _HEADER_RE.match(line)
        if header:
            doc_id = header.group(1)
            if not _DOC_ID_RE.fullmatch(doc_id):
                raise CorpusError(f"{where}: report id {doc_id!r} must be letters, digits, '.', '_' or '-'")
            meta = {}
            for part in header.group(2).split("|"):
                part = part.strip()
                if not part:
                    continue
                if "=" not in part:
                    raise CorpusError(f"{where}: header field {part!r} is not key=value")
                k, v = part.split("=", 1)
                meta[k.strip()] = v.strip()
            n_in_doc = 0
            continue
        if doc_id is None:
            raise CorpusError(f"{where}: sentence before any '@doc' header")
        if " | " not in line:
            raise CorpusError(f"{where}: expected '<sub-event types or none> | <sentence>'")
        labels_field, markup = line.split(" | ", 1)
        labels, attrs = _parse_labels(labels_field, where)
        text, spans = parse_markup(markup.strip(), where)
        n_in_doc += 1
        records.append(
            Record(
                id=f"{doc_id}-s{n_in_doc}",
                doc_id=doc_id,
                text=text,
                sub_event_types=labels,
                spans=spans,
                split=meta.get("split"),
                meta={**{k: v for k, v in meta.items() if k != "split"}, **attrs},
                source=where,
            )
        )
    return records


def _record_from_json(obj: object, where: str) -> Record:
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str):
        raise CorpusError(f"{where}: missing or non-string 'text'")
    rid = obj.get("id")
    if rid is None:
        raise CorpusError(f"{where}: missing 'id'")
    labels = obj.get("sub_event_types", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise CorpusError(f"{where}: 'sub_event_types' must be a list of strings")
    for lab in labels:
        if lab not in SUB_EVENT_TYPES:
            raise CorpusError(f"{where}: unknown sub-event type {lab!r}")
    spans = []
    for s in obj.get("spans", []) or []:
        if not isinstance(s, dict) or not all(k in s for k in ("start", "end", "label")):
            raise CorpusError(f"{where}: malformed span {s!r} (needs start, end and label)")
        # Offsets are whole characters: 3.0 or "3" would be silently truncated or mis-sliced.
        if any(type(s[k]) is not int for k in ("start", "end")):
            raise CorpusError(f"{where}: span offsets must be integers, got start={s['start']!r}, end={s['end']!r}")
        spans.append(Span(s["start"], s["end"], str(s["label"])))
    meta = obj.get("meta") or {}
    return Record(
        id=str(rid),
        doc_id=str(obj.get("doc_id", rid)),
        text=text,
        sub_event_types=list(labels),
        spans=spans,
        split=obj.get("split"),
        meta={str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {},
        source=where,
    )


def read_jsonl_file(path: Path | str) -> list[Record]:
    path = Path(path)
    records = []
    with open_text(path) as fh:
        for lineno, obj, problem in jsonl_objects(fh):
            where = _where(path, lineno)
            if problem is not None:
                raise CorpusError(f"{where}: {problem}")
            records.append(_record_from_json(obj, where))
    return records


def corpus_files(path: Path | str) -> list[Path]:
    """A file, or every ``*.txt``/``*.jsonl`` file in a folder (sorted, so order is stable)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".txt", ".jsonl"))
        if not files:
            raise CorpusError(f"{path}: no .txt or .jsonl corpus files in this folder")
        return files
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder")
    return [path]


def validate(
    records: Sequence[Record],
    *,
    require_split: bool = False,
    span_labels: Iterable[str] = SPAN_LABELS,
    allow_repeated_text: bool = False,
    event_only_rule: bool = True,
) -> None:
    """Check everything training relies on; raise CorpusError at the first problem.

    Foreign evaluation data (see training/label_map.py) is checked with its own ``span_labels``,
    may repeat sentences, and need not follow the event-only span rule.
    """
    allowed = set(span_labels)
    seen_ids: dict[str, str] = {}
    seen_text: dict[str, str] = {}
    doc_split: dict[str, tuple[str | None, str]] = {}
    for r in records:
        where = r.source or r.id
        if not r.text.strip():
            raise CorpusError(f"{where}: empty text")
        if r.id in seen_ids:
            raise CorpusError(f"{where}: duplicate id {r.id!r} (first at {seen_ids[r.id]})")
        seen_ids[r.id] = where
        key = text_key(r.text)
        if key in seen_text and not allow_repeated_text:
            raise CorpusError(f"{where}: duplicate sentence (first at {seen_text[key]}): {r.text!r}")
        seen_text[key] = where
        if r.split is not None and r.split not in SPLITS:
            raise CorpusError(f"{where}: split must be one of {SPLITS}, got {r.split!r}")
        if require_split and r.split is None:
            raise CorpusError(f"{where}: report {r.doc_id!r} has no split")
        if r.doc_id in doc_split and doc_split[r.doc_id][0] != r.split:
            first = doc_split[r.doc_id]
            raise CorpusError(
                f"{where}: report {r.doc_id!r} straddles splits "
                f"({first[0]!r} at {first[1]}, {r.split!r} here)"
            )
        doc_split.setdefault(r.doc_id, (r.split, where))
        prev_end = -1
        for s in sorted(r.spans, key=lambda s: (s.start, s.end)):
            if s.label not in allowed:
                raise CorpusError(f"{where}: unknown span label {s.label!r}")
            if not (0 <= s.start < s.end <= len(r.text)):
                raise CorpusError(f"{where}: span {s.start}-{s.end} is out of range for a text of {len(r.text)} characters")
            piece = r.text[s.start : s.end]
            if piece != piece.strip():
                raise CorpusError(f"{where}: span {s.label} {piece!r} does not start and end on text (whitespace at an edge)")
            if s.start < prev_end:
                raise CorpusError(f"{where}: overlapping spans at {s.start}-{s.end} ({s.label})")
            prev_end = s.end
            if event_only_rule and not r.sub_event_types and s.label in EVENT_ONLY_SPAN_LABELS:
                raise CorpusError(f"{where}: {s.label} span {piece!r} in a sentence labelled with no event")


def read_records(paths: Path | str | Iterable[Path | str], *, require_split: bool = False) -> list[Record]:
    """Read and validate corpus files and/or JSONL files (files or folders)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    records: list[Record] = []
    for p in paths:
        for f in corpus_files(p):
            records.extend(read_jsonl_file(f) if f.suffix == ".jsonl" else read_corpus_file(f))
    if not records:
        raise CorpusError(f"no sentences found in {', '.join(map(str, paths))}")
    validate(records, require_split=require_split)
    return records
