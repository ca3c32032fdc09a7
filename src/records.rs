//! The records the store keeps, as the domains hand them out and the
//! storage engines read and write them: the ground floor both sides share,
//! so neither imports the other.

use crate::clock::now;
use crate::error::{invalid, Result};
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
    /// The retention policy in force, if any.
    pub retention: Option<RetentionPolicy>,
    /// Episodes retention has evicted since the store was created.
    pub episodes_evicted: i64,
}

impl Stats {
    /// `db_size_bytes` in MiB, as the seed's `db_size_mb`.
    pub fn db_size_mb(&self) -> f64 {
        self.db_size_bytes as f64 / (1024.0 * 1024.0)
    }
}

/// Which evictable episode goes first when a count or byte limit is
/// exceeded (Reverb's remover). Ties go oldest (lowest id) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvictionOrder {
    /// The lowest id first: insertion order (Reverb's Fifo).
    #[default]
    Oldest,
    /// The lowest performance score first (Reverb's MinHeap).
    LowestScore,
    /// The lowest replay priority first; episodes without one count at
    /// the maximum, so they go last.
    LowestPriority,
}

impl EvictionOrder {
    /// The name stored in the database and used by the CLI.
    pub fn name(self) -> &'static str {
        match self {
            EvictionOrder::Oldest => "oldest",
            EvictionOrder::LowestScore => "lowest_score",
            EvictionOrder::LowestPriority => "lowest_priority",
        }
    }

    /// The order named `name` (as [`EvictionOrder::name`] gives it).
    pub fn from_name(name: &str) -> Result<EvictionOrder> {
        match name {
            "oldest" => Ok(EvictionOrder::Oldest),
            "lowest_score" => Ok(EvictionOrder::LowestScore),
            "lowest_priority" => Ok(EvictionOrder::LowestPriority),
            other => Err(invalid(
                "order",
                format!("'{other}' is not one of oldest, lowest_score, lowest_priority"),
            )),
        }
    }
}

/// Episodes never evicted: those whose metadata's top-level `key` holds
/// `value` (a JSON string, boolean or integer, given as JSON text such as
/// `true` or `"demo"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    /// The metadata key (non-empty, no `"`, no control characters).
    pub key: String,
    /// The value as JSON text, normalised when the policy is set.
    pub value: String,
}

/// A store's retention policy. Every limit is optional; a policy without
/// any limit keeps everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RetentionPolicy {
    /// Keep at most this many evictable episodes (Reverb's max_size).
    pub max_episodes: Option<i64>,
    /// Keep at most this many bytes of evictable experiences.
    pub max_experience_bytes: Option<i64>,
    /// Evict episodes whose `timestamp` is more than this many seconds
    /// before now (Unix seconds, as the seed stamps them).
    pub max_age_seconds: Option<f64>,
    /// Keep only the k best-scoring evictable episodes (TorchRL's
    /// max-value writer)...
    pub keep_top_k: Option<i64>,
    /// ...of each context, instead of overall.
    pub top_k_per_context: bool,
    /// Episodes outside the budget.
    pub protect: Option<Protection>,
    /// Which episode goes first under `max_episodes` and
    /// `max_experience_bytes`.
    pub order: EvictionOrder,
    /// When `max_episodes` or `max_experience_bytes` is exceeded, evict at
    /// least this many at once (0 or 1: exactly down to the limit). A
    /// store at its cap otherwise deletes one episode per insert, writing
    /// the pages of the oldest rows again on every commit; a batch of 1%
    /// of the cap makes that once per 1% of inserts, and the store holds
    /// between cap - batch + 1 and cap episodes.
    pub eviction_batch: i64,
}

impl RetentionPolicy {
    /// Whether any limit is set.
    pub fn limits_anything(&self) -> bool {
        self.max_episodes.is_some()
            || self.max_experience_bytes.is_some()
            || self.max_age_seconds.is_some()
            || self.keep_top_k.is_some()
    }

    /// The same policy with every field checked and the protected value
    /// normalised to compact JSON.
    pub(crate) fn validated(&self) -> Result<RetentionPolicy> {
        let count = |field: &str, v: Option<i64>| match v {
            Some(n) if n < 0 => Err(invalid(field, format!("must be >= 0, got {n}"))),
            _ => Ok(()),
        };
        count("max_episodes", self.max_episodes)?;
        count("max_experience_bytes", self.max_experience_bytes)?;
        count("keep_top_k", self.keep_top_k)?;
        count("eviction_batch", Some(self.eviction_batch))?;
        if let Some(age) = validate::finite_opt("max_age_seconds", self.max_age_seconds)? {
            if age < 0.0 {
                return Err(invalid("max_age_seconds", format!("must be >= 0, got {age}")));
            }
        }
        if self.top_k_per_context && self.keep_top_k.is_none() {
            return Err(invalid("top_k_per_context", "needs keep_top_k"));
        }
        let protect = self.protect.as_ref().map(validated_protection).transpose()?;
        Ok(RetentionPolicy {
            protect,
            ..self.clone()
        })
    }
}

fn validated_protection(p: &Protection) -> Result<Protection> {
    if p.key.is_empty() || p.key.chars().any(|c| c == '"' || c.is_control()) {
        return Err(invalid(
            "protect.key",
            format!(
                "{:?}: must be non-empty, without '\"' or control characters",
                p.key
            ),
        ));
    }
    let value: serde_json::Value =
        serde_json::from_str(&p.value).map_err(|e| invalid("protect.value", format!("not JSON: {e}")))?;
    let scalar = match &value {
        serde_json::Value::String(_) | serde_json::Value::Bool(_) => true,
        serde_json::Value::Number(n) => n.is_i64() || n.is_u64(),
        _ => false,
    };
    if !scalar {
        return Err(invalid(
            "protect.value",
            format!("{}: must be a JSON string, boolean or integer", p.value),
        ));
    }
    Ok(Protection {
        key: p.key.clone(),
        value: value.to_string(),
    })
}

/// Episodes evicted, by the rule that evicted them. Rules run in this
/// order: age, top k, count, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evictions {
    /// Older than `max_age_seconds`.
    pub by_age: u64,
    /// Outside the top k by score.
    pub by_top_k: u64,
    /// Over `max_episodes`.
    pub by_count: u64,
    /// Over `max_experience_bytes`.
    pub by_bytes: u64,
}

impl Evictions {
    /// Every episode evicted.
    pub fn total(&self) -> u64 {
        self.by_age + self.by_top_k + self.by_count + self.by_bytes
    }
}

/// What a prune evicted (or, for a dry run, would evict).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pruned {
    /// Counts by rule.
    pub evictions: Evictions,
    /// The episodes' ids, in eviction order.
    pub ids: Vec<i64>,
}

/// The policy and the budget as the database counts it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetentionStatus {
    /// The policy in force; `None` when none is set.
    pub policy: Option<RetentionPolicy>,
    /// Evictable episodes now held (counted only while a policy is set).
    pub episodes: i64,
    /// Their experience bytes.
    pub experience_bytes: i64,
    /// Episodes evicted since the store was created.
    pub evicted_total: i64,
}

impl RetentionStatus {
    /// The status a store's row gives: `policy` as stored (with no limit:
    /// none in force), and the row's counts, which are kept only while a
    /// policy is in force (zero otherwise, rather than stale).
    pub(crate) fn counted_under(policy: RetentionPolicy, row: RetentionStatus) -> RetentionStatus {
        if !policy.limits_anything() {
            return RetentionStatus {
                evicted_total: row.evicted_total,
                ..RetentionStatus::default()
            };
        }
        RetentionStatus {
            policy: Some(policy),
            ..row
        }
    }
}
