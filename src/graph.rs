//! The concept knowledge graph: typed, weighted relationships.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::validate;

/// One outgoing edge, as the seed's `(target_id, type, strength)` tuple.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub target_id: i64,
    pub relationship_type: String,
    pub strength: f64,
}

fn require_concept(conn: &Connection, field: &str, id: i64) -> Result<()> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM concepts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("{field}: no concept with id {id}"))),
    }
}

impl Store {
    /// Adds the edge (source, target, type), or updates its strength if it
    /// exists. Both concepts must exist; the error names a missing one.
    pub fn add_concept_relationship(
        &self,
        source_id: i64,
        target_id: i64,
        relationship_type: &str,
        strength: f64,
    ) -> Result<()> {
        let source_id = validate::id("source_id", source_id)?;
        let target_id = validate::id("target_id", target_id)?;
        let relationship_type = validate::non_empty("relationship_type", relationship_type)?;
        let strength = validate::unit_interval("strength", strength)?;
        self.write(|conn| {
            require_concept(conn, "source_id", source_id)?;
            require_concept(conn, "target_id", target_id)?;
            conn.prepare_cached(
                "INSERT INTO concept_relationships \
                 (source_concept_id, target_concept_id, relationship_type, strength) \
                 VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(source_concept_id, target_concept_id, relationship_type) \
                 DO UPDATE SET strength = excluded.strength",
            )?
            .execute(params![source_id, target_id, relationship_type, strength])?;
            Ok(())
        })
    }

    /// The outgoing edges of a concept, optionally of one type, strongest
    /// first.
    pub fn get_concept_relationships(
        &self,
        concept_id: i64,
        relationship_type: Option<&str>,
    ) -> Result<Vec<Relationship>> {
        let concept_id = validate::id("concept_id", concept_id)?;
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT target_concept_id, relationship_type, coalesce(strength, 1.0) \
                 FROM concept_relationships \
                 WHERE source_concept_id = ?1 AND (?2 IS NULL OR relationship_type = ?2) \
                 ORDER BY strength DESC, target_concept_id ASC",
            )?;
            let rows = stmt.query_map(params![concept_id, relationship_type], |r| {
                Ok(Relationship {
                    target_id: r.get(0)?,
                    relationship_type: r.get(1)?,
                    strength: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// How many relationships are stored.
    pub fn count_relationships(&self) -> Result<i64> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT count(*) FROM concept_relationships")?
                .query_row([], |r| r.get(0))?)
        })
    }
}
