//! Episodes, on SQLite.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::retention::after_insert;
use crate::error::Result;
use crate::records::{Episode, EpisodeRow};
use crate::storage::EpisodeRows;

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
    read_row(row, id).map_err(|e| super::errors::damaged_row("episode", id, e))
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

fn insert(conn: &Connection, e: &EpisodeRow<'_>) -> Result<i64> {
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

impl EpisodeRows for Connection {
    fn insert_episode(&self, e: &EpisodeRow<'_>) -> Result<(i64, bool)> {
        let id = insert(self, e)?;
        Ok((id, after_insert(self, id)?))
    }

    fn insert_episodes(&self, rows: &[EpisodeRow<'_>]) -> Result<(Vec<i64>, bool)> {
        let ids: Vec<i64> = rows.iter().map(|e| insert(self, e)).collect::<Result<_>>()?;
        let in_force = after_insert(self, ids.last().copied().unwrap_or(0))?;
        Ok((ids, in_force))
    }

    fn episode(&self, id: i64) -> Result<Option<Episode>> {
        Ok(self.prepare_cached(BY_ID)?.query_row([id], from_row).optional()?)
    }

    fn episodes_by_context(&self, context: &str, min_score: Option<f64>, limit: i64) -> Result<Vec<Episode>> {
        query_list(self, BY_CONTEXT, params![context, min_score, limit])
    }

    fn recent_episodes(&self, since: f64, limit: i64) -> Result<Vec<Episode>> {
        query_list(self, RECENT, params![since, limit])
    }
}
