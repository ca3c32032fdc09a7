"""Marshalling between Python values and the C ABI's structs: argument
checks, the numpy twins of C structs, batch inputs filled a column at a
time, and list results read a column at a time. ``storage.py`` holds the
seed's API and nothing of this."""

from __future__ import annotations

import ctypes
import itertools
import json
from json.encoder import encode_basestring_ascii

try:
    import _json as _cjson
except ImportError:  # pragma: no cover - CPython always has it
    _cjson = None
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from . import _native as n
from .errors import InvalidArgumentError, raise_for

def _text(value: str, field_name: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"{field_name}: must be a str, got {type(value).__name__}")
    if "\0" in value:
        # C strings end at the first NUL: the rest would be dropped silently.
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"{field_name}: must not contain NUL characters")
    return value.encode("utf-8", "surrogatepass")


def _json_object(value: Optional[dict], field_name: str) -> Optional[bytes]:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT,
                                   f"{field_name}: must be a dict, got {type(value).__name__}")
    try:
        return _encode_json(value)
    except RecursionError:
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT,
                                   f"{field_name}: not JSON-serialisable (it contains itself)") from None
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"{field_name}: not JSON-serialisable ({e})") from e


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def json_encoder(default=None, separators=(", ", ": ")):
    """A reusable C JSON encoder: ``encode(value) -> bytes``, NaN and
    infinity refused. ``json.dumps`` and ``JSONEncoder.encode`` build a new
    C encoder (and a cycle-check dict) on every call, which cost more than
    encoding a small dict; this one is built once. Without the cycle check,
    a value that contains itself raises RecursionError."""
    if default is None:
        def default(value):
            raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
    make = getattr(_cjson, "make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        slow = json.JSONEncoder(allow_nan=False, default=default, separators=separators)
        return lambda value: slow.encode(value).encode("utf-8")
    fast = make(None, default, encode_basestring_ascii, None, separators[1], separators[0], False, False, False)
    return lambda value: "".join(fast(value, 0)).encode("ascii")


_encode_json = json_encoder(_json_default)


_scan_json = json.JSONDecoder().scan_once


def _json_object_text(text: str) -> Any:
    """A stored JSON object (metadata, parameters) from its text: ``{}``
    without parsing, others with the C scanner directly (json.loads adds
    two regular-expression matches and an encoding check per call). Text
    the scanner does not take whole goes to json.loads, which says why."""
    if text == "{}":
        return {}
    try:
        value, end = _scan_json(text, 0)
        if end == len(text):
            return value
    except StopIteration:
        pass
    return json.loads(text)


def _number(value: Any, field_name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"{field_name}: not a number ({e})") from e


def _opt_number(value: Any, field_name: str):
    return None if value is None else ctypes.byref(ctypes.c_double(_number(value, field_name)))


def _integer(value: Any, field_name: str, lowest: int = -2 ** 63, highest: int = 2 ** 63 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"{field_name}: must be an int, got {value!r}")
    if not lowest <= int(value) <= highest:
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT,
                                   f"{field_name}: {value} is outside [{lowest}, {highest}]")
    return int(value)


def _choice(value: Any, choices: Dict[str, int], field_name: str) -> int:
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT,
                                   f"{field_name}: {value!r} is not one of {sorted(choices)}")
    return choices[value]


def _limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"limit: must be an int, got {value!r}")
    return int(value)


_NUMPY_OF_CTYPE = {
    ctypes.c_int64: np.int64, ctypes.c_double: np.float64, ctypes.c_void_p: np.uintp, ctypes.c_char_p: np.uintp,
    ctypes.c_size_t: np.uintp, ctypes.c_uint64: np.uint64, ctypes.c_uint32: np.uint32, ctypes.c_uint8: np.uint8,
}
_STRUCT_DTYPES: Dict[type, np.dtype] = {}


def _numpy_of(ctype) -> Any:
    if issubclass(ctype, ctypes.Array):  # reserved bytes: uint8[7]
        return (_NUMPY_OF_CTYPE[ctype._type_], ctype._length_)
    return _NUMPY_OF_CTYPE[ctype]


def _struct_dtype(item_type) -> np.dtype:
    """The numpy twin of a C struct (pointers as addresses), so an array
    of results is read, or an array of inputs filled, a column at a time
    instead of one ctypes access per field per row."""
    if item_type not in _STRUCT_DTYPES:
        fields = item_type._fields_
        _STRUCT_DTYPES[item_type] = np.dtype({
            "names": [f[0] for f in fields],
            "formats": [_numpy_of(f[1]) for f in fields],
            "offsets": [getattr(item_type, f[0]).offset for f in fields],
            "itemsize": ctypes.sizeof(item_type),
        })
    return _STRUCT_DTYPES[item_type]


class _BatchColumns:
    """The columns of a batch of input structs, gathered in one pass that
    checks every row: ``row_values(row)`` gives its byte parts (NULL for
    None) and its number; the optional ``timestamp`` is read here. The parts
    lie NUL-terminated in one buffer, ``starts`` holding their addresses.
    A bad argument or a missing key is reported with its row
    (``events[3].task_type: ...``)."""

    def __init__(self, rows: Sequence[Dict[str, Any]], batch: str, row_values) -> None:
        self.count = len(rows)
        self.parts: List[Optional[bytes]] = []
        self.numbers, self.stamps = np.empty(self.count), np.zeros(self.count)
        self.has_stamps = np.zeros(self.count, np.bool_)
        for i, row in enumerate(rows):
            try:
                parts, self.numbers[i] = row_values(row)
                self.parts += parts
                if row.get("timestamp") is not None:
                    self.stamps[i], self.has_stamps[i] = _number(row["timestamp"], "timestamp"), True
            except InvalidArgumentError as err:
                raise InvalidArgumentError(err.code, f"{batch}[{i}].{err.message}") from None
            except KeyError as err:
                raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"{batch}[{i}]: missing {err}") from None
        self.arena = b"\0".join(p or b"" for p in self.parts) + b"\0"
        self.starts = np.zeros(len(self.parts), np.uintp)
        np.cumsum([len(p or b"") + 1 for p in self.parts[:-1]], out=self.starts[1:])
        self.starts += ctypes.cast(ctypes.c_char_p(self.arena), ctypes.c_void_p).value or 0
        self.starts[[p is None for p in self.parts]] = 0

    def store(self, call, handle, item_type, columns: Dict[str, Any]) -> List[int]:
        """Fills an array of ``item_type`` from ``columns`` plus the
        timestamp columns and passes it to the batch ``call``; returns the
        ids. The arena this object holds stays alive through the call."""
        items = np.zeros(max(self.count, 1), _struct_dtype(item_type))
        columns = {**columns, "timestamp": self.stamps, "has_timestamp": self.has_stamps}
        for name, values in columns.items():
            items[name][:self.count] = values
        ids = np.zeros(max(self.count, 1), np.int64)
        raise_for(call(handle, items.ctypes.data_as(ctypes.POINTER(item_type)), self.count,
                       ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))))
        return ids[:self.count].tolist()


_TEXT_OF = {str: encode_basestring_ascii, int: int.__repr__, float: float.__repr__,
            bool: {True: "true", False: "false"}.__getitem__}


class JsonRows:
    """The JSON text of many flat dicts with the same keys in the same
    order, written a column at a time: fixed fragments (the keys) and, per
    key, the values' JSON made by one ``map`` over the column, joined row by
    row at the end. Byte for byte what the reusable C encoder writes with
    the same separators; ``add`` refuses (False) a column it cannot write
    that way (mixed types, non-finite floats, nested values)."""

    def __init__(self, count: int, item_sep: str, key_sep: str) -> None:
        self.count, self.item_sep, self.key_sep = count, item_sep, key_sep
        self.pieces: list = ["{"]

    def key(self, key: str) -> None:
        if len(self.pieces) > 1:
            self.pieces.append(self.item_sep)
        self.pieces.append(encode_basestring_ascii(key) + self.key_sep)

    def fixed(self, text: str) -> None:
        self.pieces.append(text)

    def add(self, key: str, column: list) -> bool:
        kind = type(column[0])
        if not all(type(v) is kind for v in column):
            return False
        if column[0] is None:
            self.key(key), self.fixed("null")
            return True
        text_of = _TEXT_OF.get(kind)
        if text_of is None:
            return False
        if kind is float and not np.isfinite(np.fromiter(column, np.float64, len(column))).all():
            return False
        self.key(key)
        self.pieces.append(list(map(text_of, column)))
        return True

    def rows(self) -> List[str]:
        columns = [p if type(p) is list else itertools.repeat(p, self.count) for p in self.pieces + ["}"]]
        return list(map("".join, zip(*columns)))

    @classmethod
    def of_dicts(cls, dicts: list, item_sep: str = ", ", key_sep: str = ": ") -> Optional[List[str]]:
        """The JSON of each dict, or None unless all are flat dicts of JSON
        scalars with the same keys in the same order."""
        first = dicts[0] if dicts else None
        if type(first) is not dict:
            return None
        keys = list(first)
        if not all(type(k) is str for k in keys) or not all(type(d) is dict and list(d) == keys for d in dicts):
            return None
        rows = cls(len(dicts), item_sep, key_sep)
        if not all(rows.add(k, [d[k] for d in dicts]) for k in keys):
            return None
        return rows.rows()


class SlowPath(Exception):
    """A batch the column-at-a-time path does not take as it is (a missing
    key, a value of another type, a NUL in a string): the row-by-row path
    then checks it and names the bad row."""


def _address(data: bytes) -> int:
    return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0


def _offsets(lengths: Sequence[int]) -> np.ndarray:
    """Where each of a run of pieces starts, given their lengths."""
    starts = np.zeros(len(lengths), np.uintp)
    if len(lengths) > 1:
        np.cumsum(lengths[:-1], out=starts[1:])
    return starts


# Numbers a column takes as they are; anything else (a bool, a Decimal, a
# string) goes the row-by-row way, which checks it as store_* would.
_PLAIN_NUMBERS = {float, int, np.float64, np.float32, np.int64, np.int32}


class InputColumns:
    """The columns of a batch of input structs, each gathered from the rows
    (dicts) by one comprehension and turned into a numpy column: strings
    and JSON lie NUL-terminated in one buffer per column, which the object
    keeps alive. A row that is not plainly valid raises ``SlowPath``;
    values that are valid in type but not in content (NaN, an empty name)
    are left to the library, which names the row."""

    def __init__(self, rows: Sequence[Dict[str, Any]]) -> None:
        self.rows, self.count = rows, len(rows)
        self.columns: Dict[str, Any] = {}
        self.keep: list = []

    def values(self, key: str) -> list:
        try:
            return [row[key] for row in self.rows]
        except (KeyError, TypeError):
            raise SlowPath(key) from None

    def text(self, key: str) -> None:
        values = self.values(key)
        if not set(map(type, values)) <= {str}:
            raise SlowPath(key)
        joined = "\0".join(values)
        if joined.count("\0") != max(self.count - 1, 0):
            raise SlowPath(key)  # a NUL inside a value
        sizes = map(len, values) if joined.isascii() else (
            len(v.encode("utf-8", "surrogatepass")) for v in values)
        self.pieces(key, joined.encode("utf-8", "surrogatepass") + b"\0", np.fromiter(sizes, np.uintp, self.count))

    def pieces(self, key: str, arena: bytes, lengths: Any, present: Optional[Sequence[bool]] = None) -> None:
        """A pointer column into ``arena``, where the pieces lie one after
        another, each followed by a NUL; absent ones (NULL, where
        ``present`` is false) take no room."""
        self.keep.append(arena)
        room = np.asarray(lengths, np.uintp) + 1
        if present is None:
            self.columns[key] = _address(arena) + _offsets(room)
            return
        absent = ~np.asarray(present, np.bool_)
        room[absent] = 0
        starts = _address(arena) + _offsets(room)
        starts[absent] = 0
        self.columns[key] = starts

    def blobs(self, key: str, parts: Sequence[Optional[bytes]]) -> None:
        present = [p is not None for p in parts]
        self.pieces(key, b"".join(p + b"\0" for p in parts if p is not None),
                    [len(p) if p is not None else 0 for p in parts], present)

    def json_objects(self, key: str) -> None:
        values = [row.get(key) for row in self.rows]
        if all(v is None for v in values):
            self.columns[key] = 0
            return
        uniform = JsonRows.of_dicts(values)
        if uniform is not None:
            joined = "\0".join(uniform)  # ASCII: encode_basestring_ascii and reprs
            self.pieces(key, joined.encode("ascii") + b"\0", np.fromiter(map(len, uniform), np.uintp, self.count))
            return
        try:
            self.blobs(key, [None if v is None else _json_object(v, key) for v in values])
        except InvalidArgumentError:
            raise SlowPath(key) from None

    def number(self, key: str) -> None:
        values = self.values(key)
        if not set(map(type, values)) <= _PLAIN_NUMBERS:
            raise SlowPath(key)
        self.columns[key] = np.array(values, np.float64)

    def timestamps(self) -> None:
        stamps = [row.get("timestamp") for row in self.rows]
        kinds = set(map(type, stamps))
        if kinds <= _PLAIN_NUMBERS:  # every row gives one: the common case
            self.columns["timestamp"] = np.array(stamps, np.float64)
            self.columns["has_timestamp"] = 1
            return
        present = np.fromiter((t is not None for t in stamps), np.bool_, self.count)
        try:
            self.columns["timestamp"] = np.fromiter((0.0 if t is None else t for t in stamps), np.float64,
                                                    self.count)
        except (TypeError, ValueError):
            raise SlowPath("timestamp") from None
        self.columns["has_timestamp"] = present

    def store(self, call, handle, item_type) -> List[int]:
        """Fills an array of ``item_type`` from the columns and passes it to
        the batch ``call``; returns the ids."""
        items = np.zeros(max(self.count, 1), _struct_dtype(item_type))
        for name, values in self.columns.items():
            items[name][:self.count] = values
        ids = np.zeros(max(self.count, 1), np.int64)
        raise_for(call(handle, items.ctypes.data_as(ctypes.POINTER(item_type)), self.count,
                       ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))))
        return ids[:self.count].tolist()


class ListResult:
    """A ``gm_*_list`` read a column at a time: ``column("id")`` is that
    field of every item as a Python list; ``texts``/``blobs``/``json_objects``
    cut the list's arena by a pointer field and its ``*_len`` field. Reads
    copy; the C list may be freed once the reads are done."""

    def __init__(self, list_ptr, item_type) -> None:
        lst = list_ptr.contents
        self.len = lst.len
        if self.len == 0:
            self.items, self.arena, self.base = None, b"", 0
            return
        raw = ctypes.string_at(ctypes.cast(lst.items, ctypes.c_void_p), self.len * ctypes.sizeof(item_type))
        self.items = np.frombuffer(raw, dtype=_struct_dtype(item_type))
        self.arena, self.base = ctypes.string_at(lst.arena, lst.arena_len), lst.arena or 0

    def column(self, name: str) -> list:
        return [] if self.items is None else self.items[name].tolist()

    def _spans(self, field: str, len_field: Optional[str] = None):
        if self.items is None:
            return [], []
        lens = self.items[len_field or field + "_len"]
        return (self.items[field] - np.uintp(self.base)).tolist(), lens.tolist()

    def blobs(self, field: str, len_field: str) -> List[bytes]:
        arena = self.arena
        starts, lens = self._spans(field, len_field)
        return [arena[s:s + k] for s, k in zip(starts, lens)]

    def texts(self, field: str) -> List[str]:
        starts, lens = self._spans(field)
        if self.arena.isascii():
            # One decode for the whole arena: byte offsets are then
            # character offsets, and slicing a str is cheaper than decoding.
            text = self.arena.decode("ascii")
            return [text[s:s + k] for s, k in zip(starts, lens)]
        arena = self.arena
        return [arena[s:s + k].decode("utf-8") for s, k in zip(starts, lens)]

    def json_objects(self, field: str) -> List[dict]:
        """Parses the JSON objects of one field in a single json.loads call
        (per-call overhead, not parsing, dominates small objects); a 2-byte
        object can only be ``{}`` and is not parsed at all."""
        starts, lens = self._spans(field)
        arena = self.arena
        parts = [arena[s:s + k] for s, k in zip(starts, lens) if k != 2]
        parsed = iter(json.loads(b"[" + b",".join(parts) + b"]") if parts else ())
        return [{} if k == 2 else next(parsed) for k in lens]
