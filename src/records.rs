//! The records the store keeps, as the domains hand them out and the
//! storage engines read and write them: the ground floor both sides share,
//! so neither imports the other.

use crate::clock::now;
use crate::error::Result;
use crate::validate;

/// A stored episode, as the seed's `Episode` dataclass plus `created_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// Episode id.
    pub id: i64,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// Opaque bytes; see [`crate::experience`] for the shared tensor format.
    pub experience_data: Vec<u8>,
    /// The score the writer gave, finite.
    pub performance_score: f64,
    /// The context the episode belongs to.
    pub context_hash: String,
    /// A JSON object, as text.
    pub metadata: String,
    /// When the row was inserted, as a Julian day (the seed's default).
    pub created_at: f64,
}

/// The fields of an episode to store.
#[derive(Debug, Clone, Copy)]
pub struct NewEpisode<'a> {
    /// Opaque bytes; see [`crate::experience`] for the shared tensor format.
    pub experience_data: &'a [u8],
    /// The score the writer gave, finite.
    pub performance_score: f64,
    /// The context the episode belongs to.
    pub context_hash: &'a str,
    /// Defaults to the current Unix time.
    pub timestamp: Option<f64>,
    /// A JSON object as text; defaults to `{}`.
    pub metadata: Option<&'a str>,
}

impl<'a> NewEpisode<'a> {
    /// An episode with the required fields and default timestamp and metadata.
    pub fn new(experience_data: &'a [u8], performance_score: f64, context_hash: &'a str) -> Self {
        NewEpisode {
            experience_data,
            performance_score,
            context_hash,
            timestamp: None,
            metadata: None,
        }
    }

    /// Checks every field and fills in the defaults.
    pub(crate) fn validated(&self) -> Result<EpisodeRow<'a>> {
        Ok(EpisodeRow {
            experience_data: validate::blob("experience_data", self.experience_data)?,
            performance_score: validate::finite("performance_score", self.performance_score)?,
            context_hash: validate::non_empty("context_hash", self.context_hash)?,
            timestamp: validate::finite_opt("timestamp", self.timestamp)?.unwrap_or_else(now),
            metadata: validate::json_object("metadata", self.metadata)?.unwrap_or("{}"),
        })
    }
}

/// An episode checked and with its defaults filled in: what an engine
/// writes.
pub(crate) struct EpisodeRow<'a> {
    pub(crate) experience_data: &'a [u8],
    pub(crate) performance_score: f64,
    pub(crate) context_hash: &'a str,
    pub(crate) timestamp: f64,
    pub(crate) metadata: &'a str,
}

/// A stored learning event, as the seed's `LearningEvent` dataclass.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningEvent {
    /// Event id.
    pub id: i64,
    /// The task the event belongs to.
    pub task_type: String,
    /// The change in performance, finite.
    pub performance_delta: f64,
    /// The strategy that produced it.
    pub strategy_used: String,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// A JSON object, as text.
    pub parameters: String,
}

/// One row of [`Store::get_best_strategies`]: `(strategy, avg_delta, count)`.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyStats {
    /// The strategy.
    pub strategy: String,
    /// Mean performance delta over its events.
    pub avg_delta: f64,
    /// How many events used it.
    pub usage_count: i64,
}

/// What an engine reads for one strategy of a task, in one pass over its
/// events: the raw material of [`StrategySummary`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StrategyMoments {
    pub strategy: String,
    pub count: i64,
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
    pub first_used: f64,
    pub last_used: f64,
}

/// One row of [`Store::strategy_stats`]: a strategy's performance deltas
/// with their uncertainty.
///
/// With one event there is no spread to estimate: `std_dev` and
/// `std_error` are NaN and the interval is (−∞, +∞).
#[derive(Debug, Clone, PartialEq)]
pub struct StrategySummary {
    /// The strategy.
    pub strategy: String,
    /// How many events used it (in the window, if one was given).
    pub count: i64,
    /// Mean performance delta.
    pub mean: f64,
    /// Sample standard deviation of the deltas (n − 1 in the denominator).
    pub std_dev: f64,
    /// Standard error of the mean: `std_dev / √count`.
    pub std_error: f64,
    /// Lower end of the 95% confidence interval of the mean (Student's t).
    pub ci_low: f64,
    /// Upper end of that interval.
    pub ci_high: f64,
    /// Timestamp of its first event (in the window).
    pub first_used: f64,
    /// Timestamp of its last event.
    pub last_used: f64,
}

/// The strategy [`Store::suggest_strategy`] picked, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The strategy to try next.
    pub strategy: String,
    /// What it won on: its upper confidence bound (UCB1; +∞ for a
    /// strategy never tried) or its posterior draw (Thompson).
    pub score: f64,
    /// How many events used it so far (0 for a candidate never tried).
    pub count: i64,
    /// Its mean delta so far (NaN when never tried).
    pub mean: f64,
    /// Its position in the candidate list, or −1 when no list was given.
    pub candidate_index: i64,
}

/// A learning event to store: the arguments of
/// [`Store::store_learning_event`], for [`Store::store_learning_events`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewLearningEvent<'a> {
    /// The task the event belongs to.
    pub task_type: &'a str,
    /// The change in performance, finite.
    pub performance_delta: f64,
    /// The strategy that produced it.
    pub strategy_used: &'a str,
    /// A JSON object; `None` stores `{}`.
    pub parameters: Option<&'a str>,
    /// Unix time in seconds; `None` is now.
    pub timestamp: Option<f64>,
}

impl<'a> NewLearningEvent<'a> {
    /// An event with the required fields and default timestamp and parameters.
    pub fn new(task_type: &'a str, performance_delta: f64, strategy_used: &'a str) -> Self {
        NewLearningEvent {
            task_type,
            performance_delta,
            strategy_used,
            parameters: None,
            timestamp: None,
        }
    }

    /// Checks every field and fills in the defaults.
    pub(crate) fn validated(&self) -> Result<NewLearningEvent<'a>> {
        Ok(NewLearningEvent {
            task_type: validate::non_empty("task_type", self.task_type)?,
            performance_delta: validate::finite("performance_delta", self.performance_delta)?,
            strategy_used: validate::non_empty("strategy_used", self.strategy_used)?,
            parameters: Some(validate::json_object("parameters", self.parameters)?.unwrap_or("{}")),
            timestamp: Some(validate::finite_opt("timestamp", self.timestamp)?.unwrap_or_else(now)),
        })
    }
}

/// One outgoing edge, as the seed's `(target_id, type, strength)` tuple.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// The concept the edge points to.
    pub target_id: i64,
    /// The kind of edge.
    pub relationship_type: String,
    /// Edge strength in [0, 1].
    pub strength: f64,
}

/// A stored concept, as the seed's `Concept` dataclass.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    /// Concept id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The embedding, float32 as stored.
    pub embedding: Vec<f32>,
    /// Unix time the concept was created (or as given).
    pub creation_time: f64,
    /// How often it was retrieved.
    pub access_count: i64,
    /// Unix time of the last retrieval, 0 if never.
    pub last_accessed: f64,
    /// A JSON object, as text.
    pub metadata: String,
}

/// A bound parameter for [`Store::execute`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum SqlValue<'a> {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// A finite float.
    Real(f64),
    /// UTF-8 text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// What `get_database_stats` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Stored episodes.
    pub episodes_count: i64,
    /// Stored concepts.
    pub concepts_count: i64,
    /// Stored learning events.
    pub learning_events_count: i64,
    /// Stored relationships.
    pub relationships_count: i64,
    /// Main file plus WAL, in bytes.
    pub db_size_bytes: u64,
    /// The file's schema version.
    pub schema_version: i64,
    /// SQLite page size in bytes.
    pub page_size: i64,
    /// Pages in the main file.
    pub page_count: i64,
    /// Free pages a vacuum would reclaim.
    pub freelist_count: i64,
    /// The fixed embedding dimension, if any concept fixed it.
    pub embedding_dim: Option<usize>,
    /// Unix time of the newest automatic backup on disk, if any.
    pub last_backup_time: Option<f64>,
}

impl Stats {
    /// `db_size_bytes` in MiB, as the seed's `db_size_mb`.
    pub fn db_size_mb(&self) -> f64 {
        self.db_size_bytes as f64 / (1024.0 * 1024.0)
    }
}
