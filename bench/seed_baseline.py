"""The seed's SQLiteStorage written the straightforward way a user would:
stdlib sqlite3, pickle for experiences and embeddings, json for metadata,
the seed's DDL and pragmas. The baseline for bench/python_bench.py."""

import json
import pickle
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Optional

SEED_DDL = """
CREATE TABLE IF NOT EXISTS episodes (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp REAL NOT NULL,
    experience_data BLOB NOT NULL, performance_score REAL NOT NULL, context_hash TEXT NOT NULL,
    metadata TEXT DEFAULT '{}', created_at REAL DEFAULT (julianday('now')));
CREATE INDEX IF NOT EXISTS idx_episodes_timestamp ON episodes(timestamp);
CREATE INDEX IF NOT EXISTS idx_episodes_context_hash ON episodes(context_hash);
CREATE INDEX IF NOT EXISTS idx_episodes_performance_score ON episodes(performance_score);
CREATE TABLE IF NOT EXISTS concepts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
    embedding BLOB NOT NULL, creation_time REAL NOT NULL, access_count INTEGER DEFAULT 0,
    last_accessed REAL DEFAULT 0, metadata TEXT DEFAULT '{}');
CREATE INDEX IF NOT EXISTS idx_concepts_name ON concepts(name);
CREATE INDEX IF NOT EXISTS idx_concepts_creation_time ON concepts(creation_time);
CREATE INDEX IF NOT EXISTS idx_concepts_access_count ON concepts(access_count);
CREATE TABLE IF NOT EXISTS learning_events (id INTEGER PRIMARY KEY AUTOINCREMENT, task_type TEXT NOT NULL,
    performance_delta REAL NOT NULL, strategy_used TEXT NOT NULL, timestamp REAL NOT NULL,
    parameters TEXT DEFAULT '{}');
CREATE INDEX IF NOT EXISTS idx_learning_events_task_type ON learning_events(task_type);
CREATE INDEX IF NOT EXISTS idx_learning_events_timestamp ON learning_events(timestamp);
CREATE INDEX IF NOT EXISTS idx_learning_events_performance_delta ON learning_events(performance_delta);
"""


@dataclass
class Episode:
    id: Optional[int] = None
    timestamp: float = 0.0
    experience_data: bytes = b""
    performance_score: float = 0.0
    context_hash: str = ""
    metadata: Dict[str, Any] = None


@dataclass
class Concept:
    id: Optional[int] = None
    name: str = ""
    embedding: bytes = b""
    creation_time: float = 0.0
    access_count: int = 0
    last_accessed: float = 0.0
    metadata: Dict[str, Any] = None


class SeedSQLiteStorage:
    def __init__(self, db_path, connection_timeout=30.0):
        self.db_path = str(db_path)
        self.timeout = connection_timeout
        self._local = threading.local()
        self._conn.executescript(SEED_DDL)

    @property
    def _conn(self):
        if not hasattr(self._local, "conn"):
            conn = sqlite3.connect(self.db_path, timeout=self.timeout, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return self._local.conn

    @contextmanager
    def _transaction(self):
        conn = self._conn
        conn.execute("BEGIN")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def store_episode(self, experience_data, performance_score, context_hash, timestamp=None, metadata=None):
        cur = self._conn.execute(
            "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) "
            "VALUES (?, ?, ?, ?, ?)",
            (timestamp or time.time(), pickle.dumps(experience_data), performance_score, context_hash,
             json.dumps(metadata or {})))
        return cur.lastrowid

    def _episode(self, row):
        return Episode(id=row[0], timestamp=row[1], experience_data=row[2], performance_score=row[3],
                       context_hash=row[4], metadata=json.loads(row[5]))

    def retrieve_episode(self, episode_id):
        row = self._conn.execute("SELECT id, timestamp, experience_data, performance_score, context_hash, metadata "
                                 "FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        return self._episode(row) if row else None

    def get_episodes_by_context(self, context_hash, limit=100, min_score=None):
        rows = self._conn.execute(
            "SELECT id, timestamp, experience_data, performance_score, context_hash, metadata FROM episodes "
            "WHERE context_hash = ? AND performance_score >= ? ORDER BY timestamp DESC LIMIT ?",
            (context_hash, min_score if min_score is not None else float("-inf"), limit)).fetchall()
        return [self._episode(r) for r in rows]

    def store_concept(self, name, embedding, metadata=None, creation_time=None):
        cur = self._conn.execute(
            "INSERT INTO concepts (name, embedding, creation_time, metadata) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET embedding = excluded.embedding, metadata = excluded.metadata "
            "RETURNING id",
            (name, pickle.dumps(embedding), creation_time or time.time(), json.dumps(metadata or {})))
        return cur.fetchone()[0]

    def search_concepts(self, query, limit=100):
        rows = self._conn.execute(
            "SELECT id, name, embedding, creation_time, access_count, last_accessed, metadata FROM concepts "
            "WHERE name LIKE ? LIMIT ?", (f"%{query}%", limit)).fetchall()
        return [Concept(id=r[0], name=r[1], embedding=r[2], creation_time=r[3], access_count=r[4],
                        last_accessed=r[5], metadata=json.loads(r[6])) for r in rows]

    def _deserialize_array(self, data):
        return pickle.loads(data)

    def store_learning_event(self, task_type, performance_delta, strategy_used, parameters=None, timestamp=None):
        cur = self._conn.execute(
            "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp, parameters) "
            "VALUES (?, ?, ?, ?, ?)",
            (task_type, performance_delta, strategy_used, timestamp or time.time(), json.dumps(parameters or {})))
        return cur.lastrowid

    def get_best_strategies(self, task_type, limit=10):
        return self._conn.execute(
            "SELECT strategy_used, AVG(performance_delta) AS avg_delta, COUNT(*) FROM learning_events "
            "WHERE task_type = ? GROUP BY strategy_used ORDER BY avg_delta DESC LIMIT ?",
            (task_type, limit)).fetchall()

    def close(self):
        if hasattr(self._local, "conn"):
            self._local.conn.close()
