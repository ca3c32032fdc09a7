//! The similarity graph: every pair of concepts above a cosine threshold
//! (or each concept's top k), computed from the k-NN matrix in blocked
//! matrix products and written as relationships in one transaction.

use crate::error::Result;
use crate::knn::kernels::*;
use crate::knn::matrix::Matrix;
use crate::store::Store;
use crate::validate;

impl Store {
    /// Connects concepts whose cosine similarity is at least `threshold`
    /// (every such ordered pair), or, with `top_k > 0`, each concept to its
    /// `top_k` most similar ones above the threshold, with
    /// `relationship_type` and the similarity (clamped to [0, 1]) as
    /// strength. Computed in blocks of matrix products and written in one
    /// transaction. Returns the number of edges written.
    pub fn build_similarity_graph(
        &self,
        threshold: f64,
        top_k: usize,
        relationship_type: &str,
    ) -> Result<usize> {
        let threshold = validate::unit_interval("threshold", threshold)?;
        let kind = validate::non_empty("relationship_type", relationship_type)?;
        let edges = self.with_matrix(None, |_, m, _| Ok(similar_pairs(m, threshold as f32, top_k)))?;
        self.write_atomic(|conn| {
            for &(a, b, s) in &edges {
                conn.upsert_relationship(a, b, kind, s.clamp(0.0, 1.0))?;
            }
            Ok(edges.len())
        })
    }
}

/// Every pair at or above `threshold` (both directions), or each row's
/// `top_k` best. With a threshold alone the score is symmetric, so only
/// the upper triangle is computed (half the multiply-adds) and each pair
/// gets one score for both of its edges.
pub(super) fn similar_pairs(m: &Matrix, threshold: f32, top_k: usize) -> Vec<(i64, i64, f64)> {
    let (n, dim) = (m.ids.len(), m.dim);
    let unit: Vec<f32> = (0..n)
        .flat_map(|i| {
            let inv = 1.0 / m.sq_norms[i].sqrt().max(f32::MIN_POSITIVE);
            m.row(i).iter().map(move |v| v * inv)
        })
        .collect();
    let triangle = top_k == 0;
    let threads = parallelism(n * dim * 64);
    let ranges = row_ranges(n, threads, triangle);
    let job = Pairs {
        unit: &unit,
        ids: &m.ids,
        dim,
        threshold,
        top_k,
        triangle,
    };
    if ranges.len() <= 1 {
        return ranges.into_iter().flat_map(|r| job.rows(r)).collect();
    }
    std::thread::scope(|scope| {
        let job = &job;
        let handles: Vec<_> = ranges
            .iter()
            .map(|&range| scope.spawn(move || job.rows(range)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("graph worker panicked"))
            .collect()
    })
}

/// Splits rows 0..n into `threads` ranges of equal work: equal row counts
/// for full rows; for the upper triangle, where row i costs n - i, the
/// boundaries sit at n (1 - sqrt(1 - t / threads)).
pub(super) fn row_ranges(n: usize, threads: usize, triangle: bool) -> Vec<(usize, usize)> {
    let threads = threads.clamp(1, n.max(1));
    let bound = |t: usize| -> usize {
        let f = t as f64 / threads as f64;
        let at = if triangle { 1.0 - (1.0 - f).sqrt() } else { f };
        ((at * n as f64).round() as usize).min(n)
    };
    (0..threads)
        .map(|t| (bound(t), bound(t + 1)))
        .filter(|(a, b)| a < b)
        .collect()
}

/// One similarity-graph job over the unit-normalised matrix.
pub(super) struct Pairs<'a> {
    unit: &'a [f32],
    ids: &'a [i64],
    dim: usize,
    threshold: f32,
    top_k: usize,
    triangle: bool,
}

impl Pairs<'_> {
    /// The edges of rows start..end, computed in blocks of rows against
    /// every column (or, for the triangle, the columns from the block on).
    fn rows(&self, (start, end): (usize, usize)) -> Vec<(i64, i64, f64)> {
        let (n, dim) = (self.ids.len(), self.dim);
        let block = 256.min((end - start).max(1));
        let mut scores = vec![0f32; block * n];
        let mut edges = Vec::new();
        for first in (start..end).step_by(block) {
            let rows = block.min(end - first);
            let col0 = if self.triangle { first } else { 0 };
            let cols = n - col0;
            // SAFETY: A is rows x dim from row `first`, B is the dim x cols
            // transpose of rows col0.., C is rows x cols with row stride
            // cols; all three lie inside their slices.
            unsafe {
                matrixmultiply::sgemm(
                    rows,
                    dim,
                    cols,
                    1.0,
                    self.unit[first * dim..].as_ptr(),
                    dim as isize,
                    1,
                    self.unit[col0 * dim..].as_ptr(),
                    1,
                    dim as isize,
                    0.0,
                    scores.as_mut_ptr(),
                    cols as isize,
                    1,
                );
            }
            for r in 0..rows {
                let i = first + r;
                let row = &scores[r * cols..(r + 1) * cols];
                if self.triangle {
                    self.pairs_above(i, col0, row, &mut edges);
                } else {
                    self.best_of_row(i, row, &mut edges);
                }
            }
        }
        edges
    }

    fn pairs_above(&self, i: usize, col0: usize, row: &[f32], edges: &mut Vec<(i64, i64, f64)>) {
        let (a, threshold) = (self.ids[i], self.threshold);
        for (offset, &s) in row[i + 1 - col0..].iter().enumerate() {
            if s >= threshold {
                let b = self.ids[i + 1 + offset];
                edges.push((a, b, s as f64));
                edges.push((b, a, s as f64));
            }
        }
    }

    fn best_of_row(&self, i: usize, row: &[f32], edges: &mut Vec<(i64, i64, f64)>) {
        let mut hits: Vec<(usize, f32)> = row
            .iter()
            .enumerate()
            .filter(|&(j, &s)| j != i && s >= self.threshold)
            .map(|(j, &s)| (j, s))
            .collect();
        if hits.len() > self.top_k {
            hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            hits.truncate(self.top_k);
        }
        edges.extend(
            hits.into_iter()
                .map(|(j, s)| (self.ids[i], self.ids[j], s as f64)),
        );
    }
}
