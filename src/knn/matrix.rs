//! The in-memory matrix of every embedding and its scans: single queries
//! with a SIMD pass, batches with blocked SGEMM, both finished exactly in
//! float64 through the top-k error model.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::kernels::*;
use super::topk::{Candidates, ErrorModel};
use super::Metric;

/// Rows per block in batched products.
/// A query's dot product with every row of a matrix, in row order,
/// computed while the build loaded each row (then still in L1) instead of
/// in a second pass over the whole matrix.
pub(crate) type FirstDots = Option<Vec<f32>>;

pub(crate) const BLOCK_ROWS: usize = 4096;

/// The in-memory matrix: one row of `dim` floats per concept.
#[derive(Default)]
pub(crate) struct Matrix {
    pub(crate) dim: usize,
    /// Concept id of each row.
    pub(crate) ids: Vec<i64>,
    /// Row of each id, built on first need: a plain search never needs it,
    /// and building it is a visible share of the first query.
    pub(crate) row_of: OnceLock<HashMap<i64, usize>>,
    /// Row-major, `dim` floats per row.
    pub(crate) data: Vec<f32>,
    /// Squared norm of each row, for cosine, L2 and the error bounds.
    pub(crate) sq_norms: Vec<f32>,
    /// The content the rows reflect: a refresh asks the engine what
    /// changed since (see `storage::ContentMark`).
    pub(crate) mark: crate::storage::ContentMark,
    /// The watching connection's `PRAGMA data_version` when the rows were
    /// last made current; None forces a rebuild on the next query.
    pub(crate) data_version: Option<i64>,
}

impl Matrix {
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub(crate) fn row_of(&self) -> &HashMap<i64, usize> {
        self.row_of
            .get_or_init(|| self.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect())
    }

    pub(crate) fn row_of_mut(&mut self) -> &mut HashMap<i64, usize> {
        self.row_of();
        self.row_of.get_mut().expect("initialised above")
    }

    pub(crate) fn set_row(&mut self, id: i64, values: &[f32]) {
        let norm = sq_norm(values);
        match self.row_of().get(&id).copied() {
            Some(i) => {
                self.data[i * self.dim..(i + 1) * self.dim].copy_from_slice(values);
                self.sq_norms[i] = norm;
            }
            None => {
                let row = self.ids.len();
                self.row_of_mut().insert(id, row);
                self.ids.push(id);
                self.data.extend_from_slice(values);
                self.sq_norms.push(norm);
            }
        }
    }

    pub(crate) fn remove_row(&mut self, id: i64) {
        let Some(i) = self.row_of_mut().remove(&id) else {
            return;
        };
        let last = self.ids.len() - 1;
        if i != last {
            let moved = self.ids[last];
            self.ids[i] = moved;
            self.row_of_mut().insert(moved, i);
            self.data
                .copy_within(last * self.dim..(last + 1) * self.dim, i * self.dim);
            self.sq_norms[i] = self.sq_norms[last];
        }
        self.ids.pop();
        self.data.truncate(last * self.dim);
        self.sq_norms.pop();
    }

    /// The exact (float64) score of a row.
    pub(crate) fn exact(&self, metric: Metric, query: &[f32], i: usize) -> f64 {
        let row = self.row(i);
        match metric {
            Metric::Dot => dot_f64(query, row),
            Metric::Cosine => {
                let denom = dot_f64(query, query).sqrt() * dot_f64(row, row).sqrt();
                if denom > 0.0 {
                    dot_f64(query, row) / denom
                } else {
                    0.0
                }
            }
            Metric::L2 => query
                .iter()
                .zip(row)
                .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
                .sum::<f64>()
                .sqrt(),
        }
    }

    /// Re-scores the candidates in f64 and returns the best k rows, ties
    /// broken by the lower id.
    pub(crate) fn finish(
        &self,
        metric: Metric,
        query: &[f32],
        found: Candidates,
        k: usize,
    ) -> Vec<(usize, f64)> {
        let mut exact: Vec<(usize, f64)> = found
            .into_rows()
            .map(|row| (row, self.exact(metric, query, row)))
            .collect();
        exact.sort_by(|a, b| {
            let by_score = match metric {
                Metric::L2 => a.1.total_cmp(&b.1),
                _ => b.1.total_cmp(&a.1),
            };
            by_score.then(self.ids[a.0].cmp(&self.ids[b.0]))
        });
        exact.truncate(k);
        exact
    }

    /// `dots`, when given, holds `query`'s dot product with every row.
    pub(crate) fn search(
        &self,
        metric: Metric,
        query: &[f32],
        k: usize,
        allowed: Option<&[usize]>,
        dots: FirstDots,
    ) -> Vec<(usize, f64)> {
        let model = ErrorModel::new(metric, self.dim, sq_norm(query));
        let mut found = Candidates::new(k);
        match allowed {
            Some(rows) => rows
                .iter()
                .for_each(|&i| found.offer(model.key(dot_f32(query, self.row(i)), self.sq_norms[i]), i)),
            None => {
                let dots = dots.unwrap_or_else(|| all_dots(&self.data, self.dim, query));
                for (i, d) in dots.into_iter().enumerate() {
                    found.offer(model.key(d, self.sq_norms[i]), i);
                }
            }
        }
        self.finish(metric, query, found, k)
    }

    /// Many queries as blocked matrix products (SGEMM), then per-query top k.
    pub(crate) fn search_batch(
        &self,
        metric: Metric,
        queries: &[f32],
        k: usize,
        allowed: Option<&[usize]>,
    ) -> Vec<Vec<(usize, f64)>> {
        let (dim, nq, n) = (self.dim, queries.len() / self.dim, self.ids.len());
        let models: Vec<ErrorModel> = queries
            .chunks_exact(dim)
            .map(|q| ErrorModel::new(metric, dim, sq_norm(q)))
            .collect();
        let mask: Option<Vec<bool>> = allowed.map(|rows| {
            let mut m = vec![false; n];
            rows.iter().for_each(|&i| m[i] = true);
            m
        });
        // Each core takes a contiguous share of the rows with its own top-k
        // per query; the shares are merged before the exact re-scoring.
        let threads = parallelism(n * dim * nq.min(64));
        let share = n.div_ceil(threads).max(1);
        let ranges: Vec<(usize, usize)> = (0..n).step_by(share).map(|s| (s, (s + share).min(n))).collect();
        let partials: Vec<Vec<Candidates>> = if ranges.len() <= 1 {
            ranges
                .iter()
                .map(|&r| self.batch_range(queries, &models, k, mask.as_deref(), r))
                .collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = ranges
                    .iter()
                    .map(|&r| {
                        let (models, mask) = (&models, mask.as_deref());
                        scope.spawn(move || self.batch_range(queries, models, k, mask, r))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("k-NN worker panicked"))
                    .collect()
            })
        };
        let mut tops: Vec<Candidates> = (0..nq).map(|_| Candidates::new(k)).collect();
        for partial in partials {
            for (top, part) in tops.iter_mut().zip(partial) {
                top.merge(part);
            }
        }
        tops.into_iter()
            .enumerate()
            .map(|(q, top)| self.finish(metric, &queries[q * dim..(q + 1) * dim], top, k))
            .collect()
    }

    /// Candidates of every query among rows `start..end`, by blocked SGEMM.
    pub(crate) fn batch_range(
        &self,
        queries: &[f32],
        models: &[ErrorModel],
        k: usize,
        mask: Option<&[bool]>,
        (start, end): (usize, usize),
    ) -> Vec<Candidates> {
        let (dim, nq) = (self.dim, models.len());
        let mut tops: Vec<Candidates> = (0..nq).map(|_| Candidates::new(k)).collect();
        let mut scores = vec![0f32; nq * BLOCK_ROWS.min(end - start).max(1)];
        for block in (start..end).step_by(BLOCK_ROWS) {
            let rows = BLOCK_ROWS.min(end - block);
            // scores (nq x rows) = queries (nq x dim) * block^T (dim x rows)
            unsafe {
                matrixmultiply::sgemm(
                    nq,
                    dim,
                    rows,
                    1.0,
                    queries.as_ptr(),
                    dim as isize,
                    1,
                    self.data[block * dim..].as_ptr(),
                    1,
                    dim as isize,
                    0.0,
                    scores.as_mut_ptr(),
                    rows as isize,
                    1,
                );
            }
            for (q, (top, model)) in tops.iter_mut().zip(models).enumerate() {
                for r in 0..rows {
                    let i = block + r;
                    if mask.is_some_and(|m| !m[i]) {
                        continue;
                    }
                    top.offer(model.key(scores[q * rows + r], self.sq_norms[i]), i);
                }
            }
        }
        tops
    }
}
