//! The C ABI. Thin by design: each function checks and converts its
//! arguments, calls the safe [`crate::Store`], and maps the result to a
//! status code; no store logic lives here.
//!
//! Conventions (see `docs/ABI.md`): every fallible call returns a
//! `gm_status`; the handle comes first, inputs next, out-parameters last;
//! out-parameters are reset on entry and written only on success; inputs
//! are borrowed for the call; every result is freed by its own `gm_*_free`.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

mod boundary;
mod registry;
mod results;
pub mod handle;
pub mod episodes;
pub mod concepts;
pub mod graph;
pub mod learning;
pub mod maintenance;
pub mod backup;
pub mod experience;
pub mod retention;
pub mod sampler;
pub mod search;
pub mod transactions;

pub use crate::status::*;
