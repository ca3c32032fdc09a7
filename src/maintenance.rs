//! Statistics, integrity checks and raw SQL inside transactions.

use crate::error::Result;
pub use crate::records::{SqlValue, Stats};
use crate::store::Store;
use crate::validate;

impl Store {
    /// Executes one SQL statement with bound parameters and returns the
    /// number of rows changed. Inside a transaction scope it joins that
    /// transaction; otherwise it runs in its own. Transaction control,
    /// ATTACH/DETACH and PRAGMA are refused: use the store's calls. A
    /// statement that returns rows (`SELECT`, `INSERT ... RETURNING`) runs
    /// to completion and its rows are discarded. Blank SQL, or SQL that is
    /// only comments, is an invalid argument.
    pub fn execute(&self, sql: &str, params: &[SqlValue<'_>]) -> Result<usize> {
        if sql.trim().is_empty() {
            return Err(crate::error::invalid("sql", "must not be empty or blank"));
        }
        // Raw SQL may read access counts: it sees every counted access.
        self.flush_access_counts()?;
        for (i, p) in params.iter().enumerate() {
            if let SqlValue::Real(r) = p {
                validate::finite(&format!("params[{i}]"), *r)?;
            }
        }
        self.write(|conn| conn.execute_raw(sql, params))
    }

    /// Counts, sizes and versions, read in one snapshot.
    pub fn get_database_stats(&self) -> Result<Stats> {
        let (mut stats, retention) =
            self.read(|conn| Ok((conn.stats_snapshot()?, conn.retention_state()?)))?;
        stats.retention = retention.policy;
        stats.episodes_evicted = retention.evicted_total;
        stats.last_backup_time = self.last_backup_time()?;
        if self.is_server() {
            // The server reported the size of the store's tables itself.
            return Ok(stats);
        }
        stats.db_size_bytes = if self.options().is_memory() {
            (stats.page_size * stats.page_count) as u64
        } else {
            crate::files::size_on_disk(&self.options().db_path)
        };
        Ok(stats)
    }

    /// Runs SQLite's `integrity_check` and `foreign_key_check`; returns the
    /// problems found (empty when the database is sound).
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        self.read(|conn| conn.integrity_problems())
    }

    /// The current schema version of the file.
    pub fn schema_version(&self) -> Result<i64> {
        self.read(|conn| conn.schema_version())
    }
}
