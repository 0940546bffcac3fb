//! The values a [`Dataset`] holds that training cannot use: non-finite floats, and discrete
//! actions outside their space. [`Dataset::open`] accepts them (so `graft data info` shows
//! such a file); `graft data validate` lists them, and pretraining refuses them where it opens
//! trajectories (`crate::pretrain::sources::Trajectories::new`).

use super::Dataset;
use crate::data::schema::col;
use crate::error::{Error, Result};

/// A stored value training cannot use (see [`Dataset::non_finite`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BadValue {
    /// The column holding it.
    pub column: &'static str,
    /// Its row in the file.
    pub row: usize,
    /// The row's episode.
    pub episode_id: i64,
    /// The row's step within the episode.
    pub step: i64,
    /// The value.
    pub value: f64,
}

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column '{}' holds {} at row {} (episode {}, step {})",
            self.column, self.value, self.row, self.episode_id, self.step
        )
    }
}

impl Dataset {
    /// Up to `limit` non-finite values (NaN, ±inf) among those training reads (observations,
    /// state, and the actions and rewards of rows that have them), column by column in row
    /// order, and how many there are in all.
    pub fn non_finite(&self, limit: usize) -> (Vec<BadValue>, usize) {
        let (mut found, mut total) = (Vec::new(), 0usize);
        for (ci, c) in self.chunks.iter().enumerate() {
            c.non_finite(&self.layout, &mut |column, i, value| {
                total += 1;
                if found.len() < limit {
                    let (episode_id, step) = (c.episode_id[i], c.step[i]);
                    let row = self.starts[ci] + i;
                    found.push(BadValue { column, row, episode_id, step, value });
                }
                true
            });
        }
        (found, total)
    }

    /// Refuse a dataset holding non-finite values, naming the first (column, row, episode and
    /// step): trained on, they would surface as a diverged loss far from their cause.
    pub fn check_finite(&self) -> Result<()> {
        let (first, total) = self.non_finite(1);
        match first.first() {
            None => Ok(()),
            Some(bad) => Err(Error::Dataset {
                path: self.path.clone(),
                problem: format!(
                    "{bad}{}; training needs finite values (`graft data validate` lists them)",
                    match total {
                        1 => String::new(),
                        n => format!(", and {} more non-finite values", n - 1),
                    }
                ),
            }),
        }
    }

    /// Up to `limit` integer actions outside `range` (a discrete action space's
    /// `start..start + n`) in rows that have an action, and how many there are in all.
    pub fn actions_outside(
        &self,
        range: std::ops::Range<i64>,
        limit: usize,
    ) -> (Vec<BadValue>, usize) {
        let (mut found, mut total) = (Vec::new(), 0usize);
        for (ci, c) in self.chunks.iter().enumerate() {
            c.actions_outside(&self.layout, range.clone(), &mut |i, a| {
                total += 1;
                if found.len() < limit {
                    let (episode_id, step) = (c.episode_id[i], c.step[i]);
                    let row = self.starts[ci] + i;
                    found.push(BadValue {
                        column: col::ACTIONS,
                        row,
                        episode_id,
                        step,
                        value: a as f64,
                    });
                }
                true
            });
        }
        (found, total)
    }
}
