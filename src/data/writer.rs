//! `DatasetWriter`: streams episodes into an Arrow IPC trajectory file (layout in
//! [`crate::data::schema`]) with bounded memory and atomic completion.
//!
//! Rows accumulate in column buffers and go out as one record batch every `batch_rows` rows,
//! so memory stays at one batch whatever the dataset's size. The file appears under its name
//! only when [`DatasetWriter::finish`] succeeds; dropping the writer (an error, Ctrl-C
//! unwinding, a crash) leaves at most a `NAME.tmp` without a footer, which readers refuse.
//! The footer also records CRC32 checksums of every part of the file, which
//! [`crate::data::Dataset::open`] verifies (see [`crate::data::ipc`]).
//!
//! ```no_run
//! # use graft::data::{DatasetWriter, NewDataset, ObsView, WriterOptions};
//! # use graft::envs::{ActionRef, Info, Space};
//! # fn demo() -> graft::Result<()> {
//! let spec = NewDataset::new("demo", Space::box_f32(vec![-1.0; 2], vec![1.0; 2]), Space::discrete(2));
//! let mut w = DatasetWriter::create("demo.arrow".as_ref(), spec, WriterOptions::default())?;
//! w.begin_episode(ObsView { f32: &[0.0, 0.0], u8: &[] })?;
//! w.push_step(ActionRef::Discrete(1), 1.0, true, false, ObsView { f32: &[0.5, 0.0], u8: &[] }, &Info::new())?;
//! w.end_episode()?;
//! let meta = w.finish()?; // demo.arrow now exists: 1 episode, 1 step
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, FixedSizeListArray, Float32Array, Float64Array, Int64Array,
    RecordBatch, StringArray, UInt8Array,
};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde_json::Value as Json;

use graft_envs::{ActionRef, Info, Space};

use crate::data::ipc::{Compression, IpcFileWriter};
use crate::data::schema::{
    kwargs_to_json, space_to_json, ActionColumn, DatasetMeta, Layout, ObsColumn, ObsView,
};
use crate::error::{Error, Result};

/// What a new dataset is: its name, spaces and provenance.
#[derive(Debug, Clone)]
pub struct NewDataset {
    /// `dataset_id` in the metadata.
    pub dataset_id: String,
    /// The (single) environment's observation space.
    pub observation_space: Space,
    /// The action space.
    pub action_space: Space,
    /// Gymnasium-style env spec JSON, if the data came from a registered env.
    pub env_spec: Option<Json>,
    /// The collecting policy's name (Minari's `algorithm_name`).
    pub algorithm_name: String,
    /// Store each step's `info` as JSON in an `info` column.
    pub info: bool,
}

impl NewDataset {
    /// A dataset of `observation_space` / `action_space` transitions, without env spec.
    pub fn new(dataset_id: &str, observation_space: Space, action_space: Space) -> Self {
        NewDataset {
            dataset_id: dataset_id.to_string(),
            observation_space,
            action_space,
            env_spec: None,
            algorithm_name: String::new(),
            info: false,
        }
    }
}

/// Writer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterOptions {
    /// Rows per record batch; `None` picks about 8 MiB of observations per batch.
    pub batch_rows: Option<usize>,
    /// Body compression (none keeps reads zero-copy).
    pub compression: Compression,
}

/// Streams episodes into a trajectory dataset file (see the module docs).
#[derive(Debug)]
pub struct DatasetWriter {
    ipc: IpcFileWriter,
    layout: Layout,
    schema: SchemaRef,
    meta: DatasetMeta,
    batch_rows: usize,
    cols: Columns,
    /// `(episode_id, next step)` of the open episode.
    open: Option<(i64, i64)>,
    /// The observation the next row starts from.
    pending_f32: Vec<f32>,
    pending_u8: Vec<u8>,
    /// The open episode has terminated or been truncated.
    ended: bool,
}

#[derive(Debug, Default)]
struct Columns {
    rows: usize,
    episode_id: Vec<i64>,
    step: Vec<i64>,
    obs_f32: Vec<f32>,
    obs_u8: Vec<u8>,
    state: Vec<f32>,
    act_i64: Vec<i64>,
    act_f32: Vec<f32>,
    valid: Vec<bool>,
    rewards: Vec<f64>,
    terminations: Vec<bool>,
    truncations: Vec<bool>,
    info: Vec<Option<String>>,
}

impl DatasetWriter {
    /// Start a dataset at `path` (written as `path.tmp` until [`DatasetWriter::finish`]).
    pub fn create(path: &Path, spec: NewDataset, options: WriterOptions) -> Result<Self> {
        let layout = Layout::for_spaces(&spec.observation_space, &spec.action_space, spec.info)
            .map_err(|problem| Error::Dataset { path: path.to_path_buf(), problem })?;
        let meta = DatasetMeta {
            dataset_id: spec.dataset_id,
            total_episodes: 0,
            total_steps: 0,
            observation_space: space_to_json(&spec.observation_space),
            action_space: space_to_json(&spec.action_space),
            env_spec: spec.env_spec,
            algorithm_name: spec.algorithm_name,
            graft_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        // The header carries everything but the counts, which only the footer knows.
        let mut header_meta = meta.to_map();
        header_meta.remove("total_episodes");
        header_meta.remove("total_steps");
        let schema = Arc::new(layout.schema(header_meta));
        let ipc = IpcFileWriter::create(path, &schema, options.compression)?;
        let row_bytes = (layout.obs.len()
            * if matches!(layout.obs, ObsColumn::F32 { .. }) { 4 } else { 1 })
            + 4 * layout.state.unwrap_or(0)
            + 8 * layout.action.len()
            + 32;
        let batch_rows = options.batch_rows.unwrap_or((8 << 20) / row_bytes).clamp(1, 1 << 20);
        Ok(DatasetWriter {
            ipc,
            layout,
            schema,
            meta,
            batch_rows,
            cols: Columns::default(),
            open: None,
            pending_f32: Vec::new(),
            pending_u8: Vec::new(),
            ended: false,
        })
    }

    /// The column layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Episodes completed so far.
    pub fn episodes(&self) -> u64 {
        self.meta.total_episodes
    }

    /// Transitions written so far.
    pub fn steps(&self) -> u64 {
        self.meta.total_steps
    }

    fn err(&self, problem: impl Into<String>) -> Error {
        Error::Dataset { path: self.ipc.dest().to_path_buf(), problem: problem.into() }
    }

    fn check_obs(&self, obs: ObsView<'_>, what: &str) -> Result<()> {
        let (f, u) = match &self.layout.obs {
            ObsColumn::F32 { len } => (*len, 0),
            ObsColumn::U8 { len, .. } => (self.layout.state.unwrap_or(0), *len),
        };
        if obs.f32.len() != f || obs.u8.len() != u {
            return Err(self.err(format!(
                "{what}: expected {f} float32 and {u} uint8 values, got {} and {}",
                obs.f32.len(),
                obs.u8.len()
            )));
        }
        Ok(())
    }

    /// Start an episode from its first observation.
    pub fn begin_episode(&mut self, obs: ObsView<'_>) -> Result<()> {
        if self.open.is_some() {
            return Err(self.err("begin_episode: the previous episode was not ended"));
        }
        self.check_obs(obs, "first observation")?;
        self.pending_f32.clear();
        self.pending_f32.extend_from_slice(obs.f32);
        self.pending_u8.clear();
        self.pending_u8.extend_from_slice(obs.u8);
        self.open = Some((self.meta.total_episodes as i64, 0));
        self.ended = false;
        Ok(())
    }

    /// Record one transition: `action` taken from the pending observation gave `reward`,
    /// the flags, and `next_obs` (which becomes the pending observation).
    pub fn push_step(
        &mut self,
        action: ActionRef<'_>,
        reward: f64,
        terminated: bool,
        truncated: bool,
        next_obs: ObsView<'_>,
        info: &Info,
    ) -> Result<()> {
        let Some((episode, step)) = self.open else {
            return Err(self.err("push_step before begin_episode"));
        };
        if self.ended {
            return Err(self.err(format!(
                "episode {episode}: push_step after the episode terminated or was truncated"
            )));
        }
        self.check_obs(next_obs, "next observation")?;
        match (self.layout.action, action) {
            (ActionColumn::Discrete, ActionRef::Discrete(a)) => self.cols.act_i64.push(a),
            (ActionColumn::Continuous(d), ActionRef::Continuous(xs)) if xs.len() == d => {
                self.cols.act_f32.extend_from_slice(xs)
            }
            (ActionColumn::MultiDiscrete(k), ActionRef::MultiDiscrete(xs)) if xs.len() == k => {
                self.cols.act_i64.extend_from_slice(xs)
            }
            (want, got) => {
                return Err(self.err(format!("action: expected {want:?}, got {}", got.describe())))
            }
        }
        let info = if self.layout.info && !info.is_empty() {
            Some(kwargs_to_json(info).to_string())
        } else {
            None
        };
        self.push_row(episode, step, true, reward, terminated, truncated, info);
        self.pending_f32.clear();
        self.pending_f32.extend_from_slice(next_obs.f32);
        self.pending_u8.clear();
        self.pending_u8.extend_from_slice(next_obs.u8);
        self.open = Some((episode, step + 1));
        self.ended = terminated || truncated;
        self.meta.total_steps += 1;
        self.maybe_flush()
    }

    /// Close the episode: write its final observation row.
    pub fn end_episode(&mut self) -> Result<()> {
        let Some((episode, step)) = self.open.take() else {
            return Err(self.err("end_episode without an open episode"));
        };
        match self.layout.action {
            ActionColumn::Discrete => self.cols.act_i64.push(0),
            ActionColumn::Continuous(d) => self.cols.act_f32.extend(std::iter::repeat_n(0.0, d)),
            ActionColumn::MultiDiscrete(k) => self.cols.act_i64.extend(std::iter::repeat_n(0, k)),
        }
        self.push_row(episode, step, false, 0.0, false, false, None);
        self.meta.total_episodes += 1;
        self.maybe_flush()
    }

    #[allow(clippy::too_many_arguments)]
    fn push_row(
        &mut self,
        episode: i64,
        step: i64,
        valid: bool,
        reward: f64,
        terminated: bool,
        truncated: bool,
        info: Option<String>,
    ) {
        let c = &mut self.cols;
        c.rows += 1;
        c.episode_id.push(episode);
        c.step.push(step);
        match self.layout.obs {
            ObsColumn::F32 { .. } => c.obs_f32.extend_from_slice(&self.pending_f32),
            ObsColumn::U8 { .. } => {
                c.obs_u8.extend_from_slice(&self.pending_u8);
                c.state.extend_from_slice(&self.pending_f32);
            }
        }
        c.valid.push(valid);
        c.rewards.push(reward);
        c.terminations.push(terminated);
        c.truncations.push(truncated);
        if self.layout.info {
            c.info.push(info);
        }
    }

    fn maybe_flush(&mut self) -> Result<()> {
        if self.cols.rows >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.cols.rows == 0 {
            return Ok(());
        }
        let c = std::mem::take(&mut self.cols);
        let batch = build_batch(&self.layout, &self.schema, c)
            .map_err(|e| self.err(format!("building a record batch: {e}")))?;
        self.ipc.write(&batch)
    }

    /// Write the remaining rows and the footer, and move the file into place. Fails if an
    /// episode is still open.
    pub fn finish(mut self) -> Result<DatasetMeta> {
        if let Some((episode, _)) = self.open {
            return Err(self.err(format!("finish: episode {episode} was not ended")));
        }
        self.flush()?;
        let DatasetWriter { ipc, meta, .. } = self;
        ipc.finish(meta.to_map())?;
        Ok(meta)
    }
}

fn item(t: DataType) -> Arc<Field> {
    Arc::new(Field::new("item", t, true))
}

fn fsl_f32(values: Vec<f32>, n: usize, nulls: Option<NullBuffer>) -> Result<ArrayRef, String> {
    FixedSizeListArray::try_new(
        item(DataType::Float32),
        n as i32,
        Arc::new(Float32Array::from(values)),
        nulls,
    )
    .map(|a| Arc::new(a) as ArrayRef)
    .map_err(|e| e.to_string())
}

fn build_batch(layout: &Layout, schema: &SchemaRef, c: Columns) -> Result<RecordBatch, String> {
    let nulls = || Some(NullBuffer::new(BooleanBuffer::from(c.valid.clone())));
    let mut columns: Vec<ArrayRef> =
        vec![Arc::new(Int64Array::from(c.episode_id)), Arc::new(Int64Array::from(c.step))];
    columns.push(match layout.obs {
        ObsColumn::F32 { len } => fsl_f32(c.obs_f32, len, None)?,
        ObsColumn::U8 { len, .. } => Arc::new(
            FixedSizeListArray::try_new(
                item(DataType::UInt8),
                len as i32,
                Arc::new(UInt8Array::from(c.obs_u8)),
                None,
            )
            .map_err(|e| e.to_string())?,
        ),
    });
    columns.push(match layout.action {
        ActionColumn::Discrete => Arc::new(Int64Array::new(c.act_i64.into(), nulls())),
        ActionColumn::Continuous(d) => fsl_f32(c.act_f32, d, nulls())?,
        ActionColumn::MultiDiscrete(k) => Arc::new(
            FixedSizeListArray::try_new(
                item(DataType::Int64),
                k as i32,
                Arc::new(Int64Array::from(c.act_i64)),
                nulls(),
            )
            .map_err(|e| e.to_string())?,
        ),
    });
    columns.push(Arc::new(Float64Array::new(c.rewards.into(), nulls())));
    columns.push(Arc::new(BooleanArray::new(BooleanBuffer::from(c.terminations), nulls())));
    columns.push(Arc::new(BooleanArray::new(BooleanBuffer::from(c.truncations), nulls())));
    if let Some(m) = layout.state {
        columns.push(fsl_f32(c.state, m, None)?);
    }
    if layout.info {
        columns.push(Arc::new(StringArray::from(c.info)));
    }
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}

/// The Arrow schema of `layout` with no metadata (for tests and converters).
pub fn bare_schema(layout: &Layout) -> Schema {
    layout.schema(Default::default())
}
