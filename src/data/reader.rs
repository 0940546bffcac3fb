//! `Dataset`: a memory-mapped trajectory file with random access by transition, by episode,
//! by window of consecutive steps, and batch sampling straight into tch tensors.
//!
//! Opening maps the file, decodes the record batches without copying (uncompressed files),
//! checks the layout of [`crate::data::schema`] and builds two small indexes: each episode's
//! first row and length, and each transition's row. The transition in row r has its next
//! observation in row r + 1, always in the same episode (the final-observation row), so a
//! `(s, a, r, s', terminated, truncated)` lookup is two row reads.

use std::path::{Path, PathBuf};

use arrow_array::{Array, RecordBatch};
use arrow_schema::SchemaRef;
use tch::{Device, Kind, Tensor};

use graft_envs::{ActionRef, EnvRng};

use crate::data::columns::{fill, gather, Chunk};
use crate::data::ipc::read_mapped;
use crate::data::schema::{ActionColumn, DatasetMeta, Layout, ObsColumn, ObsView};
use crate::error::{Error, Result};

mod values;
pub use values::BadValue;

/// One transition `(s, a, r, s', terminated, truncated)` borrowed from the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition<'a> {
    /// The episode's id.
    pub episode_id: i64,
    /// Step within the episode (0 for the first transition).
    pub step: i64,
    /// Observation before the action (with its `state`, if stored, as the `f32` part of
    /// pixel observations).
    pub obs: ObsView<'a>,
    /// The action taken.
    pub action: ActionRef<'a>,
    /// The reward received.
    pub reward: f64,
    /// The MDP terminated after this step.
    pub terminated: bool,
    /// The episode was truncated after this step.
    pub truncated: bool,
    /// Observation after the action.
    pub next_obs: ObsView<'a>,
    /// The step's `info` as JSON, if stored.
    pub info: Option<&'a str>,
}

/// Where an episode lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpisodeIndex {
    /// The `episode_id` value.
    pub id: i64,
    /// Row of its first observation.
    pub first_row: usize,
    /// Number of transitions (it has `len + 1` observations).
    pub len: usize,
    /// Index of its first transition among all transitions.
    pub first_transition: usize,
}

/// A batch of transitions as tensors (see [`Dataset::batch`]).
#[derive(Debug)]
pub struct Batch {
    /// `[B, n]` float32 for state observations; `[B, H, W, C]` uint8 for images.
    pub obs: Tensor,
    /// Same shape and kind as `obs`.
    pub next_obs: Tensor,
    /// `[B]` int64 (Discrete), `[B, d]` float32 (Box) or `[B, k]` int64 (MultiDiscrete).
    pub actions: Tensor,
    /// `[B]` float32.
    pub rewards: Tensor,
    /// `[B]` bool.
    pub terminated: Tensor,
    /// `[B]` bool.
    pub truncated: Tensor,
    /// `[B, m]` float32 state beside pixel observations, if stored.
    pub state: Option<Tensor>,
    /// `[B, m]` float32 next state, if stored.
    pub next_state: Option<Tensor>,
}

/// A memory-mapped trajectory dataset (see the module docs).
#[derive(Debug)]
pub struct Dataset {
    path: PathBuf,
    meta: DatasetMeta,
    layout: Layout,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    chunks: Vec<Chunk>,
    /// Global row of each chunk's first row, plus the total at the end.
    starts: Vec<usize>,
    /// Rows per chunk when all but the last have the same size (fast lookup).
    uniform: Option<usize>,
    episodes: Vec<EpisodeIndex>,
    transitions: Vec<usize>,
    bytes: usize,
    checksummed: bool,
}

impl Dataset {
    /// Open and index a dataset file. Fails with [`Error::Dataset`] naming the file and the
    /// problem when it is not a regular file, not a complete Arrow IPC file, damaged (a
    /// checksum that does not match, a buffer outside its record batch: see
    /// [`crate::data::ipc`]), lacks a column, has a wrong type, or its episodes are malformed.
    ///
    /// Non-finite values do not stop it (`graft data info` still shows such a file); training
    /// refuses them through [`Dataset::check_finite`].
    pub fn open(path: impl AsRef<Path>) -> Result<Dataset> {
        let path = path.as_ref();
        let mapped = read_mapped(path)?;
        let mut ds = Dataset::from_batches(path, mapped.schema, mapped.batches, mapped.bytes)?;
        ds.checksummed = mapped.checksummed;
        Ok(ds)
    }

    /// Index record batches already in memory (e.g. read from Parquet); `path` names them in
    /// errors.
    pub fn from_batches(
        path: &Path,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        bytes: usize,
    ) -> Result<Dataset> {
        let bad = |problem: String| Error::Dataset { path: path.to_path_buf(), problem };
        let layout = Layout::from_schema(&schema).map_err(bad)?;
        let meta = DatasetMeta::from_map(schema.metadata()).map_err(bad)?;
        let mut chunks = Vec::with_capacity(batches.len());
        let mut starts = vec![0];
        for (i, b) in batches.iter().enumerate() {
            chunks.push(Chunk::new(b, &layout).map_err(|p| bad(format!("record batch {i}: {p}")))?);
            starts.push(starts[starts.len() - 1] + b.num_rows());
        }
        let sizes: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
        let uniform = match sizes.split_last() {
            Some((last, rest)) if !rest.is_empty() => {
                (rest.iter().all(|&s| s == rest[0]) && *last <= rest[0] && rest[0] > 0)
                    .then_some(rest[0])
            }
            Some((last, _)) if *last > 0 => Some(*last),
            _ => None,
        };
        let mut ds = Dataset {
            path: path.to_path_buf(),
            meta,
            layout,
            schema,
            batches,
            chunks,
            starts,
            uniform,
            episodes: Vec::new(),
            transitions: Vec::new(),
            bytes,
            checksummed: false,
        };
        ds.index().map_err(bad)?;
        Ok(ds)
    }

    /// Walk the rows once: episodes are contiguous, steps count 0, 1, … N, and each ends
    /// with exactly one final-observation row (null action). Works a segment (the rows up to
    /// the next final row) at a time, so the per-row checks are tight loops over slices.
    fn index(&mut self) -> Result<(), String> {
        let mut open: Option<EpisodeIndex> = None;
        let mut episodes: Vec<EpisodeIndex> = Vec::new();
        let mut transitions = Vec::with_capacity(self.num_rows());
        for (ci, c) in self.chunks.iter().enumerate() {
            let base = self.starts[ci];
            let n = c.episode_id.len();
            // Final rows: where the action is null. Rewards and flags must be present
            // wherever the action is.
            let finals: Vec<usize> = match &c.act_valid {
                Some(v) => (!v.inner()).set_indices().collect(),
                None => Vec::new(),
            };
            let valid_actions = c.act_valid.as_ref().map(|v| v.inner().clone());
            for o in std::iter::once(&c.rewards_valid).chain(c.flags_valid.iter()).flatten() {
                let missing = match &valid_actions {
                    Some(a) => a & &!o.inner(),
                    None => !o.inner(),
                };
                if let Some(i) = missing.set_indices().next() {
                    return Err(format!(
                        "row {}: a step with an action has a null reward, termination or \
                             truncation",
                        base + i
                    ));
                }
            }
            let mut i = 0;
            let mut finals = finals.into_iter();
            while i < n {
                let f = finals.next();
                let end = f.map_or(n, |f| f + 1);
                let id = c.episode_id[i];
                let ep = match open.as_mut() {
                    Some(ep) if ep.id == id => ep,
                    Some(ep) => {
                        return Err(format!(
                            "episode {} ends at row {} without its final-observation row \
                             (a row with a null action)",
                            ep.id,
                            base + i
                        ))
                    }
                    None => {
                        if let Some(prev) = episodes.last().map(|e| e.id) {
                            if id <= prev {
                                return Err(format!(
                                    "row {}: episode_id {id} after episode {prev} (ids must \
                                     increase, each episode's rows together)",
                                    base + i
                                ));
                            }
                        }
                        open.insert(EpisodeIndex {
                            id,
                            first_row: base + i,
                            len: 0,
                            first_transition: transitions.len(),
                        })
                    }
                };
                if let Some(k) = c.episode_id[i..end].iter().position(|&e| e != id) {
                    return Err(format!(
                        "episode {id} ends at row {} without its final-observation row (a row \
                         with a null action)",
                        base + i + k
                    ));
                }
                let first_step = ep.len as i64;
                let steps = &c.step[i..end];
                if let Some(k) = (0..steps.len()).find(|&k| steps[k] != first_step + k as i64) {
                    return Err(format!(
                        "row {}: episode {id} has step {} where step {} was expected (steps \
                         must count 0, 1, 2, …)",
                        base + i + k,
                        steps[k],
                        first_step + k as i64
                    ));
                }
                let moves = end - i - usize::from(f.is_some());
                transitions.extend(base + i..base + i + moves);
                ep.len += moves;
                if f.is_some() {
                    episodes.push(*ep);
                    open = None;
                }
                i = end;
            }
        }
        if let Some(ep) = open {
            return Err(format!(
                "episode {} (the last) has no final-observation row (a row with a null action): \
                 the file is incomplete",
                ep.id
            ));
        }
        self.episodes = episodes;
        self.transitions = transitions;
        Ok(())
    }

    /// The file this dataset was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Dataset metadata as stored (counts as the writer recorded them).
    pub fn meta(&self) -> &DatasetMeta {
        &self.meta
    }

    /// The column layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The Arrow schema, with its metadata.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The record batches (for export).
    pub fn record_batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// File size in bytes.
    pub fn file_bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the file carried checksums, all of which matched (files from other tools and
    /// older Graft versions have none, and pass on structural checks alone).
    pub fn checksummed(&self) -> bool {
        self.checksummed
    }

    /// Number of rows (transitions plus one final-observation row per episode).
    pub fn num_rows(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    /// Number of episodes.
    pub fn num_episodes(&self) -> usize {
        self.episodes.len()
    }

    /// Number of transitions.
    pub fn num_transitions(&self) -> usize {
        self.transitions.len()
    }

    /// Where each episode lies.
    pub fn episodes(&self) -> &[EpisodeIndex] {
        &self.episodes
    }

    #[inline]
    fn locate(&self, row: usize) -> (&Chunk, usize) {
        let ci = match self.uniform {
            Some(k) => row / k,
            None => self.starts.partition_point(|&s| s <= row) - 1,
        };
        (&self.chunks[ci], row - self.starts[ci])
    }

    #[inline]
    fn obs_at(&self, row: usize) -> ObsView<'_> {
        let (c, i) = self.locate(row);
        match &self.layout.obs {
            ObsColumn::F32 { len } => ObsView { f32: &c.obs_f32[i * len..(i + 1) * len], u8: &[] },
            ObsColumn::U8 { len, .. } => {
                let m = self.layout.state.unwrap_or(0);
                ObsView { f32: &c.state[i * m..(i + 1) * m], u8: &c.obs_u8[i * len..(i + 1) * len] }
            }
        }
    }

    /// The observation in `row` (any row, final rows included).
    pub fn observation_at_row(&self, row: usize) -> Result<ObsView<'_>> {
        if row >= self.num_rows() {
            return Err(self.out_of_range("row", row, self.num_rows()));
        }
        Ok(self.obs_at(row))
    }

    fn out_of_range(&self, what: &str, i: usize, n: usize) -> Error {
        Error::Dataset {
            path: self.path.clone(),
            problem: format!("{what} {i} is out of range (the dataset has {n})"),
        }
    }

    fn transition_at_row(&self, row: usize) -> Transition<'_> {
        let (c, i) = self.locate(row);
        let action = match self.layout.action {
            ActionColumn::Discrete => ActionRef::Discrete(c.act_i64[i]),
            ActionColumn::Continuous(d) => ActionRef::Continuous(&c.act_f32[i * d..(i + 1) * d]),
            ActionColumn::MultiDiscrete(k) => {
                ActionRef::MultiDiscrete(&c.act_i64[i * k..(i + 1) * k])
            }
        };
        Transition {
            episode_id: c.episode_id[i],
            step: c.step[i],
            obs: self.obs_at(row),
            action,
            reward: c.rewards[i],
            terminated: c.terminations.value(i),
            truncated: c.truncations.value(i),
            next_obs: self.obs_at(row + 1),
            info: c.info.as_ref().and_then(|a| a.is_valid(i).then(|| a.value(i))),
        }
    }

    /// Transition `t` (0 ≤ t < [`Dataset::num_transitions`]), in file order.
    pub fn transition(&self, t: usize) -> Result<Transition<'_>> {
        let row = *self
            .transitions
            .get(t)
            .ok_or_else(|| self.out_of_range("transition", t, self.transitions.len()))?;
        Ok(self.transition_at_row(row))
    }

    /// Episode `e` (0 ≤ e < [`Dataset::num_episodes`], in file order).
    pub fn episode(&self, e: usize) -> Result<Episode<'_>> {
        let index = *self
            .episodes
            .get(e)
            .ok_or_else(|| self.out_of_range("episode", e, self.episodes.len()))?;
        Ok(Episode { ds: self, index })
    }

    /// `k` consecutive transitions of one episode starting at transition `t`.
    pub fn window(&self, t: usize, k: usize) -> Result<Vec<Transition<'_>>> {
        let first = self.transition(t)?;
        let ep = self.episodes.partition_point(|e| e.first_transition + e.len <= t);
        let e = self
            .episodes
            .get(ep)
            .ok_or_else(|| self.out_of_range("transition", t, self.transitions.len()))?;
        if t + k > e.first_transition + e.len {
            return Err(Error::Dataset {
                path: self.path.clone(),
                problem: format!(
                    "a window of {k} steps from transition {t} (episode {}, step {}) runs past \
                     the episode's end (it has {} steps)",
                    first.episode_id, first.step, e.len
                ),
            });
        }
        (t..t + k).map(|i| self.transition(i)).collect()
    }

    /// Every transition index at which a window of `k` steps fits inside its episode.
    pub fn window_starts(&self, k: usize) -> Vec<usize> {
        self.episodes
            .iter()
            .filter(|e| k > 0 && e.len >= k)
            .flat_map(|e| e.first_transition..=e.first_transition + e.len - k)
            .collect()
    }

    /// `batch_size` transitions drawn uniformly with replacement, as tensors on `device`.
    pub fn sample(&self, batch_size: usize, rng: &mut EnvRng, device: Device) -> Result<Batch> {
        let n = self.transitions.len();
        if n == 0 {
            return Err(Error::Dataset {
                path: self.path.clone(),
                problem: "cannot sample from a dataset with no transitions".into(),
            });
        }
        let idx: Vec<usize> = (0..batch_size).map(|_| rng.below(n as u64) as usize).collect();
        self.batch(&idx, device)
    }

    /// Transitions `indices` as tensors on `device`. Each column is gathered from the mapping
    /// straight into the tensor's memory: one copy on CPU (plus the transfer to a GPU).
    pub fn batch(&self, indices: &[usize], device: Device) -> Result<Batch> {
        let n = self.transitions.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(self.out_of_range("transition", bad, n));
        }
        let b = indices.len() as i64;
        // Locate each row and its successor once; every column reads from these.
        let here: Vec<(&Chunk, usize)> =
            indices.iter().map(|&i| self.locate(self.transitions[i])).collect();
        let next: Vec<(&Chunk, usize)> =
            indices.iter().map(|&i| self.locate(self.transitions[i] + 1)).collect();
        let (f, u, m) = match &self.layout.obs {
            ObsColumn::F32 { len } => (*len, 0, 0),
            ObsColumn::U8 { len, .. } => (0, *len, self.layout.state.unwrap_or(0)),
        };
        let (obs, next_obs) = match &self.layout.obs {
            ObsColumn::F32 { .. } => {
                let shape = [b, f as i64];
                (
                    gather(&shape, Kind::Float, &here, |c, i| &c.obs_f32[i * f..(i + 1) * f]),
                    gather(&shape, Kind::Float, &next, |c, i| &c.obs_f32[i * f..(i + 1) * f]),
                )
            }
            ObsColumn::U8 { shape, .. } => {
                let mut s = vec![b];
                s.extend(shape.iter().map(|&x| x as i64));
                (
                    gather(&s, Kind::Uint8, &here, |c, i| &c.obs_u8[i * u..(i + 1) * u]),
                    gather(&s, Kind::Uint8, &next, |c, i| &c.obs_u8[i * u..(i + 1) * u]),
                )
            }
        };
        let (state, next_state) = if m > 0 {
            let shape = [b, m as i64];
            (
                Some(gather(&shape, Kind::Float, &here, |c, i| &c.state[i * m..(i + 1) * m])),
                Some(gather(&shape, Kind::Float, &next, |c, i| &c.state[i * m..(i + 1) * m])),
            )
        } else {
            (None, None)
        };
        let actions = match self.layout.action {
            ActionColumn::Discrete => gather(&[b], Kind::Int64, &here, |c, i| &c.act_i64[i..i + 1]),
            ActionColumn::Continuous(d) => {
                gather(&[b, d as i64], Kind::Float, &here, |c, i| &c.act_f32[i * d..(i + 1) * d])
            }
            ActionColumn::MultiDiscrete(k) => {
                gather(&[b, k as i64], Kind::Int64, &here, |c, i| &c.act_i64[i * k..(i + 1) * k])
            }
        };
        let rewards = fill(&[b], Kind::Float, &here, |c, i| c.rewards[i] as f32);
        let terminated = fill(&[b], Kind::Bool, &here, |c, i| c.terminations.value(i));
        let truncated = fill(&[b], Kind::Bool, &here, |c, i| c.truncations.value(i));
        let to = |t: Tensor| if device == Device::Cpu { t } else { t.to_device(device) };
        Ok(Batch {
            obs: to(obs),
            next_obs: to(next_obs),
            actions: to(actions),
            rewards: to(rewards),
            terminated: to(terminated),
            truncated: to(truncated),
            state: state.map(to),
            next_state: next_state.map(to),
        })
    }
}

/// An episode of a [`Dataset`]: `len` transitions and `len + 1` observations.
#[derive(Debug, Clone, Copy)]
pub struct Episode<'a> {
    ds: &'a Dataset,
    index: EpisodeIndex,
}

impl<'a> Episode<'a> {
    /// The `episode_id`.
    pub fn id(&self) -> i64 {
        self.index.id
    }

    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.index.len
    }

    /// Whether the episode has no transitions (only its first observation).
    pub fn is_empty(&self) -> bool {
        self.index.len == 0
    }

    /// Observation `t`, 0 ≤ t ≤ len (t = len: the final observation).
    pub fn observation(&self, t: usize) -> Result<ObsView<'a>> {
        if t > self.index.len {
            return Err(self.ds.out_of_range("observation", t, self.index.len + 1));
        }
        Ok(self.ds.obs_at(self.index.first_row + t))
    }

    /// Transition `t`, 0 ≤ t < len.
    pub fn transition(&self, t: usize) -> Result<Transition<'a>> {
        if t >= self.index.len {
            return Err(self.ds.out_of_range("step", t, self.index.len));
        }
        Ok(self.ds.transition_at_row(self.index.first_row + t))
    }

    /// Every transition, in order.
    pub fn transitions(&self) -> impl Iterator<Item = Transition<'a>> + 'a {
        let (ds, first) = (self.ds, self.index.first_row);
        (0..self.index.len).map(move |t| ds.transition_at_row(first + t))
    }

    /// The sum of rewards.
    pub fn total_return(&self) -> f64 {
        self.transitions().map(|t| t.reward).sum()
    }

    /// Whether the last transition terminated / truncated the episode.
    pub fn ended(&self) -> (bool, bool) {
        match self
            .index
            .len
            .checked_sub(1)
            .map(|t| self.ds.transition_at_row(self.index.first_row + t))
        {
            Some(t) => (t.terminated, t.truncated),
            None => (false, false),
        }
    }
}
