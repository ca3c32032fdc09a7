//! The storage seam: what the shared algorithms need from a database
//! engine, as traits, so that the k-NN cache and graph traversal run
//! unchanged over any engine that implements them. SQLite (`sqlite.rs`)
//! is the first implementation; a server engine is the second.
//!
//! A *session* is one connection inside one read snapshot or write
//! transaction; every method reads what that snapshot shows. Sessions are
//! `Send`, so a bulk load can read two halves on two sessions at once.
//!
//! What differs between engines, and where the seam absorbs it:
//! - **Change cursor.** A concept write appends to a change log. On SQLite
//!   (one writer, commits in order) the log's sequence number is a safe
//!   cursor. On a server, sequence values are handed out before commit, so
//!   a later value can become visible before an earlier one and a plain
//!   "seq > last" misses rows. The cursor is therefore opaque
//!   ([`ContentMark`]): the cache only stores it, compares it and hands it
//!   back to [`ConceptFeed::changes_since`], and each engine decides what
//!   it holds (a server engine keeps the snapshot horizon as well).
//! - **Commit probe.** [`ConceptFeed::commit_probe`] is a cheap value that
//!   moves when anything may have committed (SQLite's `data_version`); an
//!   engine without one returns the change cursor's own position.
//! - **Bulk load.** [`ConceptFeed::each_embedding`] streams (id, bytes) in
//!   id order from either end, which is how the cache loads two halves in
//!   parallel without a query to find the middle; a server engine may use
//!   `COPY ... TO STDOUT (FORMAT binary)` behind it.
//! - **SQL dialect and transactions** stay inside each engine's file: the
//!   traits speak in ids, bytes and filters, never in SQL text.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{invalid, Result};
use crate::meta;
use crate::records::{
    Concept, Episode, EpisodeRow, EvictionOrder, LearningEvent, NewLearningEvent, Relationship,
    RetentionPolicy, RetentionStatus, SqlValue, Stats, StrategyMoments, StrategyStats,
};

pub(crate) mod pg;
pub(crate) mod sqlite;

/// A connection of whichever engine the store was opened on, as the
/// writer and the reader pool hold it.
pub(crate) type SessionBox = Box<dyn Session + Send>;

pub(crate) use sqlite::migrations;

/// Which end of the id order a bulk read starts from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Start {
    LowestId,
    HighestId,
}

/// Where the content a session sees stands: its position in the change
/// log and the incarnation (which a restore changes, because the log then
/// says nothing about how the content got there). Opaque to callers.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct ContentMark {
    /// SQLite: the highest `gm_concept_changes.seq` visible. PostgreSQL:
    /// the snapshot's transaction-id watermark (xmin).
    pub(crate) seq: i64,
    pub(crate) incarnation: Option<String>,
    /// PostgreSQL: the whole snapshot, so two sessions' marks are equal
    /// only when they see the same commits. None on SQLite, whose `seq`
    /// already says that.
    pub(crate) snapshot: Option<String>,
}

/// What changed since a mark.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Changes {
    /// The concepts written since (inserted, updated or deleted), and the
    /// mark that includes them.
    Since(Vec<i64>, ContentMark),
    /// The log cannot say (it was trimmed past the mark, or a restore
    /// replaced the content): the caller must reload everything.
    Unknown,
}

/// The concepts' side of the seam, as the k-NN cache and search read it.
pub(crate) trait ConceptFeed: MetaRows + Transactions + Send {
    /// A value that moves when another session may have committed.
    fn commit_probe(&self) -> Result<i64>;
    /// The mark of the content this session sees.
    fn content_mark(&self) -> Result<ContentMark>;
    /// What changed since `mark`.
    fn changes_since(&self, mark: &ContentMark) -> Result<Changes>;
    /// Which store this is, as the engine alone can say it (a server's
    /// identity and the store's name); None where the engine cannot (a
    /// SQLite connection: the store names its file).
    fn origin(&self) -> Result<Option<String>> {
        Ok(None)
    }
    /// How many concepts there are.
    fn concept_count(&self) -> Result<usize>;
    /// One concept's embedding, or None if it is gone.
    fn embedding(&self, id: i64) -> Result<Option<Vec<f32>>>;
    /// Calls `f(id, little-endian f32 bytes)` for `limit` concepts in id
    /// order from `start`.
    fn each_embedding(
        &self,
        start: Start,
        limit: usize,
        f: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()>;
    /// Ids of the concepts whose name matches `like_pattern` (a LIKE
    /// pattern with `\` as escape; None: any) and whose access count is
    /// at least `min_access_count` (None: any).
    fn ids_matching(&self, like_pattern: Option<&str>, min_access_count: Option<i64>) -> Result<Vec<i64>>;
    /// The name of each concept in `ids` (a missing one is an error).
    fn names(&self, ids: &[i64]) -> Result<Vec<String>>;
}

/// The relationships' side of the seam, as graph traversal reads it.
pub(crate) trait GraphRows {
    /// Whether the concept exists.
    fn concept_exists(&self, id: i64) -> Result<bool>;
    /// Outgoing edges of `from` as (target, strength), filtered.
    fn out_edges(&self, from: i64, kind: Option<&str>, min_strength: f64) -> Result<Vec<(i64, f64)>>;
    /// Distinct targets of every edge leaving `frontier`, filtered.
    fn frontier_targets(&self, frontier: &[i64], kind: Option<&str>, min_strength: f64) -> Result<Vec<i64>>;
    /// Names of the concepts in `ids` that exist.
    fn names_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, String>>;
}

/// The four tables whose rows the store counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    Episodes,
    Concepts,
    LearningEvents,
    Relationships,
}

impl Table {
    /// The table's name in the schema.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Episodes => "episodes",
            Table::Concepts => "concepts",
            Table::LearningEvents => "learning_events",
            Table::Relationships => "concept_relationships",
        }
    }
}

/// Episodes.
pub(crate) trait EpisodeRows {
    /// Inserts a checked episode; returns its id and whether a retention
    /// policy is in force (read by the insert itself, so that checking
    /// costs a server no round trip).
    fn insert_episode(&self, e: &EpisodeRow<'_>) -> Result<(i64, bool)>;
    /// Inserts checked episodes in order; returns their ids, and whether a
    /// retention policy is in force. An engine with round trips per
    /// statement sends them together.
    fn insert_episodes(&self, rows: &[EpisodeRow<'_>]) -> Result<(Vec<i64>, bool)> {
        let mut in_force = false;
        let mut ids = Vec::with_capacity(rows.len());
        for e in rows {
            let (id, policy) = self.insert_episode(e)?;
            ids.push(id);
            in_force |= policy;
        }
        Ok((ids, in_force))
    }
    /// The episode with this id, if any.
    fn episode(&self, id: i64) -> Result<Option<Episode>>;
    /// The episodes with these ids, in the order given (an id given twice
    /// comes twice; a missing one is `None`). An engine with round trips
    /// per statement reads them in one.
    fn episodes_by_ids(&self, ids: &[i64]) -> Result<Vec<Option<Episode>>> {
        ids.iter().map(|&id| self.episode(id)).collect()
    }
    /// A context's episodes, newest first (ties: highest id first).
    fn episodes_by_context(&self, context: &str, min_score: Option<f64>, limit: i64) -> Result<Vec<Episode>>;
    /// Episodes with a timestamp of at least `since`, newest first.
    fn recent_episodes(&self, since: f64, limit: i64) -> Result<Vec<Episode>>;
}

/// Which episodes a replay sampler draws from: a context and a score
/// range, each optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReplayScope<'a> {
    pub(crate) context: Option<&'a str>,
    pub(crate) min_score: Option<f64>,
    pub(crate) max_score: Option<f64>,
}

/// An episode as a sampler holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ReplayRow {
    pub(crate) id: i64,
    /// Tells this episode from any other that later holds its id (after a
    /// restore ids are handed out again): the bits of its `created_at`.
    pub(crate) generation: i64,
    /// None: no writer or learner gave one (it counts at the maximum).
    pub(crate) priority: Option<f64>,
}

/// Where a sampler's view of the episodes stands. Opaque to callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplayMark {
    /// The highest `gm_episode_changes.seq` seen.
    pub(crate) seq: i64,
    /// The highest episode id seen (inserts are found above it).
    pub(crate) max_id: i64,
    pub(crate) incarnation: Option<String>,
}

/// What changed for replay since a mark.
#[derive(Debug, PartialEq)]
pub(crate) enum ReplayChanges {
    /// Episodes deleted, rewritten or re-prioritised since (each to be
    /// read again), and the mark that includes them and any insert.
    Since(Vec<i64>, ReplayMark),
    /// The engine cannot say (log trimmed past the mark, a restore, or an
    /// engine without the log): reload everything.
    Unknown,
}

/// Episodes as replay sampling reads them, and their priorities.
pub(crate) trait ReplayRows {
    /// The mark of what this session sees.
    fn replay_mark(&self) -> Result<ReplayMark>;
    /// What changed since `mark`.
    fn replay_changes_since(&self, mark: &ReplayMark) -> Result<ReplayChanges>;
    /// Every episode in `scope`, in id order.
    fn replay_rows(&self, scope: &ReplayScope<'_>) -> Result<Vec<ReplayRow>>;
    /// The episodes in `scope` among `ids` or with an id above `above`;
    /// an id in neither result is gone or out of scope.
    fn replay_rows_changed(&self, scope: &ReplayScope<'_>, ids: &[i64], above: i64)
        -> Result<Vec<ReplayRow>>;
    /// Stores priorities (finite, >= 0) of episodes; ids that are not
    /// episodes are skipped. Returns how many were stored.
    fn set_priorities(&self, priorities: &[(i64, f64)]) -> Result<usize>;
}

/// Which episodes a retention rule evicts, in eviction order. None of
/// them is protected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Victims<'a> {
    /// Every one with a `timestamp` before this.
    OlderThan(f64),
    /// The first `n` in this order.
    First(EvictionOrder, i64),
    /// The first in this order whose experiences add up to at least `n`
    /// bytes, and at least `at_least` of them.
    FirstBytes {
        order: EvictionOrder,
        bytes: i64,
        at_least: i64,
    },
    /// Those below the `k` best by score (ties: newest kept) of one
    /// context, or of each when `None`.
    OutsideTopKPerContext(i64, Option<&'a str>),
}

/// The retention policy, the budget's counts, and evictions. The rules
/// are `crate::retention`'s; an engine counts, selects and deletes.
pub(crate) trait RetentionRows {
    /// The policy in force and the evictable episodes' counts.
    fn retention_state(&self) -> Result<RetentionStatus>;
    /// Stores the policy (`None`: no policy) and, for one, starts counting
    /// the evictable episodes: counts them now, and from here on in the
    /// same transaction as every episode write, whoever makes it.
    fn store_retention_policy(&self, policy: Option<&RetentionPolicy>) -> Result<()>;
    /// Counts the evictable episodes again from the rows (after writes
    /// the engine's bookkeeping may have missed).
    fn recount_retention(&self) -> Result<()>;
    /// The episodes a rule evicts.
    fn retention_victims(&self, victims: &Victims<'_>) -> Result<Vec<i64>>;
    /// Deletes these episodes and counts them as evicted.
    fn evict_episodes(&self, ids: &[i64]) -> Result<()>;
}

/// Learning events.
pub(crate) trait LearningRows {
    /// Inserts a checked event (every default filled in); returns its id.
    fn insert_learning_event(&self, e: &NewLearningEvent<'_>) -> Result<i64>;
    /// Inserts checked events in order; returns their ids.
    fn insert_learning_events(&self, rows: &[NewLearningEvent<'_>]) -> Result<Vec<i64>> {
        rows.iter().map(|e| self.insert_learning_event(e)).collect()
    }
    /// A task's events, newest first (ties: highest id first).
    fn learning_events_by_task(
        &self,
        task: &str,
        min_delta: Option<f64>,
        limit: i64,
    ) -> Result<Vec<LearningEvent>>;
    /// A task's strategies by mean delta, best first (ties: by name).
    fn best_strategies(&self, task: &str, limit: i64) -> Result<Vec<StrategyStats>>;
    /// Per strategy of a task (by name), the count, mean, sum of squared
    /// deviations and first and last timestamp of its events at or after
    /// `since`, computed accurately in one pass by the engine.
    fn strategy_moments(&self, task: &str, since: Option<f64>) -> Result<Vec<StrategyMoments>>;
}

/// Relationship writes and reads.
pub(crate) trait RelationshipRows {
    /// Inserts the edge or replaces its strength.
    fn upsert_relationship(&self, source: i64, target: i64, kind: &str, strength: f64) -> Result<()>;
    /// Outgoing edges of a concept, strongest first (ties: by target id).
    fn relationships_of(&self, concept_id: i64, kind: Option<&str>) -> Result<Vec<Relationship>>;
}

/// Concept writes and reads.
pub(crate) trait ConceptRows {
    /// Replaces the embedding (and creation time and metadata, when given)
    /// of the concept named `name`, or inserts it; returns its id.
    fn upsert_concept(
        &self,
        name: &str,
        blob: &[u8],
        creation_time: Option<f64>,
        metadata: Option<&str>,
        now: f64,
    ) -> Result<i64>;
    /// The concept with this id, if any.
    fn concept(&self, id: i64) -> Result<Option<Concept>>;
    /// The concepts with these ids, in order (every id must exist).
    fn concepts_by_id(&self, ids: &[i64]) -> Result<Vec<Concept>>;
    /// The concept with this name, if any.
    fn concept_by_name(&self, name: &str) -> Result<Option<Concept>>;
    /// The concept with this name, after counting an access at `now`.
    fn concept_by_name_counted(&self, name: &str, now: f64) -> Result<Option<Concept>>;
    /// Adds `count` accesses, the latest at `last`.
    fn add_accesses(&self, id: i64, count: i64, last: f64) -> Result<()>;
    /// Ids of the concepts whose name matches `like_pattern` (empty: all),
    /// most accessed first (ties: lowest id first).
    fn concept_ids_by_access(&self, like_pattern: &str, limit: i64) -> Result<Vec<i64>>;
}

/// The store's own settings (`gm_meta`): a key-value table, and the
/// embedding dimension kept in it (shared logic, as default methods).
pub(crate) trait MetaRows {
    /// The value stored under `key`, if any.
    fn meta_get(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` under `key`, replacing what was there.
    fn meta_set(&self, key: &str, value: &str) -> Result<()>;

    /// The store's fixed embedding dimension, if one is fixed.
    fn embedding_dim(&self) -> Result<Option<usize>> {
        Ok(self.meta_get(meta::EMBEDDING_DIM)?.and_then(|t| t.parse().ok()))
    }

    /// Checks `dim` against the fixed dimension. True when none is fixed
    /// yet, so the caller records it after its own write. `field` names
    /// what the caller passed, for the error message.
    fn check_embedding_dim(&self, dim: usize, field: &str) -> Result<bool> {
        match self.embedding_dim()? {
            Some(stored) if stored == dim => Ok(false),
            Some(stored) => Err(invalid(
                field,
                format!("dimension {dim} does not match the store's {stored}"),
            )),
            None => Ok(true),
        }
    }

    /// Records `dim` as the dimension; the caller checked none is fixed.
    fn record_embedding_dim(&self, dim: usize) -> Result<()> {
        self.meta_set(meta::EMBEDDING_DIM, &dim.to_string())
    }

    /// Fixes the dimension to `dim`, or fails if another one is fixed.
    fn fix_embedding_dim(&self, dim: usize) -> Result<()> {
        if self.check_embedding_dim(dim, "embedding_dim")? {
            self.record_embedding_dim(dim)?;
        }
        Ok(())
    }
}

/// Raw SQL and the engine's own reports.
pub(crate) trait Admin {
    /// Runs one statement of the caller's with bound parameters, refusing
    /// what would steer the session (transactions, attachments, settings);
    /// returns the rows changed.
    fn execute_raw(&self, sql: &str, params: &[SqlValue<'_>]) -> Result<usize>;
    /// Row counts, schema version, dimension and page statistics, from one
    /// snapshot (sizes on disk and backups are the caller's to add).
    fn stats_snapshot(&self) -> Result<Stats>;
    /// The problems an integrity check finds; empty when sound.
    fn integrity_problems(&self) -> Result<Vec<String>>;
    /// The schema version of the database.
    fn schema_version(&self) -> Result<i64>;
}

/// Write transactions and savepoints on a session. Savepoint names are
/// plain identifiers the caller chooses.
pub(crate) trait Transactions {
    /// Starts a read snapshot on this session; every later read sees it.
    fn begin_read(&self) -> Result<()>;
    /// Ends the read snapshot.
    fn end_read(&self) -> Result<()>;
    /// Begins a write transaction, taking the write lock up front.
    fn begin_write(&self) -> Result<()>;
    /// Commits the write transaction.
    fn commit_write(&self) -> Result<()>;
    /// Rolls the write transaction back.
    fn rollback_write(&self) -> Result<()>;
    /// Opens a savepoint inside the transaction.
    fn savepoint(&self, name: &str) -> Result<()>;
    /// Keeps a savepoint's work and closes it.
    fn release(&self, name: &str) -> Result<()>;
    /// Undoes a savepoint's work and closes it.
    fn rollback_to(&self, name: &str) -> Result<()>;
    /// Whether a transaction is open (an engine may end one on its own
    /// after an I/O error or a full disk).
    fn in_transaction(&self) -> bool;
    /// Whether one writing statement outside a transaction is atomic and
    /// durable by itself, so a single write needs no BEGIN/COMMIT around
    /// it. SQLite says no: its BEGIN IMMEDIATE takes the write lock before
    /// the reads that precede the write.
    fn statement_is_atomic(&self) -> bool {
        false
    }
}

/// Whole-store copies. A backup is always a gmstore SQLite file, whatever
/// the engine, so the SQLite engine can open it directly.
pub(crate) trait Snapshots {
    /// Copies the snapshot this session sees into the new, empty file
    /// `dest`, marks it as a backup of `label` taken at `taken_at`, and
    /// verifies it; returns its schema version.
    fn copy_to_new_file(&self, dest: &Path, label: &str, taken_at: f64) -> Result<i64>;
    /// Replaces the whole content with a verified backup file, in this
    /// session's write transaction, migrating it if it is older.
    fn replace_content_from(&mut self, backup: &Path) -> Result<()>;
    /// Reclaims free space (and, when asked, truncates the write-ahead log).
    fn compact(&self, checkpoint: bool) -> Result<()>;
    /// Writes a compacted copy to the new file `dest`.
    fn compact_into(&self, dest: &Path) -> Result<()>;
    /// Moves the write-ahead log into the main file; returns the frames moved.
    fn checkpoint_log(&self) -> Result<i64>;
}

/// (table, columns in order, which are blobs). Ids are kept, so
/// relationships stay attached to their concepts.
pub(crate) const STORE_TABLES: [(&str, &[&str], &[&str]); 4] = [
    (
        "episodes",
        &[
            "id",
            "timestamp",
            "experience_data",
            "performance_score",
            "context_hash",
            "metadata",
            "created_at",
        ],
        &["experience_data"],
    ),
    (
        "concepts",
        &[
            "id",
            "name",
            "embedding",
            "creation_time",
            "access_count",
            "last_accessed",
            "metadata",
        ],
        &["embedding"],
    ),
    (
        "learning_events",
        &[
            "id",
            "task_type",
            "performance_delta",
            "strategy_used",
            "timestamp",
            "parameters",
        ],
        &[],
    ),
    (
        "concept_relationships",
        &[
            "id",
            "source_concept_id",
            "target_concept_id",
            "relationship_type",
            "strength",
            "created_at",
        ],
        &[],
    ),
];

/// One cell of a row, as whole-table copies (export) read it: text as the
/// bytes stored, which another program may have written as invalid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

/// A cell to write (import).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum OwnedCell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Whole-table copies for export and import. Table and column names come
/// from the store's own list, never from input.
pub(crate) trait TableRows {
    /// How many rows `table` holds.
    fn count_table(&self, table: &str) -> Result<i64>;
    /// How many rows one of the store's tables holds.
    fn count_rows(&self, table: Table) -> Result<i64> {
        self.count_table(table.name())
    }
    /// Calls `f` with every row's `columns`, in id order.
    fn each_row(
        &self,
        table: &str,
        columns: &[&str],
        f: &mut dyn FnMut(&[Cell<'_>]) -> Result<()>,
    ) -> Result<()>;
    /// Inserts one row, ids included.
    fn insert_row(&self, table: &str, columns: &[&str], values: &[OwnedCell]) -> Result<()>;
    /// After rows were inserted with their ids: new rows must get ids past
    /// them. SQLite's AUTOINCREMENT already does; a server's identity
    /// sequences are moved once here, not per row.
    fn rows_inserted_with_ids(&self) -> Result<()> {
        Ok(())
    }
}

/// Everything one session offers: what the domains and algorithms hold
/// while they read or write.
pub(crate) trait Session:
    Admin
    + ConceptFeed
    + ConceptRows
    + EpisodeRows
    + GraphRows
    + LearningRows
    + MetaRows
    + RelationshipRows
    + ReplayRows
    + RetentionRows
    + Snapshots
    + TableRows
    + Transactions
{
}

impl<T> Session for T where
    T: Admin
        + ConceptFeed
        + ConceptRows
        + EpisodeRows
        + GraphRows
        + LearningRows
        + MetaRows
        + RelationshipRows
        + ReplayRows
        + RetentionRows
        + Snapshots
        + TableRows
        + Transactions
{
}
