"""wirecoder's exceptions: one family, so callers (and the command line) can catch them all.

Each is also a ``ValueError``: they are all about input the user gave us.
"""


class WirecoderError(ValueError):
    """Base class of every error wirecoder raises about its input, files or models."""


class ModelLoadError(WirecoderError):
    """A model directory that is missing, damaged, or not a wirecoder model."""


class RecordError(WirecoderError):
    """A bad input record in batch prediction."""


class CorpusError(WirecoderError):
    """Labelled data that cannot be used; the message names the file and line."""


class BaseModelError(WirecoderError):
    """A ``--base-model`` that is not a usable encoder."""


class OutputError(WirecoderError):
    """An output file that cannot be written (a folder, no space, no permission)."""


class ConfigError(WirecoderError):
    """A training config file or argument value that cannot be used."""


class DeviceError(WirecoderError):
    """A ``--device`` that does not exist on this machine."""
