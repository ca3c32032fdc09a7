//! Episodic memory: experiences with a score, a context and metadata.

use crate::clock::now;
use crate::error::Result;
pub use crate::records::{Episode, NewEpisode};
use crate::storage::Table;
use crate::store::Store;
use crate::validate;

impl Store {
    /// Stores one episode and returns its id.
    pub fn store_episode(&self, episode: &NewEpisode<'_>) -> Result<i64> {
        let valid = episode.validated()?;
        self.write_episodes(&[valid.context_hash], false, |conn| conn.insert_episode(&valid))
    }

    /// Stores many episodes in one transaction: all or none. Returns their
    /// ids in input order. Every episode is validated before anything is
    /// written; the error names the index of the first bad one.
    pub fn store_episodes(&self, episodes: &[NewEpisode<'_>]) -> Result<Vec<i64>> {
        let valid = episodes
            .iter()
            .enumerate()
            .map(|(i, e)| e.validated().map_err(|err| err.within(&format!("episodes[{i}]"))))
            .collect::<Result<Vec<_>>>()?;
        let contexts: Vec<&str> = valid.iter().map(|e| e.context_hash).collect();
        if let [one] = valid.as_slice() {
            // One insert is atomic by itself: no savepoint, whose page
            // copies dominate a small write inside a caller's transaction.
            return Ok(vec![
                self.write_episodes(&contexts, false, |conn| conn.insert_episode(one))?
            ]);
        }
        self.write_episodes(&contexts, true, |conn| conn.insert_episodes(&valid))
    }

    /// The episode with this id, or `None`.
    pub fn retrieve_episode(&self, id: i64) -> Result<Option<Episode>> {
        let id = validate::id("episode_id", id)?;
        self.read(|conn| conn.episode(id))
    }

    /// Episodes of one context, newest first, optionally with a score of at
    /// least `min_score`.
    pub fn get_episodes_by_context(
        &self,
        context_hash: &str,
        limit: i64,
        min_score: Option<f64>,
    ) -> Result<Vec<Episode>> {
        let limit = validate::limit(limit)?;
        let min_score = validate::finite_opt("min_score", min_score)?;
        self.read(|conn| conn.episodes_by_context(context_hash, min_score, limit))
    }

    /// Episodes whose timestamp lies within the last `time_window` seconds,
    /// newest first.
    pub fn get_recent_episodes(&self, time_window: f64, limit: i64) -> Result<Vec<Episode>> {
        let window = validate::finite("time_window", time_window)?;
        if window < 0.0 {
            return Err(crate::error::invalid(
                "time_window",
                format!("must not be negative, got {window}"),
            ));
        }
        let limit = validate::limit(limit)?;
        let since = now() - window;
        self.read(|conn| conn.recent_episodes(since, limit))
    }

    /// How many episodes are stored.
    pub fn count_episodes(&self) -> Result<i64> {
        self.read(|conn| conn.count_rows(Table::Episodes))
    }
}
