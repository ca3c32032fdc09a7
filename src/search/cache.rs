//! How a store uses its k-NN cache: the coherence protocol of a query
//! (probe for commits, snapshot, build or refresh, run, end).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

use crate::knn::cache::{build, refresh, MatrixSource, Refreshed, Watched};
use crate::knn::matrix::{FirstDots, Matrix};
use crate::knn::snapshot;
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
                source: MatrixSource::NotLoaded,
                unsaved: false,
            });
        }
        let snapshot = self.knn_snapshot_path()?;
        let watched = state.as_mut().expect("set above");
        let version = watched.conn.commit_probe()?;
        watched.conn.begin_read()?;
        let result = (|| {
            let mut dots = None;
            if watched.matrix.data_version != Some(version) {
                let conn: &dyn ConceptFeed = &*watched.conn;
                let dim = conn.embedding_dim()?.unwrap_or(0);
                let matrix = &mut watched.matrix;
                let loaded = match (&snapshot, matrix.data_version) {
                    (Some(path), None) => self.load_snapshot(conn, path, dim)?,
                    _ => None,
                };
                if let Some(loaded) = loaded {
                    *matrix = loaded;
                    let refreshed = refresh(conn, matrix, dim, &open_helper)?;
                    watched.unsaved = refreshed != Refreshed::Unchanged;
                    watched.source = match refreshed {
                        Refreshed::Rebuilt => MatrixSource::Built,
                        _ => MatrixSource::Snapshot,
                    };
                } else if matrix.data_version.is_none() {
                    (*matrix, dots) = build(conn, dim, Some(&open_helper), first_query)?;
                    watched.source = MatrixSource::Built;
                    watched.unsaved = true;
                } else {
                    watched.unsaved |= refresh(conn, matrix, dim, &open_helper)? != Refreshed::Unchanged;
                }
                matrix.data_version = Some(version);
            }
            f(&*watched.conn, &watched.matrix, dots)
        })();
        let (conn, matrix) = (&watched.conn, &mut watched.matrix);
        let _ = conn.end_read();
        if result.is_err() {
            matrix.data_version = None;
        }
        result
    }
}

impl Store {
    /// Keeps this handle's k-NN matrix in the file at `path` (None: in no
    /// file): the first search after opening reads the file instead of
    /// every concept, if it is a snapshot of this store, and applies what
    /// the change log says changed since; otherwise it builds the matrix
    /// from the store as before. The matrix is written back at close and
    /// by [`Store::save_knn_snapshot`]. The file is a cache: delete it at
    /// will. For a file store and a server store alike (the file is on
    /// this machine); not for in-memory stores or with the k-NN cache off.
    pub fn set_knn_snapshot(&self, path: Option<&Path>) -> Result<()> {
        if path.is_some() && (self.options().is_memory() || !self.options().knn_cache) {
            return Err(crate::error::invalid(
                "knn_snapshot",
                "needs a file or server store with the k-NN cache on",
            ));
        }
        *self.knn_snapshot_lock()? = path.map(Path::to_path_buf);
        Ok(())
    }

    /// Writes the k-NN matrix to the snapshot file if its rows changed
    /// since it was loaded or last saved. Returns whether it wrote. A
    /// matrix no search has needed yet is not built for this.
    pub fn save_knn_snapshot(&self) -> Result<bool> {
        let Some(path) = self.knn_snapshot_path()? else {
            return Ok(false);
        };
        let mut state = self
            .knn
            .state
            .lock()
            .map_err(|_| Error::Internal("k-NN cache lock poisoned".into()))?;
        let Some(watched) = state
            .as_mut()
            .filter(|w| w.unsaved && w.matrix.data_version.is_some())
        else {
            return Ok(false);
        };
        let Some(origin) = self.snapshot_origin(&*watched.conn)? else {
            return Ok(false);
        };
        snapshot::save(&path, &origin, &watched.matrix, self.options().file_mode)?;
        watched.unsaved = false;
        Ok(true)
    }

    /// Where this handle's k-NN matrix came from.
    pub fn knn_matrix_source(&self) -> MatrixSource {
        let state = self.knn.state.lock();
        state
            .ok()
            .and_then(|s| {
                s.as_ref()
                    .filter(|w| w.matrix.data_version.is_some())
                    .map(|w| w.source)
            })
            .unwrap_or(MatrixSource::NotLoaded)
    }

    fn knn_snapshot_lock(&self) -> Result<std::sync::MutexGuard<'_, Option<PathBuf>>> {
        self.knn
            .snapshot
            .lock()
            .map_err(|_| Error::Internal("k-NN snapshot lock poisoned".into()))
    }

    fn knn_snapshot_path(&self) -> Result<Option<PathBuf>> {
        Ok(self.knn_snapshot_lock()?.clone())
    }

    fn load_snapshot(&self, conn: &dyn ConceptFeed, path: &Path, dim: usize) -> Result<Option<Matrix>> {
        Ok(self
            .snapshot_origin(conn)?
            .and_then(|origin| snapshot::load(path, &origin, dim)))
    }

    /// Which store a snapshot belongs to: this SQLite file by device and
    /// inode (a copy of the file is another store, whose log may since have
    /// diverged), or the server's store as the engine names it.
    fn snapshot_origin(&self, conn: &dyn ConceptFeed) -> Result<Option<String>> {
        if self.is_server() {
            return conn.origin();
        }
        Ok(self
            .file_identity()
            .map(|(dev, ino)| format!("sqlite {dev}:{ino}")))
    }
}
