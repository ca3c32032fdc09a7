"""Experience data in the format shared with C and Rust (safetensors).

``encode_experience`` turns a numpy array, a dict of arrays, numbers,
strings, lists and nested dicts, or raw bytes into bytes for an episode;
``decode_experience`` gives back the original structure, with arrays of
the exact dtype and shape viewing the stored bytes without a copy. The
format itself is defined once, in the Rust core (docs/EXPERIENCE_FORMAT.md);
this module only maps Python values onto it through the C ABI.
"""

from __future__ import annotations

import ctypes
import json
import math
import pickle
import struct
import threading
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np

from . import _native as n
from ._marshal import JsonRows, json_encoder
from .errors import invalid, raise_for

_DTYPES = {
    np.dtype(np.bool_): n.GM_DTYPE_BOOL, np.dtype(np.uint8): n.GM_DTYPE_U8, np.dtype(np.int8): n.GM_DTYPE_I8,
    np.dtype(np.uint16): n.GM_DTYPE_U16, np.dtype(np.int16): n.GM_DTYPE_I16, np.dtype(np.float16): n.GM_DTYPE_F16,
    np.dtype(np.uint32): n.GM_DTYPE_U32, np.dtype(np.int32): n.GM_DTYPE_I32, np.dtype(np.float32): n.GM_DTYPE_F32,
    np.dtype(np.uint64): n.GM_DTYPE_U64, np.dtype(np.int64): n.GM_DTYPE_I64, np.dtype(np.float64): n.GM_DTYPE_F64,
}
_CODES = {code: dtype.newbyteorder("<") for dtype, code in _DTYPES.items()}
# bfloat16 has no numpy dtype: its raw bits come back as little-endian uint16.
_CODES[n.GM_DTYPE_BF16] = np.dtype("<u2")

_MARKERS = ("$tensor", "$bytes")
# Values JSON holds as they are (exact types: bool and str subclasses are
# walked, so a subclass's own meaning is not silently lost).
_JSON_LEAVES = frozenset((str, int, bool))
_isfinite = math.isfinite
# json.dumps with keyword arguments builds a new encoder per call; reuse one.
_encode_values = json_encoder(separators=(",", ":"))
# Below this size copying an array to bytes is cheaper than asking numpy
# for its address through .ctypes; above it, the address avoids the copy.
_COPY_BELOW = 1 << 16
_PICKLE_PREFIXES = tuple(bytes([0x80, p]) for p in range(2, 6))


def _is_array_like(value: Any) -> bool:
    if isinstance(value, (np.ndarray, np.generic)):
        return True
    return hasattr(value, "__array__") and not isinstance(value, (str, bytes, int, float, bool))


class _Encoder:
    def __init__(self) -> None:
        self.tensors: list[tuple[str, np.ndarray, int]] = []
        self.names: set[str] = set()

    def tensor(self, path: str, array: np.ndarray, marker: str = "$tensor") -> dict:
        code = _DTYPES.get(array.dtype)  # native little-endian dtypes hit directly
        if code is None:
            little = array.dtype.newbyteorder("<")
            code = _DTYPES.get(little)
            if code is None:
                raise invalid(f"experience_data{path or ''}: arrays of dtype {array.dtype} cannot be stored; "
                              f"use bool, (u)int8..64, float16/32/64", type_error=True)
            array = array.astype(little)
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
        name = self.unique_name(path.lstrip("/") or "array")
        self.tensors.append((name, array, code))
        return {marker: name}

    def unique_name(self, name: str) -> str:
        """The path names the tensor, unless safetensors reserves it or
        another path gave the same name ({"a/b": x} and {"a": {"b": y}});
        the tree refers to tensors by name, so any unique one decodes."""
        if name == "__metadata__" or name in self.names:
            base, i = name, len(self.tensors)
            while (name := f"{base}#{i}") in self.names:
                i += 1
        self.names.add(name)
        return name

    def walk(self, value: Any, path: str) -> Any:
        kind = type(value)
        if kind in _JSON_LEAVES or value is None:
            return value
        if kind is float:
            return value if _isfinite(value) else self.tensor(path, np.asarray(value))
        if kind is dict:
            if len(value) == 1 and next(iter(value)) in _MARKERS:
                raise invalid(f"experience_data{path}: a dict whose only key is "
                              f"{next(iter(value))!r} is reserved by the format")
            out = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise invalid(f"experience_data{path}: dict keys must be str, got {key!r}", type_error=True)
                leaf = type(item)
                # Leaves inline: no call and no path string for them.
                if leaf in _JSON_LEAVES or item is None or (leaf is float and _isfinite(item)):
                    out[key] = item
                else:
                    out[key] = self.walk(item, f"{path}/{key}")
            return out
        if isinstance(value, (np.ndarray, np.generic)):
            # before the Python scalars: np.float64 is a float subclass
            return self.tensor(path, np.asarray(value))
        if isinstance(value, (list, tuple)):
            return [self.walk(item, f"{path}/{i}") for i, item in enumerate(value)]
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.tensor(path, np.frombuffer(bytes(value), dtype=np.uint8), "$bytes")
        if isinstance(value, dict):
            return self.walk(dict(value), path)
        if isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return int(value) if -(2**63) <= value < 2**63 else float(value)
        if isinstance(value, float):
            return self.walk(float(value), path)
        if _is_array_like(value):
            return self.tensor(path, np.asarray(value))
        raise invalid(f"experience_data{path}: cannot store a {type(value).__name__}; "
                      f"use arrays, numbers, strings, lists, dicts or bytes", type_error=True)


def _describe_flat(data: Any):
    """``describe_experience`` for the common case, a flat dict of str keys
    whose values are JSON scalars or native little-endian contiguous arrays,
    without the general walk's calls and path strings; None for anything
    else, which the general walk handles (and reports)."""
    if type(data) is not dict or (len(data) == 1 and next(iter(data)) in _MARKERS):
        return None
    values, tensors = {}, []
    for key, item in data.items():
        kind = type(item)
        if type(key) is not str:
            return None
        if kind in _JSON_LEAVES or item is None or (kind is float and _isfinite(item)):
            values[key] = item
        elif kind is np.ndarray and key and key != "__metadata__" and item.flags.c_contiguous:
            code = _DTYPES.get(item.dtype)
            if code is None:
                return None
            tensors.append((key, item, code))
            values[key] = {"$tensor": key}
        else:
            return None
    return tensors, _encode_values(values)


def describe_experience(data: Any):
    """``(tensors, values_json)`` for an experience tree: each tensor as
    ``(name, contiguous little-endian array, dtype code)``, and the value
    tree as JSON bytes with ``{"$tensor": name}`` in the arrays' places."""
    flat = _describe_flat(data)
    if flat is not None:
        return flat
    enc = _Encoder()
    try:
        values = enc.walk(data, "")
    except RecursionError:
        raise invalid("experience_data: nested too deeply to store (does it contain itself?)") from None
    return enc.tensors, _encode_values(values)


# gm_tensor as the C compiler lays it out (tests/test_abi_mirror.py checks it)
_TENSOR = struct.Struct("<QIIQQQ")
_SHAPES = [struct.Struct(f"<{ndim}Q") for ndim in range(33)]
_NAME_CACHE_LIMIT = 4096


class _Scratch(threading.local):
    """Per-thread memory for the C tensor array of one call, packed with
    ``struct`` (setting ctypes fields one by one cost more than the
    library's encoding), valid until the thread's next ``tensor_array``.
    Tensor names repeat from call to call (the same keys every step), so
    each name's NUL-terminated copy and its address are kept."""

    def __init__(self) -> None:
        self.buf = bytearray(0)
        self.base = 0
        self.arrays: list = []
        self.names: dict = {}

    def reserve(self, size: int) -> None:
        if size > len(self.buf):
            self.buf = bytearray(max(size, 2 * len(self.buf), 1024))
            self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.buf))

    def name_address(self, name: str) -> int:
        found = self.names.get(name)
        if found is None:
            if len(self.names) >= _NAME_CACHE_LIMIT:
                self.names.clear()
            text = ctypes.c_char_p(name.encode("utf-8"))
            found = self.names[name] = (text, ctypes.cast(text, ctypes.c_void_p).value)
        return found[1]


_scratch = _Scratch()


def tensor_array(tensors) -> int:
    """The address of a ``gm_tensor`` array describing ``tensors``, in this
    thread's scratch: valid until its next call. Small arrays are copied
    there; arrays of 64 KiB and more are passed where they lie, and kept
    alive by the scratch."""
    s = _scratch
    at = _TENSOR.size * len(tensors)
    s.reserve(at + sum(8 * a.ndim + (a.nbytes if a.nbytes < _COPY_BELOW else 0) for _, a, _ in tensors))
    buf, base = s.buf, s.base
    s.arrays = []
    for i, (name, array, code) in enumerate(tensors):
        ndim, nbytes = array.ndim, array.nbytes
        shape_at = at
        _SHAPES[ndim].pack_into(buf, at, *array.shape)
        at += 8 * ndim
        if nbytes < _COPY_BELOW:
            buf[at:at + nbytes] = array.tobytes()
            data, at = base + at, at + nbytes
        else:
            s.arrays.append(array)
            data = array.ctypes.data
        _TENSOR.pack_into(buf, _TENSOR.size * i, s.name_address(name), code, ndim, base + shape_at, data, nbytes)
    return base


class TensorColumns:
    """The ``gm_tensor`` structs of many experiences in one numpy array,
    filled a column at a time, with the names, shapes and small arrays' data
    each in one buffer the object keeps alive. ``row_addresses[i]`` and
    ``counts[i]`` give experience i's tensors."""

    def __init__(self, described_tensors: list) -> None:
        from ._marshal import _struct_dtype

        flat = [t for tensors in described_tensors for t in tensors]
        self.counts = np.fromiter(map(len, described_tensors), np.uintp, len(described_tensors))
        self.structs = np.zeros(max(len(flat), 1), _struct_dtype(n.Tensor))
        first = np.zeros(len(described_tensors), np.uintp)
        np.cumsum(self.counts[:-1], out=first[1:])
        self.row_addresses = self.structs.ctypes.data + first * np.uintp(self.structs.itemsize)
        self.row_addresses[self.counts == 0] = 0
        if flat:
            self._fill(flat)

    def _fill(self, flat: list) -> None:
        s = self.structs[:len(flat)]
        names = [name.encode("utf-8") + b"\0" for name, _, _ in flat]
        self.names = b"".join(names)
        s["name"] = _address(self.names) + _starts([len(x) for x in names])
        s["dtype"] = [code for _, _, code in flat]
        ndims = [a.ndim for _, a, _ in flat]
        s["ndim"] = ndims
        self.shapes = np.array([d for _, a, _ in flat for d in a.shape] or [0], np.uint64)
        s["shape"] = self.shapes.ctypes.data + 8 * _starts(ndims)
        small = [a.nbytes < _COPY_BELOW for _, a, _ in flat]
        sizes = [a.nbytes if k else 0 for (_, a, _), k in zip(flat, small)]
        self.data = b"".join([a.tobytes() for (_, a, _), k in zip(flat, small) if k])
        data = _address(self.data) + _starts(sizes)
        self.large = [a for (_, a, _), k in zip(flat, small) if not k]
        for i in [i for i, k in enumerate(small) if not k]:
            data[i] = flat[i][1].ctypes.data
        s["data"] = data
        s["data_len"] = [a.nbytes for _, a, _ in flat]


class UniformBatch:
    """The experiences of a batch described a column at a time, when every
    tree is a flat dict with the same keys in the same order and each key
    holds the same kind of value in every row (the usual RL step: arrays of
    one dtype and shape, and scalars). Each array key is stacked into one
    matrix that every row's tensor points into, and the values JSON is
    written by ``JsonRows``: byte for byte what ``describe_experience``
    gives row by row (python/tests/test_batches.py checks it). ``of`` is
    None for any other batch, which then goes row by row."""

    @classmethod
    def of(cls, trees: list):
        first = trees[0] if trees else None
        if type(first) is not dict or not first or (len(first) == 1 and next(iter(first)) in _MARKERS):
            return None
        keys = list(first)
        if not all(type(k) is str for k in keys) or not all(type(t) is dict and list(t) == keys for t in trees):
            return None
        batch = cls(len(trees))
        if not all(batch.add(key, [t[key] for t in trees]) for key in keys):
            return None
        batch.values_json = batch.json.rows()
        batch.tensor_structs()
        return batch

    def __init__(self, count: int) -> None:
        self.count = count
        self.json = JsonRows(count, ",", ":")
        self.arrays: list = []  # (name, stacked matrix, dtype code)

    def add(self, key: str, column: list) -> bool:
        if type(column[0]) is not np.ndarray:
            return self.json.add(key, column)
        dtype, shape = column[0].dtype, column[0].shape
        code = _DTYPES.get(dtype)
        if (code is None or not key or key == "__metadata__" or column[0].nbytes >= _COPY_BELOW
                or not all(type(a) is np.ndarray and a.dtype == dtype and a.shape == shape for a in column)):
            return False
        self.arrays.append((key, np.stack(column), code))
        self.json.key(key)
        self.json.fixed('{"$tensor":' + encode_basestring_ascii(key) + "}")
        return True

    def tensor_structs(self) -> None:
        from ._marshal import _struct_dtype

        per_row = len(self.arrays)
        self.counts = np.full(self.count, per_row, np.uintp)
        self.structs = np.zeros((self.count, max(per_row, 1)), _struct_dtype(n.Tensor))
        self.names = b"".join(name.encode("utf-8") + b"\0" for name, _, _ in self.arrays)
        self.shapes = np.array([d for _, m, _ in self.arrays for d in m.shape[1:]] or [0], np.uint64)
        name_at, shape_at = _address(self.names), self.shapes.ctypes.data
        rows = np.arange(self.count, dtype=np.uintp)
        for k, (name, matrix, code) in enumerate(self.arrays):
            s = self.structs[:, k]
            row_bytes = matrix.nbytes // self.count
            s["name"], s["dtype"], s["ndim"], s["shape"] = name_at, code, matrix.ndim - 1, shape_at
            s["data"] = matrix.ctypes.data + rows * np.uintp(row_bytes)
            s["data_len"] = row_bytes
            name_at += len(name.encode("utf-8")) + 1
            shape_at += 8 * (matrix.ndim - 1)
        self.row_addresses = self.structs.ctypes.data + rows * np.uintp(self.structs.strides[0])
        if per_row == 0:
            self.row_addresses[:] = 0


def _starts(lengths: list) -> np.ndarray:
    starts = np.zeros(len(lengths), np.uintp)
    np.cumsum(lengths[:-1], out=starts[1:])
    return starts


def _address(data: bytes) -> int:
    return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0


def encode_experience(data: Any) -> bytes:
    """Encodes an array, a dict/list tree or bytes. Bytes pass through as
    they are; everything else becomes a gmstore experience."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    tensors, values_json = describe_experience(data)
    out = ctypes.POINTER(n.Buffer)()
    raise_for(n.lib().gm_experience_encode(tensor_array(tensors), len(tensors), values_json, ctypes.byref(out)))
    try:
        return ctypes.string_at(out.contents.data, out.contents.len)
    finally:
        n.lib().gm_buffer_free(out)


def _rebuild(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            (key, name), = value.items()
            if key == "$tensor" and isinstance(name, str):
                array = arrays[name]
                return array[()] if array.ndim == 0 else array
            if key == "$bytes" and isinstance(name, str):
                return arrays[name].tobytes()
        return {k: _rebuild(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebuild(v, arrays) for v in value]
    return value


def is_pickle(data: bytes) -> bool:
    """Whether the bytes look like a pickle (protocol 2 or later)."""
    return bytes(data[:2]) in _PICKLE_PREFIXES


NOT_AN_EXPERIENCE = object()
"""What ``decode_gmstore_experience`` returns for bytes in any other format."""


def decode_gmstore_experience(data: bytes) -> Any:
    """The experience in ``data`` if it is one in gmstore's format
    (recognised by the format's own header, not by the absence of another's),
    else ``NOT_AN_EXPERIENCE``. Arrays are read-only views of the bytes."""
    buf = bytes(data)
    exp = ctypes.POINTER(n.Experience)()
    if n.lib().gm_experience_decode(buf, len(buf), ctypes.byref(exp)) != n.GM_OK:
        return NOT_AN_EXPERIENCE
    try:
        arrays = {}
        values_json = exp.contents.values_json
        for i in range(exp.contents.count):
            info = exp.contents.tensors[i]
            dtype = _CODES[info.dtype]
            shape = tuple(info.shape[d] for d in range(info.ndim))
            count = info.len // dtype.itemsize
            arrays[info.name.decode("utf-8")] = np.frombuffer(buf, dtype=dtype, count=count,
                                                              offset=info.offset).reshape(shape)
    finally:
        n.lib().gm_experience_free(exp)
    if values_json is None:
        return arrays
    return _rebuild(json.loads(values_json), arrays)


def decode_experience(data: bytes, allow_pickle: bool = False) -> Any:
    """Gives back what ``encode_experience`` stored: arrays (read-only views
    of ``data``, exact dtype and shape), dicts, lists and scalars. Bytes that
    are not an experience come back unchanged, except legacy pickles, which
    are loaded only with ``allow_pickle=True`` because unpickling runs code."""
    decoded = decode_gmstore_experience(data)
    if decoded is not NOT_AN_EXPERIENCE:
        return decoded
    buf = bytes(data)
    if is_pickle(buf):
        if not allow_pickle:
            raise ValueError("experience_data: this looks like a pickle from another implementation; "
                             "loading it can run arbitrary code. Pass allow_pickle=True only if you "
                             "trust this database.")
        return pickle.loads(buf)  # noqa: S301 - explicitly requested by the caller
    return buf
