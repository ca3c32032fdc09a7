//! Episodic memory: experiences with a score, a context and metadata.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::clock::now;
use crate::error::Result;
use crate::store::Store;
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

    fn validated(&self) -> Result<ValidEpisode<'a>> {
        Ok(ValidEpisode {
            experience_data: validate::blob("experience_data", self.experience_data)?,
            performance_score: validate::finite("performance_score", self.performance_score)?,
            context_hash: validate::non_empty("context_hash", self.context_hash)?,
            timestamp: validate::finite_opt("timestamp", self.timestamp)?.unwrap_or_else(now),
            metadata: validate::json_object("metadata", self.metadata)?.unwrap_or("{}"),
        })
    }
}

struct ValidEpisode<'a> {
    experience_data: &'a [u8],
    performance_score: f64,
    context_hash: &'a str,
    timestamp: f64,
    metadata: &'a str,
}

/// The columns every query reads, in `from_row`'s order. A macro so the
/// statements below are compile-time constants, not formatted per call.
macro_rules! columns {
    () => {
        "id, timestamp, experience_data, performance_score, context_hash, metadata, created_at"
    };
}
const BY_ID: &str = concat!("SELECT ", columns!(), " FROM episodes WHERE id = ?1");
const BY_CONTEXT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM episodes WHERE context_hash = ?1 AND (?2 IS NULL OR performance_score >= ?2) \
     ORDER BY timestamp DESC, id DESC LIMIT ?3"
);
const RECENT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM episodes WHERE timestamp >= ?1 ORDER BY timestamp DESC, id DESC LIMIT ?2"
);

fn from_row(row: &Row<'_>) -> rusqlite::Result<Episode> {
    let id: i64 = row.get(0)?;
    read_row(row, id).map_err(|e| crate::error::damaged_row("episode", id, e))
}

fn read_row(row: &Row<'_>, id: i64) -> rusqlite::Result<Episode> {
    Ok(Episode {
        id,
        timestamp: row.get(1)?,
        experience_data: row.get(2)?,
        performance_score: row.get(3)?,
        context_hash: row.get(4)?,
        metadata: row.get::<_, Option<String>>(5)?.unwrap_or_else(|| "{}".into()),
        created_at: row.get::<_, Option<f64>>(6)?.unwrap_or(0.0),
    })
}

fn insert(conn: &Connection, e: &ValidEpisode<'_>) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    stmt.execute(params![
        e.timestamp,
        e.experience_data,
        e.performance_score,
        e.context_hash,
        e.metadata
    ])?;
    Ok(conn.last_insert_rowid())
}

fn query_list(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Episode>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    /// Stores one episode and returns its id.
    pub fn store_episode(&self, episode: &NewEpisode<'_>) -> Result<i64> {
        let valid = episode.validated()?;
        self.write(|conn| insert(conn, &valid))
    }

    /// Stores many episodes in one transaction: all or none. Returns their
    /// ids in input order. Every episode is validated before anything is
    /// written; the error names the index of the first bad one.
    pub fn store_episodes(&self, episodes: &[NewEpisode<'_>]) -> Result<Vec<i64>> {
        let valid = episodes
            .iter()
            .enumerate()
            .map(|(i, e)| e.validated().map_err(|err| err.within(&format!("episodes[{i}]"))))
            .collect::<Result<Vec<_>>>()?;
        if let [one] = valid.as_slice() {
            // One insert is atomic by itself: no savepoint, whose page
            // copies dominate a small write inside a caller's transaction.
            return Ok(vec![self.write(|conn| insert(conn, one))?]);
        }
        self.write_atomic(|conn| valid.iter().map(|e| insert(conn, e)).collect())
    }

    /// The episode with this id, or `None`.
    pub fn retrieve_episode(&self, id: i64) -> Result<Option<Episode>> {
        let id = validate::id("episode_id", id)?;
        self.read(|conn| Ok(conn.prepare_cached(BY_ID)?.query_row([id], from_row).optional()?))
    }

    /// Episodes of one context, newest first, optionally with a score of at
    /// least `min_score`.
    pub fn get_episodes_by_context(
        &self,
        context_hash: &str,
        limit: i64,
        min_score: Option<f64>,
    ) -> Result<Vec<Episode>> {
        let limit = validate::limit(limit)?;
        let min_score = validate::finite_opt("min_score", min_score)?;
        self.read(|conn| query_list(conn, BY_CONTEXT, params![context_hash, min_score, limit]))
    }

    /// Episodes whose timestamp lies within the last `time_window` seconds,
    /// newest first.
    pub fn get_recent_episodes(&self, time_window: f64, limit: i64) -> Result<Vec<Episode>> {
        let window = validate::finite("time_window", time_window)?;
        if window < 0.0 {
            return Err(crate::error::invalid(
                "time_window",
                format!("must not be negative, got {window}"),
            ));
        }
        let limit = validate::limit(limit)?;
        let since = now() - window;
        self.read(|conn| query_list(conn, RECENT, params![since, limit]))
    }

    /// How many episodes are stored.
    pub fn count_episodes(&self) -> Result<i64> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT count(*) FROM episodes")?
                .query_row([], |r| r.get(0))?)
        })
    }
}
