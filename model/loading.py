"""Loading a saved model directory, checked file by file so that a damaged or foreign directory
fails with one message naming the file and the problem (never a traceback from deep inside
transformers or safetensors)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from model.errors import DeviceError, ModelLoadError
from model.taxonomy import BIO_TAGS, SUB_EVENT_TYPES

WEIGHTS = "model.safetensors"
INDEX = "model.safetensors.index.json"


def has_torch_weights(path: str | Path) -> bool:
    """Does this model directory hold PyTorch (safetensors) weights, whole or sharded?"""
    return any((Path(path) / f).is_file() for f in (WEIGHTS, INDEX))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_json(file: Path, what: str):
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{file}: malformed {what} ({exc})") from exc


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _number_in(value, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def check_config_values(cfg: dict, cfg_file: Path) -> None:
    """The values inference relies on; a wrong one would fail far from its cause (or not at all)."""
    def bad(key: str, want: str):
        return ModelLoadError(f"{cfg_file}: {key!r} must be {want}, not {json.dumps(cfg.get(key))[:60]}")

    if not _positive_int(cfg.get("max_length")):
        raise bad("max_length", "a positive integer")
    thresholds = cfg.get("thresholds")
    if not (isinstance(thresholds, list) and len(thresholds) == len(SUB_EVENT_TYPES)
            and all(_number_in(t, 0.0, 1.0) for t in thresholds)):
        raise bad("thresholds", f"a list of {len(SUB_EVENT_TYPES)} numbers between 0 and 1")
    if "temperature" in cfg and not (_number_in(cfg["temperature"], 1e-3, 1e3)):
        raise bad("temperature", "a number between 0.001 and 1000")
    if "classifier_dropout" in cfg and not _number_in(cfg["classifier_dropout"], 0.0, 1.0):
        raise bad("classifier_dropout", "a number between 0 and 1")
    enc = cfg.get("encoder_config")
    if not (isinstance(enc, dict) and isinstance(enc.get("model_type"), str)):
        raise bad("encoder_config", "the encoder's config (an object with a model_type)")
    for key in ("hidden_size", "vocab_size"):
        if key in enc and not _positive_int(enc[key]):
            raise ModelLoadError(f"{cfg_file}: encoder_config {key!r} must be a positive integer, not {enc[key]!r}")


def _weight_files(path: Path) -> list[Path]:
    if (path / WEIGHTS).is_file():
        return [path / WEIGHTS]
    index = path / INDEX
    if not index.is_file():
        raise ModelLoadError(f"{path}: no {WEIGHTS} weights")
    obj = _read_json(index, "shard index")
    weight_map = obj.get("weight_map") if isinstance(obj, dict) else None
    if not isinstance(weight_map, dict) or not weight_map or not all(isinstance(v, str) for v in weight_map.values()):
        raise ModelLoadError(f"{index}: malformed shard index (no 'weight_map' of tensor names to files)")
    files = []
    for name in sorted(set(weight_map.values())):
        # Shards sit beside the index; a path elsewhere is not ours to open.
        if Path(name).name != name:
            raise ModelLoadError(f"{index}: shard {name!r} is outside the model directory")
        if not (path / name).is_file():
            raise ModelLoadError(f"{index}: shard {name} is missing")
        files.append(path / name)
    return files


def check_weights(path: Path) -> None:
    """Every weight file opens as safetensors and is whole (the header covers the file exactly)."""
    from safetensors import SafetensorError, safe_open

    for file in _weight_files(path):
        try:
            with safe_open(str(file), framework="pt"):
                pass
        except (SafetensorError, OSError) as exc:
            raise ModelLoadError(f"{file}: damaged or truncated weights ({_first_line(exc)})") from exc


def check_model_dir(path: str | Path, weights: bool = True) -> Path:
    """Fail early, with a message a user can act on, if ``path`` is not a loadable wirecoder model
    (``weights=False``: its safetensors weights are not needed, as for an ONNX export)."""
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"{path}: no such model directory")
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise ModelLoadError(f"{path}: not a model directory (no config.json); train one with `wirecoder train`")
    cfg = _read_json(cfg_file, "config")
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{cfg_file}: malformed config (expected a JSON object)")
    if cfg.get("model_type") != "wirecoder":
        raise ModelLoadError(
            f"{path}: not a wirecoder model (model_type={cfg.get('model_type')!r}); "
            "pass a directory written by `wirecoder train` (a base encoder goes to `wirecoder train --base-model`)"
        )
    if cfg.get("sub_event_types") != list(SUB_EVENT_TYPES):
        raise ModelLoadError(f"{path}: the model's sub-event types differ from this wirecoder's taxonomy")
    id2label = cfg.get("id2label")
    tags = [id2label.get(str(i)) for i in range(len(BIO_TAGS))] if isinstance(id2label, dict) else None
    if tags != list(BIO_TAGS) or len(id2label) != len(BIO_TAGS):
        raise ModelLoadError(f"{path}: the model's span labels differ from this wirecoder's taxonomy")
    check_config_values(cfg, cfg_file)
    if weights:
        check_weights(path)
    if not (path / "tokenizer.json").is_file():
        raise ModelLoadError(f"{path}: no tokenizer.json (the fast tokenizer that gives character offsets); "
                             "copy it from the base encoder the model was trained on")
    return path


def load_model_dir(path: str | Path):
    """(model, tokenizer) from a checked model directory."""
    from transformers.utils import logging as hf_logging

    from model.modeling import WirecoderModel

    path = check_model_dir(path)
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its multi-line load report would bury our one-line message
    try:
        model, info = WirecoderModel.from_pretrained(str(path), output_loading_info=True, ignore_mismatched_sizes=True)
    except (OSError, ValueError, RuntimeError, TypeError, KeyError, AttributeError) as exc:
        raise ModelLoadError(f"{path / 'config.json'}: cannot build the model from it ({_first_line(exc)})") from exc
    finally:
        hf_logging.set_verbosity(previous)
    mismatched = sorted(info.get("mismatched_keys") or [], key=lambda m: m[0])
    if mismatched:
        # Values that pass the checks above can still disagree with the weights (a changed size).
        key, saved, wanted = mismatched[0]
        raise ModelLoadError(f"{path / 'config.json'}: does not fit the weights in {WEIGHTS} ({len(mismatched)} tensors differ, "
                             f"e.g. {key}: saved {tuple(saved)}, config wants {tuple(wanted)})")
    missing = sorted(info.get("missing_keys") or [])
    if missing:
        # transformers would start these at random: a silently different model.
        raise ModelLoadError(f"{path}: the weight files lack {len(missing)} tensors of the model (e.g. {missing[0]})")
    return model, load_tokenizer(path)


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path))
    except Exception as exc:  # noqa: BLE001 - the tokenizers library raises bare Exception on a bad file
        raise ModelLoadError(f"{path / 'tokenizer.json'}: unreadable tokenizer ({_first_line(exc)})") from exc


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``device`` checked against this machine (default: CUDA when present, else the CPU)."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"--device {device}: not a device name (cpu, cuda, cuda:1, mps, ...)") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {device}: CUDA is not available on this machine "
                              f"(torch {torch.__version__}); use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"--device {device}: MPS is not available on this machine; use --device cpu")
    return dev
