//! Owned results handed to C: one heap block per result holding the C
//! structs, one byte arena for every string and blob, and one float arena
//! for every embedding. The struct the caller sees is the first field of
//! the block, so its free function can take the whole block back.

use std::ffi::c_char;

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
    let owned = Box::new(OwnedList {
        view: view(parts),
        items,
        arena,
    });
    Box::into_raw(owned).cast()
}

/// Frees a list built by [`into_list`]. NULL is a no-op.
///
/// # Safety
/// `ptr` must be NULL or come from `into_list::<R, V>` and not be freed yet.
pub(crate) unsafe fn free_list<V, T>(ptr: *mut V) {
    if !ptr.is_null() {
        drop(Box::from_raw(ptr.cast::<OwnedList<V, T>>()));
    }
}

/// The heap block behind a single-record result. `item` must stay first.
#[repr(C)]
pub(crate) struct OwnedOne<T> {
    item: T,
    arena: Arena,
}

/// Builds a single-record result.
pub(crate) fn into_one<R: CRecord>(record: &R) -> *mut R::C {
    let mut arena = arena_for(std::slice::from_ref(record));
    let item = record.to_c(&mut arena);
    Box::into_raw(Box::new(OwnedOne { item, arena })).cast()
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
    if !ptr.is_null() {
        drop(Box::from_raw(ptr.cast::<OwnedOne<T>>()));
    }
}
