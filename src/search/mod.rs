//! Semantic search: exact k-nearest concepts by cosine, dot product or L2,
//! single or batched, over an in-memory float32 matrix of every embedding;
//! and the similarity graph built from it in one call.
//!
//! The matrix is built once per store and kept coherent through the
//! `gm_concept_changes` log (migration v3): a dedicated connection checks
//! `PRAGMA data_version`, which moves only when another connection commits,
//! and only then reads the log to refresh the rows that changed. Scores are
//! scanned in float32 with SIMD; the best candidates are then re-scored in
//! float64 so the order equals a float64 brute force.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use multiversion::multiversion;
use rusqlite::{params, Connection, OptionalExtension};

use crate::concepts::NameMatch;
use crate::error::{invalid, Error, Result};
use crate::store::Store;
use crate::validate;

mod topk;
use topk::{Candidates, ErrorModel};

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

/// Filters applied while scanning, before ranking.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter<'a> {
    /// Keep names containing this, read as `name_match` says (by default
    /// a LIKE pattern: `%` and `_` are wildcards).
    pub name_pattern: Option<&'a str>,
    /// How `name_pattern` is read.
    pub name_match: NameMatch,
    /// Keep concepts accessed at least this often.
    pub min_access_count: Option<i64>,
}

impl SearchFilter<'_> {
    /// Whether it keeps every concept.
    pub fn is_empty(&self) -> bool {
        self.name_pattern.is_none() && self.min_access_count.is_none()
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbor {
    /// Concept id.
    pub id: i64,
    /// Concept name.
    pub name: String,
    /// Cosine or dot similarity, or Euclidean distance for L2.
    pub score: f64,
}

/// Largest k accepted.
pub const MAX_K: usize = 100_000;
/// Memory map for the cache's connections (the file is read once, whole).
const MMAP_BYTES: i64 = 1 << 34;
/// Rows per block in batched products.
const BLOCK_ROWS: usize = 4096;

/// The in-memory matrix: one row of `dim` floats per concept.
#[derive(Default)]
pub(crate) struct Matrix {
    dim: usize,
    ids: Vec<i64>,
    /// Row of each id, built on first need: a plain search never needs it,
    /// and building it is a visible share of the first query.
    row_of: OnceLock<HashMap<i64, usize>>,
    data: Vec<f32>,
    sq_norms: Vec<f32>,
    last_seq: i64,
    /// Changes when a restore replaces the whole content: the change log
    /// then tells nothing about what differs from the matrix.
    incarnation: Option<String>,
    data_version: Option<i64>,
}

/// The per-store cache: the matrix and the connection that watches for
/// changes. None until the first search.
pub(crate) struct KnnCache {
    state: Mutex<Option<(Connection, Matrix)>>,
}

impl KnnCache {
    pub(crate) fn new() -> KnnCache {
        KnnCache {
            state: Mutex::new(None),
        }
    }
}

/// Inlined into the multiversioned callers below, so it is compiled once
/// per CPU feature level.
#[inline(always)]
fn dot_inline(a: &[f32], b: &[f32]) -> f32 {
    // 32 independent partial sums: four vector registers of FMAs in flight
    // hide the FMA latency, so the loop runs at memory speed.
    let mut acc = [0f32; 32];
    let chunks = a.len() / 32 * 32;
    for (x, y) in a[..chunks].chunks_exact(32).zip(b[..chunks].chunks_exact(32)) {
        for i in 0..32 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a[chunks..].iter().zip(&b[chunks..]).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

#[multiversion(targets("x86_64+avx2+fma", "x86_64+avx", "aarch64+neon"))]
fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    dot_inline(a, b)
}

/// `out[i] = rows[i] . query` for every row of a row-major block: one
/// dispatch per block, not per row.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+avx", "aarch64+neon"))]
fn dot_rows(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32]) {
    for (row, slot) in rows.chunks_exact(dim).zip(out.iter_mut()) {
        *slot = dot_inline(row, query);
    }
}

/// Matrix size (floats) from which a single-query scan uses every core.
const PARALLEL_FLOATS: usize = 1 << 22;

/// Dot products of `query` with every row, split across cores when big.
fn all_dots(data: &[f32], dim: usize, query: &[f32]) -> Vec<f32> {
    let n = data.len() / dim;
    let mut out = vec![0f32; n];
    let threads = parallelism(data.len());
    if threads == 1 {
        dot_rows(data, dim, query, &mut out);
        return out;
    }
    let per = n.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (rows, slots) in data.chunks(per * dim).zip(out.chunks_mut(per)) {
            scope.spawn(move || dot_rows(rows, dim, query, slots));
        }
    });
    out
}

fn dot_f64(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

fn sq_norm(a: &[f32]) -> f32 {
    dot_f32(a, a)
}

impl Matrix {
    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    fn row_of(&self) -> &HashMap<i64, usize> {
        self.row_of
            .get_or_init(|| self.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect())
    }

    fn row_of_mut(&mut self) -> &mut HashMap<i64, usize> {
        self.row_of();
        self.row_of.get_mut().expect("initialised above")
    }

    fn set_row(&mut self, id: i64, values: &[f32]) {
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

    fn remove_row(&mut self, id: i64) {
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
    fn exact(&self, metric: Metric, query: &[f32], i: usize) -> f64 {
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
    fn finish(&self, metric: Metric, query: &[f32], found: Candidates, k: usize) -> Vec<(usize, f64)> {
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
    fn search(
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
    fn search_batch(
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
    fn batch_range(
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

/// How many threads a job of `work` multiply-adds deserves: one below
/// about 4M (a thread costs tens of microseconds), else every core, up to 4.
fn parallelism(work: usize) -> usize {
    if work < PARALLEL_FLOATS {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |p| p.get()).min(4)
    }
}

fn read_embedding(conn: &Connection, id: i64) -> Result<Option<Vec<f32>>> {
    let blob: Option<Vec<u8>> = conn
        .prepare_cached("SELECT embedding FROM concepts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    blob.map(|b| validate::blob_to_embedding(&b).map_err(|e| e.context(&format!("concept {id}"))))
        .transpose()
}

fn max_seq(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM gm_concept_changes")?
        .query_row([], |r| r.get(0))?)
}

/// Written by a restore; a matrix built before it must be rebuilt.
fn incarnation(conn: &Connection) -> Result<Option<String>> {
    crate::meta::get(conn, crate::meta::INCARNATION)
}

fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

/// A zeroed buffer of `len` floats. On Linux it asks for transparent huge
/// pages before the first write: filling a 100 MB matrix then takes about
/// 50 page faults instead of 25,000 (bench/NOTES.md, "Design figures").
/// A kernel that declines just keeps 4 KiB pages.
fn matrix_buffer(len: usize) -> Vec<f32> {
    let buffer = vec![0.0f32; len];
    #[cfg(target_os = "linux")]
    advise_huge_pages(&buffer);
    buffer
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(buffer: &[f32]) {
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

/// Which end of the id order a read starts from.
#[derive(Clone, Copy, PartialEq)]
enum Start {
    LowestId,
    HighestId,
}

/// A query's dot product with every row of a matrix, in row order,
/// computed while the build loaded each row (then still in L1) instead of
/// in a second pass over the whole matrix.
type FirstDots = Option<Vec<f32>>;

/// Where a build puts each row it loads: the matrix, and the dot product
/// with the first query if there is one (`dots` then parallels `data`).
struct Destination<'a> {
    data: &'a mut [f32],
    first_query: Option<(&'a [f32], &'a mut [f32])>,
}

impl<'a> Destination<'a> {
    /// Splits after `rows` rows.
    fn split_at(self, rows: usize, dim: usize) -> (Destination<'a>, Destination<'a>) {
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
fn load_rows(
    conn: &Connection,
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
    let sql = match start {
        Start::LowestId => "SELECT id, embedding FROM concepts ORDER BY id LIMIT ?1",
        Start::HighestId => "SELECT id, embedding FROM concepts ORDER BY id DESC LIMIT ?1",
    };
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
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([expected as i64])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let blob = row
            .get_ref(1)?
            .as_blob()
            .map_err(|e| Error::Corrupt(format!("concept {id}: embedding: {e}")))?;
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
    }
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
type OpenHelper<'a> = &'a dyn Fn() -> Result<Connection>;

/// Loads every embedding into a fresh matrix. With `helper`, a large matrix
/// is read in two halves at once: SQLite's per-row work, not the copy,
/// bounds the build. With a `first_query` of the matrix's dimension, also
/// returns its dot product with every row.
fn build(
    conn: &Connection,
    dim: usize,
    helper: Option<OpenHelper<'_>>,
    first_query: Option<&[f32]>,
) -> Result<(Matrix, FirstDots)> {
    let last_seq = max_seq(conn)?;
    let incarnation = incarnation(conn)?;
    // count(*) alone reads only page headers, not rows.
    let count: i64 = conn.query_row("SELECT count(*) FROM concepts", [], |r| r.get(0))?;
    let count = usize::try_from(count).unwrap_or(0);
    let mut data = matrix_buffer(count * dim);
    let first_query = first_query.filter(|q| q.len() == dim);
    let mut dots = first_query.map(|_| vec![0f32; count]);
    let to = Destination {
        data: &mut data,
        first_query: first_query.zip(dots.as_deref_mut()),
    };
    let split = helper.filter(|_| count >= 2 && parallelism(count * dim) > 1);
    let (ids, sq_norms) = match split {
        Some(open) => load_halves(conn, dim, to, open, (last_seq, &incarnation))?,
        None => load_rows(conn, dim, Start::LowestId, to)?,
    };
    let matrix = Matrix {
        dim,
        ids,
        row_of: OnceLock::new(),
        data,
        sq_norms,
        last_seq,
        incarnation,
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
fn load_halves(
    conn: &Connection,
    dim: usize,
    to: Destination<'_>,
    open: OpenHelper<'_>,
    content: (i64, &Option<String>),
) -> Result<(Vec<i64>, Vec<f32>)> {
    let helper = open()?;
    helper.execute_batch("BEGIN")?;
    if max_seq(&helper)? != content.0 || incarnation(&helper)? != *content.1 {
        return load_rows(conn, dim, Start::LowestId, to);
    }
    let lower_rows = to.data.len() / dim / 2;
    let (lower, upper) = to.split_at(lower_rows, dim);
    let (lower, upper) = std::thread::scope(|scope| {
        let upper = scope.spawn(move || load_rows(&helper, dim, Start::HighestId, upper));
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
fn refresh(conn: &Connection, m: &mut Matrix, dim: usize, helper: OpenHelper<'_>) -> Result<()> {
    let oldest: Option<i64> = conn
        .query_row("SELECT min(seq) FROM gm_concept_changes", [], |r| r.get(0))
        .optional()?
        .flatten();
    let changed: Vec<i64> = conn
        .prepare_cached("SELECT DISTINCT concept_id FROM gm_concept_changes WHERE seq > ?1")?
        .query_map([m.last_seq], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let log_gap = oldest.is_some_and(|o| o > m.last_seq + 1) && !changed.is_empty();
    let last_seq = max_seq(conn)?;
    let replaced = last_seq < m.last_seq || incarnation(conn)? != m.incarnation;
    if m.dim != dim || log_gap || replaced || changed.len() > m.ids.len() / 2 + 64 {
        *m = build(conn, dim, Some(helper), None)?.0;
        return Ok(());
    }
    for id in changed {
        match read_embedding(conn, id)? {
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
    m.last_seq = last_seq;
    Ok(())
}

fn allowed_rows(conn: &Connection, m: &Matrix, filter: &SearchFilter<'_>) -> Result<Option<Vec<usize>>> {
    if filter.is_empty() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM concepts WHERE (?1 IS NULL OR name LIKE '%' || ?1 || '%' ESCAPE '\\') \
         AND (?2 IS NULL OR coalesce(access_count, 0) >= ?2)",
    )?;
    let pattern = filter.name_pattern.map(|p| filter.name_match.like_pattern(p));
    let ids = stmt.query_map(params![pattern, filter.min_access_count], |r| r.get::<_, i64>(0))?;
    let mut rows = Vec::new();
    for id in ids {
        if let Some(&i) = m.row_of().get(&id?) {
            rows.push(i);
        }
    }
    rows.sort_unstable();
    Ok(Some(rows))
}

fn names_of(conn: &Connection, m: &Matrix, found: Vec<(usize, f64)>) -> Result<Vec<Neighbor>> {
    found
        .into_iter()
        .map(|(row, score)| {
            let id = m.ids[row];
            let name: String = conn
                .prepare_cached("SELECT name FROM concepts WHERE id = ?1")?
                .query_row([id], |r| {
                    r.get(0).map_err(|e| crate::error::damaged_row("concept", id, e))
                })?;
            Ok(Neighbor { id, name, score })
        })
        .collect()
}

fn check_query(field: &str, values: &[f32], dim: Option<usize>) -> Result<usize> {
    validate::embedding(values).map_err(|e| match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(m.replacen("embedding", field, 1)),
        other => other,
    })?;
    match dim {
        Some(d) if d == values.len() => Ok(d),
        Some(d) => Err(invalid(
            field,
            format!("dimension {} does not match the store's {d}", values.len()),
        )),
        None => Ok(values.len()),
    }
}

fn check_k(k: usize) -> Result<usize> {
    if k == 0 || k > MAX_K {
        return Err(invalid("k", format!("{k} is outside 1..={MAX_K}")));
    }
    Ok(k)
}

impl Store {
    /// Runs `f` on a matrix of every embedding, current as of a snapshot
    /// that `f` also reads names and filters from. Cached and refreshed
    /// incrementally, unless disabled or this thread has a transaction
    /// open (then a private matrix shows the transaction's own writes).
    /// A matrix built during this call comes with `first_query`'s dot
    /// products (see [`FirstDots`]).
    fn with_matrix<T>(
        &self,
        first_query: Option<&[f32]>,
        f: impl FnOnce(&Connection, &Matrix, FirstDots) -> Result<T>,
    ) -> Result<T> {
        let uncached = !self.options().knn_cache || self.in_transaction() || self.options().is_memory();
        if uncached {
            return self.read(|conn| {
                let dim = crate::meta::embedding_dim(conn)?.unwrap_or(0);
                let (matrix, dots) = build(conn, dim, None, first_query)?;
                f(conn, &matrix, dots)
            });
        }
        let mut state = self
            .knn
            .state
            .lock()
            .map_err(|_| Error::Internal("k-NN cache lock poisoned".into()))?;
        // The matrix build reads every embedding once: mapping the file
        // saves a read() per page. Read-only, so a failing disk shows as an
        // error on that connection only.
        let open_mapped = || -> Result<Connection> {
            let conn = self.open_reader()?;
            conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
            Ok(conn)
        };
        if state.is_none() {
            *state = Some((open_mapped()?, Matrix::default()));
        }
        let (conn, matrix) = state.as_mut().expect("set above");
        let version = data_version(conn)?;
        conn.execute_batch("BEGIN")?;
        let result = (|| {
            let mut dots = None;
            if matrix.data_version != Some(version) {
                let dim = crate::meta::embedding_dim(conn)?.unwrap_or(0);
                if matrix.data_version.is_none() {
                    (*matrix, dots) = build(conn, dim, Some(&open_mapped), first_query)?;
                } else {
                    refresh(conn, matrix, dim, &open_mapped)?;
                }
                matrix.data_version = Some(version);
            }
            f(conn, matrix, dots)
        })();
        let _ = conn.execute_batch("COMMIT");
        if result.is_err() {
            matrix.data_version = None;
        }
        result
    }

    /// The `k` concepts nearest to `query`, best first (for L2: smallest
    /// distance first), as (id, name, score). Exact: the order equals a
    /// float64 brute force over the stored float32 embeddings.
    pub fn nearest_concepts(
        &self,
        query: &[f32],
        k: usize,
        metric: Metric,
        filter: &SearchFilter<'_>,
    ) -> Result<Vec<Neighbor>> {
        let k = check_k(k)?;
        if filter.min_access_count.is_some() {
            self.flush_access_counts()?;
        }
        // A filtered search scores only the allowed rows: nothing to
        // compute while the matrix loads.
        self.with_matrix(filter.is_empty().then_some(query), |conn, m, dots| {
            if m.ids.is_empty() {
                return Ok(Vec::new());
            }
            check_query("query", query, Some(m.dim))?;
            let allowed = allowed_rows(conn, m, filter)?;
            names_of(conn, m, m.search(metric, query, k, allowed.as_deref(), dots))
        })
    }

    /// Nearest concepts for many queries at once (`queries` holds
    /// `queries.len() / dim` row-major vectors), computed as blocked matrix
    /// products. One result list per query.
    pub fn nearest_concepts_batch(
        &self,
        queries: &[f32],
        dim: usize,
        k: usize,
        metric: Metric,
        filter: &SearchFilter<'_>,
    ) -> Result<Vec<Vec<Neighbor>>> {
        let k = check_k(k)?;
        if dim == 0 || !queries.len().is_multiple_of(dim) {
            return Err(invalid(
                "queries",
                format!("{} values are not a whole number of {dim}-d rows", queries.len()),
            ));
        }
        if filter.min_access_count.is_some() {
            self.flush_access_counts()?;
        }
        self.with_matrix(None, |conn, m, _| {
            let nq = queries.len() / dim;
            if m.ids.is_empty() {
                return Ok(vec![Vec::new(); nq]);
            }
            for (i, q) in queries.chunks_exact(dim).enumerate() {
                check_query(&format!("queries[{i}]"), q, Some(m.dim))?;
            }
            let allowed = allowed_rows(conn, m, filter)?;
            m.search_batch(metric, queries, k, allowed.as_deref())
                .into_iter()
                .map(|found| names_of(conn, m, found))
                .collect()
        })
    }

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
            let mut stmt = conn.prepare_cached(
                "INSERT INTO concept_relationships (source_concept_id, target_concept_id, relationship_type, strength) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT(source_concept_id, target_concept_id, relationship_type) \
                 DO UPDATE SET strength = excluded.strength",
            )?;
            for (a, b, s) in &edges {
                stmt.execute(params![a, b, kind, s.clamp(0.0, 1.0)])?;
            }
            Ok(edges.len())
        })
    }
}

/// Every ordered pair (or each row's top k) with cosine >= threshold.
/// Every pair at or above `threshold` (both directions), or each row's
/// `top_k` best. With a threshold alone the score is symmetric, so only
/// the upper triangle is computed (half the multiply-adds) and each pair
/// gets one score for both of its edges.
fn similar_pairs(m: &Matrix, threshold: f32, top_k: usize) -> Vec<(i64, i64, f64)> {
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
fn row_ranges(n: usize, threads: usize, triangle: bool) -> Vec<(usize, usize)> {
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
struct Pairs<'a> {
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
