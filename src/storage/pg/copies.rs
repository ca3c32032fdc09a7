//! Whole-store copies on PostgreSQL: export and import row by row, and
//! backups, which are always gmstore SQLite files (the SQLite engine opens
//! them directly), taken from one REPEATABLE READ snapshot.

use std::path::Path;

use postgres::types::{ToSql, Type};
use rusqlite::{Connection, OpenFlags};

use super::rows::Flexible;
use super::PgSession;
use crate::error::{invalid, Error, Result};
use crate::meta;
use crate::records::SqlValue;
use crate::storage::sqlite::backup_file::verify_database;
use crate::storage::{Cell, MetaRows, OwnedCell, Snapshots, TableRows, Transactions, STORE_TABLES};

fn owned(cell: &Cell<'_>, table: &str) -> Result<OwnedCell> {
    Ok(match *cell {
        Cell::Null => OwnedCell::Null,
        Cell::Integer(i) => OwnedCell::Integer(i),
        Cell::Real(r) => OwnedCell::Real(r),
        Cell::Text(t) => OwnedCell::Text(String::from_utf8(t.to_vec()).map_err(|_| {
            invalid(
                table,
                "a text column holds bytes that are not UTF-8, which PostgreSQL cannot store",
            )
        })?),
        Cell::Blob(b) => OwnedCell::Blob(b.to_vec()),
    })
}

fn as_value(cell: &OwnedCell) -> SqlValue<'_> {
    match cell {
        OwnedCell::Null => SqlValue::Null,
        OwnedCell::Integer(i) => SqlValue::Integer(*i),
        OwnedCell::Real(r) => SqlValue::Real(*r),
        OwnedCell::Text(t) => SqlValue::Text(t),
        OwnedCell::Blob(b) => SqlValue::Blob(b),
    }
}

/// Copies every row of the store's tables, and its settings, from `from`
/// to `to`, in id order.
fn copy_tables(
    from: &dyn TableRows,
    to: &dyn TableRows,
    settings: &[(String, String)],
    to_meta: &dyn MetaRows,
) -> Result<()> {
    for (table, columns, _) in STORE_TABLES {
        from.each_row(table, columns, &mut |cells| {
            let values = cells
                .iter()
                .map(|c| owned(c, table))
                .collect::<Result<Vec<_>>>()?;
            to.insert_row(table, columns, &values)
        })?;
    }
    settings.iter().try_for_each(|(k, v)| to_meta.meta_set(k, v))
}

/// Entries of the concept change log a vacuum keeps (as SQLite's trigger).
const CHANGE_LOG_KEEP: i64 = 100_000;

/// Rows for a binary `COPY ... FROM STDIN`, in PostgreSQL's format (the
/// one [`each_binary_row`] reads): the batch inserts send their rows this
/// way, which the server parses with no text conversion and no statement
/// per row.
pub(super) struct BinaryRows {
    buf: Vec<u8>,
}

impl BinaryRows {
    pub(super) fn new(capacity: usize) -> BinaryRows {
        let mut buf = Vec::with_capacity(capacity + 21);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&[0; 8]); // flags, header extension length
        BinaryRows { buf }
    }

    /// Starts a row of `fields` fields.
    pub(super) fn row(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    pub(super) fn int8(&mut self, value: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(super) fn float8(&mut self, value: f64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&value.to_bits().to_be_bytes());
    }

    /// A bytea, or a text as its UTF-8 bytes (which binary COPY takes as is).
    pub(super) fn bytes(&mut self, value: &[u8]) -> Result<()> {
        // PostgreSQL's own limit on a field is 1 GB.
        let len = i32::try_from(value.len())
            .map_err(|_| Error::InvalidArgument(format!("a value of {} bytes is over 2 GiB", value.len())))?;
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(value);
        Ok(())
    }

    pub(super) fn opt_text(&mut self, value: Option<&str>) -> Result<()> {
        match value {
            Some(text) => self.bytes(text.as_bytes()),
            None => {
                self.buf.extend_from_slice(&(-1i32).to_be_bytes());
                Ok(())
            }
        }
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

/// Reads a binary COPY of (id int8, embedding bytea) rows, calling `f`
/// for each (PostgreSQL's COPY BINARY format: an 11-byte signature, flags
/// and an extension length, then per row a field count and each field's
/// length and bytes, then -1).
pub(super) fn each_binary_row(
    mut input: impl std::io::Read,
    f: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
) -> Result<()> {
    let bad = |what: &str| Error::Corrupt(format!("COPY of the embeddings: {what}"));
    let mut read = |buf: &mut [u8]| {
        input
            .read_exact(buf)
            .map_err(|e| Error::Io(format!("COPY of the embeddings: {e}")))
    };
    let mut header = [0u8; 19];
    read(&mut header)?;
    if &header[..11] != b"PGCOPY\n\xff\r\n\0" {
        return Err(bad("not a binary COPY"));
    }
    let extension = u32::from_be_bytes([header[15], header[16], header[17], header[18]]) as usize;
    read(&mut vec![0u8; extension])?;
    let mut blob = Vec::new();
    loop {
        let mut count = [0u8; 2];
        read(&mut count)?;
        match i16::from_be_bytes(count) {
            -1 => return Ok(()),
            2 => {}
            n => return Err(bad(&format!("{n} fields in a row"))),
        }
        let mut field = [0u8; 4];
        read(&mut field)?;
        if i32::from_be_bytes(field) != 8 {
            return Err(bad("an id that is not 8 bytes"));
        }
        let mut id = [0u8; 8];
        read(&mut id)?;
        read(&mut field)?;
        let len = usize::try_from(i32::from_be_bytes(field)).map_err(|_| bad("a NULL embedding"))?;
        blob.resize(len, 0);
        read(&mut blob)?;
        f(i64::from_be_bytes(id), &blob)?;
    }
}

impl PgSession {
    fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .query("SELECT key, value FROM gm_meta ORDER BY key", &[])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }
}

impl TableRows for PgSession {
    fn count_table(&self, table: &str) -> Result<i64> {
        Ok(self
            .query_dynamic(&format!("SELECT count(*) FROM {table}"), &[])?
            .first()
            .map_or(0, |r| r.get(0)))
    }

    fn each_row(
        &self,
        table: &str,
        columns: &[&str],
        f: &mut dyn FnMut(&[Cell<'_>]) -> Result<()>,
    ) -> Result<()> {
        let rows = self.query_dynamic(
            &format!("SELECT {} FROM {table} ORDER BY id", columns.join(", ")),
            &[],
        )?;
        for row in rows {
            let cells = (0..columns.len())
                .map(|i| {
                    let ty = row.columns()[i].type_();
                    Ok(match *ty {
                        Type::INT8 => row.get::<_, Option<i64>>(i).map_or(Cell::Null, Cell::Integer),
                        Type::FLOAT8 => row.get::<_, Option<f64>>(i).map_or(Cell::Null, Cell::Real),
                        Type::TEXT => row
                            .get::<_, Option<&str>>(i)
                            .map_or(Cell::Null, |t| Cell::Text(t.as_bytes())),
                        Type::BYTEA => row.get::<_, Option<&[u8]>>(i).map_or(Cell::Null, Cell::Blob),
                        _ => {
                            return Err(Error::Internal(format!(
                                "{table}.{}: unexpected type {ty}",
                                columns[i]
                            )))
                        }
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            f(&cells)?;
        }
        Ok(())
    }

    fn insert_row(&self, table: &str, columns: &[&str], values: &[OwnedCell]) -> Result<()> {
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let values: Vec<SqlValue<'_>> = values.iter().map(as_value).collect();
        let flexible: Vec<Flexible<'_>> = values.iter().map(Flexible).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = flexible.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        self.execute_inferred(
            &format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                columns.join(", "),
                placeholders.join(", ")
            ),
            &refs,
        )?;
        Ok(())
    }

    fn rows_inserted_with_ids(&self) -> Result<()> {
        for (table, _, _) in STORE_TABLES {
            self.batch(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
            ))?;
        }
        Ok(())
    }
}

impl Snapshots for PgSession {
    fn copy_to_new_file(&self, dest: &Path, label: &str, taken_at: f64) -> Result<i64> {
        let out = Connection::open(dest)?;
        crate::storage::sqlite::migrations::migrate(&out)?;
        out.execute_batch("BEGIN")?;
        // One snapshot for every table: a consistent copy while writers go on.
        self.begin_read()?;
        let copied = copy_tables(self, &out, &self.settings()?, &out);
        let _ = self.end_read();
        copied?;
        out.meta_set(meta::BACKUP_OF, label)?;
        out.meta_set(meta::BACKUP_TIME, &taken_at.to_string())?;
        out.execute_batch("COMMIT")?;
        out.pragma_update(None, "journal_mode", "DELETE")?;
        drop(out);
        verify_database(dest)
    }

    fn replace_content_from(&mut self, backup: &Path) -> Result<()> {
        let version = verify_database(backup)?;
        if version != crate::storage::migrations::LATEST_VERSION {
            return Err(invalid(
                "backup",
                format!(
                    "schema version {version}: open it once with this gmstore (which migrates it) before \
                     restoring it into a server store"
                ),
            ));
        }
        let src = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let settings: Vec<(String, String)> = src
            .prepare("SELECT key, value FROM gm_meta WHERE key NOT IN (?1, ?2) ORDER BY key")?
            .query_map([meta::BACKUP_OF, meta::BACKUP_TIME], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        self.begin_write()?;
        let result = (|| {
            self.batch(
                "DELETE FROM concept_relationships; DELETE FROM concepts; DELETE FROM episodes; \
                        DELETE FROM learning_events; DELETE FROM gm_meta;",
            )?;
            copy_tables(&src, self, &settings, self)?;
            self.rows_inserted_with_ids()
        })();
        match result {
            Ok(()) => self.commit_write(),
            Err(e) => {
                let _ = self.rollback_write();
                Err(e)
            }
        }
    }

    fn compact(&self, _checkpoint: bool) -> Result<()> {
        // The server's autovacuum reclaims space. What a client must do is
        // keep the concept change log bounded, as SQLite's trigger does:
        // the oldest entries past CHANGE_LOG_KEEP go, and the watermark
        // they reached is recorded so a cache that is further behind
        // reloads in full instead of missing them.
        self.begin_write()?;
        let pruned = (|| {
            let rows = self.query(
                "WITH gone AS (DELETE FROM gm_concept_changes \
                     WHERE seq <= (SELECT max(seq) FROM gm_concept_changes) - $1 RETURNING txid) \
                 SELECT max(txid)::text FROM gone",
                &[&CHANGE_LOG_KEEP],
            )?;
            let Some(newest) = rows.first().and_then(|r| r.get::<_, Option<String>>(0)) else {
                return Ok(());
            };
            let below = newest
                .parse::<i64>()
                .map_err(|e| Error::Internal(format!("txid {newest}: {e}")))?
                + 1;
            let recorded: i64 = self
                .meta_get(meta::CHANGES_PRUNED_BELOW)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            self.meta_set(meta::CHANGES_PRUNED_BELOW, &below.max(recorded).to_string())
        })();
        match pruned {
            Ok(()) => self.commit_write(),
            Err(e) => {
                let _ = self.rollback_write();
                Err(e)
            }
        }
    }

    fn compact_into(&self, dest: &Path) -> Result<()> {
        // A compacted copy is what a backup of a server store already is.
        self.copy_to_new_file(dest, "vacuum_into", crate::clock::now())
            .map(|_| ())
    }

    fn checkpoint_log(&self) -> Result<i64> {
        // The server checkpoints its own write-ahead log.
        Ok(0)
    }
}
