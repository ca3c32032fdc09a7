//! Exact k-nearest-neighbour search as shared algorithms, above the
//! storage seam and below the store: SIMD kernels, exact top-k with
//! float32 error bounds, the in-memory matrix and its scans, and the
//! cache's bulk build and change-log refresh. `crate::search` puts them
//! behind `Store` calls.

pub(crate) mod cache;
pub(crate) mod kernels;
pub(crate) mod matrix;
pub(crate) mod snapshot;
mod topk;

pub(crate) use cache::KnnCache;

/// How similarity is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Metric {
    /// Cosine similarity, higher is nearer.
    Cosine,
    /// Dot product, higher is nearer.
    Dot,
    /// Euclidean distance, lower is nearer (results come nearest first).
    L2,
}
