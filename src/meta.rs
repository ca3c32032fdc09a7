//! The keys the store keeps in its `gm_meta` table, in one place. The
//! table is read and written through the storage seam
//! ([`crate::storage::MetaRows`]).

/// The embedding dimension, fixed by the first concept or the option.
pub(crate) const EMBEDDING_DIM: &str = "embedding_dim";
/// Written by a restore; a k-NN matrix built before it must be rebuilt.
pub(crate) const INCARNATION: &str = "gmstore_incarnation";
/// Written into every backup; retention only ever deletes files with it.
pub(crate) const BACKUP_OF: &str = "gmstore_backup_of";
/// Unix time a backup's snapshot was taken, in the backup.
pub(crate) const BACKUP_TIME: &str = "gmstore_backup_time";
/// PostgreSQL: the transaction-id watermark below which the concept change
/// log was pruned; a k-NN matrix whose mark is older must be rebuilt.
pub(crate) const CHANGES_PRUNED_BELOW: &str = "gmstore_changes_pruned_below";
