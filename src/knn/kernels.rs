//! The SIMD dot-product kernels (one build per CPU feature level, chosen
//! at run time) and how many threads a scan deserves.

use multiversion::multiversion;

/// Inlined into the multiversioned callers below, so it is compiled once
/// per CPU feature level.
#[inline(always)]
pub(crate) fn dot_inline(a: &[f32], b: &[f32]) -> f32 {
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
pub(crate) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    dot_inline(a, b)
}

/// `out[i] = rows[i] . query` for every row of a row-major block: one
/// dispatch per block, not per row.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+avx", "aarch64+neon"))]
pub(crate) fn dot_rows(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32]) {
    for (row, slot) in rows.chunks_exact(dim).zip(out.iter_mut()) {
        *slot = dot_inline(row, query);
    }
}

/// Matrix size (floats) from which a single-query scan uses every core.
pub(crate) const PARALLEL_FLOATS: usize = 1 << 22;

/// Dot products of `query` with every row, split across cores when big.
pub(crate) fn all_dots(data: &[f32], dim: usize, query: &[f32]) -> Vec<f32> {
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

pub(crate) fn dot_f64(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

pub(crate) fn sq_norm(a: &[f32]) -> f32 {
    dot_f32(a, a)
}

/// How many threads a job of `work` multiply-adds deserves: one below
/// about 4M (a thread costs tens of microseconds), else every core, up to 4.
pub(crate) fn parallelism(work: usize) -> usize {
    if work < PARALLEL_FLOATS {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |p| p.get()).min(4)
    }
}
