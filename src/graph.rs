//! The concept knowledge graph: typed, weighted relationships.

use crate::error::{Error, Result};
pub use crate::records::Relationship;
use crate::storage::{GraphRows, Table};
use crate::store::Store;
use crate::validate;

fn require_concept(rows: &dyn GraphRows, field: &str, id: i64) -> Result<()> {
    if rows.concept_exists(id)? {
        Ok(())
    } else {
        Err(Error::NotFound(format!("{field}: no concept with id {id}")))
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
            conn.upsert_relationship(source_id, target_id, relationship_type, strength)
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
        self.read(|conn| conn.relationships_of(concept_id, relationship_type))
    }

    /// How many relationships are stored.
    pub fn count_relationships(&self) -> Result<i64> {
        self.read(|conn| conn.count_rows(Table::Relationships))
    }
}

/// A concept reached from a start concept, with the fewest hops to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reached {
    /// Concept id.
    pub id: i64,
    /// Concept name.
    pub name: String,
    /// Fewest hops from the start.
    pub hops: u32,
}

/// The strongest path between two concepts.
#[derive(Debug, Clone, PartialEq)]
pub struct StrongestPath {
    /// Concept ids from start to end, both included.
    pub ids: Vec<i64>,
    /// The product of the strengths along the path.
    pub strength: f64,
}

/// Most hops a traversal may take.
pub const MAX_HOPS: u32 = 64;

/// Edge filters of a traversal.
#[derive(Debug, Clone, Copy, Default)]
pub struct EdgeFilter<'a> {
    /// Only edges of this type.
    pub relationship_type: Option<&'a str>,
    /// Only edges at least this strong.
    pub min_strength: f64,
}

fn checked_filter<'a>(filter: &EdgeFilter<'a>) -> Result<EdgeFilter<'a>> {
    validate::unit_interval("min_strength", filter.min_strength)?;
    if let Some(kind) = filter.relationship_type {
        validate::non_empty("relationship_type", kind)?;
    }
    Ok(*filter)
}

impl Store {
    /// Every concept reachable from `concept_id` within `max_hops` along
    /// outgoing edges that pass `filter`, with its hop count (fewest hops
    /// first, then id). The start itself is not listed. Breadth-first, one
    /// query per hop level over the (source, target, type) index, one
    /// snapshot.
    pub fn concept_neighborhood(
        &self,
        concept_id: i64,
        max_hops: u32,
        filter: &EdgeFilter<'_>,
    ) -> Result<Vec<Reached>> {
        let start = validate::id("concept_id", concept_id)?;
        if max_hops > MAX_HOPS {
            return Err(crate::error::invalid(
                "max_hops",
                format!("{max_hops} exceeds {MAX_HOPS}"),
            ));
        }
        let filter = checked_filter(filter)?;
        self.read(|conn| neighbourhood(conn, start, max_hops, &filter))
    }

    /// The path from `from` to `to` along outgoing edges that pass `filter`
    /// whose product of strengths is greatest (Dijkstra on -ln strength),
    /// or `None` when `to` cannot be reached.
    pub fn strongest_path(
        &self,
        from: i64,
        to: i64,
        filter: &EdgeFilter<'_>,
    ) -> Result<Option<StrongestPath>> {
        let from = validate::id("from_id", from)?;
        let to = validate::id("to_id", to)?;
        let filter = checked_filter(filter)?;
        self.read(|conn| {
            require_concept(conn, "from_id", from)?;
            require_concept(conn, "to_id", to)?;
            dijkstra(conn, from, to, &filter)
        })
    }
}

/// Breadth-first from `start`, one query per hop level, over any engine.
fn neighbourhood(
    rows: &dyn GraphRows,
    start: i64,
    max_hops: u32,
    filter: &EdgeFilter<'_>,
) -> Result<Vec<Reached>> {
    require_concept(rows, "concept_id", start)?;
    let mut seen = std::collections::HashSet::from([start]);
    let mut frontier = vec![start];
    let mut reached: Vec<(i64, u32)> = Vec::new();
    for hops in 1..=max_hops {
        let mut next = rows.frontier_targets(&frontier, filter.relationship_type, filter.min_strength)?;
        next.retain(|id| seen.insert(*id));
        if next.is_empty() {
            break;
        }
        next.sort_unstable();
        reached.extend(next.iter().map(|id| (*id, hops)));
        frontier = next;
    }
    let ids: Vec<i64> = reached.iter().map(|(id, _)| *id).collect();
    let mut names = rows.names_by_id(&ids)?;
    Ok(reached
        .into_iter()
        .map(|(id, hops)| Reached {
            id,
            name: names.remove(&id).unwrap_or_default(),
            hops,
        })
        .collect())
}

/// A node with its path cost; ordered as a min-heap on cost.
#[derive(PartialEq)]
struct Frontier(f64, i64);
impl Eq for Frontier {}
impl PartialOrd for Frontier {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Frontier {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

fn dijkstra(
    rows: &dyn GraphRows,
    from: i64,
    to: i64,
    filter: &EdgeFilter<'_>,
) -> Result<Option<StrongestPath>> {
    use std::collections::{BinaryHeap, HashMap};
    let mut cost: HashMap<i64, f64> = HashMap::from([(from, 0.0)]);
    let mut previous: HashMap<i64, i64> = HashMap::new();
    let mut heap = BinaryHeap::from([Frontier(0.0, from)]);
    while let Some(Frontier(c, node)) = heap.pop() {
        if node == to {
            let mut ids = vec![to];
            while let Some(&p) = previous.get(ids.last().expect("non-empty")) {
                ids.push(p);
            }
            ids.reverse();
            return Ok(Some(StrongestPath {
                ids,
                strength: (-c).exp(),
            }));
        }
        if c > cost.get(&node).copied().unwrap_or(f64::INFINITY) {
            continue;
        }
        for (target, strength) in rows.out_edges(node, filter.relationship_type, filter.min_strength)? {
            if strength <= 0.0 {
                continue; // a zero-strength edge makes every path through it worthless
            }
            let next = c - strength.ln();
            if next < cost.get(&target).copied().unwrap_or(f64::INFINITY) {
                cost.insert(target, next);
                previous.insert(target, node);
                heap.push(Frontier(next, target));
            }
        }
    }
    Ok(None)
}
