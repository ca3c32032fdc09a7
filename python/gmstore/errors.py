"""The package's exceptions, built from the library's status and message."""

from __future__ import annotations

from . import _native as n


class SQLiteStorageError(Exception):
    """A gmstore call failed. ``code`` is the C ABI status (``GM_ERR_*``),
    ``status`` its name, ``message`` the library's message naming the field
    and the problem."""

    def __init__(self, code: int, message: str):
        self.code = code
        self.status = n.lib().gm_status_name(code).decode()
        self.message = message
        super().__init__(f"{message} [{self.status}]")


class InvalidArgumentError(SQLiteStorageError, ValueError):
    """An argument was rejected (``GM_ERR_INVALID_ARGUMENT``); also a ValueError."""


class InvalidTypeError(InvalidArgumentError, TypeError):
    """A value of a type gmstore cannot store (``object()``, a lambda, an
    unsupported dtype): a ``SQLiteStorageError``, as the seed's error
    handling expects, and also a TypeError (and a ValueError, as every
    invalid argument)."""


def invalid(message: str, type_error: bool = False) -> InvalidArgumentError:
    """The exception for a bad argument the package itself detects."""
    cls = InvalidTypeError if type_error else InvalidArgumentError
    return cls(n.GM_ERR_INVALID_ARGUMENT, message)


def raise_for(status: int) -> None:
    """Raises the matching exception unless ``status`` is GM_OK."""
    if status == n.GM_OK:
        return
    message = (n.lib().gm_last_error_message() or b"").decode("utf-8", "replace")
    cls = InvalidArgumentError if status == n.GM_ERR_INVALID_ARGUMENT else SQLiteStorageError
    raise cls(status, message)
