//! Concept relationships and graph traversal (neighbourhood, strongest
//! path) across the C ABI.

use std::ffi::c_char;

use super::boundary::{boundary, opt_text, out, quiet_boundary, text};
use super::handle::{gm_store, store_ref};
use super::results::{arena_list, free_list, into_list, text_size, Arena, CRecord, Handed};
use crate::error::Result;
use crate::graph::{EdgeFilter, Reached};
use crate::status::*;
use crate::Relationship;

/// Most hops `gm_concept_neighborhood` accepts.
pub const GM_MAX_HOPS: u32 = 64;
const _: () = assert!(GM_MAX_HOPS == crate::graph::MAX_HOPS);

/// One outgoing edge: the seed's `(target_id, type, strength)`. Pointers
/// live as long as the list that holds it.
#[repr(C)]
pub struct gm_relationship {
    /// The concept the edge points to.
    pub target_id: i64,
    /// Edge strength in [0, 1].
    pub strength: f64,
    /// NUL-terminated UTF-8.
    pub relationship_type: *const c_char,
    /// Byte length of `relationship_type`, without the NUL.
    pub relationship_type_len: usize,
}

/// A list of edges, owned by the caller, freed with
/// `gm_relationship_list_free`. Strings lie in `[arena, arena + arena_len)`.
#[repr(C)]
pub struct gm_relationship_list {
    /// The records, `len` of them.
    pub items: *const gm_relationship,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

/// A concept reached by `gm_concept_neighborhood`.
#[repr(C)]
pub struct gm_reached {
    /// Concept id.
    pub id: i64,
    /// Fewest hops from the start.
    pub hops: u32,
    /// Always 0.
    pub reserved: u32,
    /// NUL-terminated UTF-8.
    pub name: *const c_char,
    /// Byte length of `name`, without the NUL.
    pub name_len: usize,
}

/// Concepts reached, fewest hops first. Owned by the caller, freed with
/// `gm_reached_list_free`.
#[repr(C)]
pub struct gm_reached_list {
    /// The records, `len` of them.
    pub items: *const gm_reached,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

/// A strongest path. Owned by the caller, freed with `gm_path_free`.
#[repr(C)]
pub struct gm_path {
    /// Concept ids from start to end, both included.
    pub ids: *const i64,
    /// How many ids `ids` holds.
    pub len: usize,
    /// Product of the strengths along the path.
    pub strength: f64,
}

/// The block behind a `gm_path`: the ids it points to.
#[repr(C)]
pub(crate) struct OwnedPath {
    view: gm_path,
    ids: Vec<i64>,
}

impl Handed for OwnedPath {
    type View = gm_path;
}

arena_list!(gm_relationship_list of gm_relationship, gm_reached_list of gm_reached);

impl CRecord for Relationship {
    type C = gm_relationship;

    fn arena_size(&self) -> (usize, usize) {
        (text_size(&self.relationship_type), 0)
    }

    fn to_c(&self, arena: &mut Arena) -> gm_relationship {
        gm_relationship {
            target_id: self.target_id,
            strength: self.strength,
            relationship_type: arena.text(&self.relationship_type),
            relationship_type_len: self.relationship_type.len(),
        }
    }
}

impl CRecord for Reached {
    type C = gm_reached;

    fn arena_size(&self) -> (usize, usize) {
        (text_size(&self.name), 0)
    }

    fn to_c(&self, arena: &mut Arena) -> gm_reached {
        gm_reached {
            id: self.id,
            hops: self.hops,
            reserved: 0,
            name: arena.text(&self.name),
            name_len: self.name.len(),
        }
    }
}

unsafe fn edge_filter<'a>(relationship_type: *const c_char, min_strength: f64) -> Result<EdgeFilter<'a>> {
    Ok(EdgeFilter {
        relationship_type: opt_text(relationship_type, "relationship_type")?,
        min_strength,
    })
}

/// Adds the edge (source_id, target_id, relationship_type) with `strength`
/// in [0, 1], or updates the strength of that edge. Both concepts must
/// exist: `GM_ERR_NOT_FOUND` names a missing one. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_add_relationship(
    store: *mut gm_store,
    source_id: i64,
    target_id: i64,
    relationship_type: *const c_char,
    strength: f64,
) -> gm_status {
    boundary("gm_add_relationship", || {
        let store = store_ref(store)?;
        let kind = text(relationship_type, "relationship_type")?;
        store.add_concept_relationship(source_id, target_id, kind, strength)
    })
}

/// Writes the outgoing edges of `concept_id`, strongest first, to
/// `*out_list` (free with `gm_relationship_list_free`). With
/// `relationship_type` not NULL, only edges of that type. An unknown
/// concept has no edges. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_relationships(
    store: *mut gm_store,
    concept_id: i64,
    relationship_type: *const c_char,
    out_list: *mut *mut gm_relationship_list,
) -> gm_status {
    boundary("gm_get_relationships", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let kind = opt_text(relationship_type, "relationship_type")?;
        let edges = store.get_concept_relationships(concept_id, kind)?;
        out_list.set(into_list(&edges, gm_relationship_list::from));
        Ok(())
    })
}

/// Frees an edge list with every pointer in it. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_relationship_list_free(list: *mut gm_relationship_list) {
    quiet_boundary((), || free_list::<gm_relationship_list, gm_relationship>(list))
}

/// Writes every concept reachable from `concept_id` within `max_hops`
/// (at most 64) along outgoing edges of `relationship_type` (NULL: any) and
/// strength >= `min_strength`, with its fewest hops, to `*out_list` (free
/// with `gm_reached_list_free`). `GM_ERR_NOT_FOUND` for an unknown start.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_concept_neighborhood(
    store: *mut gm_store,
    concept_id: i64,
    max_hops: u32,
    relationship_type: *const c_char,
    min_strength: f64,
    out_list: *mut *mut gm_reached_list,
) -> gm_status {
    boundary("gm_concept_neighborhood", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let filter = edge_filter(relationship_type, min_strength)?;
        let reached = store.concept_neighborhood(concept_id, max_hops, &filter)?;
        out_list.set(into_list(&reached, gm_reached_list::from));
        Ok(())
    })
}

/// Frees a neighbourhood list. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_reached_list_free(list: *mut gm_reached_list) {
    quiet_boundary((), || free_list::<gm_reached_list, gm_reached>(list))
}

/// Writes the path from `from_id` to `to_id` whose product of strengths is
/// greatest, along edges of `relationship_type` (NULL: any) whose strength
/// is at least `min_strength`, to `*out_path` (free with `gm_path_free`).
/// When no path exists the call succeeds (`GM_OK`) with `*out_path` NULL,
/// as `gm_auto_backup_if_needed` reports "not due"; `GM_ERR_NOT_FOUND`
/// means an unknown concept (the message names `from_id` or `to_id`).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_strongest_path(
    store: *mut gm_store,
    from_id: i64,
    to_id: i64,
    relationship_type: *const c_char,
    min_strength: f64,
    out_path: *mut *mut gm_path,
) -> gm_status {
    boundary("gm_strongest_path", || {
        let out_path = out(out_path, "out_path", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let filter = edge_filter(relationship_type, min_strength)?;
        let Some(path) = store.strongest_path(from_id, to_id, &filter)? else {
            return Ok(());
        };
        let owned = OwnedPath {
            view: gm_path {
                // The Vec's heap block does not move with the Vec.
                ids: path.ids.as_ptr(),
                len: path.ids.len(),
                strength: path.strength,
            },
            ids: path.ids,
        };
        out_path.set(owned.hand_over());
        Ok(())
    })
}

/// Frees a path. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_path_free(path: *mut gm_path) {
    quiet_boundary((), || OwnedPath::free(path))
}
