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
from typing import Any

import numpy as np

from . import _native as n
from .errors import invalid, raise_for

_DTYPES = {
    np.dtype(np.bool_): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3, np.dtype(np.uint16): 4,
    np.dtype(np.int16): 5, np.dtype(np.float16): 6, np.dtype(np.uint32): 8, np.dtype(np.int32): 9,
    np.dtype(np.float32): 10, np.dtype(np.uint64): 11, np.dtype(np.int64): 12, np.dtype(np.float64): 13,
}
_CODES = {code: dtype.newbyteorder("<") for dtype, code in _DTYPES.items()}
# bfloat16 has no numpy dtype: its raw bits come back as little-endian uint16.
_CODES[7] = np.dtype("<u2")

_MARKERS = ("$tensor", "$bytes")
# json.dumps with keyword arguments builds a new encoder per call; reuse one.
_JSON = json.JSONEncoder(allow_nan=False, separators=(",", ":"))
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
        if kind is str or kind is int or kind is bool or value is None:
            return value
        if kind is float:
            return value if math.isfinite(value) else self.tensor(path, np.asarray(value))
        if kind is dict:
            if len(value) == 1 and next(iter(value)) in _MARKERS:
                raise invalid(f"experience_data{path}: a dict whose only key is "
                              f"{next(iter(value))!r} is reserved by the format")
            out = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise invalid(f"experience_data{path}: dict keys must be str, got {key!r}", type_error=True)
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


def encode_experience(data: Any) -> bytes:
    """Encodes an array, a dict/list tree or bytes. Bytes pass through as
    they are; everything else becomes a gmstore experience."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    enc = _Encoder()
    try:
        values = enc.walk(data, "")
    except RecursionError:
        raise invalid("experience_data: nested too deeply to store (does it contain itself?)") from None
    count = len(enc.tensors)
    dims = [d for _, a, _ in enc.tensors for d in a.shape]
    shapes = (ctypes.c_uint64 * max(len(dims), 1))(*dims)
    shape_addr = ctypes.addressof(shapes)
    tensors = (n.Tensor * max(count, 1))()
    keep = []  # every buffer the structs point into stays alive through the call
    for i, (name, array, code) in enumerate(enc.tensors):
        nbytes = array.nbytes
        data = array.tobytes() if nbytes < _COPY_BELOW else array.ctypes.data
        keep.append((name := name.encode("utf-8"), data))
        tensors[i] = (name, code, array.ndim, shape_addr, data, nbytes)
        shape_addr += 8 * array.ndim
    out = ctypes.POINTER(n.Buffer)()
    values_json = _JSON.encode(values).encode("utf-8")
    status = n.lib().gm_experience_encode(ctypes.addressof(tensors), count, values_json, ctypes.byref(out))
    raise_for(status)
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
