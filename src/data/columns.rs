//! The columns of one record batch as typed buffers that share the file's mapping, the
//! gathers that copy rows of them straight into tensor memory, and the scans for values
//! training cannot use (used by [`crate::data::reader::Dataset`]).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, UInt8Type};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use tch::{Device, Kind, Tensor};

use crate::data::schema::{col, ActionColumn, Layout, ObsColumn};

/// One record batch's columns as typed buffers (they share the mapping).
#[derive(Debug)]
pub(crate) struct Chunk {
    pub(crate) episode_id: ScalarBuffer<i64>,
    pub(crate) step: ScalarBuffer<i64>,
    pub(crate) obs_f32: ScalarBuffer<f32>,
    pub(crate) obs_u8: ScalarBuffer<u8>,
    pub(crate) state: ScalarBuffer<f32>,
    pub(crate) act_i64: ScalarBuffer<i64>,
    pub(crate) act_f32: ScalarBuffer<f32>,
    pub(crate) act_valid: Option<NullBuffer>,
    pub(crate) rewards: ScalarBuffer<f64>,
    pub(crate) rewards_valid: Option<NullBuffer>,
    pub(crate) terminations: BooleanBuffer,
    pub(crate) truncations: BooleanBuffer,
    pub(crate) flags_valid: [Option<NullBuffer>; 2],
    pub(crate) info: Option<StringArray>,
}

fn no_nulls(a: &ArrayRef) -> bool {
    a.null_count() == 0
}

/// A CPU tensor of `shape` whose row `j` is `get(at[j])`, written straight into the tensor's
/// storage.
pub(crate) fn gather<'a, T: Copy + 'a>(
    shape: &[i64],
    kind: Kind,
    at: &[(&'a Chunk, usize)],
    get: impl Fn(&'a Chunk, usize) -> &'a [T],
) -> Tensor {
    let t = Tensor::empty(shape, (kind, Device::Cpu));
    let total = shape.iter().product::<i64>() as usize;
    if total > 0 && !at.is_empty() {
        let per = total / at.len();
        // SAFETY: `t` is a fresh contiguous CPU tensor of `total` elements of `kind`, whose
        // element type the callers match with `T` (Float/f32, Uint8/u8, Int64/i64).
        let dst = unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut T, total) };
        for (row, &(c, i)) in dst.chunks_exact_mut(per).zip(at) {
            row.copy_from_slice(get(c, i));
        }
    }
    t
}

/// A 1-D CPU tensor with element `j` = `get(at[j])`.
pub(crate) fn fill<'a, T: Copy>(
    shape: &[i64],
    kind: Kind,
    at: &[(&'a Chunk, usize)],
    get: impl Fn(&'a Chunk, usize) -> T,
) -> Tensor {
    let t = Tensor::empty(shape, (kind, Device::Cpu));
    if !at.is_empty() {
        // SAFETY: as in `gather`: `kind` is Float for f32 and Bool for bool (one byte, 0 or 1).
        let dst = unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut T, at.len()) };
        for (d, &(c, i)) in dst.iter_mut().zip(at) {
            *d = get(c, i);
        }
    }
    t
}

/// Calls `found(k / width, x)` for each non-finite `x` at index `k` of `values` whose row is
/// valid; false when `found` asked to stop.
fn scan_f32(
    values: &[f32],
    width: usize,
    valid: Option<&NullBuffer>,
    found: &mut dyn FnMut(usize, f64) -> bool,
) -> bool {
    // The common case, every value finite, is one tight loop.
    if width == 0 || values.iter().all(|x| x.is_finite()) {
        return true;
    }
    for (k, x) in values.iter().enumerate() {
        let row = k / width;
        if !x.is_finite() && valid.is_none_or(|v| v.is_valid(row)) && !found(row, f64::from(*x)) {
            return false;
        }
    }
    true
}

impl Chunk {
    /// Calls `found(column, row, value)` for each non-finite value training would read:
    /// observations and state in every row, actions and rewards where the row has them (a
    /// final-observation row's null slots are never read). Column by column, rows in order;
    /// false when `found` asked to stop.
    pub(crate) fn non_finite(
        &self,
        layout: &Layout,
        found: &mut dyn FnMut(&'static str, usize, f64) -> bool,
    ) -> bool {
        let obs = layout.obs.len();
        let state = layout.state.unwrap_or(0);
        let act = layout.action.len();
        scan_f32(&self.obs_f32, obs, None, &mut |r, x| found(col::OBSERVATIONS, r, x))
            && scan_f32(&self.state, state, None, &mut |r, x| found(col::STATE, r, x))
            && scan_f32(&self.act_f32, act, self.act_valid.as_ref(), &mut |r, x| {
                found(col::ACTIONS, r, x)
            })
            && (self.rewards.iter().all(|x| x.is_finite())
                || self.rewards.iter().enumerate().all(|(r, x)| {
                    x.is_finite()
                        || !self.rewards_valid.as_ref().is_none_or(|v| v.is_valid(r))
                        || found(col::REWARDS, r, *x)
                }))
    }

    /// Calls `found(row, action)` for each discrete action outside `lo..hi` in a row that has
    /// an action (integer actions of `Discrete` and `MultiDiscrete` layouts); false when
    /// `found` asked to stop.
    pub(crate) fn actions_outside(
        &self,
        layout: &Layout,
        range: std::ops::Range<i64>,
        found: &mut dyn FnMut(usize, i64) -> bool,
    ) -> bool {
        let width = layout.action.len();
        if width == 0 || self.act_i64.iter().all(|a| range.contains(a)) {
            return true;
        }
        self.act_i64.iter().enumerate().all(|(k, &a)| {
            let row = k / width;
            range.contains(&a)
                || !self.act_valid.as_ref().is_none_or(|v| v.is_valid(row))
                || found(row, a)
        })
    }

    pub(crate) fn new(b: &RecordBatch, layout: &Layout) -> Result<Chunk, String> {
        let get =
            |name: &str| b.column_by_name(name).ok_or_else(|| format!("missing column '{name}'"));
        let int64 = |name: &str| -> Result<ScalarBuffer<i64>, String> {
            let a = get(name)?;
            if !no_nulls(a) {
                return Err(format!("column '{name}' has nulls"));
            }
            Ok(a.as_primitive_opt::<Int64Type>()
                .ok_or(format!("column '{name}' is not int64"))?
                .values()
                .clone())
        };
        let n = b.num_rows();
        let fsl_nonnull = |name: &str, len: usize| -> Result<ArrayRef, String> {
            let a = get(name)?;
            let l = a
                .as_fixed_size_list_opt()
                .ok_or(format!("column '{name}' is not a fixed-size list"))?;
            if l.null_count() > 0 || l.values().null_count() > 0 {
                return Err(format!("column '{name}' has nulls"));
            }
            if l.values().len() != n * len {
                return Err(format!(
                    "column '{name}' holds {} values for {n} rows of {len}",
                    l.values().len()
                ));
            }
            Ok(l.values().clone())
        };
        let (mut obs_f32, mut obs_u8) = (ScalarBuffer::from(vec![]), ScalarBuffer::from(vec![]));
        match layout.obs {
            ObsColumn::F32 { len } => {
                obs_f32 = fsl_nonnull(col::OBSERVATIONS, len)?
                    .as_primitive::<Float32Type>()
                    .values()
                    .clone()
            }
            ObsColumn::U8 { len, .. } => {
                obs_u8 = fsl_nonnull(col::OBSERVATIONS, len)?
                    .as_primitive::<UInt8Type>()
                    .values()
                    .clone()
            }
        }
        let state = match layout.state {
            Some(m) => fsl_nonnull(col::STATE, m)?.as_primitive::<Float32Type>().values().clone(),
            None => ScalarBuffer::from(vec![]),
        };
        let acts = get(col::ACTIONS)?;
        let act_valid = acts.logical_nulls();
        let (mut act_i64, mut act_f32) = (ScalarBuffer::from(vec![]), ScalarBuffer::from(vec![]));
        match layout.action {
            ActionColumn::Discrete => act_i64 = acts.as_primitive::<Int64Type>().values().clone(),
            ActionColumn::Continuous(d) | ActionColumn::MultiDiscrete(d) => {
                let l = acts
                    .as_fixed_size_list_opt()
                    .ok_or("column 'actions' is not a fixed-size list")?;
                if l.values().len() != n * d {
                    return Err(format!(
                        "column 'actions' holds {} values for {n} rows of {d}",
                        l.values().len()
                    ));
                }
                if let ActionColumn::Continuous(_) = layout.action {
                    act_f32 = l.values().as_primitive::<Float32Type>().values().clone();
                } else {
                    act_i64 = l.values().as_primitive::<Int64Type>().values().clone();
                }
            }
        }
        let rewards = get(col::REWARDS)?;
        let flag = |name: &str| -> Result<(BooleanBuffer, Option<NullBuffer>), String> {
            let a = get(name)?;
            let bools = a.as_boolean_opt().ok_or(format!("column '{name}' is not bool"))?;
            Ok((bools.values().clone(), bools.logical_nulls()))
        };
        let (terminations, tv) = flag(col::TERMINATIONS)?;
        let (truncations, uv) = flag(col::TRUNCATIONS)?;
        let info = match layout.info {
            true => Some(
                get(col::INFO)?.as_string_opt::<i32>().ok_or("column 'info' is not utf8")?.clone(),
            ),
            false => None,
        };
        Ok(Chunk {
            episode_id: int64(col::EPISODE_ID)?,
            step: int64(col::STEP)?,
            obs_f32,
            obs_u8,
            state,
            act_i64,
            act_f32,
            act_valid,
            rewards: rewards.as_primitive::<Float64Type>().values().clone(),
            rewards_valid: rewards.logical_nulls(),
            terminations,
            truncations,
            flags_valid: [tv, uv],
            info,
        })
    }
}
