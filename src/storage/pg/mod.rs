//! The PostgreSQL engine behind the storage seam: the same traits as the
//! SQLite engine, on one `postgres::Client` per session.
//!
//! A store is a PostgreSQL schema (`gm_<store>`, `default` unless the URL
//! says `store=NAME`), so several stores share one database without seeing
//! each other's rows, and every statement names its tables unqualified, as
//! on SQLite. Statements are sent unprepared on the server (`query_typed`
//! would need types; the simple path here is plain `query` with parameters,
//! which prepares an unnamed statement), so pgbouncer in transaction mode works.

use std::cell::{Cell as StdCell, RefCell, RefMut};
use std::collections::HashMap;

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::MetaRows;
use crate::error::{Error, Result};

/// Whether a retention policy with any limit is in force, as an
/// expression an episode insert returns beside its id.
macro_rules! retention_in_force {
    () => {
        "coalesce((SELECT max_episodes IS NOT NULL OR max_experience_bytes IS NOT NULL \
         OR max_age_seconds IS NOT NULL OR keep_top_k IS NOT NULL FROM gm_retention WHERE id = 1), false)"
    };
}

mod migrations;
mod copies;
mod replay;
mod retention;
mod rows;
mod target;
mod tls;

pub(crate) use target::{is_server_target, PgTarget};

/// One session on the server.
pub(crate) struct PgSession {
    client: RefCell<Client>,
    in_tx: StdCell<bool>,
    /// The savepoint that opened the transaction, when one did: SQLite
    /// starts a transaction at a SAVEPOINT outside one and ends it at its
    /// RELEASE, and the store relies on that; PostgreSQL needs a BEGIN.
    outer_savepoint: RefCell<Option<String>>,
    /// "host/dbname" of the server, for messages (never the password).
    server: String,
    /// What to reconnect to after the server went away.
    target: PgTarget,
    /// The store's own statements, prepared once per connection: each call
    /// is then one round trip without parsing or planning on the server.
    statements: RefCell<HashMap<&'static str, Statement>>,
}

impl PgSession {
    /// Connects and selects the store's schema.
    pub(crate) fn connect(target: &PgTarget) -> Result<PgSession> {
        Ok(PgSession {
            client: RefCell::new(Self::new_client(target)?),
            in_tx: StdCell::new(false),
            outer_savepoint: RefCell::new(None),
            server: target.server.clone(),
            target: target.clone(),
            statements: RefCell::new(HashMap::new()),
        })
    }

    fn new_client(target: &PgTarget) -> Result<Client> {
        // The server offers no TLS on Unix sockets, and a socket path is no
        // name a certificate could carry.
        let over_tcp = target
            .config
            .get_hosts()
            .iter()
            .any(|h| matches!(h, postgres::config::Host::Tcp(_)));
        let connected = match target.tls.connector().filter(|_| over_tcp) {
            Some(tls) => target.config.connect(tls),
            // As libpq, sslmode does not apply to Unix sockets.
            None if !over_tcp => target
                .config
                .clone()
                .ssl_mode(postgres::config::SslMode::Disable)
                .connect(NoTls),
            None => target.config.connect(NoTls),
        };
        let mut client = connected.map_err(|e| {
            Error::Io(format!(
                "PostgreSQL server {}: cannot connect: {e}",
                target.server
            ))
        })?;
        client
            .batch_execute(&format!("SET search_path TO {}", target.schema_ident()))
            .map_err(|e| from_pg(&target.server, e))?;
        Ok(client)
    }

    /// The connection, reconnected first when the server closed it (a
    /// restart, a failover) and no transaction was open on it: a call
    /// after the one that saw the failure works again. Inside a
    /// transaction the failure stands: the server already rolled it back.
    fn client(&self) -> Result<RefMut<'_, Client>> {
        let mut client = self.client.borrow_mut();
        if client.is_closed() {
            if self.in_tx.replace(false) {
                *self.outer_savepoint.borrow_mut() = None;
                return Err(Error::Io(format!(
                    "PostgreSQL server {}: the connection was lost and the server rolled back the open \
                     transaction; roll back to end it, then start again",
                    self.server
                )));
            }
            // Prepared statements died with the old connection.
            self.statements.borrow_mut().clear();
            *client = Self::new_client(&self.target)?;
        }
        Ok(client)
    }

    /// The error of a failed statement, naming the server.
    fn fail(&self, e: postgres::Error) -> Error {
        from_pg(&self.server, e)
    }

    fn batch(&self, sql: &str) -> Result<()> {
        self.client()?.batch_execute(sql).map_err(|e| self.fail(e))
    }

    /// Sends `data`, rows in binary COPY format, to a `COPY ... FROM STDIN`.
    fn copy_in(&self, sql: &str, data: &[u8]) -> Result<u64> {
        use std::io::Write;
        let mut client = self.client()?;
        let mut writer = client.copy_in(sql).map_err(|e| self.fail(e))?;
        writer
            .write_all(data)
            .map_err(|e| Error::Io(format!("PostgreSQL server {}: COPY: {e}", self.server)))?;
        writer.finish().map_err(|e| self.fail(e))
    }

    /// Runs a statement whose rows (if any) are not needed.
    fn execute(&self, sql: &'static str, params: &[&dyn Param]) -> Result<()> {
        self.query(sql, params).map(|_| ())
    }

    /// Runs one of the store's statements: prepared on first use on this
    /// connection (with the parameters' types), then one round trip.
    fn prepared(&self, sql: &'static str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>> {
        let mut client = self.client()?;
        let cached = self.statements.borrow().get(sql).cloned();
        let statement = match cached {
            Some(s) => s,
            None => {
                let types: Vec<Type> = params.iter().map(|p| p.pg_type()).collect();
                let s = client.prepare_typed(sql, &types).map_err(|e| self.fail(e))?;
                self.statements.borrow_mut().insert(sql, s.clone());
                s
            }
        };
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_sql()).collect();
        client.query(&statement, &values).map_err(|e| self.fail(e))
    }

    /// A statement built at run time: its parameters' types are sent with
    /// it (an unnamed statement), one round trip, nothing kept.
    fn query_dynamic(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>> {
        let typed: Vec<(&(dyn ToSql + Sync), Type)> =
            params.iter().map(|p| (p.as_sql(), p.pg_type())).collect();
        self.client()?.query_typed(sql, &typed).map_err(|e| self.fail(e))
    }

    fn query(&self, sql: &'static str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>> {
        self.prepared(sql, params)
    }

    fn query_opt(&self, sql: &'static str, params: &[&dyn Param]) -> Result<Option<postgres::Row>> {
        let mut rows = self.query(sql, params)?;
        match rows.len() {
            0 | 1 => Ok(rows.pop()),
            n => Err(Error::Internal(format!("expected at most one row, got {n}"))),
        }
    }

    fn query_one(&self, sql: &'static str, params: &[&dyn Param]) -> Result<postgres::Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| Error::Internal("expected one row, got none".into()))
    }

    /// A statement with parameters of types the server infers (the
    /// caller's raw SQL); returns the rows changed.
    fn execute_inferred(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.client()?.execute(sql, params).map_err(|e| self.fail(e))
    }
}

/// A statement parameter with the PostgreSQL type it is sent as.
pub(crate) trait Param {
    fn as_sql(&self) -> &(dyn ToSql + Sync);
    fn pg_type(&self) -> Type;
}

/// The PostgreSQL type of a Rust value, known without the value (so an
/// absent `Option` has one too).
pub(crate) trait PgTyped: ToSql + Sync {
    const TYPE: Type;
}

impl<T: PgTyped> Param for T {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        self
    }
    fn pg_type(&self) -> Type {
        T::TYPE
    }
}

macro_rules! pg_typed {
    ($($t:ty => $ty:ident),* $(,)?) => {$(impl PgTyped for $t { const TYPE: Type = Type::$ty; })*};
}
pg_typed!(i64 => INT8, f64 => FLOAT8, bool => BOOL, String => TEXT, Vec<u8> => BYTEA);
impl PgTyped for &str {
    const TYPE: Type = Type::TEXT;
}
impl PgTyped for &[u8] {
    const TYPE: Type = Type::BYTEA;
}
impl PgTyped for &[i64] {
    const TYPE: Type = Type::INT8_ARRAY;
}
impl PgTyped for Vec<i64> {
    const TYPE: Type = Type::INT8_ARRAY;
}
impl PgTyped for Vec<f64> {
    const TYPE: Type = Type::FLOAT8_ARRAY;
}
impl PgTyped for Vec<&str> {
    const TYPE: Type = Type::TEXT_ARRAY;
}
impl PgTyped for Vec<Option<&str>> {
    const TYPE: Type = Type::TEXT_ARRAY;
}
impl PgTyped for Vec<&[u8]> {
    const TYPE: Type = Type::BYTEA_ARRAY;
}
impl<T: PgTyped> PgTyped for Option<T> {
    const TYPE: Type = T::TYPE;
}

/// Maps a server error to the store's: constraint violations as such,
/// lost connections as I/O errors naming the server.
pub(crate) fn from_pg(server: &str, e: postgres::Error) -> Error {
    use postgres::error::SqlState;
    let Some(code) = e.code() else {
        return Error::Io(format!("PostgreSQL server {server}: {e}"));
    };
    let message = e
        .as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string());
    if *code == SqlState::UNIQUE_VIOLATION
        || *code == SqlState::FOREIGN_KEY_VIOLATION
        || *code == SqlState::NOT_NULL_VIOLATION
        || *code == SqlState::CHECK_VIOLATION
    {
        Error::Constraint(format!("PostgreSQL server {server}: {message}"))
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::QUERY_CANCELED
    {
        Error::Busy(format!("PostgreSQL server {server}: {message}"))
    } else if code.code().starts_with("08") || code.code().starts_with("57P") {
        Error::Io(format!("PostgreSQL server {server}: {message}"))
    } else if code.code().starts_with("42") {
        // Syntax errors and unknown names: only a caller's raw SQL has them.
        Error::InvalidArgument(format!(
            "sql: {message} (PostgreSQL server {server}, SQLSTATE {})",
            code.code()
        ))
    } else if code.code().starts_with("53") {
        Error::Full(format!("PostgreSQL server {server}: {message}"))
    } else {
        Error::Internal(format!(
            "PostgreSQL server {server}: {message} (SQLSTATE {})",
            code.code()
        ))
    }
}

impl MetaRows for PgSession {
    fn meta_get(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt("SELECT value FROM gm_meta WHERE key = $1", &[&key])?
            .map(|r| r.get(0)))
    }

    fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO gm_meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }
}

impl super::Transactions for PgSession {
    fn begin_read(&self) -> Result<()> {
        // One snapshot for every read until end_read, as SQLite's BEGIN.
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        self.in_tx.set(true);
        Ok(())
    }

    fn end_read(&self) -> Result<()> {
        self.in_tx.set(false);
        self.batch("COMMIT")
    }

    fn begin_write(&self) -> Result<()> {
        self.batch("BEGIN")?;
        self.in_tx.set(true);
        Ok(())
    }

    fn commit_write(&self) -> Result<()> {
        let result = self.batch("COMMIT");
        self.in_tx.set(false);
        result
    }

    fn rollback_write(&self) -> Result<()> {
        self.in_tx.set(false);
        *self.outer_savepoint.borrow_mut() = None;
        if self.client.borrow().is_closed() {
            // The server ended the transaction with the connection.
            return Ok(());
        }
        self.batch("ROLLBACK")
    }

    fn savepoint(&self, name: &str) -> Result<()> {
        if !self.in_tx.get() {
            self.batch("BEGIN")?;
            self.in_tx.set(true);
            *self.outer_savepoint.borrow_mut() = Some(name.to_string());
        }
        self.batch(&format!("SAVEPOINT {name}"))
    }

    fn release(&self, name: &str) -> Result<()> {
        if self.outer_savepoint.borrow().as_deref() == Some(name) {
            *self.outer_savepoint.borrow_mut() = None;
            return self.commit_write();
        }
        self.batch(&format!("RELEASE SAVEPOINT {name}"))
    }

    fn rollback_to(&self, name: &str) -> Result<()> {
        if self.outer_savepoint.borrow().as_deref() == Some(name) {
            *self.outer_savepoint.borrow_mut() = None;
            return self.rollback_write();
        }
        self.batch(&format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"))
    }

    fn statement_is_atomic(&self) -> bool {
        // Autocommit: the server commits each statement on its own, and
        // every store write that runs bare writes one statement (the reads
        // before it see only settings that never change once set). Two
        // round trips fewer per write.
        true
    }

    fn in_transaction(&self) -> bool {
        // A lost connection ends the transaction on the server's side.
        self.in_tx.get() && !self.client.borrow().is_closed()
    }
}

/// Opens the store named by `target`, creating its schema or migrating it
/// under an advisory lock, and returns the writer's session.
pub(crate) fn open_store(target: &PgTarget, read_only: bool) -> Result<PgSession> {
    let session = PgSession::connect(target)?;
    migrations::prepare(&session, target, read_only)?;
    Ok(session)
}
