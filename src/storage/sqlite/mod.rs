//! The SQLite engine behind the storage seam: every statement the domains
//! and the shared algorithms run, on one `rusqlite::Connection` per
//! session, one file per area.

use rusqlite::Connection;

use super::{Counts, Table};
use crate::error::{Error, Result};

mod concepts;
mod episodes;
mod feed;
mod graph;
mod learning;

/// Ids as a JSON array, for `json_each` (one statement for a whole set).
fn json_ids(ids: &[i64]) -> Result<String> {
    serde_json::to_string(ids).map_err(|e| Error::Internal(format!("ids as JSON: {e}")))
}

impl Counts for Connection {
    fn count_rows(&self, table: Table) -> Result<i64> {
        let sql = match table {
            Table::Episodes => "SELECT count(*) FROM episodes",
            Table::Concepts => "SELECT count(*) FROM concepts",
            Table::LearningEvents => "SELECT count(*) FROM learning_events",
            Table::Relationships => "SELECT count(*) FROM concept_relationships",
        };
        Ok(self.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
    }
}
