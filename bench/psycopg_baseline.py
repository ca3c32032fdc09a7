"""The seed's storage class written the straightforward way for PostgreSQL:
psycopg 3, pickle for experiences and embeddings, json for metadata, the
seed's tables in a schema of its own, a commit per call outside
`_transaction()` (as the seed's sqlite3 code does). The baseline of
bench/pg_python_bench.py; `store_episodes` is the loop a user would write,
with `executemany`."""

import json
import pickle
import time
from contextlib import contextmanager

import psycopg

DDL = """
CREATE TABLE IF NOT EXISTS episodes (id bigserial PRIMARY KEY, timestamp double precision NOT NULL,
    experience_data bytea NOT NULL, performance_score double precision NOT NULL, context_hash text NOT NULL,
    metadata text DEFAULT '{}', created_at double precision DEFAULT extract(epoch from now()));
CREATE INDEX IF NOT EXISTS idx_episodes_context_hash ON episodes(context_hash);
CREATE TABLE IF NOT EXISTS learning_events (id bigserial PRIMARY KEY, task_type text NOT NULL,
    performance_delta double precision NOT NULL, strategy_used text NOT NULL, timestamp double precision NOT NULL,
    parameters text DEFAULT '{}');
CREATE INDEX IF NOT EXISTS idx_learning_events_task_type ON learning_events(task_type);
"""


class PsycopgStorage:
    def __init__(self, conninfo: str, schema: str):
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        self.conn.execute(f'SET search_path TO "{schema}"')
        self.conn.execute(DDL)
        self._in_tx = 0

    @contextmanager
    def _transaction(self):
        with self.conn.transaction():
            self._in_tx += 1
            try:
                yield self.conn
            finally:
                self._in_tx -= 1

    def store_episode(self, experience_data, performance_score, context_hash, timestamp=None, metadata=None):
        row = self.conn.execute(
            "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (timestamp or time.time(), pickle.dumps(experience_data), performance_score, context_hash,
             json.dumps(metadata or {}))).fetchone()
        return row[0]

    def store_episodes(self, episodes):
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) "
                "VALUES (%s, %s, %s, %s, %s)",
                [(e.get("timestamp") or time.time(), pickle.dumps(e["experience_data"]), e["performance_score"],
                  e["context_hash"], json.dumps(e.get("metadata") or {})) for e in episodes])

    def retrieve_episode(self, episode_id):
        row = self.conn.execute(
            "SELECT id, timestamp, experience_data, performance_score, context_hash, metadata "
            "FROM episodes WHERE id = %s", (episode_id,)).fetchone()
        if row is None:
            return None
        return (row[0], row[1], pickle.loads(row[2]), row[3], row[4], json.loads(row[5]))

    def store_learning_event(self, task_type, performance_delta, strategy_used, parameters=None, timestamp=None):
        return self.conn.execute(
            "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp, parameters) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (task_type, performance_delta, strategy_used, timestamp or time.time(),
             json.dumps(parameters or {}))).fetchone()[0]

    def get_episodes_by_context(self, context_hash, limit=100):
        rows = self.conn.execute(
            "SELECT id, timestamp, experience_data, performance_score, context_hash, metadata FROM episodes "
            "WHERE context_hash = %s ORDER BY timestamp DESC LIMIT %s", (context_hash, limit)).fetchall()
        return [(r[0], r[1], pickle.loads(r[2]), r[3], r[4], json.loads(r[5])) for r in rows]

    def close(self):
        self.conn.close()
