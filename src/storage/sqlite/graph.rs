//! Relationships and traversal reads, on SQLite.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::json_ids;
use crate::error::Result;
use crate::records::Relationship;
use crate::storage::{GraphRows, RelationshipRows};

/// The next level of a breadth-first search: every target of an edge from
/// the frontier (a JSON array of ids) that passes the filter.
const FRONTIER_TARGETS: &str = "
SELECT DISTINCT r.target_concept_id
FROM json_each(?1) AS f JOIN concept_relationships r ON r.source_concept_id = f.value
WHERE (?2 IS NULL OR r.relationship_type = ?2) AND coalesce(r.strength, 1.0) >= ?3";

/// Names of a JSON array of concept ids.
const NAMES: &str = "SELECT c.id, c.name FROM json_each(?1) AS f JOIN concepts c ON c.id = f.value";

impl GraphRows for Connection {
    fn concept_exists(&self, id: i64) -> Result<bool> {
        Ok(self
            .prepare_cached("SELECT 1 FROM concepts WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn out_edges(&self, from: i64, kind: Option<&str>, min_strength: f64) -> Result<Vec<(i64, f64)>> {
        let mut stmt = self.prepare_cached(
            "SELECT target_concept_id, coalesce(strength, 1.0) FROM concept_relationships \
             WHERE source_concept_id = ?1 AND (?2 IS NULL OR relationship_type = ?2) \
             AND coalesce(strength, 1.0) >= ?3",
        )?;
        let rows = stmt.query_map(params![from, kind, min_strength], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn frontier_targets(&self, frontier: &[i64], kind: Option<&str>, min_strength: f64) -> Result<Vec<i64>> {
        let mut stmt = self.prepare_cached(FRONTIER_TARGETS)?;
        let rows = stmt.query_map(params![json_ids(frontier)?, kind, min_strength], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn names_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut stmt = self.prepare_cached(NAMES)?;
        let rows = stmt.query_map([json_ids(ids)?], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl RelationshipRows for Connection {
    fn upsert_relationship(&self, source: i64, target: i64, kind: &str, strength: f64) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO concept_relationships \
             (source_concept_id, target_concept_id, relationship_type, strength) \
             VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(source_concept_id, target_concept_id, relationship_type) \
             DO UPDATE SET strength = excluded.strength",
        )?
        .execute(params![source, target, kind, strength])?;
        Ok(())
    }

    fn relationships_of(&self, concept_id: i64, kind: Option<&str>) -> Result<Vec<Relationship>> {
        let mut stmt = self.prepare_cached(
            "SELECT target_concept_id, relationship_type, coalesce(strength, 1.0) \
             FROM concept_relationships \
             WHERE source_concept_id = ?1 AND (?2 IS NULL OR relationship_type = ?2) \
             ORDER BY strength DESC, target_concept_id ASC",
        )?;
        let rows = stmt.query_map(params![concept_id, kind], |r| {
            Ok(Relationship {
                target_id: r.get(0)?,
                relationship_type: r.get(1)?,
                strength: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
