//! Agent checkpoints, and how a run resumes exactly where it stopped.
//!
//! One safetensors file per run (`checkpoint.safetensors`, written atomically by
//! [`save_tensors`]) holds every network of the agent under `<part>/<key>` (`policy/…`,
//! `q/…`, `target/…`), each part's optimizer state under `<part>/optimizer/…`, the action
//! log under `actions`, and [`RunMeta`] (algorithm, env, full config, seed, counters) as JSON
//! in the metadata. `graft rl eval` and `graft collect --policy checkpoint:PATH` rebuild the
//! agent from the same file.
//!
//! **Exact resume without saving environment state.** Environments have no "get state", but
//! they are deterministic given their seed and the actions taken (randomness lives in their
//! own seeded generators). So the checkpoint records every action the training envs
//! received, and a resumed run rebuilds the envs by resetting them with the run's seeds and
//! replaying the log: envs, episode counters and the replay buffer come back bit for bit,
//! without storing the buffer. Classic-control and MinAtar steps cost well under a
//! microsecond to a few microseconds, so replaying 500k steps takes a fraction of a second.
//! libtorch's random state is not saved either: every step draws after
//! `tch::manual_seed(step_seed(seed, step))` ([`crate::train::step_seed`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use graft_envs::wrappers::PixelObservation;

use crate::error::{Error, Result};
use crate::models::checkpoint::{save_tensors, Checkpoint, CheckpointMeta};
use crate::optim::{GroupState, Optimizer};
use crate::rl::run::RunOptions;

/// Metadata key of [`RunMeta`].
pub const META_RL: &str = "graft.rl";
/// File name of a run's checkpoint inside its output directory (the one every loop uses).
pub use crate::train::CHECKPOINT_FILE;

/// What a checkpoint says about the run that wrote it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunMeta {
    /// `"ppo"`, `"dqn"`, `"sac"` or `"td3"`.
    pub algo: String,
    /// The Gymnasium id trained on.
    pub env_id: String,
    /// The agent's full configuration (its serde struct as JSON).
    pub config: serde_json::Value,
    /// The run's master seed.
    pub seed: u64,
    /// Env steps taken, summed over vector-env copies.
    pub env_steps: u64,
    /// Gradient updates (or PPO iterations) done.
    pub updates: u64,
    /// Episodes finished.
    pub episodes: u64,
    /// Values per logged action (the action dim times the number of envs stepped together).
    pub actions_per_step: usize,
    /// Optimizer groups and schedule factor per part with an optimizer.
    pub optimizers: BTreeMap<String, (Vec<GroupState>, f64)>,
    /// The pixel observations the agent acted on (`None`: the env's own observations).
    #[serde(default)]
    pub pixels: Option<PixelObservation>,
    /// Physics steps per agent decision (1: no action repeat).
    #[serde(default = "one")]
    pub action_repeat: usize,
    /// The keyword arguments the env was made with (a JSON object; empty: the spec's own).
    #[serde(default)]
    pub env_kwargs: serde_json::Map<String, serde_json::Value>,
}

impl RunMeta {
    /// The env's keyword arguments as `make` takes them.
    pub fn kwargs(&self) -> Result<graft_envs::Kwargs> {
        crate::data::schema::kwargs_from_json(&serde_json::Value::Object(self.env_kwargs.clone()))
            .map_err(|e| Error::Invalid(format!("checkpoint env_kwargs: {e}")))
    }
}

fn one() -> usize {
    1
}

/// A network (and its optimizer, if it trains) saved under a name: what an agent hands the
/// harness to restore on resume and to checkpoint. The optimizer is borrowed mutably because
/// restoring loads its state and schedule hooks change its groups.
pub struct Part<'a> {
    /// Key prefix in the file, e.g. `policy`.
    pub name: &'a str,
    /// Its variables.
    pub vs: &'a nn::VarStore,
    /// Its optimizer (`None` for target networks).
    pub opt: Option<&'a mut Optimizer>,
}

impl<'a> Part<'a> {
    /// A network trained by `opt`.
    pub fn trained(name: &'a str, vs: &'a nn::VarStore, opt: &'a mut Optimizer) -> Self {
        Part { name, vs, opt: Some(opt) }
    }

    /// A network without an optimizer of its own (a target network).
    pub fn fixed(name: &'a str, vs: &'a nn::VarStore) -> Self {
        Part { name, vs, opt: None }
    }
}

/// Write a run checkpoint to `path` atomically.
pub fn save_run(path: &Path, parts: &[Part<'_>], actions: &[f32], meta: &RunMeta) -> Result<()> {
    let mut meta = meta.clone();
    let mut tensors: Vec<(String, Tensor)> = Vec::new();
    for part in parts {
        for (k, t) in part.vs.variables() {
            tensors.push((format!("{}/{k}", part.name), t));
        }
        if let Some(opt) = &part.opt {
            for (k, t) in opt.state_tensors() {
                tensors.push((format!("{}/{k}", part.name), t));
            }
            meta.optimizers.insert(part.name.to_string(), (opt.groups(), opt.lr_factor()));
        }
    }
    tensors.push(("actions".into(), Tensor::from_slice(actions)));
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut file_meta = CheckpointMeta::new(None, Some(meta.env_steps));
    let json =
        serde_json::to_string(&meta).map_err(|e| Error::Invalid(format!("run metadata: {e}")))?;
    file_meta.extra.insert(META_RL.into(), json);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    save_tensors(path, &tensors, &file_meta)
}

/// A run checkpoint read back.
#[derive(Debug)]
pub struct RunCheckpoint {
    /// The file.
    pub ckpt: Checkpoint,
    /// Its run metadata.
    pub meta: RunMeta,
}

impl RunCheckpoint {
    /// Read `path` (a file, or a run directory holding [`CHECKPOINT_FILE`]); an error names the
    /// file when it is not an agent checkpoint.
    pub fn read(path: &Path) -> Result<Self> {
        let file = if path.is_dir() { path.join(CHECKPOINT_FILE) } else { path.to_path_buf() };
        let ckpt = Checkpoint::read(&file)?;
        let json = ckpt.meta.extra.get(META_RL).ok_or_else(|| Error::Checkpoint {
            path: file.clone(),
            problem:
                "not an RL agent checkpoint (no run metadata); train one with `graft rl train`"
                    .into(),
        })?;
        let meta: RunMeta = serde_json::from_str(json).map_err(|e| Error::Checkpoint {
            path: file.clone(),
            problem: format!("run metadata is malformed: {e}"),
        })?;
        Ok(RunCheckpoint { ckpt, meta })
    }

    fn problem(&self, p: String) -> Error {
        Error::Checkpoint { path: self.ckpt.path.clone(), problem: p }
    }

    /// Copy every part's variables and optimizer state in (see [`restore`](Self::restore)).
    pub fn restore_parts(&self, parts: &mut [Part<'_>]) -> Result<()> {
        for part in parts {
            self.restore(part.name, part.vs, part.opt.as_deref_mut())?;
        }
        Ok(())
    }

    /// Copy part `name`'s variables into `vs` (every variable must be present with its shape;
    /// the variables are written in place, as tch's own loading does) and, when given, its
    /// optimizer state into `opt`.
    pub fn restore(
        &self,
        name: &str,
        vs: &nn::VarStore,
        opt: Option<&mut Optimizer>,
    ) -> Result<()> {
        let vars = vs.variables();
        let mut pairs = Vec::with_capacity(vars.len());
        for (k, var) in &vars {
            let key = format!("{name}/{k}");
            let src = self
                .ckpt
                .tensors
                .get(&key)
                .ok_or_else(|| self.problem(format!("missing tensor '{key}'")))?;
            if src.size() != var.size() {
                return Err(self.problem(format!(
                    "tensor '{key}' has shape {:?}, the agent expects {:?}",
                    src.size(),
                    var.size()
                )));
            }
            pairs.push((var.shallow_clone(), src));
        }
        if let Some(opt) = opt {
            let (groups, factor) = self
                .meta
                .optimizers
                .get(name)
                .ok_or_else(|| self.problem(format!("no optimizer state for '{name}'")))?;
            let prefix = format!("{name}/");
            let tensors: BTreeMap<String, Tensor> = self
                .ckpt
                .tensors
                .iter()
                .filter_map(|(k, t)| {
                    k.strip_prefix(&prefix).map(|r| (r.to_string(), t.shallow_clone()))
                })
                .collect();
            opt.load_state(groups, &tensors).map_err(|e| self.problem(e.to_string()))?;
            opt.set_lr_factor(*factor);
        }
        tch::no_grad(|| {
            for (mut var, src) in pairs {
                var.copy_(&src.to_device(var.device()).to_kind(var.kind()));
            }
        });
        Ok(())
    }

    /// The action log (see the module docs).
    pub fn actions(&self) -> Result<Vec<f32>> {
        let t =
            self.ckpt.tensors.get("actions").ok_or_else(|| self.problem("no action log".into()))?;
        Vec::<f32>::try_from(t).map_err(|e| self.problem(format!("action log: {e}")))
    }
}

/// Refuse to resume a checkpoint written by another algorithm, env, seed or way of meeting
/// the env (`opts`' env kwargs, action repeat and pixel observations).
pub fn check_resumable(
    meta: &RunMeta,
    algo: &str,
    env_id: &str,
    seed: u64,
    opts: &RunOptions,
    path: &Path,
) -> Result<()> {
    let (pixels, action_repeat) = (opts.pixels.as_ref(), opts.action_repeat);
    let kwargs = opts.kwargs_json();
    if meta.env_kwargs != kwargs {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            problem: format!(
                "was trained on {env_id} with env kwargs {}; cannot resume it with {}",
                serde_json::Value::Object(meta.env_kwargs.clone()),
                serde_json::Value::Object(kwargs)
            ),
        });
    }
    if meta.action_repeat != action_repeat {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            problem: format!(
                "was trained with action repeat {}; cannot resume it with action repeat \
                 {action_repeat}",
                meta.action_repeat
            ),
        });
    }
    if meta.pixels.as_ref() != pixels {
        let show = |p: Option<&PixelObservation>| match p {
            None => "state observations".to_string(),
            Some(p) => format!("pixel observations {p:?}"),
        };
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            problem: format!(
                "was trained on {}; cannot resume it on {}",
                show(meta.pixels.as_ref()),
                show(pixels)
            ),
        });
    }
    if meta.algo != algo || meta.env_id != env_id || meta.seed != seed {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            problem: format!(
                "was written by a {} run on {} with seed {}; cannot resume it as {algo} on {env_id} with seed {seed}",
                meta.algo, meta.env_id, meta.seed
            ),
        });
    }
    Ok(())
}
