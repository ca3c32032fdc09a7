"""Replay sampling for learners: ``SQLiteStorage.sampler(...)`` draws episode
ids uniformly or in proportion to priority^alpha, with probabilities and
importance weights as numpy arrays, and takes new priorities back keyed by
(id, generation) so an update for an episode deleted or replaced since it
was drawn is reported instead of misapplied.

Vocabulary: Reverb's *sampler* (Uniform / Prioritized(priority_exponent)),
TorchRL's ``PrioritizedSampler(alpha, beta)``; ``table_size`` is Reverb's.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np

from . import _native as n
from ._marshal import _number, _text
from .errors import InvalidArgumentError, SQLiteStorageError, raise_for

# gm_sample and gm_priority_update as numpy records (tests/test_abi_mirror.py
# checks them against the C compiler's layout).
SAMPLE_DTYPE = np.dtype([("id", "<i8"), ("generation", "<i8"), ("probability", "<f8"), ("weight", "<f8")])
UPDATE_DTYPE = np.dtype([("id", "<i8"), ("generation", "<i8"), ("priority", "<f8")])


@dataclass(frozen=True)
class SampleBatch:
    """One drawn batch: arrays of equal length, in draw order."""

    ids: np.ndarray
    generations: np.ndarray
    probabilities: np.ndarray
    weights: np.ndarray
    table_size: int
    #: The drawn episodes, in draw order, when ``sample(..., episodes=True)``.
    episodes: Optional[List[Any]] = None


class ReplaySampler:
    """Draws episodes from one store; make it with ``SQLiteStorage.sampler``.

    Priority updates take effect at once and reach the database at most
    every 5 seconds (once 4,096 are pending) and at ``flush()`` (also at
    ``close()``): a crash loses at most the updates not yet written. Thread-safe. Use it as a context manager or
    call ``close()``."""

    def __init__(self, storage: Any, handle: int) -> None:
        self._storage = storage
        self._lib = storage._lib
        self._handle: Optional[int] = handle

    def _h(self) -> int:
        if self._handle is None:
            raise SQLiteStorageError(n.GM_ERR_MISUSE, "sampler: closed")
        return self._handle

    def sample(self, batch_size: int, beta: float = 0.4, replace: bool = True, episodes: bool = False) -> SampleBatch:
        """Draws ``batch_size`` episodes; weights are ``(P(i) / P_min)^-beta``.
        With ``episodes=True`` the batch also holds the drawn episodes
        (``Episode`` objects, in draw order), read in the same call."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 0:
            raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT,
                                       f"batch_size: must be an int >= 0, got {batch_size!r}")
        out = np.empty(int(batch_size), SAMPLE_DTYPE)
        size = ctypes.c_uint64()
        if episodes:
            return self._sample_episodes(out, beta, replace, size)
        raise_for(self._lib.gm_sampler_sample(self._h(), int(batch_size), _number(beta, "beta"), 1 if replace else 0,
                                              out.ctypes.data if len(out) else None, ctypes.byref(size)))
        return SampleBatch(out["id"], out["generation"], out["probability"], out["weight"], size.value)

    def _sample_episodes(self, out: np.ndarray, beta: float, replace: bool, size: ctypes.c_uint64) -> SampleBatch:
        listed = ctypes.POINTER(n.EpisodeList)()
        raise_for(self._lib.gm_sampler_sample_episodes(self._h(), len(out), _number(beta, "beta"), 1 if replace else 0,
                                                       out.ctypes.data if len(out) else None, ctypes.byref(size),
                                                       ctypes.byref(listed)))
        try:
            drawn = self._storage._episodes(listed)
        finally:
            self._lib.gm_episode_list_free(listed)
        return SampleBatch(out["id"], out["generation"], out["probability"], out["weight"], size.value, drawn)

    def update_priorities(self, ids: Any, generations: Any, priorities: Any) -> np.ndarray:
        """Applies new priorities where (id, generation) still names what
        was drawn; returns the indexes of those that did not (stale)."""
        ids = np.asarray(ids, np.int64).ravel()
        generations = np.asarray(generations, np.int64).ravel()
        priorities = np.asarray(priorities, np.float64).ravel()
        if not len(ids) == len(generations) == len(priorities):
            raise InvalidArgumentError(
                n.GM_ERR_INVALID_ARGUMENT,
                f"priorities: ids, generations and priorities differ in length "
                f"({len(ids)}, {len(generations)}, {len(priorities)})")
        updates = np.empty(len(ids), UPDATE_DTYPE)
        updates["id"], updates["generation"], updates["priority"] = ids, generations, priorities
        stale = np.zeros(len(ids), np.uint8)
        raise_for(self._lib.gm_sampler_update_priorities(
            self._h(), updates.ctypes.data if len(ids) else None, len(ids),
            stale.ctypes.data if len(ids) else None, None))
        return np.flatnonzero(stale)

    def flush(self) -> int:
        """Writes the pending priority updates now; returns how many."""
        written = ctypes.c_size_t()
        raise_for(self._lib.gm_sampler_flush(self._h(), ctypes.byref(written)))
        return written.value

    def rng_state(self) -> bytes:
        """The generator's state (32 bytes), to save with a checkpoint."""
        buf = ctypes.create_string_buffer(n.GM_RNG_STATE_BYTES)
        raise_for(self._lib.gm_sampler_rng_state(self._h(), buf, n.GM_RNG_STATE_BYTES))
        return buf.raw

    def set_rng_state(self, state: bytes) -> None:
        """Continues from a state ``rng_state`` returned."""
        if not isinstance(state, (bytes, bytearray)):
            raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT,
                                       f"rng_state: must be bytes, got {type(state).__name__}")
        raise_for(self._lib.gm_sampler_set_rng_state(self._h(), bytes(state), len(state)))

    def close(self) -> None:
        """Writes pending updates and frees the sampler. Idempotent."""
        if self._handle is not None:
            try:
                self.flush()
            finally:
                self._lib.gm_sampler_free(self._handle)
                self._handle = None

    def __enter__(self) -> "ReplaySampler":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            self._lib.gm_sampler_free(self._handle)


def sampler_config(alpha: Optional[float], context: Optional[str], min_score: Optional[float],
                   max_score: Optional[float], seed: int) -> n.SamplerConfig:
    """The C config for ``SQLiteStorage.sampler``; alpha None: uniform."""
    c = n.SamplerConfig()
    if alpha is None:
        c.weighting = n.GM_WEIGHTING_UNIFORM
    else:
        c.weighting, c.alpha = n.GM_WEIGHTING_PRIORITIZED, _number(alpha, "alpha")
    if context is not None:
        c.context = _text(context, "context")
    if min_score is not None:
        c.has_min_score, c.min_score = 1, _number(min_score, "min_score")
    if max_score is not None:
        c.has_max_score, c.max_score = 1, _number(max_score, "max_score")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        raise InvalidArgumentError(n.GM_ERR_INVALID_ARGUMENT, f"seed: must be an int in [0, 2^64), got {seed!r}")
    c.seed = int(seed)
    return c
