//! How a store uses its k-NN cache: the coherence protocol of a query
//! (probe for commits, snapshot, build or refresh, run, end).

use crate::error::{Error, Result};
use crate::knn::cache::{build, refresh, Watched};
use crate::knn::matrix::{FirstDots, Matrix};
use crate::storage::ConceptFeed;
use crate::store::Store;

impl Store {
    /// Runs `f` on a matrix of every embedding, current as of a snapshot
    /// that `f` also reads names and filters from. Cached and refreshed
    /// incrementally, unless disabled or this thread has a transaction
    /// open (then a private matrix shows the transaction's own writes).
    /// A matrix built during this call comes with `first_query`'s dot
    /// products (see [`FirstDots`]).
    pub(super) fn with_matrix<T>(
        &self,
        first_query: Option<&[f32]>,
        f: impl FnOnce(&dyn ConceptFeed, &Matrix, FirstDots) -> Result<T>,
    ) -> Result<T> {
        let uncached = !self.options().knn_cache || self.in_transaction() || self.options().is_memory();
        if uncached {
            return self.read(|conn| {
                let dim = conn.embedding_dim()?.unwrap_or(0);
                let (matrix, dots) = build(conn, dim, None, first_query)?;
                f(conn, &matrix, dots)
            });
        }
        let mut state = self
            .knn
            .state
            .lock()
            .map_err(|_| Error::Internal("k-NN cache lock poisoned".into()))?;
        let open_helper = || self.open_bulk_reader();
        if state.is_none() {
            *state = Some(Watched {
                conn: self.open_bulk_reader()?,
                matrix: Matrix::default(),
            });
        }
        let Watched { conn, matrix } = state.as_mut().expect("set above");
        let conn: &dyn ConceptFeed = &**conn;
        let version = conn.commit_probe()?;
        conn.begin_read()?;
        let result = (|| {
            let mut dots = None;
            if matrix.data_version != Some(version) {
                let dim = conn.embedding_dim()?.unwrap_or(0);
                if matrix.data_version.is_none() {
                    (*matrix, dots) = build(conn, dim, Some(&open_helper), first_query)?;
                } else {
                    refresh(conn, matrix, dim, &open_helper)?;
                }
                matrix.data_version = Some(version);
            }
            f(conn, matrix, dots)
        })();
        let _ = conn.end_read();
        if result.is_err() {
            matrix.data_version = None;
        }
        result
    }
}
