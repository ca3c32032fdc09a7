//! The per-store k-NN cache: its state, the bulk build (two halves in
//! parallel) and the refresh from the change log, over the storage seam. The matrix is
//! built once, in bulk, and kept coherent through the
//! `gm_concept_changes` log (triggers of migration v3 fill it on every
//! concept write): a dedicated connection checks `PRAGMA data_version`,
//! which moves only when another connection commits, and only then reads
//! the log to refresh the rows that changed. A restore changes the
//! incarnation in `gm_meta`, which forces a rebuild.

use std::sync::{Mutex, OnceLock};

use super::kernels::*;
use super::matrix::{FirstDots, Matrix};
use crate::error::{Error, Result};
use crate::storage::{Changes, ConceptFeed, ContentMark, Start};

/// The per-store cache. None until the first search.
pub(crate) struct KnnCache {
    pub(crate) state: Mutex<Option<Watched>>,
    /// The file the matrix is loaded from and saved to (see `snapshot`).
    pub(crate) snapshot: Mutex<Option<std::path::PathBuf>>,
}

/// The matrix and the connection that watches for changes: its
/// `data_version` moves only when another connection commits.
pub(crate) struct Watched {
    pub(crate) conn: Box<dyn ConceptFeed>,
    pub(crate) matrix: Matrix,
    /// Where the matrix came from when it was last made whole.
    pub(crate) source: MatrixSource,
    /// Whether its rows changed since it was loaded from or saved to the
    /// snapshot file.
    pub(crate) unsaved: bool,
}

/// Where a store's k-NN matrix came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatrixSource {
    /// No search has needed it yet (or the cache is off).
    NotLoaded,
    /// Read from the store, every row.
    Built,
    /// Read from the snapshot file, then brought up to date from the
    /// change log.
    Snapshot,
}

impl KnnCache {
    pub(crate) fn new() -> KnnCache {
        KnnCache {
            state: Mutex::new(None),
            snapshot: Mutex::new(None),
        }
    }
}

/// A zeroed buffer of `len` floats. On Linux it asks for transparent huge
/// pages before the first write: filling a 100 MB matrix then takes about
/// 50 page faults instead of 25,000 (bench/NOTES.md, "Design figures").
/// A kernel that declines just keeps 4 KiB pages.
///
/// It has room for a sixteenth more rows: the first concept added after a
/// build or a snapshot load would otherwise reallocate and copy the whole
/// matrix (about 100 ms at 50,000 x 512, measured on the first query after
/// a peer's write). Zeroed memory the program never touches costs no
/// physical pages, so the room is free until used.
pub(crate) fn matrix_buffer(len: usize) -> Vec<f32> {
    let mut buffer = vec![0.0f32; len + len / 16];
    buffer.truncate(len);
    #[cfg(target_os = "linux")]
    advise_huge_pages(&buffer);
    buffer
}

#[cfg(target_os = "linux")]
pub(crate) fn advise_huge_pages(buffer: &[f32]) {
    const HUGE: usize = 2 << 20;
    let start = buffer.as_ptr() as usize;
    let aligned = start.next_multiple_of(HUGE);
    let end = (start + std::mem::size_of_val(buffer)) & !(HUGE - 1);
    if end > aligned {
        // SAFETY: the range lies inside `buffer`'s allocation and madvise
        // only changes how the kernel backs it, never its contents.
        unsafe { libc::madvise(aligned as *mut libc::c_void, end - aligned, libc::MADV_HUGEPAGE) };
    }
}

/// Where a build puts each row it loads: the matrix, and the dot product
/// with the first query if there is one (`dots` then parallels `data`).
pub(crate) struct Destination<'a> {
    data: &'a mut [f32],
    first_query: Option<(&'a [f32], &'a mut [f32])>,
}

impl<'a> Destination<'a> {
    /// Splits after `rows` rows.
    pub(crate) fn split_at(self, rows: usize, dim: usize) -> (Destination<'a>, Destination<'a>) {
        let (lower, upper) = self.data.split_at_mut(rows * dim);
        let (first_lower, first_upper) = match self.first_query {
            Some((q, dots)) => {
                let (l, u) = dots.split_at_mut(rows);
                (Some((q, l)), Some((q, u)))
            }
            None => (None, None),
        };
        (
            Destination {
                data: lower,
                first_query: first_lower,
            },
            Destination {
                data: upper,
                first_query: first_upper,
            },
        )
    }
}

/// Reads exactly as many rows as `to.data` holds, starting at the lowest or
/// the highest id, into it in id order (from the highest, it fills from
/// the end). Returns their ids and squared norms in id order.
pub(crate) fn load_rows(
    conn: &dyn ConceptFeed,
    dim: usize,
    start: Start,
    to: Destination<'_>,
) -> Result<(Vec<i64>, Vec<f32>)> {
    let Destination { data, first_query } = to;
    let expected = data.len().checked_div(dim).unwrap_or(0);
    let mut loaded = (Vec::with_capacity(expected), Vec::with_capacity(expected));
    if expected == 0 {
        return Ok(loaded);
    }
    let mut slots: Box<dyn Iterator<Item = &mut [f32]>> = match start {
        Start::LowestId => Box::new(data.chunks_exact_mut(dim)),
        Start::HighestId => Box::new(data.chunks_exact_mut(dim).rev()),
    };
    let (query, dots) = first_query.unzip();
    let dots = dots.unwrap_or_default();
    let mut dot_slots: Box<dyn Iterator<Item = &mut f32>> = match start {
        Start::LowestId => Box::new(dots.iter_mut()),
        Start::HighestId => Box::new(dots.iter_mut().rev()),
    };
    conn.each_embedding(start, expected, &mut |id, blob| {
        if blob.len() != dim * 4 {
            return Err(Error::Corrupt(format!(
                "concept {id}: embedding of {} bytes does not match the store's dimension {dim}",
                blob.len()
            )));
        }
        let slot = slots
            .next()
            .ok_or_else(|| Error::Internal("k-NN cache build: more rows than its LIMIT".into()))?;
        for (value, bytes) in slot.iter_mut().zip(blob.chunks_exact(4)) {
            *value = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        if let (Some(q), Some(dot)) = (query, dot_slots.next()) {
            *dot = dot_f32(slot, q);
        }
        loaded.0.push(id);
        loaded.1.push(sq_norm(slot));
        Ok(())
    })?;
    if loaded.0.len() != expected {
        return Err(Error::Internal(
            "concepts changed during a k-NN cache build".into(),
        ));
    }
    if start == Start::HighestId {
        loaded.0.reverse();
        loaded.1.reverse();
    }
    Ok(loaded)
}

/// Opens a second connection for a parallel cache build.
pub(crate) type OpenHelper<'a> = &'a dyn Fn() -> Result<Box<dyn ConceptFeed>>;

/// Loads every embedding into a fresh matrix. With `helper`, a large matrix
/// is read in two halves at once: SQLite's per-row work, not the copy,
/// bounds the build. With a `first_query` of the matrix's dimension, also
/// returns its dot product with every row.
pub(crate) fn build(
    conn: &dyn ConceptFeed,
    dim: usize,
    helper: Option<OpenHelper<'_>>,
    first_query: Option<&[f32]>,
) -> Result<(Matrix, FirstDots)> {
    let mark = conn.content_mark()?;
    let count = conn.concept_count()?;
    let mut data = matrix_buffer(count * dim);
    let first_query = first_query.filter(|q| q.len() == dim);
    let mut dots = first_query.map(|_| vec![0f32; count]);
    let to = Destination {
        data: &mut data,
        first_query: first_query.zip(dots.as_deref_mut()),
    };
    let split = helper.filter(|_| count >= 2 && parallelism(count * dim) > 1);
    let (ids, sq_norms) = match split {
        Some(open) => load_halves(conn, dim, to, open, &mark)?,
        None => load_rows(conn, dim, Start::LowestId, to)?,
    };
    let matrix = Matrix {
        dim,
        ids,
        row_of: OnceLock::new(),
        data,
        sq_norms,
        mark,
        data_version: None,
    };
    Ok((matrix, dots))
}

/// Reads the lower half of the rows on `conn`, upwards from the lowest id,
/// and the upper half on a helper connection, downwards from the highest,
/// in two threads: the halves meet without a query to find where. The
/// helper's snapshot must hold the same content as `conn`'s, which the
/// change log proves: every concept write advances its last sequence number
/// and a restore changes the incarnation. If a commit slipped in between,
/// `conn` reads everything.
pub(crate) fn load_halves(
    conn: &dyn ConceptFeed,
    dim: usize,
    to: Destination<'_>,
    open: OpenHelper<'_>,
    mark: &ContentMark,
) -> Result<(Vec<i64>, Vec<f32>)> {
    let helper = open()?;
    helper.begin_read()?;
    if helper.content_mark()? != *mark {
        return load_rows(conn, dim, Start::LowestId, to);
    }
    let lower_rows = to.data.len() / dim / 2;
    let (lower, upper) = to.split_at(lower_rows, dim);
    let (lower, upper) = std::thread::scope(|scope| {
        let upper = scope.spawn(move || load_rows(&*helper, dim, Start::HighestId, upper));
        let lower = load_rows(conn, dim, Start::LowestId, lower);
        (lower, upper.join())
    });
    let (mut ids, mut sq_norms) = lower?;
    let (upper_ids, upper_norms) =
        upper.map_err(|_| Error::Internal("k-NN cache build thread panicked".into()))??;
    ids.extend(upper_ids);
    sq_norms.extend(upper_norms);
    Ok((ids, sq_norms))
}

/// Applies the logged changes since the matrix was built; rebuilds when the
/// log no longer reaches back that far, when a restore replaced the content
/// (the log went backwards or the incarnation changed), or when most rows
/// changed.
/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refreshed {
    Unchanged,
    RowsChanged,
    Rebuilt,
}

pub(crate) fn refresh(
    conn: &dyn ConceptFeed,
    m: &mut Matrix,
    dim: usize,
    helper: OpenHelper<'_>,
) -> Result<Refreshed> {
    let changed = match conn.changes_since(&m.mark)? {
        Changes::Since(changed, mark) if m.dim == dim && changed.len() <= m.ids.len() / 2 + 64 => {
            (changed, mark)
        }
        _ => {
            *m = build(conn, dim, Some(helper), None)?.0;
            return Ok(Refreshed::Rebuilt);
        }
    };
    let (changed, mark) = changed;
    let outcome = match changed.is_empty() {
        true => Refreshed::Unchanged,
        false => Refreshed::RowsChanged,
    };
    for id in changed {
        match conn.embedding(id)? {
            Some(values) if values.len() == dim => m.set_row(id, &values),
            Some(values) => {
                return Err(Error::Corrupt(format!(
                    "concept {id}: embedding dimension {} is not {dim}",
                    values.len()
                )))
            }
            None => m.remove_row(id),
        }
    }
    m.mark = mark;
    Ok(outcome)
}
