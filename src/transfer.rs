//! Export to and import from JSON Lines: every table, losslessly.
//!
//! Line 1 is a header: `{"format": "gmstore-export", "format_version": 1,
//! "schema_version": .., "gmstore_version": .., "embedding_dim": ..,
//! "counts": {..}}`. Every following line is one row: `{"table": .., ..}`
//! with every column. Blobs (experience data, embeddings) are base64 of
//! their exact bytes; floats are written in shortest round-trip form, so
//! an import reproduces every value bit for bit; JSON text columns are kept
//! as the exact text stored.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map};

use crate::error::{invalid, Error, Result};
use crate::storage::migrations;
use crate::storage::{Cell, OwnedCell, Session, STORE_TABLES as TABLES};
use crate::store::Store;

/// The export format's name and version.
pub const EXPORT_FORMAT: &str = "gmstore-export";
pub const EXPORT_FORMAT_VERSION: i64 = 1;

fn to_json(value: &Cell<'_>, is_blob: bool) -> serde_json::Value {
    match *value {
        Cell::Null => serde_json::Value::Null,
        Cell::Integer(i) => json!(i),
        Cell::Real(r) => json!(r),
        Cell::Text(t) => json!(String::from_utf8_lossy(t)),
        Cell::Blob(b) if is_blob => json!(B64.encode(b)),
        Cell::Blob(b) => json!({ "$blob": B64.encode(b) }),
    }
}

fn from_json(value: &serde_json::Value, is_blob: bool, field: &str) -> Result<OwnedCell> {
    Ok(match value {
        serde_json::Value::Null => OwnedCell::Null,
        serde_json::Value::Bool(b) => OwnedCell::Integer(*b as i64),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => OwnedCell::Integer(i),
            None => OwnedCell::Real(n.as_f64().ok_or_else(|| invalid(field, "number out of range"))?),
        },
        serde_json::Value::String(s) if is_blob => OwnedCell::Blob(
            B64.decode(s)
                .map_err(|e| invalid(field, format!("bad base64: {e}")))?,
        ),
        serde_json::Value::String(s) => OwnedCell::Text(s.clone()),
        serde_json::Value::Object(o) if o.len() == 1 && o.contains_key("$blob") => {
            let text = o["$blob"]
                .as_str()
                .ok_or_else(|| invalid(field, "$blob must be a string"))?;
            OwnedCell::Blob(
                B64.decode(text)
                    .map_err(|e| invalid(field, format!("bad base64: {e}")))?,
            )
        }
        other => return Err(invalid(field, format!("unexpected value {other}"))),
    })
}

fn write_line(out: &mut impl Write, value: &serde_json::Value) -> Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(|e| Error::Io(e.to_string()))?;
    out.write_all(b"\n")?;
    Ok(())
}

impl Store {
    /// Writes every table to `out` as JSON Lines from one consistent
    /// snapshot. `progress(done, total)` is called as rows are written.
    /// Returns the number of rows.
    pub fn export(&self, out: &mut impl Write, mut progress: impl FnMut(u64, u64)) -> Result<u64> {
        self.flush_access_counts()?;
        self.read_snapshot(|conn| {
            conn.begin_read()?;
            let result = export_tables(conn, out, &mut progress);
            let _ = conn.end_read();
            result
        })
    }

    /// Loads an export into this store, which must hold no rows yet. Ids,
    /// blobs and floats are kept exactly. One transaction: all or nothing.
    /// Returns the number of rows.
    pub fn import(&self, input: impl BufRead, mut progress: impl FnMut(u64, u64)) -> Result<u64> {
        let mut lines = input.lines();
        let header_line = lines
            .next()
            .ok_or_else(|| invalid("import", "the input is empty"))??;
        let header: serde_json::Value = serde_json::from_str(&header_line)
            .map_err(|e| invalid("import", format!("line 1: not JSON: {e}")))?;
        check_header(&header)?;
        let total = header["counts"]
            .as_object()
            .map(|c| c.values().filter_map(|v| v.as_u64()).sum())
            .unwrap_or(0);
        let dim = header["embedding_dim"].as_u64();
        self.write_atomic(|conn| {
            for (table, _, _) in TABLES {
                if conn.count_table(table)? > 0 {
                    return Err(invalid(
                        "import",
                        format!("the target database is not empty (table {table} has rows)"),
                    ));
                }
            }
            if let Some(dim) = dim {
                conn.fix_embedding_dim(dim as usize)?;
            }
            let mut done = 0u64;
            let mut per_table: HashMap<&str, u64> = HashMap::new();
            for (i, line) in lines.enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                *per_table.entry(import_row(conn, &line, i + 2)?).or_default() += 1;
                done += 1;
                if done.is_multiple_of(1000) {
                    progress(done, total);
                }
            }
            check_counts(&header, &per_table)?;
            conn.rows_inserted_with_ids()?;
            progress(done, total);
            Ok(done)
        })
    }
}

fn export_tables(
    conn: &dyn Session,
    out: &mut impl Write,
    progress: &mut impl FnMut(u64, u64),
) -> Result<u64> {
    let mut counts = Map::new();
    let mut total = 0u64;
    for (table, _, _) in TABLES {
        let n = conn.count_table(table)?;
        counts.insert(table.to_string(), json!(n));
        total += n as u64;
    }
    let header = json!({
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "schema_version": conn.schema_version()?,
        "gmstore_version": crate::VERSION,
        "embedding_dim": conn.embedding_dim()?,
        "counts": counts,
    });
    write_line(out, &header)?;
    let mut done = 0u64;
    for (table, columns, blobs) in TABLES {
        conn.each_row(table, columns, &mut |cells| {
            let mut obj = Map::new();
            obj.insert("table".into(), json!(table));
            for (cell, col) in cells.iter().zip(columns.iter()) {
                obj.insert(col.to_string(), to_json(cell, blobs.contains(col)));
            }
            write_line(out, &serde_json::Value::Object(obj))?;
            done += 1;
            if done.is_multiple_of(1000) {
                progress(done, total);
            }
            Ok(())
        })?;
    }
    progress(done, total);
    out.flush()?;
    Ok(done)
}

fn check_header(header: &serde_json::Value) -> Result<()> {
    if header["format"] != EXPORT_FORMAT {
        return Err(invalid("import", format!("line 1: not a {EXPORT_FORMAT} header")));
    }
    let version = header["format_version"].as_i64().unwrap_or(0);
    if version != EXPORT_FORMAT_VERSION {
        return Err(invalid(
            "import",
            format!("export format version {version} is not supported"),
        ));
    }
    let schema = header["schema_version"].as_i64().unwrap_or(0);
    migrations::check_not_newer(schema)
}

/// An export cut at a line end parses cleanly: only the header's counts
/// tell that rows are missing.
fn check_counts(header: &serde_json::Value, imported: &HashMap<&str, u64>) -> Result<()> {
    for (table, _, _) in TABLES {
        let expected = header["counts"][table].as_u64().ok_or_else(|| {
            invalid(
                "import",
                format!("line 1: the header gives no row count for {table}"),
            )
        })?;
        let found = imported.get(table).copied().unwrap_or(0);
        if found != expected {
            return Err(invalid(
                "import",
                format!(
                    "the input holds {found} {table} rows but its header says {expected} \
                     (a truncated or edited export); nothing was imported"
                ),
            ));
        }
    }
    Ok(())
}

/// Inserts one exported row; returns its table.
fn import_row(conn: &dyn Session, line: &str, line_no: usize) -> Result<&'static str> {
    let at = format!("import line {line_no}");
    let row: Map<String, serde_json::Value> =
        serde_json::from_str(line).map_err(|e| invalid(&at, format!("not a JSON object: {e}")))?;
    let table = row.get("table").and_then(|t| t.as_str()).unwrap_or_default();
    let (table, columns, blobs) = TABLES
        .iter()
        .find(|(name, _, _)| *name == table)
        .ok_or_else(|| invalid(&at, format!("unknown table '{table}'")))?;
    let values = columns
        .iter()
        .map(|col| {
            let v = row.get(*col).unwrap_or(&serde_json::Value::Null);
            from_json(v, blobs.contains(col), &format!("{at}: {col}"))
        })
        .collect::<Result<Vec<_>>>()?;
    conn.insert_row(table, columns, &values)
        .map_err(|e| e.context(&at))?;
    Ok(table)
}
