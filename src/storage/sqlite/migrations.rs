//! Versioned, forward-only schema migrations.
//!
//! Version 1 is the seed document's DDL, verbatim. Every improvement is a
//! later migration; v1 is never edited, so a file made by the seed's own
//! implementation (the seed tables and no version table) is recognised as
//! v1 and upgraded in place.

use std::path::{Path, PathBuf};

use rusqlite::backup::Backup;
use rusqlite::{Connection, OptionalExtension};

use crate::clock::{now, utc_stamp};
use crate::error::{Error, Result};
use crate::files;

/// The schema version this library writes.
pub const LATEST_VERSION: i64 = 9;

/// The table that records applied migrations.
pub const VERSION_TABLE: &str = "gm_schema_version";

const SEED_TABLES: [&str; 4] = ["episodes", "concepts", "learning_events", "concept_relationships"];

struct Migration {
    version: i64,
    description: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "seed schema: episodes, concepts, learning_events, concept_relationships",
        sql: V1_SEED_DDL,
    },
    Migration {
        version: 2,
        description:
            "gm_meta; drop indexes that duplicate UNIQUE or composite ones; context and strategy indexes",
        sql: V2_SQL,
    },
    Migration {
        version: 3,
        description: "gm_concept_changes: a change log of concept embeddings for coherent k-NN caches",
        sql: V3_SQL,
    },
    Migration {
        version: 4,
        description:
            "learning events by task in time order from an index; drop the unused delta and time indexes",
        sql: V4_SQL,
    },
    Migration {
        version: 5,
        description: "the concept change log also sees rows replaced by REPLACE and ids changed by UPDATE",
        sql: V5_SQL,
    },
    Migration {
        version: 6,
        description: "strategy statistics and time windows from the covering index of learning events",
        sql: V6_SQL,
    },
    Migration {
        version: 7,
        description:
            "replay: episode priorities and a change log of deleted or rewritten episodes and priorities",
        sql: V7_SQL,
    },
    Migration {
        version: 8,
        description: "the covering index of learning events in time order within each strategy",
        sql: V8_SQL,
    },
    Migration {
        version: 9,
        description: "gm_retention: the retention policy, the evictable episodes' counts and evictions",
        sql: V9_SQL,
    },
];

/// The seed document's schema, exactly as published.
const V1_SEED_DDL: &str = "
CREATE TABLE episodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp REAL NOT NULL,
    experience_data BLOB NOT NULL,
    performance_score REAL NOT NULL,
    context_hash TEXT NOT NULL,
    metadata TEXT DEFAULT '{}',
    created_at REAL DEFAULT (julianday('now'))
);
CREATE INDEX idx_episodes_timestamp ON episodes(timestamp);
CREATE INDEX idx_episodes_context_hash ON episodes(context_hash);
CREATE INDEX idx_episodes_performance_score ON episodes(performance_score);

CREATE TABLE concepts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    embedding BLOB NOT NULL,
    creation_time REAL NOT NULL,
    access_count INTEGER DEFAULT 0,
    last_accessed REAL DEFAULT 0,
    metadata TEXT DEFAULT '{}'
);
CREATE INDEX idx_concepts_name ON concepts(name);
CREATE INDEX idx_concepts_creation_time ON concepts(creation_time);
CREATE INDEX idx_concepts_access_count ON concepts(access_count);

CREATE TABLE learning_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_type TEXT NOT NULL,
    performance_delta REAL NOT NULL,
    strategy_used TEXT NOT NULL,
    timestamp REAL NOT NULL,
    parameters TEXT DEFAULT '{}'
);
CREATE INDEX idx_learning_events_task_type ON learning_events(task_type);
CREATE INDEX idx_learning_events_timestamp ON learning_events(timestamp);
CREATE INDEX idx_learning_events_performance_delta ON learning_events(performance_delta);

CREATE TABLE concept_relationships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_concept_id INTEGER NOT NULL,
    target_concept_id INTEGER NOT NULL,
    relationship_type TEXT NOT NULL,
    strength REAL DEFAULT 1.0,
    created_at REAL DEFAULT (julianday('now')),
    FOREIGN KEY (source_concept_id) REFERENCES concepts (id),
    FOREIGN KEY (target_concept_id) REFERENCES concepts (id),
    UNIQUE(source_concept_id, target_concept_id, relationship_type)
);
CREATE INDEX idx_concept_relationships_source ON concept_relationships(source_concept_id);
CREATE INDEX idx_concept_relationships_target ON concept_relationships(target_concept_id);
CREATE INDEX idx_concept_relationships_type ON concept_relationships(relationship_type);
";

/// Every index dropped here is a prefix of another index: UNIQUE(name)
/// already indexes concept names, UNIQUE(source, target, type) serves
/// lookups by source, and the composite indexes below serve lookups by
/// context and by task. The score index serves no query the store makes
/// (score filters always come within a context, where the composite index
/// applies) and cost a page write on every episode insert. Fewer indexes
/// make every write cheaper. `IF [NOT] EXISTS` because files made by other
/// implementations of the seed do not always carry every seed index.
const V2_SQL: &str = "
CREATE TABLE gm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
DROP INDEX IF EXISTS idx_concepts_name;
CREATE INDEX IF NOT EXISTS idx_episodes_context_time ON episodes(context_hash, timestamp);
DROP INDEX IF EXISTS idx_episodes_context_hash;
CREATE INDEX IF NOT EXISTS idx_learning_events_task_strategy
    ON learning_events(task_type, strategy_used, performance_delta);
DROP INDEX IF EXISTS idx_learning_events_task_type;
DROP INDEX IF EXISTS idx_concept_relationships_source;
INSERT INTO gm_meta(key, value)
    SELECT 'embedding_dim', CAST(length(embedding) / 4 AS TEXT) FROM concepts
    WHERE (SELECT count(DISTINCT length(embedding)) FROM concepts) = 1
      AND length(embedding) % 4 = 0 AND length(embedding) > 0
    LIMIT 1;
";

/// Every insert, embedding or name update, and delete of a concept is
/// logged, so an in-memory k-NN matrix (in this process or another) can
/// refresh just the rows that changed. The log keeps its last 100,000
/// entries; a cache further behind rebuilds in full.
const V3_SQL: &str = "
CREATE TABLE gm_concept_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, concept_id INTEGER NOT NULL);
CREATE TRIGGER gm_concepts_inserted AFTER INSERT ON concepts
    BEGIN INSERT INTO gm_concept_changes(concept_id) VALUES (new.id); END;
CREATE TRIGGER gm_concepts_updated AFTER UPDATE OF embedding, name ON concepts
    BEGIN INSERT INTO gm_concept_changes(concept_id) VALUES (new.id); END;
CREATE TRIGGER gm_concepts_deleted AFTER DELETE ON concepts
    BEGIN INSERT INTO gm_concept_changes(concept_id) VALUES (old.id); END;
CREATE TRIGGER gm_concept_changes_pruned AFTER INSERT ON gm_concept_changes WHEN new.seq % 10000 = 0
    BEGIN DELETE FROM gm_concept_changes WHERE seq <= new.seq - 100000; END;
";

/// `get_learning_events_by_task` reads a task's newest events: with
/// (task_type, timestamp) it walks the index backwards and stops at the
/// limit, where before it sorted every event of the task. No query of the
/// store filters on the delta or the time alone, so those two indexes only
/// cost every insert an index update (figures in bench/NOTES.md).
const V4_SQL: &str = "
CREATE INDEX IF NOT EXISTS idx_learning_events_task_time ON learning_events(task_type, timestamp);
DROP INDEX IF EXISTS idx_learning_events_timestamp;
DROP INDEX IF EXISTS idx_learning_events_performance_delta;
";

/// A plain SQLite client (the sqlite3 CLI, another language's driver) can
/// write concepts in ways v3's triggers missed:
/// - `INSERT OR REPLACE` / `REPLACE INTO` and `UPDATE OR REPLACE` delete the
///   conflicting row without firing delete triggers while
///   `recursive_triggers` is off (SQLite's default), so a cache kept the
///   replaced id. A BEFORE trigger logs every row the write may replace:
///   those with the new id or the new name.
/// - `UPDATE concepts SET id = ...` moved a row without a log entry for
///   either id.
///
/// The insert trigger stays as it was; an insert that replaces nothing pays
/// two index probes.
const V5_SQL: &str = "
DROP TRIGGER gm_concepts_updated;
CREATE TRIGGER gm_concepts_replacing BEFORE INSERT ON concepts
    BEGIN INSERT INTO gm_concept_changes(concept_id)
        SELECT id FROM concepts WHERE id = new.id OR name = new.name; END;
CREATE TRIGGER gm_concepts_renaming BEFORE UPDATE OF id, name ON concepts
    BEGIN INSERT INTO gm_concept_changes(concept_id)
        SELECT id FROM concepts WHERE (id = new.id OR name = new.name) AND id <> old.id; END;
CREATE TRIGGER gm_concepts_updated AFTER UPDATE OF id, embedding, name ON concepts
    BEGIN INSERT INTO gm_concept_changes(concept_id) SELECT old.id UNION SELECT new.id; END;
";

/// `strategy_stats` reads each strategy's deltas and first and last use,
/// optionally after a time: with the timestamp in the covering index it
/// never touches the table, as `get_best_strategies` does not. The index
/// replaces v2's, which is its prefix, so inserts keep one index update.
const V6_SQL: &str = "
CREATE INDEX IF NOT EXISTS idx_learning_events_task_strategy_time
    ON learning_events(task_type, strategy_used, performance_delta, timestamp);
DROP INDEX IF EXISTS idx_learning_events_task_strategy;
";

/// Replay sampling (src/sampler.rs): an episode's priority, when a writer
/// or a learner gave it one (an episode without a row counts at the
/// current maximum), and a log that lets a sampler in any process follow
/// deletions, rewrites and priority changes without reloading. Inserted
/// episodes are not logged: under SQLite's one writer their ids rise in
/// commit order, so "id above the highest seen" finds them, and the seed's
/// insert path stays one row and its indexes. The log's `seq` is a plain
/// rowid, not AUTOINCREMENT (which updates sqlite_sequence on every insert,
/// a learner's flush writes thousands): pruning never removes the newest
/// entry, so the next rowid still rises.
const V7_SQL: &str = "
CREATE TABLE gm_episode_priorities (episode_id INTEGER PRIMARY KEY, priority REAL NOT NULL);
CREATE TABLE gm_episode_changes (seq INTEGER PRIMARY KEY, episode_id INTEGER NOT NULL);
CREATE TRIGGER gm_episodes_deleted AFTER DELETE ON episodes BEGIN
    INSERT INTO gm_episode_changes(episode_id) VALUES (old.id);
    DELETE FROM gm_episode_priorities WHERE episode_id = old.id;
END;
CREATE TRIGGER gm_episodes_rewritten AFTER UPDATE ON episodes
    BEGIN INSERT INTO gm_episode_changes(episode_id) SELECT old.id UNION SELECT new.id; END;
CREATE TRIGGER gm_episode_priority_added AFTER INSERT ON gm_episode_priorities
    BEGIN INSERT INTO gm_episode_changes(episode_id) VALUES (new.episode_id); END;
CREATE TRIGGER gm_episode_priority_changed AFTER UPDATE ON gm_episode_priorities
    BEGIN INSERT INTO gm_episode_changes(episode_id) SELECT old.episode_id UNION SELECT new.episode_id; END;
CREATE TRIGGER gm_episode_priority_removed AFTER DELETE ON gm_episode_priorities
    BEGIN INSERT INTO gm_episode_changes(episode_id) VALUES (old.episode_id); END;
CREATE TRIGGER gm_episode_changes_pruned AFTER INSERT ON gm_episode_changes WHEN new.seq % 10000 = 0
    BEGIN DELETE FROM gm_episode_changes WHERE seq <= new.seq - 100000; END;
";

/// The covering index of learning events keeps each task's strategy's
/// events in time order, delta last: an insert (timestamps rise) lands at
/// one of a few append points per (task, strategy) instead of anywhere in
/// the delta order. Raw inserts of 100,000 events into 200,000: 491 ms
/// against 561 ms (median of 3). Best strategies and statistics read the
/// same columns from it; their sums now run in time order, as the seed's
/// do through its task index.
const V8_SQL: &str = "
CREATE INDEX IF NOT EXISTS idx_learning_events_task_strategy_at
    ON learning_events(task_type, strategy_used, timestamp, performance_delta);
DROP INDEX IF EXISTS idx_learning_events_task_strategy_time;
";

/// Retention (src/retention.rs): one row holding the policy (every limit
/// NULL: none), the evictable episodes' count and bytes up to
/// `counted_through_id` (see storage/sqlite/retention.rs for why not an
/// insert trigger) and the evictions so far.
const V9_SQL: &str = "
CREATE TABLE gm_retention (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    max_episodes INTEGER,
    max_experience_bytes INTEGER,
    max_age_seconds REAL,
    keep_top_k INTEGER,
    top_k_per_context INTEGER NOT NULL DEFAULT 0,
    protect_key TEXT,
    protect_value TEXT,
    eviction_order TEXT NOT NULL DEFAULT 'oldest',
    eviction_batch INTEGER NOT NULL DEFAULT 0,
    counted_episodes INTEGER NOT NULL DEFAULT 0,
    counted_bytes INTEGER NOT NULL DEFAULT 0,
    counted_through_id INTEGER NOT NULL DEFAULT 0,
    evicted INTEGER NOT NULL DEFAULT 0
);
INSERT INTO gm_retention(id) VALUES (1);
";

fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

/// The schema version of an open database: 0 for an empty one, 1 for the
/// seed's tables without a version table. A file that holds other tables
/// and not gmstore's is refused rather than altered.
pub fn detect_version(conn: &Connection) -> Result<i64> {
    if table_exists(conn, VERSION_TABLE)? {
        let version: Option<i64> =
            conn.query_row(&format!("SELECT max(version) FROM {VERSION_TABLE}"), [], |r| {
                r.get(0)
            })?;
        return Ok(version.unwrap_or(0));
    }
    let mut present = Vec::new();
    for table in SEED_TABLES {
        if table_exists(conn, table)? {
            present.push(table);
        }
    }
    if present.len() == SEED_TABLES.len() {
        return Ok(1);
    }
    if !present.is_empty() {
        return Err(Error::NotADatabase(format!(
            "not a gmstore database: it has the tables {present:?} but not all of {SEED_TABLES:?}"
        )));
    }
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if tables > 0 {
        return Err(Error::NotADatabase(
            "not a gmstore database: it holds other tables and none of gmstore's".into(),
        ));
    }
    Ok(0)
}

/// The schema version of the database file at `path`, read without
/// writing anything; refuses a file written by a newer gmstore.
pub fn file_schema_version(path: &Path) -> Result<i64> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let version = detect_version(&conn)?;
    check_not_newer(version)?;
    Ok(version)
}

/// Refuses a file written by a newer gmstore, before anything is written.
pub fn check_not_newer(version: i64) -> Result<()> {
    if version > LATEST_VERSION {
        return Err(Error::SchemaTooNew(format!(
            "schema version {version} is newer than this gmstore supports ({LATEST_VERSION}); \
             the file was left untouched, upgrade gmstore to open it"
        )));
    }
    Ok(())
}

/// Applies every pending migration in one IMMEDIATE transaction, so a
/// concurrent opener either sees the old schema or the finished new one.
/// Returns the version before migrating.
pub fn migrate(conn: &Connection) -> Result<i64> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let outcome = apply_pending(conn);
    match outcome {
        Ok(from) => {
            conn.execute_batch("COMMIT")?;
            Ok(from)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn apply_pending(conn: &Connection) -> Result<i64> {
    // Re-read inside the write lock: another process may have migrated.
    let from = detect_version(conn)?;
    check_not_newer(from)?;
    if from == LATEST_VERSION {
        return Ok(from);
    }
    let adopting_seed_file = from == 1 && !table_exists(conn, VERSION_TABLE)?;
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
            version INTEGER PRIMARY KEY,
            applied_at REAL NOT NULL,
            description TEXT NOT NULL
        )"
    ))?;
    if adopting_seed_file {
        record(
            conn,
            1,
            "seed schema, adopted from a file made without a version table",
        )?;
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > from) {
        conn.execute_batch(m.sql)
            .map_err(|e| Error::from(e).context(&format!("migration to v{}", m.version)))?;
        record(conn, m.version, m.description)?;
    }
    Ok(from)
}

fn record(conn: &Connection, version: i64, description: &str) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO {VERSION_TABLE}(version, applied_at, description) \
                 VALUES (?1, unixepoch('subsec'), ?2)"
        ),
        rusqlite::params![version, description],
    )?;
    Ok(())
}

/// Before migrating a non-empty file, copies it next to the default backups
/// as `<stem>_premigration_v<N>_<stamp>.db`. Retention never deletes these:
/// their names do not parse as a default backup's.
pub(crate) fn backup_before_migration(
    conn: &Connection,
    db_path: &Path,
    from: i64,
    mode: u32,
) -> Result<PathBuf> {
    let name = format!(
        "{}_premigration_v{from}_{}.db",
        files::backup_stem(db_path),
        utc_stamp(now())
    );
    let dest = files::backup_dir(db_path).join(name);
    let label =
        |e: std::io::Error| Error::from(e).context(&format!("pre-migration backup {}", dest.display()));
    files::create_parent_dirs(&dest).map_err(label)?;
    files::create_new(&dest, mode).map_err(label)?;
    let mut out = Connection::open(&dest)?;
    Backup::new(conn, &mut out)?.step(-1)?;
    out.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(dest)
}

/// The seed's v1 DDL, for tests and tools that need a seed-made file.
pub fn seed_ddl() -> &'static str {
    V1_SEED_DDL
}
