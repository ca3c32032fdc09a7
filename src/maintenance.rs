//! Statistics, integrity checks and raw SQL inside transactions.

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use crate::error::{invalid, Error, Result};
use crate::migrations;
use crate::store::Store;
use crate::validate;

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

impl ToSql for SqlValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            SqlValue::Null => ValueRef::Null,
            SqlValue::Integer(i) => ValueRef::Integer(i),
            SqlValue::Real(r) => ValueRef::Real(r),
            SqlValue::Text(t) => ValueRef::Text(t.as_bytes()),
            SqlValue::Blob(b) => ValueRef::Blob(b),
        }))
    }
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

/// Raw SQL may read and write rows but not steer the connection: the store
/// owns transactions, attached files and pragmas.
fn raw_sql_authorizer(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Transaction { .. }
        | AuthAction::Savepoint { .. }
        | AuthAction::Attach { .. }
        | AuthAction::Detach { .. }
        | AuthAction::Pragma { .. } => Authorization::Deny,
        _ => Authorization::Allow,
    }
}

/// Runs one statement to completion, stepping past any rows it returns,
/// and returns the rows it changed.
fn run_discarding_rows(conn: &Connection, sql: &str, params: &[SqlValue<'_>]) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare(sql)?;
    let changes_before = conn.total_changes();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    while rows.next()?.is_some() {}
    drop(rows);
    Ok((conn.total_changes() - changes_before) as usize)
}

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
        self.write(|conn| {
            conn.authorizer(Some(raw_sql_authorizer));
            let result = run_discarding_rows(conn, sql, params);
            conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
            result.map_err(explain_sql_error)
        })
    }

    /// Counts, sizes and versions, read in one snapshot.
    pub fn get_database_stats(&self) -> Result<Stats> {
        let mut stats = self.read(|conn| {
            let counts = conn
                .prepare_cached(&format!(
                    "SELECT (SELECT count(*) FROM episodes), (SELECT count(*) FROM concepts), \
                 (SELECT count(*) FROM learning_events), (SELECT count(*) FROM concept_relationships), \
                 (SELECT max(version) FROM {}), \
                 (SELECT value FROM gm_meta WHERE key = '{}')",
                    migrations::VERSION_TABLE,
                    crate::meta::EMBEDDING_DIM
                ))?
                .query_row([], |r| {
                    Ok(Stats {
                        episodes_count: r.get(0)?,
                        concepts_count: r.get(1)?,
                        learning_events_count: r.get(2)?,
                        relationships_count: r.get(3)?,
                        schema_version: r.get(4)?,
                        embedding_dim: r.get::<_, Option<String>>(5)?.and_then(|t| t.parse().ok()),
                        db_size_bytes: 0,
                        page_size: 0,
                        page_count: 0,
                        freelist_count: 0,
                        last_backup_time: None,
                    })
                })?;
            let pragma =
                |name: &str| -> Result<i64> { Ok(conn.pragma_query_value(None, name, |r| r.get(0))?) };
            Ok(Stats {
                page_size: pragma("page_size")?,
                page_count: pragma("page_count")?,
                freelist_count: pragma("freelist_count")?,
                ..counts
            })
        })?;
        stats.db_size_bytes = if self.options().is_memory() {
            (stats.page_size * stats.page_count) as u64
        } else {
            crate::files::size_on_disk(&self.options().db_path)
        };
        stats.last_backup_time = self.last_backup_time()?;
        Ok(stats)
    }

    /// Runs SQLite's `integrity_check` and `foreign_key_check`; returns the
    /// problems found (empty when the database is sound).
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut problems: Vec<String> = conn
                .prepare("PRAGMA integrity_check")?
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<_>>()?;
            problems.retain(|p| p != "ok");
            let mut fk = conn.prepare("PRAGMA foreign_key_check")?;
            let dangling = fk.query_map([], |r| {
                Ok(format!(
                    "foreign key: {} row {} references a missing {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?
                ))
            })?;
            for d in dangling {
                problems.push(d?);
            }
            Ok(problems)
        })
    }

    /// The current schema version of the file.
    pub fn schema_version(&self) -> Result<i64> {
        self.read(migrations::detect_version)
    }
}

fn explain_sql_error(err: rusqlite::Error) -> Error {
    if matches!(err, rusqlite::Error::SqlInputError { .. }) {
        return invalid("sql", err);
    }
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::AuthorizationForStatementDenied) => invalid(
            "sql",
            "transaction control, ATTACH, DETACH and PRAGMA are not allowed in execute; \
             use the store's begin/commit/rollback",
        ),
        Some(rusqlite::ErrorCode::Unknown) => invalid("sql", err),
        // SQLite prepares no statement from text that is only comments.
        Some(rusqlite::ErrorCode::ApiMisuse) => {
            invalid("sql", "holds no statement (only comments or blanks)")
        }
        _ => Error::from(err),
    }
}
