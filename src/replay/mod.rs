//! Replay memory: drawing episodes for a learner, uniformly or in
//! proportion to a priority, the way RL replay buffers do (Reverb's
//! "sampler", TorchRL's `PrioritizedSampler`).
//!
//! The algorithms live here, above the storage seam, and hold no SQL:
//! `trees` (sum, min and max trees, O(log n) per draw and per update),
//! `table` (which episode sits in which slot, with its generation and
//! priority; the draw and the importance weights) and `rng` (a seeded,
//! checkpointable generator).

//!
//! `crate::sampler` keeps a table current with the store and its
//! priorities durable.

mod rng;
mod table;
mod trees;

pub(crate) use rng::{ReplayRng, RNG_STATE_BYTES};
pub(crate) use table::ReplayTable;
pub use table::{Sample, Weighting};

#[cfg(test)]
mod tests;
