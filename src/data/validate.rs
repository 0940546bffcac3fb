//! `validate`: every check a trajectory file should pass, reported together.
//!
//! Opening a [`Dataset`] already refuses files that cannot be used (no footer, missing
//! columns, wrong types, broken episode structure); `validate` adds the checks that need a
//! full pass: counts in the metadata agree with the data, `terminations` / `truncations`
//! are set only on an episode's last step (and one of them is set there), the observation
//! shape agrees with the stored observation space, values training reads are finite
//! (observations, state, actions, rewards) and discrete actions lie in their space.
//! Damage to the file itself (checksums, structure) is found by opening it.

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
        // Checked: the shape comes from the file.
        let n = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b)).unwrap_or(usize::MAX);
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
        }
    }
    // Non-finite floats anywhere training reads, and discrete actions outside their space.
    let (mut bad, total) = ds.non_finite(20);
    let mut shown: Vec<String> = bad.iter().map(|b| format!("{b}: not a finite number")).collect();
    values += total;
    if let Some((start, n)) = discrete_space(&ds.meta().action_space) {
        let range = start..start.saturating_add(n);
        let total;
        (bad, total) = ds.actions_outside(range, 20 - shown.len());
        values += total;
        shown.extend(
            bad.iter()
                .map(|b| format!("{b}: outside the action space Discrete({n}, start={start})")),
        );
    }
    let values_shown = shown.len();
    problems.extend(shown);
    for (what, count, listed) in [("flag", flags, flags.min(20)), ("value", values, values_shown)] {
        if count > listed {
            problems.push(format!("… {} more {what} problems", count - listed));
        }
    }
    Report {
        problems,
        episodes: ds.num_episodes(),
        transitions: ds.num_transitions(),
        rows: ds.num_rows(),
    }
}

/// `(start, n)` of a Minari-serialised `Discrete` space.
fn discrete_space(space: &Json) -> Option<(i64, i64)> {
    if space.get("type")?.as_str()? != "Discrete" {
        return None;
    }
    Some((space.get("start").and_then(|s| s.as_i64()).unwrap_or(0), space.get("n")?.as_i64()?))
}

/// The shape of a Minari-serialised space, summing a `Dict`'s leaves into one flat length.
fn space_shape(space: &Json) -> Option<Vec<usize>> {
    match space.get("type")?.as_str()? {
        "Box" => {
            space.get("shape")?.as_array()?.iter().map(|x| x.as_u64().map(|v| v as usize)).collect()
        }
        "Dict" => {
            let subs = space.get("subspaces")?.as_object()?;
            let total = subs.values().try_fold(0usize, |sum, s| {
                let n = space_shape(s)?.iter().try_fold(1usize, |a, &b| a.checked_mul(b))?;
                sum.checked_add(n)
            })?;
            Some(vec![total])
        }
        _ => None,
    }
}
