//! Whole-table copies for export and import, on SQLite.

use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use crate::error::Result;
use crate::storage::{Cell, OwnedCell, TableRows};

fn cell(value: ValueRef<'_>) -> Cell<'_> {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Integer(i),
        ValueRef::Real(r) => Cell::Real(r),
        ValueRef::Text(t) => Cell::Text(t),
        ValueRef::Blob(b) => Cell::Blob(b),
    }
}

fn value(cell: &OwnedCell) -> Value {
    match cell {
        OwnedCell::Null => Value::Null,
        OwnedCell::Integer(i) => Value::Integer(*i),
        OwnedCell::Real(r) => Value::Real(*r),
        OwnedCell::Text(t) => Value::Text(t.clone()),
        OwnedCell::Blob(b) => Value::Blob(b.clone()),
    }
}

impl TableRows for Connection {
    fn count_table(&self, table: &str) -> Result<i64> {
        Ok(self
            .prepare_cached(&format!("SELECT count(*) FROM {table}"))?
            .query_row([], |r| r.get(0))?)
    }

    fn each_row(
        &self,
        table: &str,
        columns: &[&str],
        f: &mut dyn FnMut(&[Cell<'_>]) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.prepare(&format!("SELECT {} FROM {table} ORDER BY id", columns.join(", ")))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let cells = (0..columns.len())
                .map(|i| row.get_ref(i).map(cell))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            f(&cells)?;
        }
        Ok(())
    }

    fn insert_row(&self, table: &str, columns: &[&str], values: &[OwnedCell]) -> Result<()> {
        let placeholders = vec!["?"; columns.len()].join(", ");
        self.prepare_cached(&format!(
            "INSERT INTO {table} ({}) VALUES ({placeholders})",
            columns.join(", ")
        ))?
        .execute(rusqlite::params_from_iter(values.iter().map(value)))?;
        Ok(())
    }
}
