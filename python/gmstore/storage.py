"""``SQLiteStorage``: the seed document's API over libgmstore."""

from __future__ import annotations

import ctypes
import json
import secrets
import struct
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native as n
from ._marshal import (InputColumns, ListResult, SlowPath, _BatchColumns, _json_object, _json_object_text, _limit, _number,
                       _opt_number, _text, _choice, _integer)
from .errors import InvalidArgumentError, SQLiteStorageError, invalid, raise_for
from .experience import (NOT_AN_EXPERIENCE, decode_experience, decode_gmstore_experience, describe_experience,
                         encode_experience, tensor_array, TensorColumns, UniformBatch)
from .replay import ReplaySampler, sampler_config


@dataclass
class Episode:
    id: Optional[int] = None
    timestamp: float = 0.0
    experience_data: bytes = b""
    performance_score: float = 0.0
    context_hash: str = ""
    metadata: Dict[str, Any] = None

    def experience(self, allow_pickle: bool = False) -> Any:
        """The experience as stored: arrays, dicts and values, or bytes."""
        return decode_experience(self.experience_data, allow_pickle=allow_pickle)


class Embedding(bytes):
    """A concept's embedding: little-endian float32 bytes. A bytes subclass,
    so code that treats it as bytes keeps working, and so
    ``_deserialize_array`` knows it holds floats and nothing else (float data
    can start with any two bytes, a pickle prefix among them)."""

    __slots__ = ()


_FLOAT32 = np.dtype("<f4")
# gm_episode as the C compiler lays it out (tests/test_abi_mirror.py checks it)
# gm_retention_policy.order codes, by the names the Python API takes.
_EVICTION_ORDERS = {"oldest": 0, "lowest_score": 1, "lowest_priority": 2}


def _evictions(e: "n.Evictions") -> Dict[str, int]:
    return {"by_age": e.by_age, "by_top_k": e.by_top_k, "by_count": e.by_count, "by_bytes": e.by_bytes,
            "total": e.by_age + e.by_top_k + e.by_count + e.by_bytes}


def _policy_dict(p: "n.RetentionPolicy") -> Dict[str, Any]:
    """A policy as set_retention_policy's keyword arguments."""
    order = {code: name for name, code in _EVICTION_ORDERS.items()}[p.order]
    protect = {p.protect_key.decode("utf-8"): json.loads(p.protect_value)} if p.protect_key else None
    return {"max_episodes": p.max_episodes if p.has_max_episodes else None,
            "max_experience_bytes": p.max_experience_bytes if p.has_max_experience_bytes else None,
            "max_age_seconds": p.max_age_seconds if p.has_max_age_seconds else None,
            "keep_top_k": p.keep_top_k if p.has_keep_top_k else None,
            "top_k_per_context": bool(p.top_k_per_context), "protect": protect, "order": order,
            "eviction_batch": p.eviction_batch}


_EPISODE = struct.Struct("<qdddQQQQQQ")


class _ReadBuffer(threading.local):
    """This thread's buffer for results written into caller memory
    (``gm_get_episode_into``), grown to the size the library asks for.
    ``parts`` is (address, capacity, size out-parameter, byte view): one
    attribute read, as thread-local attributes are slow to read."""

    def __init__(self) -> None:
        self.size = ctypes.c_size_t()
        self.parts = self._allocate(1 << 16)

    def _allocate(self, capacity: int):
        self.block = (ctypes.c_char * capacity)()
        return ctypes.addressof(self.block), capacity, ctypes.byref(self.size), memoryview(self.block).cast("B")

    def grow(self):
        self.parts = self._allocate(max(self.size.value, 2 * self.parts[1]))
        return self.parts


_read_buffer = _ReadBuffer()


@dataclass
class Concept:
    id: Optional[int] = None
    name: str = ""
    embedding: bytes = b""
    creation_time: float = 0.0
    access_count: int = 0
    last_accessed: float = 0.0
    metadata: Dict[str, Any] = None

    def embedding_array(self) -> np.ndarray:
        """The embedding as a float32 vector (a view of ``embedding``)."""
        return np.frombuffer(self.embedding, dtype="<f4")


@dataclass
class LearningEvent:
    id: Optional[int] = None
    task_type: str = ""
    performance_delta: float = 0.0
    strategy_used: str = ""
    timestamp: float = 0.0
    parameters: Dict[str, Any] = None


@dataclass
class StrategySummary:
    """One strategy of a task with the uncertainty of its mean delta. With
    one use, ``std_dev`` and ``std_error`` are NaN and the 95% interval is
    (-inf, inf)."""

    strategy: str
    count: int
    mean: float
    std_dev: float
    std_error: float
    ci_low: float
    ci_high: float
    first_used: float
    last_used: float


@dataclass
class Suggestion:
    """The strategy to try next: ``score`` is its upper confidence bound
    (UCB1; inf when never tried) or its posterior draw (Thompson);
    ``candidate_index`` its position in the candidates given, else None."""

    strategy: str
    score: float
    count: int
    mean: float
    candidate_index: Optional[int]


@dataclass
class ExecuteResult:
    """What ``_transaction().execute`` returns: the rows it changed."""

    rowcount: int


class _TransactionConnection:
    """What ``_transaction()`` yields: ``execute(sql, params)`` with bound
    parameters, joining the open transaction, as in the seed's examples."""

    def __init__(self, storage: "SQLiteStorage"):
        self._storage = storage

    def execute(self, sql: str, params: Sequence[Any] = ()) -> ExecuteResult:
        return self._storage._execute(sql, params)


class SQLiteStorage:
    """Persistent memory in one SQLite file: episodes, concepts with
    embeddings, learning events and a concept graph. Safe to share between
    threads; calls release the GIL while the library works."""

    def __init__(self, db_path: Union[str, Path] = "godly_ai.db", backup_interval: int = 3600,
                 max_backups: int = 10, enable_wal: bool = True, connection_timeout: float = 30.0,
                 knn_snapshot: Optional[Union[str, Path]] = None):
        """``knn_snapshot``: a file that keeps the k-NN matrix between runs
        (see ``set_knn_snapshot``); None keeps it in memory only."""
        # A file path, ":memory:", or a PostgreSQL connection string (kept as
        # given: a URL is not a path).
        is_server = str(db_path).startswith(("postgresql://", "postgres://")) or "dbname=" in str(db_path)
        self.db_path = db_path if str(db_path) == ":memory:" or is_server else Path(db_path)
        self._lib = n.lib()
        opts = n.Options()
        raise_for(self._lib.gm_options_init(ctypes.byref(opts)))
        opts.backup_interval_secs = int(backup_interval)
        opts.max_backups = int(max_backups)
        opts.enable_wal = 1 if enable_wal else 0
        opts.connection_timeout_secs = _number(connection_timeout, "connection_timeout")
        handle = ctypes.c_void_p()
        raise_for(self._lib.gm_open(_text(str(db_path), "db_path"), ctypes.byref(opts), ctypes.byref(handle)))
        self._handle = handle
        self._close_lock = threading.Lock()
        if knn_snapshot is not None:
            try:
                self.set_knn_snapshot(knn_snapshot)
            except BaseException:
                self.close()
                raise

    # ---- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        """Closes the store; later calls raise SQLiteStorageError. Idempotent."""
        with self._close_lock:
            if self._handle is not None:
                self._lib.gm_close(self._handle)
                self._handle = None

    def __enter__(self) -> "SQLiteStorage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    @property
    def _h(self) -> ctypes.c_void_p:
        handle = self._handle
        if handle is None:
            raise SQLiteStorageError(n.GM_ERR_MISUSE, "store: the storage is closed")
        return handle

    # ---- episodes ----------------------------------------------------------

    def store_episode(self, experience_data: Any, performance_score: float, context_hash: str,
                      timestamp: Optional[float] = None, metadata: Optional[Dict[str, Any]] = None) -> int:
        """Stores an episode; ``experience_data`` may be an array, a dict of
        arrays and values, or bytes. Returns its id. A tree is described to
        the library, which encodes and stores it in the same call."""
        score, context = _number(performance_score, "performance_score"), _text(context_hash, "context_hash")
        meta, stamp = _json_object(metadata, "metadata"), _opt_number(timestamp, "timestamp")
        out = ctypes.c_int64()
        if isinstance(experience_data, (bytes, bytearray, memoryview)):
            data = bytes(experience_data)
            item = n.EpisodeInput(data, len(data), score, 0.0 if stamp is None else _number(timestamp, ""),
                                  context, meta, stamp is not None)
            raise_for(self._lib.gm_store_episode(self._h, ctypes.byref(item), ctypes.byref(out)))
        else:
            tensors, values = describe_experience(experience_data)
            raise_for(self._lib.gm_store_episode_tensors(self._h, tensor_array(tensors), len(tensors), values, score,
                                                         context, meta, stamp, ctypes.byref(out)))
        return out.value

    def store_episodes(self, episodes: Sequence[Dict[str, Any]]) -> List[int]:
        """Stores many episodes (dicts of ``store_episode``'s arguments) in
        one transaction, all or none. Returns their ids in order. The C
        structs are filled column by column with numpy; experience trees
        are encoded by the library during the insert."""
        raw = (bytes, bytearray, memoryview)
        if any(isinstance(e.get("experience_data"), raw) for e in episodes if isinstance(e, dict)):
            return self._store_encoded_episodes(episodes)
        try:
            c = InputColumns(episodes)
            c.text("context_hash"), c.number("performance_score"), c.json_objects("metadata"), c.timestamps()
            trees = c.values("experience_data")
            uniform = UniformBatch.of(trees)
            if uniform is None:
                described = [describe_experience(e) for e in trees]
        except (SlowPath, InvalidArgumentError):
            # the row-by-row path finds the bad row and names it
            return self._store_encoded_episodes(episodes)
        if uniform is not None:
            tensors, values = uniform, [v.encode("ascii") for v in uniform.values_json]
        else:
            tensors, values = TensorColumns([t for t, _ in described]), [v for _, v in described]
        c.blobs("values_json", values)
        c.columns.update(tensors=tensors.row_addresses, tensor_count=tensors.counts)
        return c.store(self._lib.gm_store_episodes_tensors, self._h, n.TensorEpisodeInput)

    def _store_encoded_episodes(self, episodes: Sequence[Dict[str, Any]]) -> List[int]:
        """``store_episodes`` when some experiences are raw bytes, stored as
        they are: each tree is encoded first."""
        b = _BatchColumns(episodes, "episodes", lambda e: (
            (encode_experience(e["experience_data"]), _text(e["context_hash"], "context_hash"),
             _json_object(e.get("metadata"), "metadata")),
            _number(e["performance_score"], "performance_score")))
        return b.store(self._lib.gm_store_episodes, self._h, n.EpisodeInput, {
            "experience_data": b.starts[0::3], "experience_len": [len(p) for p in b.parts[0::3]],
            "context_hash": b.starts[1::3], "metadata": b.starts[2::3], "performance_score": b.numbers})

    def _episodes(self, list_ptr) -> List[Episode]:
        r = ListResult(list_ptr, n.Episode)
        return list(map(Episode, r.column("id"), r.column("timestamp"), r.blobs("experience_data", "experience_len"),
                        r.column("performance_score"), r.texts("context_hash"), r.json_objects("metadata")))

    def retrieve_episode(self, episode_id: int) -> Optional[Episode]:
        """The episode with this id, or None. Read in one call into this
        thread's buffer (grown when an episode needs more), nothing to free."""
        lib, handle, episode_id = self._lib, self._h, int(episode_id)
        address, capacity, size_ref, view = _read_buffer.parts
        status = lib.gm_get_episode_into(handle, episode_id, address, capacity, size_ref)
        if status == n.GM_ERR_BUFFER_TOO_SMALL:
            address, capacity, size_ref, view = _read_buffer.grow()
            status = lib.gm_get_episode_into(handle, episode_id, address, capacity, size_ref)
        if status == n.GM_ERR_NOT_FOUND:
            return None
        raise_for(status)
        id_, stamp, score, _, data, data_len, context, context_len, meta, meta_len = _EPISODE.unpack_from(view)
        data, context, meta = data - address, context - address, meta - address
        return Episode(id_, stamp, view[data:data + data_len].tobytes(), score,
                       str(view[context:context + context_len], "utf-8"),
                       _json_object_text(str(view[meta:meta + meta_len], "utf-8")))

    def get_episodes_by_context(self, context_hash: str, limit: int = 100,
                                min_score: Optional[float] = None) -> List[Episode]:
        """Episodes of a context, newest first; only score >= min_score if given."""
        out = ctypes.POINTER(n.EpisodeList)()
        raise_for(self._lib.gm_get_episodes_by_context(self._h, _text(context_hash, "context_hash"), _limit(limit),
                                                       _opt_number(min_score, "min_score"), ctypes.byref(out)))
        try:
            return self._episodes(out)
        finally:
            self._lib.gm_episode_list_free(out)

    def get_recent_episodes(self, time_window: float = 3600.0, limit: int = 100) -> List[Episode]:
        """Episodes of the last ``time_window`` seconds, newest first."""
        out = ctypes.POINTER(n.EpisodeList)()
        raise_for(self._lib.gm_get_recent_episodes(self._h, _number(time_window, "time_window"), _limit(limit),
                                                   ctypes.byref(out)))
        try:
            return self._episodes(out)
        finally:
            self._lib.gm_episode_list_free(out)

    # ---- concepts ----------------------------------------------------------

    def store_concept(self, name: str, embedding: Any, metadata: Optional[Dict[str, Any]] = None,
                      creation_time: Optional[float] = None) -> int:
        """Stores a concept, or updates the one with this name (keeping its id
        and access counts). ``embedding``: anything ``numpy.asarray`` takes,
        stored as float32. Returns the concept id."""
        try:
            vector = np.asarray(embedding, dtype="<f4").reshape(-1)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"embedding: not a numeric vector ({e})") from e
        out = ctypes.c_int64()
        raise_for(self._lib.gm_store_concept(
            self._h, _text(name, "name"), vector.tobytes(), vector.size,
            _json_object(metadata, "metadata"), _opt_number(creation_time, "creation_time"), ctypes.byref(out)))
        return out.value

    @staticmethod
    def _concept(c: n.Concept) -> Concept:
        return Concept(id=c.id, name=ctypes.string_at(c.name, c.name_len).decode("utf-8"),
                       embedding=Embedding(ctypes.string_at(c.embedding, c.embedding_len * 4)),
                       creation_time=c.creation_time, access_count=c.access_count, last_accessed=c.last_accessed,
                       metadata=json.loads(ctypes.string_at(c.metadata, c.metadata_len)))

    def _one_concept(self, status: int, out) -> Optional[Concept]:
        if status == n.GM_ERR_NOT_FOUND:
            return None
        raise_for(status)
        try:
            return self._concept(out.contents)
        finally:
            self._lib.gm_concept_free(out)

    def retrieve_concept(self, concept_id: int) -> Optional[Concept]:
        """The concept with this id, or None. Not counted as an access."""
        out = ctypes.POINTER(n.Concept)()
        return self._one_concept(self._lib.gm_get_concept(self._h, int(concept_id), ctypes.byref(out)), out)

    def retrieve_concept_by_name(self, name: str) -> Optional[Concept]:
        """The concept with this name, or None; counts an access atomically."""
        out = ctypes.POINTER(n.Concept)()
        return self._one_concept(
            self._lib.gm_get_concept_by_name(self._h, _text(name, "name"), ctypes.byref(out)), out)

    def search_concepts(self, query: str, limit: int = 100, literal: bool = False) -> List[Concept]:
        """Concepts whose name contains ``query``, most accessed first; ""
        matches all. As in the seed, ``%`` and ``_`` are LIKE wildcards
        (``"level_1"`` also finds ``"levelX1"``); with ``literal=True`` every
        character, ``_`` and ``%`` included, matches only itself. ASCII
        letters match either case."""
        out = ctypes.POINTER(n.ConceptList)()
        mode = n.GM_MATCH_LITERAL if literal else n.GM_MATCH_LIKE
        raise_for(self._lib.gm_search_concepts_matching(self._h, _text(query, "query"), mode, _limit(limit),
                                                        ctypes.byref(out)))
        try:
            r = ListResult(out, n.Concept)
            return list(map(Concept, r.column("id"), r.texts("name"), self._embeddings(out, r),
                            r.column("creation_time"), r.column("access_count"), r.column("last_accessed"),
                            r.json_objects("metadata")))
        finally:
            self._lib.gm_concept_list_free(out)

    @staticmethod
    def _embeddings(out, r: ListResult) -> List[Embedding]:
        """Every concept's embedding, cut straight from the list's float
        arena (one copy per embedding, none of the whole arena)."""
        if r.len == 0:
            return []
        floats = out.contents.floats
        view = memoryview((ctypes.c_char * (out.contents.floats_len * 4)).from_address(floats)).cast("B")
        starts = ((r.items["embedding"] - np.uintp(floats))).tolist()
        ends = (r.items["embedding"] - np.uintp(floats) + r.items["embedding_len"] * 4).tolist()
        return [Embedding(view[a:b]) for a, b in zip(starts, ends)]

    @staticmethod
    def _deserialize_array(data: bytes) -> Any:
        """A concept embedding as a float32 numpy vector, or an experience
        as its arrays and values. An ``Embedding`` (what concepts carry) is
        always floats. Other bytes are an experience only if they are one
        in gmstore's own format; anything else is read as float32 values
        (never unpickled: use ``Episode.experience(allow_pickle=True)`` for
        legacy pickles)."""
        if type(data) is Embedding:
            return np.frombuffer(data, _FLOAT32)
        decoded = decode_gmstore_experience(data)
        if decoded is not NOT_AN_EXPERIENCE:
            return decoded
        if len(data) % 4:
            raise invalid(f"data: {len(data)} bytes are neither a gmstore experience nor float32 values")
        return np.frombuffer(data, dtype="<f4")

    # ---- semantic search -----------------------------------------------------

    _METRICS = {"cosine": n.GM_METRIC_COSINE, "dot": n.GM_METRIC_DOT, "l2": n.GM_METRIC_L2}

    def _search_args(self, metric: str, name_pattern: Optional[str], min_access_count: Optional[int],
                     name_literal: bool):
        if metric not in self._METRICS:
            raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT,
                                       f"metric: {metric!r} is not one of {sorted(self._METRICS)}")
        flt = n.SearchFilter()
        if name_pattern is not None:
            flt.name_pattern = _text(name_pattern, "name_pattern")
            flt.name_match = n.GM_MATCH_LITERAL if name_literal else n.GM_MATCH_LIKE
        if min_access_count is not None:
            flt.min_access_count, flt.has_min_access_count = int(min_access_count), 1
        return self._METRICS[metric], flt

    @staticmethod
    def _vectors(values: Any, field_name: str) -> np.ndarray:
        try:
            return np.ascontiguousarray(np.asarray(values, dtype="<f4"))
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"{field_name}: not numeric ({e})") from e

    def _neighbors(self, out, groups: int) -> List[List[Tuple[int, str, float]]]:
        try:
            r = ListResult(out, n.Neighbor)
            result: List[List[Tuple[int, str, float]]] = [[] for _ in range(groups)]
            for group, hit in zip(r.column("query"), zip(r.column("id"), r.texts("name"), r.column("score"))):
                result[group].append(hit)
            return result
        finally:
            self._lib.gm_neighbor_list_free(out)

    def set_knn_snapshot(self, path: Optional[Union[str, Path]]) -> None:
        """Keeps the k-NN matrix in the file at ``path`` (None: in no file).
        The first search after opening reads the file instead of every
        concept, if it is an intact snapshot of this store, and applies
        what changed since from the change log; otherwise it builds the
        matrix as before. ``close`` writes it back if its rows changed.
        The file is a cache: delete it at will."""
        raw = None if path is None else _text(str(path), "path")
        raise_for(self._lib.gm_set_knn_snapshot(self._h, raw))

    def save_knn_snapshot(self) -> bool:
        """Writes the k-NN matrix to the snapshot file now, if its rows
        changed since it was loaded or saved; returns whether it wrote."""
        out = ctypes.c_uint8()
        raise_for(self._lib.gm_save_knn_snapshot(self._h, ctypes.byref(out)))
        return bool(out.value)

    def knn_matrix_source(self) -> str:
        """Where the k-NN matrix came from: ``"not loaded"``, ``"built"``
        (every row read) or ``"snapshot"`` (the snapshot file)."""
        out = ctypes.c_uint32()
        raise_for(self._lib.gm_knn_matrix_source(self._h, ctypes.byref(out)))
        return {n.GM_MATRIX_BUILT: "built", n.GM_MATRIX_SNAPSHOT: "snapshot"}.get(out.value, "not loaded")

    def sampler(self, alpha: Optional[float] = 0.6, context: Optional[str] = None, min_score: Optional[float] = None,
                max_score: Optional[float] = None, seed: int = 0) -> ReplaySampler:
        """A replay sampler over this store's episodes (optionally one
        context, a score range): drawn in proportion to priority**alpha, or
        uniformly with ``alpha=None``. An episode without a priority of its
        own counts at the current maximum. See ``gmstore.replay``."""
        config = sampler_config(alpha, context, min_score, max_score, seed)
        out = ctypes.c_void_p()
        raise_for(self._lib.gm_sampler_new(self._h, ctypes.byref(config), ctypes.byref(out)))
        return ReplaySampler(self, out.value)

    def set_episode_priorities(self, ids: Any, priorities: Any) -> int:
        """Gives episodes priorities of their own (for actors that compute
        one as they store); ids that are not episodes are skipped. Returns
        how many were given one."""
        ids = np.ascontiguousarray(ids, np.int64).ravel()
        values = np.ascontiguousarray(priorities, np.float64).ravel()
        if len(ids) != len(values):
            raise invalid(f"priorities: {len(values)} priorities for {len(ids)} ids")
        stored = ctypes.c_size_t()
        raise_for(self._lib.gm_set_episode_priorities(self._h, ids.ctypes.data if len(ids) else None,
                                                      values.ctypes.data if len(ids) else None, len(ids),
                                                      ctypes.byref(stored)))
        return stored.value

    def set_retention_policy(self, max_episodes: Optional[int] = None, max_experience_bytes: Optional[int] = None,
                             max_age_seconds: Optional[float] = None, keep_top_k: Optional[int] = None,
                             top_k_per_context: bool = False, protect: Optional[Dict[str, Any]] = None,
                             order: str = "oldest", eviction_batch: int = 0) -> Dict[str, int]:
        """Sets the store's retention policy and applies it at once; every
        later episode write applies it in its own transaction. Limits cover
        the evictable episodes: all but ``protect`` ones, a one-entry dict
        of a metadata key and the value that marks them (``{"demo": True}``).
        ``order`` picks who goes first under the count and byte limits:
        ``"oldest"``, ``"lowest_score"`` or ``"lowest_priority"``;
        ``eviction_batch`` evicts at least that many at once when they are
        exceeded (0: exactly down to the limit), sparing a store at its cap
        a delete per insert. With no limit at all the policy is removed.
        Returns what was evicted, by rule."""
        if protect is not None and (not isinstance(protect, dict) or len(protect) != 1):
            raise invalid(f"protect: must be a dict of one metadata key and its value, got {protect!r}")
        p = n.RetentionPolicy()
        self._lib.gm_retention_policy_init(ctypes.byref(p))
        p.order = _choice(order, _EVICTION_ORDERS, "order")
        for name, value in (("max_episodes", max_episodes), ("max_experience_bytes", max_experience_bytes),
                            ("keep_top_k", keep_top_k)):
            if value is not None:
                setattr(p, "has_" + name, 1)
                setattr(p, name, _integer(value, name))
        if max_age_seconds is not None:
            p.has_max_age_seconds = 1
            p.max_age_seconds = _number(max_age_seconds, "max_age_seconds")
        p.top_k_per_context = 1 if top_k_per_context else 0
        p.eviction_batch = _integer(eviction_batch, "eviction_batch")
        if protect is not None:
            (key, value), = protect.items()
            p.protect_key = _text(key, "protect")
            p.protect_value = json.dumps(value).encode("utf-8")
        evicted = n.Evictions()
        raise_for(self._lib.gm_set_retention_policy(self._h, ctypes.byref(p), ctypes.byref(evicted)))
        return _evictions(evicted)

    def clear_retention_policy(self) -> None:
        """Removes the retention policy: nothing is evicted any more."""
        raise_for(self._lib.gm_set_retention_policy(self._h, None, None))

    def get_retention_policy(self) -> Optional[Dict[str, Any]]:
        """The policy in force as the keyword arguments of
        ``set_retention_policy``, or None."""
        return self.retention_status()["policy"]

    def retention_status(self) -> Dict[str, Any]:
        """The policy in force (or None), the evictable episodes and their
        experience bytes as the database counts them, and every eviction
        so far."""
        out = ctypes.POINTER(n.RetentionStatus)()
        raise_for(self._lib.gm_get_retention(self._h, ctypes.byref(out)))
        try:
            s = out.contents
            return {"policy": _policy_dict(s.policy) if s.has_policy else None, "episodes": s.episodes,
                    "experience_bytes": s.experience_bytes, "evicted_total": s.evicted_total}
        finally:
            self._lib.gm_retention_status_free(out)

    def last_evictions(self) -> Dict[str, int]:
        """What this thread's last episode write evicted, by rule."""
        evicted = n.Evictions()
        raise_for(self._lib.gm_last_evictions(self._h, ctypes.byref(evicted)))
        return _evictions(evicted)

    def prune(self, dry_run: bool = False) -> Dict[str, Any]:
        """Brings the store within its policy (after writes by other
        programs, or as ``max_age_seconds`` passes): ``{"evicted": {...by
        rule}, "ids": [...]}``. With ``dry_run`` nothing changes."""
        out = ctypes.POINTER(n.Pruned)()
        raise_for(self._lib.gm_prune(self._h, 1 if dry_run else 0, ctypes.byref(out)))
        try:
            r = out.contents
            ids = list((ctypes.c_int64 * r.count).from_address(r.ids)) if r.count else []
            return {"evicted": _evictions(r.evictions), "ids": ids}
        finally:
            self._lib.gm_pruned_free(out)

    def nearest_concepts(self, query: Any, k: int = 10, metric: str = "cosine", name_pattern: Optional[str] = None,
                         min_access_count: Optional[int] = None,
                         name_literal: bool = False) -> List[Tuple[int, str, float]]:
        """The k concepts nearest to ``query`` as (id, name, score), best
        first: highest cosine or dot, or smallest Euclidean distance for
        ``metric="l2"``. Exact; filters apply during the scan. ``name_pattern``
        is a LIKE pattern, or plain text with ``name_literal=True``."""
        code, flt = self._search_args(metric, name_pattern, min_access_count, name_literal)
        q = self._vectors(query, "query").reshape(-1)
        out = ctypes.POINTER(n.NeighborList)()
        raise_for(self._lib.gm_nearest_concepts(self._h, q.ctypes.data, q.size, code, _limit(k), ctypes.byref(flt),
                                                ctypes.byref(out)))
        return self._neighbors(out, 1)[0]

    def nearest_concepts_batch(self, queries: Any, k: int = 10, metric: str = "cosine",
                               name_pattern: Optional[str] = None,
                               min_access_count: Optional[int] = None,
                               name_literal: bool = False) -> List[List[Tuple[int, str, float]]]:
        """``nearest_concepts`` for every row of a 2-D array, in one call
        computed as blocked matrix products."""
        code, flt = self._search_args(metric, name_pattern, min_access_count, name_literal)
        qs = self._vectors(queries, "queries")
        if qs.ndim != 2:
            raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"queries: must be 2-D, got shape {qs.shape}")
        out = ctypes.POINTER(n.NeighborList)()
        raise_for(self._lib.gm_nearest_concepts_batch(self._h, qs.ctypes.data, qs.shape[0], qs.shape[1], code,
                                                      _limit(k), ctypes.byref(flt), ctypes.byref(out)))
        return self._neighbors(out, qs.shape[0])

    def build_similarity_graph(self, threshold: float = 0.8, top_k: int = 0,
                               relationship_type: str = "similar_to") -> int:
        """Connects concepts with cosine similarity >= threshold (each to its
        ``top_k`` best if given), strength = similarity, in one transaction.
        Returns the number of edges written."""
        out = ctypes.c_int64()
        raise_for(self._lib.gm_build_similarity_graph(self._h, _number(threshold, "threshold"), _limit(top_k),
                                                      _text(relationship_type, "relationship_type"),
                                                      ctypes.byref(out)))
        return out.value

    def concept_neighborhood(self, concept_id: int, max_hops: int = 2, relationship_type: Optional[str] = None,
                             min_strength: float = 0.0) -> List[Tuple[int, str, int]]:
        """Concepts reachable within ``max_hops`` as (id, name, hops)."""
        out = ctypes.POINTER(n.ReachedList)()
        kind = None if relationship_type is None else _text(relationship_type, "relationship_type")
        raise_for(self._lib.gm_concept_neighborhood(self._h, int(concept_id), _limit(max_hops), kind,
                                                    _number(min_strength, "min_strength"), ctypes.byref(out)))
        try:
            r = ListResult(out, n.Reached)
            return list(zip(r.column("id"), r.texts("name"), r.column("hops")))
        finally:
            self._lib.gm_reached_list_free(out)

    def strongest_path(self, from_id: int, to_id: int, relationship_type: Optional[str] = None,
                       min_strength: float = 0.0) -> Optional[Tuple[List[int], float]]:
        """(concept ids along the path, product of strengths) maximising the
        product, or None when ``to_id`` cannot be reached."""
        out = ctypes.POINTER(n.PathResult)()
        kind = None if relationship_type is None else _text(relationship_type, "relationship_type")
        raise_for(self._lib.gm_strongest_path(self._h, int(from_id), int(to_id), kind,
                                              _number(min_strength, "min_strength"), ctypes.byref(out)))
        if not out:  # no path: GM_OK with no result
            return None
        try:
            return list(out.contents.ids[:out.contents.len]), out.contents.strength
        finally:
            self._lib.gm_path_free(out)

    # ---- relationships -----------------------------------------------------

    def add_concept_relationship(self, source_id: int, target_id: int, relationship_type: str,
                                 strength: float = 1.0) -> bool:
        """Adds or updates the edge (source, target, type); strength in [0, 1]."""
        raise_for(self._lib.gm_add_relationship(self._h, int(source_id), int(target_id),
                                                _text(relationship_type, "relationship_type"),
                                                _number(strength, "strength")))
        return True

    def get_concept_relationships(self, concept_id: int,
                                  relationship_type: Optional[str] = None) -> List[Tuple[int, str, float]]:
        """Outgoing edges as (target_id, type, strength), strongest first."""
        out = ctypes.POINTER(n.RelationshipList)()
        kind = None if relationship_type is None else _text(relationship_type, "relationship_type")
        raise_for(self._lib.gm_get_relationships(self._h, int(concept_id), kind, ctypes.byref(out)))
        try:
            r = ListResult(out, n.Relationship)
            return list(zip(r.column("target_id"), r.texts("relationship_type"), r.column("strength")))
        finally:
            self._lib.gm_relationship_list_free(out)

    # ---- learning events ---------------------------------------------------

    def store_learning_event(self, task_type: str, performance_delta: float, strategy_used: str,
                             parameters: Optional[Dict[str, Any]] = None, timestamp: Optional[float] = None) -> int:
        """Stores a learning event and returns its id."""
        out = ctypes.c_int64()
        raise_for(self._lib.gm_store_learning_event(
            self._h, _text(task_type, "task_type"), _number(performance_delta, "performance_delta"),
            _text(strategy_used, "strategy_used"), _json_object(parameters, "parameters"),
            _opt_number(timestamp, "timestamp"), ctypes.byref(out)))
        return out.value

    def store_learning_events(self, events: Sequence[Dict[str, Any]]) -> List[int]:
        """Stores many learning events (dicts of ``store_learning_event``'s
        arguments) in one transaction, all or none. Returns their ids in
        order. The C structs are filled column by column with numpy, so a
        row costs Python little more than checking its values."""
        try:
            c = InputColumns(events)
            c.text("task_type"), c.text("strategy_used"), c.number("performance_delta")
            c.json_objects("parameters"), c.timestamps()
            return c.store(self._lib.gm_store_learning_events, self._h, n.LearningEventInput)
        except SlowPath:
            pass
        b = _BatchColumns(events, "events", lambda e: (
            (_text(e["task_type"], "task_type"), _text(e["strategy_used"], "strategy_used"),
             _json_object(e.get("parameters"), "parameters")),
            _number(e["performance_delta"], "performance_delta")))
        return b.store(self._lib.gm_store_learning_events, self._h, n.LearningEventInput, {
            "task_type": b.starts[0::3], "strategy_used": b.starts[1::3], "parameters": b.starts[2::3],
            "performance_delta": b.numbers})

    def get_learning_events_by_task(self, task_type: str, limit: int = 100,
                                    min_performance_delta: Optional[float] = None) -> List[LearningEvent]:
        """Events of a task, newest first; only delta >= the minimum if given."""
        out = ctypes.POINTER(n.LearningEventList)()
        raise_for(self._lib.gm_get_learning_events_by_task(
            self._h, _text(task_type, "task_type"), _limit(limit),
            _opt_number(min_performance_delta, "min_performance_delta"), ctypes.byref(out)))
        try:
            r = ListResult(out, n.LearningEvent)
            return list(map(LearningEvent, r.column("id"), r.texts("task_type"), r.column("performance_delta"),
                            r.texts("strategy_used"), r.column("timestamp"), r.json_objects("parameters")))
        finally:
            self._lib.gm_learning_event_list_free(out)

    def get_best_strategies(self, task_type: str, limit: int = 10) -> List[Tuple[str, float, int]]:
        """(strategy, average delta, usage count), best first."""
        out = ctypes.POINTER(n.StrategyList)()
        raise_for(self._lib.gm_get_best_strategies(self._h, _text(task_type, "task_type"), _limit(limit),
                                                   ctypes.byref(out)))
        try:
            r = ListResult(out, n.Strategy)
            return list(zip(r.texts("strategy"), r.column("avg_delta"), r.column("usage_count")))
        finally:
            self._lib.gm_strategy_list_free(out)

    _ORDERS = {"mean": n.GM_STRATEGY_ORDER_MEAN, "lower_bound": n.GM_STRATEGY_ORDER_LOWER_BOUND}
    _METHODS = {"ucb1": n.GM_SUGGEST_UCB1, "thompson": n.GM_SUGGEST_THOMPSON}

    def strategy_stats(self, task_type: str, since: Optional[float] = None, order: str = "mean",
                       min_count: int = 1, limit: Optional[int] = None) -> List[StrategySummary]:
        """Per strategy of ``task_type``: count, mean, standard deviation,
        standard error, 95% confidence interval of the mean (Student's t)
        and first and last use, over events at or after ``since`` (all when
        None). ``order`` is "mean" (get_best_strategies' order) or
        "lower_bound" (the interval's lower end); strategies used fewer
        than ``min_count`` times are left out; at most ``limit`` rows."""
        q = n.StrategyQuery()
        q.order = _choice(order, self._ORDERS, "order")
        if since is not None:
            q.since, q.has_since = _number(since, "since"), 1
        q.min_count = _integer(min_count, "min_count")
        q.limit = 0 if limit is None else _limit(limit)
        if q.limit == 0 and limit is not None:
            return []
        out = ctypes.POINTER(n.StrategySummaryList)()
        raise_for(self._lib.gm_strategy_stats(self._h, _text(task_type, "task_type"), ctypes.byref(q),
                                              ctypes.byref(out)))
        try:
            r = ListResult(out, n.StrategySummary)
            return list(map(StrategySummary, r.texts("strategy"), r.column("count"), r.column("mean"),
                            r.column("std_dev"), r.column("std_error"), r.column("ci_low"), r.column("ci_high"),
                            r.column("first_used"), r.column("last_used")))
        finally:
            self._lib.gm_strategy_summary_list_free(out)

    def suggest_strategy(self, task_type: str, method: str = "ucb1", candidates: Optional[Sequence[str]] = None,
                         seed: Optional[int] = None, prior_mean: Optional[float] = None,
                         prior_std: Optional[float] = None, exploration: float = 1.0,
                         since: Optional[float] = None) -> Suggestion:
        """The strategy to try next for ``task_type``: "ucb1" (deterministic)
        or "thompson" (a draw from each strategy's Gaussian posterior,
        reproducible with ``seed``; a fresh random seed when None). Chooses
        among ``candidates`` (names never tried get the prior) or, when
        None, among the strategies already tried. The prior defaults to the
        mean and spread of every event of the task."""
        o = n.SuggestOptions()
        o.method = _choice(method, self._METHODS, "method")
        o.seed = secrets.randbits(64) if seed is None else _integer(seed, "seed", 0, 2 ** 64 - 1)
        o.exploration, o.has_exploration = _number(exploration, "exploration"), 1
        for field, value in (("prior_mean", prior_mean), ("prior_std", prior_std), ("since", since)):
            if value is not None:
                setattr(o, field, _number(value, field))
                setattr(o, "has_" + field, 1)
        names, count = None, 0
        if candidates is not None:
            if isinstance(candidates, (str, bytes)):
                raise invalid("candidates: must be a list of names, not a single string", type_error=True)
            encoded = [_text(c, f"candidates[{i}]") for i, c in enumerate(candidates)]
            count = len(encoded)
            names = (ctypes.c_char_p * max(count, 1))(*encoded)
        out = ctypes.POINTER(n.Suggestion)()
        raise_for(self._lib.gm_suggest_strategy(self._h, _text(task_type, "task_type"), names, count,
                                                ctypes.byref(o), ctypes.byref(out)))
        try:
            s = out.contents
            name = ctypes.string_at(s.strategy, s.strategy_len).decode("utf-8")
            index = None if s.candidate_index < 0 else s.candidate_index
            return Suggestion(name, s.score, s.count, s.mean, index)
        finally:
            self._lib.gm_suggestion_free(out)

    # ---- transactions ------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[_TransactionConnection]:
        """A transaction on this thread: store calls made inside join it; it
        commits when the block ends and rolls back if it raises. Nests."""
        raise_for(self._lib.gm_begin(self._h))
        try:
            yield _TransactionConnection(self)
        except BaseException:
            self._lib.gm_rollback(self._h)  # the original error is the one to report
            raise
        raise_for(self._lib.gm_commit(self._h))

    def detach_transaction(self) -> int:
        """Detaches this thread's open transaction (begun with
        ``_transaction()`` or a C caller's ``gm_begin``) and returns its token.
        It stays open and keeps the writer; another thread continues it with
        ``attach_transaction(token)``. For code that resumes on another
        thread (asyncio executors, thread pools)."""
        token = ctypes.c_uint64()
        raise_for(self._lib.gm_transaction_detach(self._h, ctypes.byref(token)))
        return token.value

    def attach_transaction(self, token: int) -> None:
        """Makes the detached transaction ``token`` this thread's: calls made
        here join it. End it with ``commit_transaction()`` or
        ``rollback_transaction()``."""
        raise_for(self._lib.gm_transaction_attach(self._h, int(token)))

    def commit_transaction(self) -> None:
        """Commits this thread's innermost transaction (an attached one, or
        one begun with ``begin_transaction()``)."""
        raise_for(self._lib.gm_commit(self._h))

    def rollback_transaction(self) -> None:
        """Rolls back this thread's innermost transaction."""
        raise_for(self._lib.gm_rollback(self._h))

    def begin_transaction(self) -> None:
        """Begins a transaction owned by this thread (``_transaction()`` is
        the scoped form). A thread that exits with it open has it rolled
        back."""
        raise_for(self._lib.gm_begin(self._h))

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> ExecuteResult:
        values = (n.Value * max(len(params), 1))()
        keep = []
        for i, p in enumerate(params):
            v = values[i]
            if p is None:
                v.kind = n.GM_VALUE_NULL
            elif isinstance(p, (bool, int, np.integer)):
                v.kind, v.int_value = n.GM_VALUE_INTEGER, int(p)
            elif isinstance(p, (float, np.floating)):
                v.kind, v.real_value = n.GM_VALUE_REAL, float(p)
            elif isinstance(p, str):
                data = p.encode("utf-8")
                keep.append(data)
                v.kind, v.data, v.len = n.GM_VALUE_TEXT, ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p), len(data)
            elif isinstance(p, (bytes, bytearray, memoryview)):
                data = bytes(p)
                keep.append(data)
                v.kind, v.data, v.len = n.GM_VALUE_BLOB, ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p), len(data)
            else:
                raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT,
                                           f"params[{i}]: cannot bind a {type(p).__name__}")
        changes = ctypes.c_int64()
        raise_for(self._lib.gm_execute(self._h, _text(sql, "sql"), values, len(params), ctypes.byref(changes)))
        return ExecuteResult(rowcount=changes.value)

    # ---- maintenance -------------------------------------------------------

    def create_backup(self, backup_path: Optional[Union[str, Path]] = None) -> Path:
        """A verified online backup; by default in ``<db dir>/backups`` with
        retention of ``max_backups``. Returns its path."""
        out = ctypes.c_void_p()
        path = None if backup_path is None else _text(str(backup_path), "backup_path")
        raise_for(self._lib.gm_create_backup(self._h, path, ctypes.byref(out)))
        return Path(n.take_string(out))

    def auto_backup_if_needed(self) -> Optional[Path]:
        """Backs up if ``backup_interval`` has passed since the newest backup
        on disk; returns the new path, or None."""
        out = ctypes.c_void_p()
        raise_for(self._lib.gm_auto_backup_if_needed(self._h, ctypes.byref(out)))
        made = n.take_string(out)
        return None if made is None else Path(made)

    def restore_backup(self, backup_path: Union[str, Path]) -> None:
        """Replaces the content with a verified backup, atomically."""
        raise_for(self._lib.gm_restore(self._h, _text(str(backup_path), "backup_path")))

    def vacuum_database(self) -> bool:
        """Reclaims free space; True on success (errors raise)."""
        self.vacuum()
        return True

    def vacuum(self) -> int:
        """Reclaims free space and returns the bytes reclaimed."""
        out = ctypes.c_uint64()
        raise_for(self._lib.gm_vacuum(self._h, ctypes.byref(out)))
        return out.value

    def checkpoint(self) -> int:
        """Folds the WAL into the main file; returns frames checkpointed."""
        out = ctypes.c_int64()
        raise_for(self._lib.gm_checkpoint(self._h, ctypes.byref(out)))
        return out.value

    def integrity_check(self) -> List[str]:
        """Problems SQLite's integrity and foreign-key checks found ([] if sound)."""
        problems, report = ctypes.c_int64(), ctypes.c_void_p()
        raise_for(self._lib.gm_integrity_check(self._h, ctypes.byref(problems), ctypes.byref(report)))
        text = n.take_string(report) or "ok"
        return [] if problems.value == 0 else text.splitlines()

    def get_database_stats(self) -> Dict[str, Any]:
        """Counts, size, schema version and more, with the seed's keys."""
        out = ctypes.POINTER(n.Stats)()
        raise_for(self._lib.gm_get_stats(self._h, ctypes.byref(out)))
        try:
            s = out.contents
            return {
                "episodes_count": s.episodes_count,
                "concepts_count": s.concepts_count,
                "learning_events_count": s.learning_events_count,
                "relationships_count": s.relationships_count,
                "db_size_bytes": s.db_size_bytes,
                "db_size_mb": s.db_size_mb,
                "schema_version": s.schema_version,
                "page_size": s.page_size,
                "page_count": s.page_count,
                "freelist_count": s.freelist_count,
                "embedding_dim": s.embedding_dim or None,
                "last_backup_time": s.last_backup_time if s.has_last_backup_time else None,
                "db_path": str(self.db_path),
                "episodes_evicted": s.episodes_evicted,
                "retention": self.get_retention_policy() if s.has_retention_policy else None,
            }
        finally:
            self._lib.gm_stats_free(out)


__all__ = ["SQLiteStorage", "Episode", "Concept", "LearningEvent", "ExecuteResult"]
