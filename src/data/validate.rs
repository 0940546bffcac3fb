//! `validate`: every check a trajectory file should pass, reported together.
//!
//! Opening a [`Dataset`] already refuses files that cannot be used (no footer, missing
//! columns, wrong types, broken episode structure); `validate` adds the checks that need a
//! full pass: counts in the metadata agree with the data, `terminations` / `truncations`
//! are set only on an episode's last step (and one of them is set there), the observation
//! shape agrees with the stored observation space, and values are finite.

use std::path::Path;

use serde_json::Value as Json;

use crate::data::reader::Dataset;
use crate::data::schema::FORMAT;

/// What `validate` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Problems that make the file invalid (empty: valid).
    pub problems: Vec<String>,
    /// Episodes, transitions and rows checked.
    pub episodes: usize,
    pub transitions: usize,
    pub rows: usize,
}

impl Report {
    /// Whether no problem was found.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check the file at `path` (see the module docs). Problems are collected, up to 20 of
/// each kind, rather than stopping at the first.
pub fn validate(path: &Path) -> Report {
    match Dataset::open(path) {
        Err(e) => Report { problems: vec![e.to_string()], ..Default::default() },
        Ok(ds) => validate_dataset(&ds),
    }
}

/// The checks of [`validate`] on an opened dataset.
pub fn validate_dataset(ds: &Dataset) -> Report {
    let mut problems = Vec::new();
    let md = ds.schema().metadata();
    if let Some(f) = md.get("graft_format") {
        if f != FORMAT {
            problems.push(format!("graft_format is '{f}', this Graft reads '{FORMAT}'"));
        }
    }
    let counts = [
        ("total_episodes", ds.meta().total_episodes, ds.num_episodes()),
        ("total_steps", ds.meta().total_steps, ds.num_transitions()),
    ];
    for (key, stored, actual) in counts {
        if md.contains_key(key) && stored as usize != actual {
            problems.push(format!("metadata {key} = {stored} but the data holds {actual}"));
        }
    }
    if let Some(shape) = space_shape(&ds.meta().observation_space) {
        let n: usize = shape.iter().product();
        let (obs_len, state) = (ds.layout().obs.len(), ds.layout().state.unwrap_or(0));
        if n != obs_len && n != obs_len + state {
            problems.push(format!(
                "observation_space has shape {shape:?} ({n} values) but observations hold {obs_len}"
            ));
        }
    }
    let (mut flags, mut values) = (0usize, 0usize);
    let note = |list: &mut Vec<String>, count: &mut usize, msg: String| {
        *count += 1;
        if *count <= 20 {
            list.push(msg);
        }
    };
    for e in 0..ds.num_episodes() {
        let Ok(ep) = ds.episode(e) else { continue };
        let n = ep.len();
        for (t, tr) in ep.transitions().enumerate() {
            let last = t + 1 == n;
            if !last && (tr.terminated || tr.truncated) {
                note(
                    &mut problems,
                    &mut flags,
                    format!(
                    "episode {} step {t}: terminated/truncated before the episode's last step {}",
                    ep.id(),
                    n - 1
                ),
                );
            }
            if last && !(tr.terminated || tr.truncated) {
                note(
                    &mut problems,
                    &mut flags,
                    format!(
                        "episode {} ends at step {t} with neither terminated nor truncated set",
                        ep.id()
                    ),
                );
            }
            if !tr.reward.is_finite() || tr.obs.f32.iter().any(|x| !x.is_finite()) {
                note(
                    &mut problems,
                    &mut values,
                    format!("episode {} step {t}: non-finite reward or observation", ep.id()),
                );
            }
        }
    }
    for (what, count) in [("flag", flags), ("value", values)] {
        if count > 20 {
            problems.push(format!("… {} more {what} problems", count - 20));
        }
    }
    Report {
        problems,
        episodes: ds.num_episodes(),
        transitions: ds.num_transitions(),
        rows: ds.num_rows(),
    }
}

/// The shape of a Minari-serialised space, summing a `Dict`'s leaves into one flat length.
fn space_shape(space: &Json) -> Option<Vec<usize>> {
    match space.get("type")?.as_str()? {
        "Box" => {
            space.get("shape")?.as_array()?.iter().map(|x| x.as_u64().map(|v| v as usize)).collect()
        }
        "Dict" => {
            let subs = space.get("subspaces")?.as_object()?;
            let total = subs
                .values()
                .map(|s| space_shape(s).map(|v| v.iter().product::<usize>()))
                .sum::<Option<usize>>()?;
            Some(vec![total])
        }
        _ => None,
    }
}
