//! Training-state checkpoints and step-derived randomness: what exact resume rests on.
//!
//! A training-state file is a safetensors checkpoint (see [`crate::models::checkpoint`]) that
//! holds the model's variables under their usual keys, the optimizer's state under
//! `optimizer/…`, and in its metadata the optimizer's groups and the caller's own JSON (step,
//! epoch, data position, configuration). It is written atomically, so a run killed at any
//! moment leaves either the previous file or the new one. Because model keys are unchanged, a
//! training-state file also loads as a plain model checkpoint (non-strict, ignoring the
//! optimizer keys).
//!
//! libtorch's random generator state is not saved: instead every step that draws random
//! numbers first calls `tch::manual_seed(step_seed(seed, step))`, so the numbers drawn at a
//! step depend only on the run's seed and the step, whether or not the run was resumed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use crate::error::{Error, Result};
use crate::models::checkpoint::{save_tensors, Checkpoint, CheckpointMeta};
use crate::optim::{GroupState, Optimizer, STATE_PREFIX};

/// The one checkpoint of a run, in its run directory: pretraining, fine-tuning and the RL
/// agents write their training state to `<run>/checkpoint.safetensors` (atomically, at the
/// cadence's checkpoint points), and resume from it.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";

/// Metadata key holding the training state's metadata (optimizer groups, LR factor, the
/// caller's JSON) as JSON.
pub const META_TRAIN_STATE: &str = "graft.train_state";

#[derive(Debug, Serialize, Deserialize)]
struct TrainStateMeta {
    optimizer_groups: Vec<GroupState>,
    lr_factor: f64,
    meta: serde_json::Value,
}

/// A libtorch seed for `step` of a run seeded with `seed` (SplitMix64 of both).
pub fn step_seed(seed: u64, step: u64) -> i64 {
    let mut z = seed ^ step.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 1) as i64
}

/// Save model variables, optimizer state and `meta` to `path` atomically.
pub fn save_train_state(
    path: impl AsRef<Path>,
    vs: &nn::VarStore,
    optimizer: &Optimizer,
    meta: &serde_json::Value,
) -> Result<()> {
    let path = path.as_ref();
    let mut tensors: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    tensors.extend(optimizer.state_tensors());
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let state = TrainStateMeta {
        optimizer_groups: optimizer.groups(),
        lr_factor: optimizer.lr_factor(),
        meta: meta.clone(),
    };
    let mut file_meta = CheckpointMeta::new(None, meta.get("step").and_then(|s| s.as_u64()));
    let json = serde_json::to_string(&state)
        .map_err(|e| Error::Invalid(format!("training state metadata: {e}")))?;
    file_meta.extra.insert(META_TRAIN_STATE.to_string(), json);
    save_tensors(path, &tensors, &file_meta)
}

/// Load a file written by [`save_train_state`] into `vs` and `optimizer`; returns the caller's
/// metadata. Every model variable must be present with its shape, and the optimizer's groups
/// must match; nothing is changed unless all checks pass.
pub fn load_train_state(
    path: impl AsRef<Path>,
    vs: &mut nn::VarStore,
    optimizer: &mut Optimizer,
) -> Result<serde_json::Value> {
    let path = path.as_ref();
    let ckpt = Checkpoint::read(path)?;
    let problem = |p: String| Error::Checkpoint { path: path.to_path_buf(), problem: p };
    let json = ckpt.meta.extra.get(META_TRAIN_STATE).ok_or_else(|| {
        problem("not a training-state checkpoint (no optimizer state); to start from model weights, load it as an encoder instead".into())
    })?;
    let state: TrainStateMeta = serde_json::from_str(json)
        .map_err(|e| problem(format!("training state metadata is malformed: {e}")))?;
    let vars = vs.variables();
    let mut keys: Vec<&String> = vars.keys().collect();
    keys.sort();
    for key in &keys {
        let saved =
            ckpt.tensors.get(*key).ok_or_else(|| problem(format!("missing tensor '{key}'")))?;
        if saved.size() != vars[*key].size() {
            return Err(problem(format!(
                "tensor '{key}' has shape {:?} but the model expects {:?}",
                saved.size(),
                vars[*key].size()
            )));
        }
    }
    let optimizer_tensors: BTreeMap<String, Tensor> = ckpt
        .tensors
        .iter()
        .filter(|(k, _)| k.starts_with(STATE_PREFIX))
        .map(|(k, t)| (k.clone(), t.shallow_clone()))
        .collect();
    optimizer
        .load_state(&state.optimizer_groups, &optimizer_tensors)
        .map_err(|e| problem(e.to_string()))?;
    optimizer.set_lr_factor(state.lr_factor);
    tch::no_grad(|| {
        for key in keys {
            let mut dst = vars[key].shallow_clone();
            dst.copy_(&ckpt.tensors[key]);
        }
    });
    Ok(state.meta)
}
