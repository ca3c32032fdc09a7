//! The SQLite engine behind the storage seam: every statement the domains
//! and the shared algorithms run, on one `rusqlite::Connection` per
//! session, one file per area.

use rusqlite::Connection;

use rusqlite::OptionalExtension;

use super::MetaRows;
use crate::error::{Error, Result};

mod admin;
pub(crate) mod backup_file;
pub(crate) mod checkpointer;
pub(crate) mod migrations;
mod change_log;
mod concepts;
pub(crate) mod connection;
mod episodes;
pub(crate) mod errors;
mod feed;
mod functions;
mod graph;
mod learning;
mod replay;
mod retention;
mod snapshots;
mod tables;

/// Ids as a JSON array, for `json_each` (one statement for a whole set).
fn json_ids(ids: &[i64]) -> Result<String> {
    serde_json::to_string(ids).map_err(|e| Error::Internal(format!("ids as JSON: {e}")))
}

impl MetaRows for Connection {
    fn meta_get(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .prepare_cached("SELECT value FROM gm_meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        self.prepare_cached("INSERT OR REPLACE INTO gm_meta(key, value) VALUES (?1, ?2)")?
            .execute([key, value])?;
        Ok(())
    }
}
