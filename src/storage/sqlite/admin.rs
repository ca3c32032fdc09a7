//! Raw SQL, statistics and integrity checks, on SQLite.

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use crate::error::{invalid, Error, Result};
use crate::records::{SqlValue, Stats};
use crate::storage::migrations;
use crate::storage::Admin;

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
/// and returns the rows it changed itself: not those its triggers wrote
/// (the store's change logs), as `sqlite3_changes` counts, and as the
/// server engine's command tag does.
fn run_discarding_rows(conn: &Connection, sql: &str, params: &[SqlValue<'_>]) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare(sql)?;
    let total_before = conn.total_changes();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    while rows.next()?.is_some() {}
    drop(rows);
    // sqlite3_changes keeps the count of the last INSERT, UPDATE or DELETE
    // through statements that change nothing (a SELECT, DDL): use it only
    // when this statement changed something (triggers fire only then).
    Ok(if conn.total_changes() == total_before {
        0
    } else {
        conn.changes() as usize
    })
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

impl Admin for Connection {
    fn execute_raw(&self, sql: &str, params: &[SqlValue<'_>]) -> Result<usize> {
        self.authorizer(Some(raw_sql_authorizer));
        let result = run_discarding_rows(self, sql, params);
        self.authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
        result.map_err(explain_sql_error)
    }

    fn stats_snapshot(&self) -> Result<Stats> {
        let counts = self
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
                    retention: None,
                    episodes_evicted: 0,
                })
            })?;
        let pragma = |name: &str| -> Result<i64> { Ok(self.pragma_query_value(None, name, |r| r.get(0))?) };
        Ok(Stats {
            page_size: pragma("page_size")?,
            page_count: pragma("page_count")?,
            freelist_count: pragma("freelist_count")?,
            ..counts
        })
    }

    fn integrity_problems(&self) -> Result<Vec<String>> {
        let mut problems: Vec<String> = self
            .prepare("PRAGMA integrity_check")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        problems.retain(|p| p != "ok");
        let mut fk = self.prepare("PRAGMA foreign_key_check")?;
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
    }

    fn schema_version(&self) -> Result<i64> {
        migrations::detect_version(self)
    }
}
