//! Owned results handed to C: one heap block per result holding the C
//! structs, one byte arena for every string and blob, and one float arena
//! for every embedding. The struct the caller sees is the first field of
//! the block, so its free function can take the whole block back.
//!
//! Every result the library allocates for its caller, its block, and the
//! one function that frees it (each block declares its shape once, by
//! implementing [`Handed`]):
//!
//! | the caller holds | block (`Handed`) | freed by |
//! |---|---|---|
//! | `gm_episode_list`, `gm_concept_list`, `gm_learning_event_list`, `gm_strategy_list`, `gm_relationship_list`, `gm_reached_list`, `gm_neighbor_list` | [`OwnedList`] | `gm_<type>_free` |
//! | `gm_episode`, `gm_concept` | [`OwnedOne`] | `gm_episode_free`, `gm_concept_free` |
//! | `gm_path` | `ffi::graph::OwnedPath` | `gm_path_free` |
//! | `gm_buffer` | `ffi::experience::OwnedBuffer` | `gm_buffer_free` |
//! | `gm_experience` | `ffi::experience::OwnedExperience` | `gm_experience_free` |
//! | `gm_stats` | `gm_stats` itself | `gm_stats_free` |
//! | `char *` (reports, paths) | `CString` ([`hand_string`]) | `gm_string_free` |

use std::ffi::{c_char, CString};

/// How a result handed to C is owned, declared once on its block (the
/// model is rustls-ffi's `Castable`): the caller holds a pointer to
/// `View`, the first field of a boxed `Self` (`#[repr(C)]`), and gives it
/// back to the type's free function, which drops the whole block.
pub(crate) trait Handed: Sized {
    /// What the caller's pointer points at: the first field of `Self`.
    type View;

    /// Moves the block to the heap and returns the caller's pointer.
    fn hand_over(self) -> *mut Self::View {
        Box::into_raw(Box::new(self)).cast()
    }

    /// Drops the block behind `view`. NULL is a no-op.
    ///
    /// # Safety
    /// `view` must be NULL or come from `Self::hand_over`, not freed yet.
    unsafe fn free(view: *mut Self::View) {
        if !view.is_null() {
            drop(Box::from_raw(view.cast::<Self>()));
        }
    }
}

/// A NUL-terminated copy of `s` the caller frees with `gm_string_free`
/// (an interior NUL becomes `?`).
pub(crate) fn hand_string(s: &str) -> *mut c_char {
    CString::new(s.replace('\0', "?")).unwrap_or_default().into_raw()
}

/// Frees a string from [`hand_string`]. NULL is a no-op.
///
/// # Safety
/// `s` must be NULL or come from `hand_string`, not freed yet.
pub(crate) unsafe fn free_string(s: *mut c_char) {
    if !s.is_null() {
        drop(CString::from_raw(s));
    }
}

/// Backing storage whose pointers the C structs borrow: a block sized up
/// front that never grows, so no pointer into it moves. The bytes lie in a
/// block of the arena's own, or in a caller's buffer (`in_caller_buffer`).
pub(crate) struct Arena {
    start: *mut u8,
    capacity: usize,
    len: usize,
    /// Holds the block `start` points into when the arena owns it (read
    /// only through `start`; dropped with the arena).
    _owned: Vec<u8>,
    floats: Vec<f32>,
}

impl Arena {
    fn with_capacity(bytes: usize, floats: usize) -> Arena {
        let mut owned = Vec::with_capacity(bytes);
        Arena {
            start: owned.as_mut_ptr(),
            capacity: bytes,
            len: 0,
            _owned: owned,
            floats: Vec::with_capacity(floats),
        }
    }

    /// An arena writing its bytes to `[start, start + capacity)`, memory
    /// the caller owns; it holds no floats.
    ///
    /// # Safety
    /// The range must be valid for writes for as long as the arena is used.
    unsafe fn in_caller_buffer(start: *mut u8, capacity: usize) -> Arena {
        Arena {
            start,
            capacity,
            len: 0,
            _owned: Vec::new(),
            floats: Vec::new(),
        }
    }

    pub(crate) fn blob(&mut self, data: &[u8]) -> *const u8 {
        // A growth would move earlier pointers; the sizes are computed
        // exactly, so this assertion guards a bug, caught as GM_ERR_INTERNAL.
        assert!(self.len + data.len() <= self.capacity, "arena sized too small");
        // SAFETY: the range was just checked to lie within the block.
        unsafe {
            let at = self.start.add(self.len);
            std::ptr::copy_nonoverlapping(data.as_ptr(), at, data.len());
            self.len += data.len();
            at
        }
    }

    /// Copies `s` plus a NUL terminator.
    pub(crate) fn text(&mut self, s: &str) -> *const c_char {
        let ptr = self.blob(s.as_bytes());
        self.blob(&[0]);
        ptr.cast()
    }

    pub(crate) fn floats(&mut self, data: &[f32]) -> *const f32 {
        assert!(
            self.floats.len() + data.len() <= self.floats.capacity(),
            "arena sized too small"
        );
        let start = self.floats.len();
        self.floats.extend_from_slice(data);
        self.floats[start..].as_ptr()
    }

    pub(crate) fn bytes_view(&self) -> (*const u8, usize) {
        (self.start, self.len)
    }

    pub(crate) fn floats_view(&self) -> (*const f32, usize) {
        (self.floats.as_ptr(), self.floats.len())
    }
}

// SAFETY: the arena's pointers point into its own block or, while it is
// being filled, into a caller's buffer; nothing else shares them.
unsafe impl Send for Arena {}

/// Bytes a string takes in the arena.
pub(crate) fn text_size(s: &str) -> usize {
    s.len() + 1
}

/// A core value that has a C counterpart backed by an arena.
pub(crate) trait CRecord {
    type C;
    /// (bytes, floats) this record needs in the arena.
    fn arena_size(&self) -> (usize, usize);
    fn to_c(&self, arena: &mut Arena) -> Self::C;
}

/// The heap block behind a list result. `view` must stay first.
#[repr(C)]
pub(crate) struct OwnedList<V, T> {
    view: V,
    items: Vec<T>,
    arena: Arena,
}

impl<V, T> Handed for OwnedList<V, T> {
    type View = V;
}

/// The fields every C list struct shares.
pub(crate) struct ListParts<T> {
    pub items: *const T,
    pub len: usize,
    pub arena: *const u8,
    pub arena_len: usize,
    pub floats: *const f32,
    pub floats_len: usize,
}

/// Builds a list struct `{ items, len, arena, arena_len }` from its parts.
/// (The structs themselves are written out, for cbindgen.)
macro_rules! arena_list {
    ($($list:ident of $item:ident),* $(,)?) => {$(
        impl From<crate::ffi::results::ListParts<$item>> for $list {
            fn from(p: crate::ffi::results::ListParts<$item>) -> Self {
                $list { items: p.items, len: p.len, arena: p.arena, arena_len: p.arena_len }
            }
        }
    )*};
}
pub(crate) use arena_list;

fn arena_for<R: CRecord>(records: &[R]) -> Arena {
    let (bytes, floats) = records
        .iter()
        .map(R::arena_size)
        .fold((0, 0), |(b, f), (rb, rf)| (b + rb, f + rf));
    Arena::with_capacity(bytes, floats)
}

/// Builds a list result and returns the pointer the caller frees with the
/// list's own free function.
pub(crate) fn into_list<R: CRecord, V>(records: &[R], view: impl FnOnce(ListParts<R::C>) -> V) -> *mut V {
    let mut arena = arena_for(records);
    let items: Vec<R::C> = records.iter().map(|r| r.to_c(&mut arena)).collect();
    let (arena_ptr, arena_len) = arena.bytes_view();
    let (floats, floats_len) = arena.floats_view();
    let parts = ListParts {
        items: items.as_ptr(),
        len: items.len(),
        arena: arena_ptr,
        arena_len,
        floats,
        floats_len,
    };
    OwnedList {
        view: view(parts),
        items,
        arena,
    }
    .hand_over()
}

/// Frees a list built by [`into_list`]. NULL is a no-op.
///
/// # Safety
/// `ptr` must be NULL or come from `into_list::<R, V>` and not be freed yet.
pub(crate) unsafe fn free_list<V, T>(ptr: *mut V) {
    OwnedList::<V, T>::free(ptr)
}

/// The heap block behind a single-record result. `item` must stay first.
#[repr(C)]
pub(crate) struct OwnedOne<T> {
    item: T,
    arena: Arena,
}

impl<T> Handed for OwnedOne<T> {
    type View = T;
}

/// Builds a single-record result.
pub(crate) fn into_one<R: CRecord>(record: &R) -> *mut R::C {
    let mut arena = arena_for(std::slice::from_ref(record));
    let item = record.to_c(&mut arena);
    OwnedOne { item, arena }.hand_over()
}

/// Writes `record` into the caller's buffer `[buf, buf + capacity)`: its C
/// struct at the start, the bytes it points to after it, and the size that
/// takes to `out_size` whether or not it fits. BufferTooSmall (nothing
/// written) when it does not; InvalidArgument when `buf` is not aligned
/// for the struct.
///
/// # Safety
/// `buf` must be NULL or valid for writes of `capacity` bytes.
pub(crate) unsafe fn write_into<R: CRecord>(
    record: &R,
    buf: *mut u8,
    capacity: usize,
    out_size: super::boundary::Out<'_, usize>,
) -> crate::error::Result<()> {
    let (bytes, floats) = record.arena_size();
    debug_assert_eq!(
        floats, 0,
        "records with floats are not written into caller buffers"
    );
    let head = std::mem::size_of::<R::C>();
    let needed = head + bytes;
    out_size.set(needed);
    if capacity < needed {
        return Err(crate::Error::BufferTooSmall(format!(
            "buf: {capacity} bytes, but the result needs {needed}"
        )));
    }
    if buf.is_null() || !buf.cast::<R::C>().is_aligned() {
        return Err(crate::error::invalid(
            "buf",
            format!("must be aligned to {} bytes", std::mem::align_of::<R::C>()),
        ));
    }
    let mut arena = Arena::in_caller_buffer(buf.add(head), bytes);
    let item = record.to_c(&mut arena);
    std::ptr::write(buf.cast::<R::C>(), item);
    Ok(())
}

/// Frees a record built by [`into_one`]. NULL is a no-op.
///
/// # Safety
/// `ptr` must be NULL or come from `into_one` for this type, not freed yet.
pub(crate) unsafe fn free_one<T>(ptr: *mut T) {
    OwnedOne::<T>::free(ptr)
}
