//! `CartPoleVectorEnv`: N CartPoles stepped as one structure-of-arrays batch, the Rust
//! counterpart of Gymnasium's own `gymnasium.envs.classic_control.cartpole.CartPoleVectorEnv`
//! (what `gym.make_vec("CartPole-v1", n, vectorization_mode="vector_entry_point")` builds).
//!
//! Semantics, as Gymnasium's vector CartPole:
//! * next-step autoreset: the step after an episode ended ignores that sub-env's action and
//!   returns the first observation of a new episode, reward 0 and both flags false;
//! * truncation after `max_episode_steps` steps (500 by default), counted per sub-env;
//! * autoresets draw from the bounds of the last `reset` (`options["low"]` / `["high"]`,
//!   default ±0.05), as Gymnasium's `CartPoleVectorEnv` does. (Graft's generic
//!   [`VectorEnv`](crate::vector::VectorEnv), like Gymnasium's `SyncVectorEnv`, autoresets with
//!   the defaults.)
//!
//! Seeding follows Gymnasium's `SyncVectorEnv` (and Graft's
//! [`VectorEnv`](crate::vector::VectorEnv)) rather than the single generator of Gymnasium's
//! `CartPoleVectorEnv`: `reset(seed)` seeds sub-env `i`'s own [`NumpyRng`] with `seed + i`, and
//! each sub-env draws its start states exactly as a [`CartPole`](crate::classic::CartPole)
//! does, so sub-env `i` replays the episodes of a `CartPole` (in a `TimeLimit`) seeded
//! `seed + i`, which are Gymnasium's `CartPole-v1` episodes for that seed.
//!
//! The step is one branch-free loop over the batch (`cartpole_kernel`), which the compiler
//! vectorises (AVX-512 or AVX2 when the CPU has them, chosen at run time; SSE2 otherwise: all
//! give the same bits, as none contracts multiply-adds). All arithmetic is CartPole's, in its
//! order. Sine and cosine come from [`sin_cos`](crate::classic::trig::sin_cos), a branch-free
//! port of fdlibm's kernels, because the C library's cannot be vectorised. For
//! |theta| < pi/4 (every state of a running episode) it gives the bits of the single env's
//! inline kernels (`fast_sin_cos_is_within_one_ulp_of_libm` checks it), so a sub-env steps as a
//! `CartPole` does. Both are within 1 ulp of glibc's `sin`/`cos`, not always equal to them, as
//! numpy's vectorised `sin`/`cos` in Gymnasium's vector CartPole differ from its scalar ones.
//!
//! Buffers are allocated once: observations `[N * 4]` (`f32`, row-major), rewards `[N]`,
//! `terminated` / `truncated` `[N]`. A step allocates nothing.

use crate::classic::cartpole::{CartPoleConfig, OBS_LEN};
use crate::classic::cartpole_kernel::{self as kernel, KernelIsa, LanesMut, Params};
use crate::classic::{reset_bounds, write_obs};
use crate::env::{ActionRef, Info, Kwargs, ObsMut, Value};
use crate::error::{EnvError, Result};
use crate::numpy_rng::NumpyRng;
use crate::space::Space;
use crate::vector::{AutoresetMode, BatchAction, BatchView};

const ID: &str = "CartPole-v1";

/// CartPole stepped as a batch of `N` sub-environments (see the module docs).
#[derive(Debug, Clone)]
pub struct CartPoleVectorEnv {
    config: CartPoleConfig,
    max_episode_steps: Option<u64>,
    params: Params,
    observation_space: Space,
    action_space: Space,
    // The state, one array per component: [N] each.
    x: Vec<f64>,
    x_dot: Vec<f64>,
    theta: Vec<f64>,
    theta_dot: Vec<f64>,
    /// Steps since each sub-env's episode began.
    steps: Vec<u64>,
    /// Sub-envs whose episode ended in the last step: the next step resets them.
    pending: Vec<bool>,
    /// Scratch: which sub-envs end in the step being taken.
    ended: Vec<bool>,
    /// Each sub-env's `np_random`, as a `CartPole` keeps it.
    rngs: Vec<NumpyRng>,
    obs: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    /// Always empty (CartPole reports nothing); kept so [`BatchView`] can be returned.
    infos: Vec<Info>,
    /// Reset bounds of the last `reset`, used by autoresets.
    low: f64,
    high: f64,
    started: bool,
    /// The widest build of the kernel this CPU runs.
    isa: KernelIsa,
}

impl CartPoleVectorEnv {
    /// `num_envs` CartPoles with `config`, truncated after `max_episode_steps` steps (`None`:
    /// never). Fails on a bad config, zero sub-envs or a zero step limit.
    pub fn new(
        num_envs: usize,
        config: CartPoleConfig,
        max_episode_steps: Option<u64>,
    ) -> Result<Self> {
        if num_envs == 0 {
            return Err(EnvError::Other(
                "a vector environment needs at least one sub-environment".into(),
            ));
        }
        if max_episode_steps == Some(0) {
            return Err(EnvError::BadKwarg {
                env: ID.into(),
                key: "max_episode_steps".into(),
                reason: "must be positive, got 0".into(),
            });
        }
        // `CartPole::new` validates the config and builds the spaces; reuse both.
        let single = crate::classic::CartPole::new(config.clone())?;
        let observation_space = crate::env::Env::observation_space(&single).clone();
        let action_space = crate::env::Env::action_space(&single).clone();
        let params = Params::new(&config, max_episode_steps);
        let n = num_envs;
        Ok(CartPoleVectorEnv {
            config,
            max_episode_steps,
            params,
            observation_space,
            action_space,
            x: vec![0.0; n],
            x_dot: vec![0.0; n],
            theta: vec![0.0; n],
            theta_dot: vec![0.0; n],
            steps: vec![0; n],
            pending: vec![false; n],
            ended: vec![false; n],
            rngs: Vec::new(),
            obs: vec![0.0; n * OBS_LEN],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            infos: vec![Info::new(); n],
            low: -0.05,
            high: 0.05,
            started: false,
            isa: KernelIsa::detect(),
        })
    }

    /// From `make`-style keyword arguments: CartPole's (see [`CartPoleConfig::KWARGS`]) plus
    /// `max_episode_steps` (a positive int, default 500; `-1`: no limit) and `render_mode`
    /// (`"rgb_array"` only).
    pub fn from_kwargs(num_envs: usize, kwargs: &Kwargs) -> Result<Self> {
        let mut limit = Some(500);
        let mut env_kwargs = Kwargs::new();
        for (key, value) in kwargs {
            match (key.as_str(), value) {
                ("max_episode_steps", Value::Int(-1)) => limit = None,
                ("max_episode_steps", Value::Int(n)) if *n > 0 => limit = Some(*n as u64),
                ("max_episode_steps", v) => {
                    return Err(bad_kwarg(key, format!("expected a positive int or -1, got {v:?}")))
                }
                ("render_mode", Value::Str(s)) if s == "rgb_array" => {}
                ("render_mode", v) => {
                    return Err(bad_kwarg(key, format!("expected \"rgb_array\", got {v:?}")))
                }
                _ => {
                    env_kwargs.insert(key.clone(), value.clone());
                }
            }
        }
        Self::new(num_envs, CartPoleConfig::from_kwargs(&env_kwargs)?, limit)
    }

    /// Number of sub-environments N.
    pub fn num_envs(&self) -> usize {
        self.x.len()
    }

    /// The id, `"CartPole-v1"`.
    pub fn id(&self) -> &str {
        ID
    }

    /// The parameters.
    pub fn config(&self) -> &CartPoleConfig {
        &self.config
    }

    /// The step limit, if any.
    pub fn max_episode_steps(&self) -> Option<u64> {
        self.max_episode_steps
    }

    /// Always [`AutoresetMode::NextStep`], as Gymnasium's `CartPoleVectorEnv`.
    pub fn autoreset_mode(&self) -> AutoresetMode {
        AutoresetMode::NextStep
    }

    /// One sub-env's observation space.
    pub fn single_observation_space(&self) -> &Space {
        &self.observation_space
    }

    /// One sub-env's action space, `Discrete(2)`.
    pub fn single_action_space(&self) -> &Space {
        &self.action_space
    }

    /// Values per observation (4).
    pub fn f32_len(&self) -> usize {
        OBS_LEN
    }

    /// Sub-env `i`'s physical state `[x, x_dot, theta, theta_dot]`, or `None` past the end.
    pub fn state(&self, i: usize) -> Option<[f64; 4]> {
        (i < self.num_envs()).then(|| [self.x[i], self.x_dot[i], self.theta[i], self.theta_dot[i]])
    }

    /// Reset every sub-env; sub-env `i` is seeded with `seed + i` (`None`: continue each
    /// sub-env's stream, or seed from entropy before the first seeded reset). `options` may
    /// set the start-state bounds `low` / `high`, which later autoresets reuse.
    pub fn reset(&mut self, seed: Option<u64>, options: &Kwargs) -> Result<BatchView<'_>> {
        let (low, high) = reset_bounds(ID, options, -0.05, 0.05)?;
        let n = self.num_envs();
        match seed {
            Some(s) => {
                self.rngs = (0..n).map(|i| NumpyRng::from_seed(s.wrapping_add(i as u64))).collect()
            }
            None if self.rngs.len() != n => {
                self.rngs = (0..n).map(|_| NumpyRng::from_entropy()).collect()
            }
            None => {}
        }
        (self.low, self.high) = (low, high);
        for i in 0..n {
            self.reset_lane(i);
        }
        self.rewards.fill(0.0);
        self.terminated.fill(false);
        self.truncated.fill(false);
        self.pending.fill(false);
        self.started = true;
        Ok(self.view())
    }

    /// Step every sub-env with its action (0: push left, 1: push right), `[N]`. Sub-envs whose
    /// episode ended in the previous step are reset instead (their action is ignored).
    ///
    /// A batch of the wrong length, an action other than 0 or 1 (reported as
    /// [`EnvError::SubEnv`] with the first bad index), or a step before the first `reset` is an
    /// error, and leaves every sub-env unchanged.
    pub fn step_discrete(&mut self, actions: &[i64]) -> Result<BatchView<'_>> {
        self.check_batch(actions)?;
        let p = self.params;
        let lanes = LanesMut {
            x: &mut self.x,
            x_dot: &mut self.x_dot,
            theta: &mut self.theta,
            theta_dot: &mut self.theta_dot,
            steps: &mut self.steps,
            pending: &self.pending,
            ended: &mut self.ended,
            obs: &mut self.obs,
            rewards: &mut self.rewards,
            terminated: &mut self.terminated,
            truncated: &mut self.truncated,
        };
        kernel::step(&p, actions, lanes, self.isa);
        // Next-step autoreset of the sub-envs that ended last step; the kernel already gave
        // them reward 0, both flags false and a step count of 0.
        for i in 0..self.pending.len() {
            if self.pending[i] {
                self.reset_lane(i);
            }
        }
        std::mem::swap(&mut self.pending, &mut self.ended);
        Ok(self.view())
    }

    /// [`step_discrete`](Self::step_discrete) taking a [`BatchAction`], as
    /// [`VectorEnv::step`](crate::vector::VectorEnv::step); only `Discrete` batches fit.
    pub fn step(&mut self, actions: BatchAction<'_>) -> Result<BatchView<'_>> {
        match actions {
            BatchAction::Discrete(xs) => self.step_discrete(xs),
            other => Err(EnvError::WrongActionShape {
                env: ID.into(),
                expected: format!("actions for {}", self.action_space),
                got: match other {
                    BatchAction::Continuous(_) => "a batch of float32 actions".into(),
                    _ => "a batch of multi-discrete actions".into(),
                },
            }),
        }
    }

    /// The current batch (the `infos` are empty maps; `obs_u8` is empty).
    pub fn view(&self) -> BatchView<'_> {
        BatchView {
            obs_f32: &self.obs,
            obs_u8: &[],
            rewards: &self.rewards,
            terminated: &self.terminated,
            truncated: &self.truncated,
            infos: &self.infos,
        }
    }

    /// All observations, `[N * 4]` row-major: copy into a `[N, 4]` tensor.
    pub fn obs_f32(&self) -> &[f32] {
        &self.obs
    }

    /// Sub-env `i`'s observation, or `None` past the end.
    pub fn obs_at(&self, i: usize) -> Option<&[f32]> {
        self.obs.get(i * OBS_LEN..(i + 1) * OBS_LEN)
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

    /// Draw sub-env `i`'s start state as `CartPole::reset` does and write its observation.
    fn reset_lane(&mut self, i: usize) {
        let (low, high) = (self.low, self.high);
        let Some(rng) = self.rngs.get_mut(i) else { return };
        let s = [
            rng.uniform(low, high),
            rng.uniform(low, high),
            rng.uniform(low, high),
            rng.uniform(low, high),
        ];
        [self.x[i], self.x_dot[i], self.theta[i], self.theta_dot[i]] = s;
        self.steps[i] = 0;
        let obs = &mut self.obs[i * OBS_LEN..(i + 1) * OBS_LEN];
        write_obs(&mut ObsMut { f32: obs, u8: &mut [] }, &s);
    }

    /// Refuse a batch that would fail part-way, before any sub-env moves.
    fn check_batch(&self, actions: &[i64]) -> Result<()> {
        if !self.started {
            return Err(EnvError::StepBeforeReset { env: ID.into() });
        }
        if actions.len() != self.num_envs() {
            return Err(EnvError::LengthMismatch {
                what: format!(
                    "action batch for {} sub-environments of {}",
                    self.num_envs(),
                    self.action_space
                ),
                expected: self.num_envs(),
                got: actions.len(),
            });
        }
        // One OR over the batch: any bit above the lowest means an action outside {0, 1}.
        if actions.iter().fold(0u64, |acc, &a| acc | a as u64) > 1 {
            for (i, &a) in actions.iter().enumerate() {
                self.action_space
                    .check_action(ID, ActionRef::Discrete(a))
                    .map_err(|e| EnvError::SubEnv { index: i, source: Box::new(e) })?;
            }
        }
        Ok(())
    }
}

fn bad_kwarg(key: &str, reason: String) -> EnvError {
    EnvError::BadKwarg { env: ID.into(), key: key.into(), reason }
}
