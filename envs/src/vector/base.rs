//! `VectorEnv`: N copies of an environment stepped as one batch, with Gymnasium 1.x
//! `gymnasium.vector` semantics (`reset(seed)` seeds sub-env i with `seed + i`; autoreset
//! modes next-step, same-step and disabled).
//!
//! The vector env owns contiguous batch buffers — observations `[N * f32_len]` and
//! `[N * u8_len]`, rewards `[N]` as `f64` (Gymnasium's `float64`), `terminated` and `truncated`
//! `[N]` — and sub-envs write straight into their slots through `reset_into` / `step_into`, so a
//! step allocates nothing (an `info` map allocates only when a sub-env reports something). A
//! learner copies [`VectorEnv::obs_f32`] into one tensor of shape `[N, f32_len]`.
//!
//! ```
//! # use graft_envs::{Env, EnvError, Space, Kwargs};
//! use graft_envs::vector::{VectorConfig, VectorEnv};
//! # fn demo<E: Env>(make_env: impl FnMut(usize) -> Result<E, EnvError>) -> Result<(), EnvError> {
//! let mut venv = VectorEnv::from_fn(8, make_env, VectorConfig::default())?;
//! venv.reset(Some(42), &Kwargs::new())?;
//! let actions = vec![0i64; venv.num_envs()];
//! let step = venv.step_discrete(&actions)?;
//! let _obs: &[f32] = step.obs_f32; // [8 * f32_len], row-major
//! # Ok(()) }
//! ```

use crate::env::{Env, EpisodeState, Info, Kwargs};
use crate::error::{EnvError, Result};
use crate::space::{DType, Space};
use crate::vector::config::{AutoresetMode, Execution, VectorConfig};
use crate::vector::lanes::{run_on_pool, sub_env, BatchAction, Lanes};
use crate::vector::pool::WorkerPool;

/// A read-only view of the batch after `reset` or `step`.
#[derive(Debug, Clone, Copy)]
pub struct BatchView<'a> {
    /// Observations' `f32` parts, `[N * f32_len]`, sub-env `i` at `i * f32_len`.
    pub obs_f32: &'a [f32],
    /// Observations' `u8` parts, `[N * u8_len]`.
    pub obs_u8: &'a [u8],
    /// Rewards `[N]` (0 after `reset` and on a next-step autoreset).
    pub rewards: &'a [f64],
    /// `terminated` flags `[N]`.
    pub terminated: &'a [bool],
    /// `truncated` flags `[N]`.
    pub truncated: &'a [bool],
    /// Each sub-env's `info` (empty maps cost nothing).
    pub infos: &'a [Info],
}

/// N sub-environments with equal spaces, stepped as a batch.
pub struct VectorEnv<E: Env = Box<dyn Env>> {
    envs: Vec<E>,
    config: VectorConfig,
    /// Threaded mode with more than one block: the workers (the caller steps block 0).
    pool: Option<WorkerPool>,
    obs_space: Space,
    action_space: Space,
    /// Values per sub-env action (1 for `Discrete`).
    action_dim: usize,
    f32_len: usize,
    u8_len: usize,
    states: Vec<EpisodeState>,
    obs_f32: Vec<f32>,
    obs_u8: Vec<u8>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    infos: Vec<Info>,
    final_mask: Vec<bool>,
    final_f32: Vec<f32>,
    final_u8: Vec<u8>,
    final_infos: Vec<Info>,
}

impl<E: Env> std::fmt::Debug for VectorEnv<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorEnv")
            .field("id", &self.id())
            .field("num_envs", &self.envs.len())
            .field("config", &self.config)
            .field("single_observation_space", &self.obs_space.to_string())
            .field("single_action_space", &self.action_space.to_string())
            .finish()
    }
}

impl VectorEnv<Box<dyn Env>> {
    /// `num_envs` copies of the registered environment `id`, built with `kwargs` (as
    /// `gymnasium.make_vec(id, num_envs, vectorization_mode="sync", **kwargs)`).
    pub fn make(id: &str, num_envs: usize, kwargs: &Kwargs, config: VectorConfig) -> Result<Self> {
        VectorEnv::from_fn(num_envs, |_| crate::registry::make(id, kwargs), config)
    }
}

impl<E: Env> VectorEnv<E> {
    /// A vector env over `num_envs` envs built by `make_env(i)`.
    pub fn from_fn(
        num_envs: usize,
        make_env: impl FnMut(usize) -> Result<E>,
        config: VectorConfig,
    ) -> Result<Self> {
        let envs = (0..num_envs).map(make_env).collect::<Result<Vec<E>>>()?;
        VectorEnv::new(envs, config)
    }

    /// A vector env over `envs`, which must share observation and action spaces.
    pub fn new(envs: Vec<E>, config: VectorConfig) -> Result<Self> {
        let first = envs.first().ok_or_else(|| {
            EnvError::Other("a vector environment needs at least one sub-environment".into())
        })?;
        let obs_space = first.observation_space().clone();
        let action_space = first.action_space().clone();
        for (i, env) in envs.iter().enumerate().skip(1) {
            if env.observation_space() != &obs_space || env.action_space() != &action_space {
                return Err(EnvError::SubEnv {
                    index: i,
                    source: Box::new(EnvError::Space {
                        space: format!("{} / {}", env.observation_space(), env.action_space()),
                        reason: format!(
                            "differs from sub-environment 0's observation / action space \
                             {obs_space} / {action_space}"
                        ),
                    }),
                });
            }
        }
        let action_dim = match &action_space {
            Space::Discrete { .. } => 1,
            Space::MultiDiscrete { nvec, .. } => nvec.len(),
            Space::Box(b) if b.dtype == DType::F32 => b.len(),
            other => {
                return Err(EnvError::Space {
                    space: other.to_string(),
                    reason: "is not an action space a vector env can batch".into(),
                })
            }
        };
        let pool = match config.execution {
            Execution::Auto | Execution::Sequential => None,
            Execution::Threaded { threads } => {
                let threads = match threads {
                    0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                    t => t,
                };
                let per_thread = config.min_envs_per_thread.max(1);
                let blocks = threads.min(envs.len() / per_thread).max(1);
                // One block runs inline: no pool, no cross-thread hand-off per step.
                if blocks > 1 {
                    Some(WorkerPool::new(blocks).map_err(|e| {
                        EnvError::Other(format!("cannot start the vector env's threads: {e}"))
                    })?)
                } else {
                    None
                }
            }
        };
        let n = envs.len();
        let (f32_len, u8_len) = (obs_space.f32_len(), obs_space.u8_len());
        let same_step = config.autoreset == AutoresetMode::SameStep;
        Ok(VectorEnv {
            config,
            pool,
            action_dim,
            f32_len,
            u8_len,
            states: vec![EpisodeState::NeedsReset; n],
            obs_f32: vec![0.0; n * f32_len],
            obs_u8: vec![0; n * u8_len],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            infos: vec![Info::new(); n],
            final_mask: vec![false; n],
            final_f32: vec![0.0; if same_step { n * f32_len } else { 0 }],
            final_u8: vec![0; if same_step { n * u8_len } else { 0 }],
            final_infos: vec![Info::new(); n],
            obs_space,
            action_space,
            envs,
        })
    }

    /// Number of sub-environments N.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// The id of the sub-environments.
    pub fn id(&self) -> &str {
        self.envs.first().map(|e| e.id()).unwrap_or("")
    }

    /// The settings the env was built with.
    pub fn config(&self) -> &VectorConfig {
        &self.config
    }

    /// The autoreset mode (Gymnasium's `metadata["autoreset_mode"]`).
    pub fn autoreset_mode(&self) -> AutoresetMode {
        self.config.autoreset
    }

    /// One sub-env's observation space (Gymnasium's `single_observation_space`).
    pub fn single_observation_space(&self) -> &Space {
        &self.obs_space
    }

    /// One sub-env's action space (Gymnasium's `single_action_space`).
    pub fn single_action_space(&self) -> &Space {
        &self.action_space
    }

    /// The sub-environments, e.g. to render one.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }

    /// Give back the sub-environments.
    pub fn into_envs(self) -> Vec<E> {
        self.envs
    }

    /// Reset every sub-env; sub-env `i` is seeded with `seed + i` (`None`: continue each
    /// sub-env's stream, or seed from entropy on a fresh env).
    pub fn reset(&mut self, seed: Option<u64>, options: &Kwargs) -> Result<BatchView<'_>> {
        self.run_reset(seed, options, None)?;
        Ok(self.view())
    }

    /// Reset only the sub-envs where `mask` is true (Gymnasium's `options["reset_mask"]`), each
    /// seeded with `seed + i`. The way to restart finished sub-envs in
    /// [`AutoresetMode::Disabled`]; the other sub-envs' slots are left as they are.
    pub fn reset_mask(
        &mut self,
        mask: &[bool],
        seed: Option<u64>,
        options: &Kwargs,
    ) -> Result<BatchView<'_>> {
        if mask.len() != self.num_envs() {
            return Err(EnvError::LengthMismatch {
                what: "reset mask".into(),
                expected: self.num_envs(),
                got: mask.len(),
            });
        }
        if !mask.iter().any(|&m| m) {
            return Err(EnvError::Other("reset mask selects no sub-environment".into()));
        }
        self.run_reset(seed, options, Some(mask))?;
        Ok(self.view())
    }

    /// Step every sub-env with its action from `actions` (see [`BatchAction`] for the
    /// layouts). Finished sub-envs are reset according to the autoreset mode.
    ///
    /// The batch is checked before any sub-env moves: a batch of the wrong length, an invalid
    /// action for sub-env `i`, or a sub-env that needs a reset gives an error
    /// ([`EnvError::SubEnv`] naming `i` for the last two) and leaves every sub-env unchanged.
    pub fn step(&mut self, actions: BatchAction<'_>) -> Result<BatchView<'_>> {
        self.check_batch(actions)?;
        let (dim, mode) = (self.action_dim, self.config.autoreset);
        let chunk = self.config.min_envs_per_thread;
        let (lanes, pool) = self.lanes();
        match pool {
            None => {
                let mut lanes = lanes;
                lanes.step(actions, dim, mode)?;
            }
            Some(pool) => run_on_pool(pool, lanes, chunk, &|l| l.step(actions, dim, mode))?,
        }
        Ok(self.view())
    }

    /// [`step`](Self::step) with one integer action per sub-env (`Discrete` spaces).
    pub fn step_discrete(&mut self, actions: &[i64]) -> Result<BatchView<'_>> {
        self.step(BatchAction::Discrete(actions))
    }

    /// [`step`](Self::step) with `N * dim` floats, row-major (`Box` action spaces).
    pub fn step_continuous(&mut self, actions: &[f32]) -> Result<BatchView<'_>> {
        self.step(BatchAction::Continuous(actions))
    }

    /// The current batch.
    pub fn view(&self) -> BatchView<'_> {
        BatchView {
            obs_f32: &self.obs_f32,
            obs_u8: &self.obs_u8,
            rewards: &self.rewards,
            terminated: &self.terminated,
            truncated: &self.truncated,
            infos: &self.infos,
        }
    }

    /// All observations' `f32` parts, `[N * f32_len]`: copy into a `[N, f32_len]` tensor.
    pub fn obs_f32(&self) -> &[f32] {
        &self.obs_f32
    }

    /// All observations' `u8` parts, `[N * u8_len]`.
    pub fn obs_u8(&self) -> &[u8] {
        &self.obs_u8
    }

    /// Sub-env `i`'s observation (`f32` part, `u8` part), or `None` past the end.
    pub fn obs_at(&self, i: usize) -> Option<(&[f32], &[u8])> {
        (i < self.num_envs()).then(|| {
            (
                &self.obs_f32[i * self.f32_len..(i + 1) * self.f32_len],
                &self.obs_u8[i * self.u8_len..(i + 1) * self.u8_len],
            )
        })
    }

    /// Values per observation in the `f32` part.
    pub fn f32_len(&self) -> usize {
        self.f32_len
    }

    /// Values per observation in the `u8` part.
    pub fn u8_len(&self) -> usize {
        self.u8_len
    }

    /// Rewards of the last step `[N]`.
    pub fn rewards(&self) -> &[f64] {
        &self.rewards
    }

    /// `terminated` flags of the last step `[N]`.
    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }

    /// `truncated` flags of the last step `[N]`.
    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }

    /// Each sub-env's `info` from the last step or reset.
    pub fn infos(&self) -> &[Info] {
        &self.infos
    }

    /// Same-step mode: which sub-envs ended in the last step (Gymnasium's `infos["_final_obs"]`);
    /// all false in the other modes.
    pub fn final_mask(&self) -> &[bool] {
        &self.final_mask
    }

    /// Same-step mode: the final observation of sub-env `i` if it ended in the last step.
    pub fn final_obs(&self, i: usize) -> Option<(&[f32], &[u8])> {
        if !self.final_mask.get(i).copied().unwrap_or(false) {
            return None;
        }
        Some((
            &self.final_f32[i * self.f32_len..(i + 1) * self.f32_len],
            &self.final_u8[i * self.u8_len..(i + 1) * self.u8_len],
        ))
    }

    /// Same-step mode: the final `info` of each sub-env that ended in the last step (empty
    /// elsewhere).
    pub fn final_infos(&self) -> &[Info] {
        &self.final_infos
    }

    fn run_reset(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mask: Option<&[bool]>,
    ) -> Result<()> {
        let chunk = self.config.min_envs_per_thread;
        let (lanes, pool) = self.lanes();
        match pool {
            None => {
                let mut lanes = lanes;
                lanes.reset(seed, options, mask)
            }
            Some(pool) => run_on_pool(pool, lanes, chunk, &|l| l.reset(seed, options, mask)),
        }
    }

    /// Refuse a batch that would fail part-way, before any sub-env moves.
    fn check_batch(&self, actions: BatchAction<'_>) -> Result<()> {
        let n = self.num_envs();
        let expected = n * self.action_dim;
        let kind_ok = matches!(
            (&self.action_space, actions),
            (Space::Discrete { .. }, BatchAction::Discrete(_))
                | (Space::MultiDiscrete { .. }, BatchAction::MultiDiscrete(_))
                | (Space::Box(_), BatchAction::Continuous(_))
        );
        if !kind_ok {
            let got = match actions {
                BatchAction::Discrete(_) => "a batch of discrete actions",
                BatchAction::Continuous(_) => "a batch of float32 actions",
                BatchAction::MultiDiscrete(_) => "a batch of multi-discrete actions",
            };
            return Err(EnvError::WrongActionShape {
                env: self.id().to_string(),
                expected: format!("actions for {}", self.action_space),
                got: got.into(),
            });
        }
        if actions.len() != expected {
            return Err(EnvError::LengthMismatch {
                what: format!("action batch for {n} sub-environments of {}", self.action_space),
                expected,
                got: actions.len(),
            });
        }
        // Fast path for the common case; the full check builds the error message.
        let all_valid = match (&self.action_space, actions) {
            (Space::Discrete { n, start }, BatchAction::Discrete(xs)) => {
                let end = start.saturating_add(*n as i64);
                xs.iter().all(|&a| a >= *start && a < end)
            }
            _ => false,
        };
        for (i, state) in self.states.iter().enumerate() {
            match state {
                EpisodeState::NeedsReset => {
                    return Err(sub_env(i)(EnvError::StepBeforeReset {
                        env: self.envs[i].id().to_string(),
                    }))
                }
                EpisodeState::Done if self.config.autoreset == AutoresetMode::Disabled => {
                    return Err(sub_env(i)(EnvError::StepAfterDone {
                        env: self.envs[i].id().to_string(),
                    }))
                }
                _ => {}
            }
            if !all_valid {
                // The sub-env's own check: Pendulum and MountainCarContinuous clip out-of-box
                // actions, as Gymnasium does, unless built with `strict_actions`.
                self.envs[i].check_action(actions.at(i, self.action_dim)).map_err(sub_env(i))?;
            }
        }
        Ok(())
    }

    /// Every sub-env and buffer as one block, plus the pool to split it over.
    fn lanes(&mut self) -> (Lanes<'_, E>, Option<&WorkerPool>) {
        let final_f32_len = if self.final_f32.is_empty() { 0 } else { self.f32_len };
        let final_u8_len = if self.final_u8.is_empty() { 0 } else { self.u8_len };
        let lanes = Lanes {
            first: 0,
            envs: &mut self.envs,
            states: &mut self.states,
            obs_f32: &mut self.obs_f32,
            obs_u8: &mut self.obs_u8,
            rewards: &mut self.rewards,
            terminated: &mut self.terminated,
            truncated: &mut self.truncated,
            infos: &mut self.infos,
            final_mask: &mut self.final_mask,
            final_f32: &mut self.final_f32,
            final_u8: &mut self.final_u8,
            final_infos: &mut self.final_infos,
            f32_len: self.f32_len,
            u8_len: self.u8_len,
            final_f32_len,
            final_u8_len,
        };
        (lanes, self.pool.as_ref())
    }
}
