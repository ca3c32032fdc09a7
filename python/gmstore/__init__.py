"""gmstore: persistent memory for AI agents, over libgmstore's C ABI.

``SQLiteStorage`` offers the seed document's API unchanged; experience data
is stored in a safe tensor format shared with C (never pickle).
"""

from ._native import GmStoreLibraryNotFound, library_path
from .errors import InvalidArgumentError, InvalidTypeError, SQLiteStorageError
from .experience import decode_experience, encode_experience
from .replay import ReplaySampler, SampleBatch
from .storage import (Concept, Embedding, Episode, ExecuteResult, LearningEvent, SQLiteStorage, StrategySummary,
                      Suggestion)


def version() -> str:
    """The version of the loaded libgmstore."""
    from ._native import lib

    return lib().gm_version_string().decode()


__version__ = "0.2.0"

__all__ = [
    "SQLiteStorage", "SQLiteStorageError", "InvalidArgumentError", "InvalidTypeError", "Embedding", "Episode", "Concept", "LearningEvent",
    "ExecuteResult", "encode_experience", "decode_experience", "GmStoreLibraryNotFound", "library_path",
    "version", "StrategySummary", "Suggestion", "ReplaySampler", "SampleBatch",
]
