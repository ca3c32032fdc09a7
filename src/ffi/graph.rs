//! Concept relationships across the C ABI.

use std::ffi::c_char;

use super::boundary::{boundary, opt_text, out, quiet_boundary, text};
use super::handle::{gm_store, store_ref};
use super::results::{arena_list, free_list, into_list, text_size, Arena, CRecord};
use crate::status::*;
use crate::Relationship;

/// One outgoing edge: the seed's `(target_id, type, strength)`. Pointers
/// live as long as the list that holds it.
#[repr(C)]
pub struct gm_relationship {
    pub target_id: i64,
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
    pub items: *const gm_relationship,
    pub len: usize,
    pub arena: *const u8,
    pub arena_len: usize,
}

arena_list!(gm_relationship_list of gm_relationship);

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
