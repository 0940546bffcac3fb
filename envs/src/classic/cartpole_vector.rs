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
//! Seeding follows Graft's vector envs rather than numpy: `reset(seed)` seeds sub-env `i`'s own
//! [`EnvRng`] with `seed + i`, and each sub-env draws its start states exactly as a
//! [`CartPole`](crate::classic::CartPole) does, so sub-env `i` replays the episodes of a
//! `CartPole` (in a `TimeLimit`) seeded `seed + i`.
//!
//! The step is one branch-free loop over the batch, which the compiler vectorises (AVX-512 or
//! AVX2 when the CPU has them, chosen at run time; SSE2 otherwise: all give the same bits, as
//! none contracts multiply-adds). All arithmetic is CartPole's, in its order, except `sin` and `cos`:
//! they come from [`sin_cos`](crate::classic::trig::sin_cos), a branch-free port of fdlibm's kernels, because the C library's
//! cannot be vectorised. Its results are within 1 ulp of glibc's (exact reduction and
//! fdlibm's < 1 ulp kernels for |theta| < pi/4, which holds CartPole's whole state space;
//! measured by `sin_cos_is_within_one_ulp_of_libm`), so observations agree with the single
//! env's to about 1e-15 relative over an episode, not bit for bit — as numpy's vectorised
//! `sin`/`cos` in Gymnasium's vector CartPole do not match its scalar ones either.
//!
//! Buffers are allocated once: observations `[N * 4]` (`f32`, row-major), rewards `[N]`,
//! `terminated` / `truncated` `[N]`. A step allocates nothing.

use crate::classic::cartpole::{CartPoleConfig, KinematicsIntegrator};
use crate::classic::trig::{sin_cos, sin_cos_any, SIN_COS_RANGE};
use crate::classic::{reset_bounds, write_obs};
use crate::env::{ActionRef, Info, Kwargs, ObsMut, Value};
use crate::error::{EnvError, Result};
use crate::rng::EnvRng;
use crate::space::Space;
use crate::vector::{AutoresetMode, BatchAction, BatchView};

const ID: &str = "CartPole-v1";
/// Values per observation.
const OBS_LEN: usize = 4;

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
    rngs: Vec<EnvRng>,
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

/// What the kernel needs, derived once (as `CartPole` derives it, so the numbers match).
#[derive(Debug, Clone, Copy)]
struct Params {
    gravity: f64,
    masspole: f64,
    total_mass: f64,
    length: f64,
    polemass_length: f64,
    force_mag: f64,
    tau: f64,
    theta_threshold: f64,
    x_threshold: f64,
    semi_implicit: bool,
    sutton_barto: bool,
    limit: u64,
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
        let c = &config;
        let total_mass = c.masspole + c.masscart;
        let params = Params {
            gravity: c.gravity,
            masspole: c.masspole,
            total_mass,
            length: c.length,
            polemass_length: c.masspole * c.length,
            force_mag: c.force_mag,
            tau: c.tau,
            theta_threshold: c.theta_threshold_radians,
            x_threshold: c.x_threshold,
            semi_implicit: c.kinematics_integrator == KinematicsIntegrator::SemiImplicit,
            sutton_barto: c.sutton_barto_reward,
            limit: max_episode_steps.unwrap_or(u64::MAX),
        };
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
                self.rngs = (0..n).map(|i| EnvRng::seed_from(s.wrapping_add(i as u64))).collect()
            }
            None if self.rngs.len() != n => {
                self.rngs = (0..n).map(|_| EnvRng::from_entropy()).collect()
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
        if thetas_in_range(lanes.theta) {
            step_fast(&p, actions, lanes, self.isa);
        } else {
            step_lanes(&p, actions, lanes, sin_cos_any);
        }
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

/// The batch buffers one kernel call reads and writes.
struct LanesMut<'a> {
    x: &'a mut [f64],
    x_dot: &'a mut [f64],
    theta: &'a mut [f64],
    theta_dot: &'a mut [f64],
    steps: &'a mut [u64],
    pending: &'a [bool],
    ended: &'a mut [bool],
    obs: &'a mut [f32],
    rewards: &'a mut [f64],
    terminated: &'a mut [bool],
    truncated: &'a mut [bool],
}

/// Step every lane, with `sc` for sine and cosine. Branch-free per lane, so that LLVM
/// vectorises the loop when `sc` is. Lanes in `pending` are stepped too (as Gymnasium does)
/// and then marked for the reset that follows: reward 0, flags false, step count 0.
#[inline(always)]
fn step_lanes(p: &Params, actions: &[i64], l: LanesMut<'_>, sc: impl Fn(f64) -> (f64, f64)) {
    let n = actions.len();
    // Equal lengths up front, so the loop carries no bounds checks.
    let (x, x_dot, theta, theta_dot) =
        (&mut l.x[..n], &mut l.x_dot[..n], &mut l.theta[..n], &mut l.theta_dot[..n]);
    let (steps, pending, ended) = (&mut l.steps[..n], &l.pending[..n], &mut l.ended[..n]);
    let (rewards, terminated, truncated) =
        (&mut l.rewards[..n], &mut l.terminated[..n], &mut l.truncated[..n]);
    let obs = &mut l.obs[..n * OBS_LEN];
    for i in 0..n {
        // CartPole::advance, operation for operation.
        let force = if actions[i] == 1 { p.force_mag } else { -p.force_mag };
        let (sintheta, costheta) = sc(theta[i]);
        let (xi, xdi, thi, thdi) = (x[i], x_dot[i], theta[i], theta_dot[i]);
        let temp = (force + p.polemass_length * (thdi * thdi) * sintheta) / p.total_mass;
        let thetaacc = (p.gravity * sintheta - costheta * temp)
            / (p.length * (4.0 / 3.0 - p.masspole * (costheta * costheta) / p.total_mass));
        let xacc = temp - p.polemass_length * thetaacc * costheta / p.total_mass;
        let new_xd = xdi + p.tau * xacc;
        let new_thd = thdi + p.tau * thetaacc;
        // Euler moves positions with the old velocities, semi-implicit with the new ones.
        let new_x = xi + p.tau * if p.semi_implicit { new_xd } else { xdi };
        let new_th = thi + p.tau * if p.semi_implicit { new_thd } else { thdi };
        x[i] = new_x;
        x_dot[i] = new_xd;
        theta[i] = new_th;
        theta_dot[i] = new_thd;
        let o = &mut obs[i * OBS_LEN..(i + 1) * OBS_LEN];
        o[0] = new_x as f32;
        o[1] = new_xd as f32;
        o[2] = new_th as f32;
        o[3] = new_thd as f32;
        let term = (new_x < -p.x_threshold)
            | (new_x > p.x_threshold)
            | (new_th < -p.theta_threshold)
            | (new_th > p.theta_threshold);
        let reset = pending[i];
        let count = if reset { 0 } else { steps[i] + 1 };
        let trunc = count >= p.limit;
        steps[i] = count;
        let reward = match (p.sutton_barto, term) {
            (false, _) => 1.0,
            (true, false) => 0.0,
            (true, true) => -1.0,
        };
        rewards[i] = if reset { 0.0 } else { reward };
        terminated[i] = term & !reset;
        truncated[i] = trunc & !reset;
        ended[i] = (term | trunc) & !reset;
    }
}

/// Which build of the kernel steps the batch: the widest vector instructions the CPU has.
/// Every build gives the same bits (no FMA anywhere; lane for lane the same IEEE operations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
enum KernelIsa {
    /// SSE2 (every x86-64 CPU), or the target's baseline elsewhere.
    Baseline,
    /// AVX2: 4 lanes per instruction.
    Avx2,
    /// AVX-512 (F, DQ, VL, BW): 8 lanes per instruction, with mask registers for the
    /// kernel's selects. Batches under [`MIN_AVX512_LANES`] take the AVX2 build.
    Avx512,
}

impl KernelIsa {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::is_x86_feature_detected as has;
            let avx512 =
                has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx512bw");
            if avx512 && has!("avx2") {
                return KernelIsa::Avx512;
            }
            if has!("avx2") {
                return KernelIsa::Avx2;
            }
        }
        KernelIsa::Baseline
    }

    /// The builds this CPU can run, narrowest first.
    #[cfg(test)]
    fn runnable() -> Vec<Self> {
        let all = [KernelIsa::Baseline, KernelIsa::Avx2, KernelIsa::Avx512];
        let widest = Self::detect();
        all.into_iter().take_while(|&isa| isa != widest).chain([widest]).collect()
    }
}

/// Below this many sub-envs the AVX-512 build is slower than the AVX2 one (measured on Zen 5:
/// 42 against 51 M steps/s at N = 8; 157 against 126 at N = 16, 263 against 164 at 256).
const MIN_AVX512_LANES: usize = 16;

/// The vectorised step: every `theta` is within [`SIN_COS_RANGE`].
fn step_fast(p: &Params, actions: &[i64], lanes: LanesMut<'_>, isa: KernelIsa) {
    let isa = match isa {
        KernelIsa::Avx512 if actions.len() < MIN_AVX512_LANES => KernelIsa::Avx2,
        isa => isa,
    };
    match isa {
        // SAFETY: `isa` comes from `KernelIsa::detect`, which names only builds whose
        // instructions the CPU reported.
        #[cfg(target_arch = "x86_64")]
        KernelIsa::Avx512 => unsafe { step_avx512(p, actions, lanes) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        KernelIsa::Avx2 => unsafe { step_avx2(p, actions, lanes) },
        _ => step_lanes(p, actions, lanes, sin_cos),
    }
}

/// [`step_lanes`] compiled for AVX2 (4 lanes per instruction). No FMA: the results are the
/// bits of the portable build.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn step_avx2(p: &Params, actions: &[i64], lanes: LanesMut<'_>) {
    step_lanes(p, actions, lanes, sin_cos);
}

/// [`step_lanes`] compiled for AVX-512 (8 lanes per instruction; 1.6x the AVX2 build's
/// throughput on Zen 5). No FMA: the results are the bits of the portable build.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
unsafe fn step_avx512(p: &Params, actions: &[i64], lanes: LanesMut<'_>) {
    step_lanes(p, actions, lanes, sin_cos);
}

/// Whether every value is within [`SIN_COS_RANGE`] (NaN is not): one OR over the bits.
fn thetas_in_range(theta: &[f64]) -> bool {
    let limit = SIN_COS_RANGE.to_bits();
    let out = theta.iter().fold(0u64, |acc, t| acc | ((t.to_bits() & !(1 << 63)) > limit) as u64);
    out == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// State `[x, x_dot, theta, theta_dot]` per lane, step counts, pending flags, actions.
    type Input = (Vec<Vec<f64>>, Vec<u64>, Vec<bool>, Vec<i64>);

    /// Buffers for `n` lanes with angles spread over `[-a, a]` and random velocities.
    fn lanes_state(n: usize, a: f64, seed: u64) -> Input {
        let mut rng = EnvRng::seed_from(seed);
        let mut u = |lo, hi| (0..n).map(|_| rng.uniform(lo, hi)).collect::<Vec<f64>>();
        let state = vec![u(-2.5, 2.5), u(-3.0, 3.0), u(-a, a), u(-4.0, 4.0)];
        let steps = (0..n as u64).map(|i| i * 37 % 600).collect();
        let pending = (0..n).map(|i| i % 5 == 0).collect();
        let actions = (0..n).map(|i| (i * 7 % 3 == 0) as i64).collect();
        (state, steps, pending, actions)
    }

    /// Run one kernel over a copy of the buffers; return every output's bits.
    fn run(
        p: &Params,
        input: &Input,
        kernel: impl FnOnce(&Params, &[i64], LanesMut<'_>),
    ) -> Vec<u64> {
        let (state, steps, pending, actions) = input.clone();
        let n = actions.len();
        let [mut x, mut xd, mut th, mut thd] = [0, 1, 2, 3].map(|k| state[k].clone());
        let mut steps = steps;
        let (mut ended, mut obs, mut rewards) = (vec![false; n], vec![0f32; 4 * n], vec![0.0; n]);
        let (mut term, mut trunc) = (vec![false; n], vec![false; n]);
        let lanes = LanesMut {
            x: &mut x,
            x_dot: &mut xd,
            theta: &mut th,
            theta_dot: &mut thd,
            steps: &mut steps,
            pending: &pending,
            ended: &mut ended,
            obs: &mut obs,
            rewards: &mut rewards,
            terminated: &mut term,
            truncated: &mut trunc,
        };
        kernel(p, &actions, lanes);
        let mut out: Vec<u64> =
            [x, xd, th, thd, rewards].concat().iter().map(|v| v.to_bits()).collect();
        out.extend(obs.iter().map(|v| v.to_bits() as u64));
        out.extend(steps);
        out.extend([ended, term, trunc].concat().iter().map(|&b| b as u64));
        out
    }

    fn params() -> Params {
        CartPoleVectorEnv::new(1, CartPoleConfig::default(), Some(500)).unwrap().params
    }

    /// Every build this CPU runs (AVX-512, AVX2, baseline), the portable loop and the exact
    /// fallback give the same bits (no FMA contraction anywhere; the fallback uses the same
    /// sin/cos within range).
    #[test]
    fn every_kernel_path_gives_the_same_bits() {
        let p = params();
        let builds = KernelIsa::runnable();
        eprintln!("kernel builds checked: {builds:?}");
        for (n, a) in [(1, 0.3), (7, 0.3), (256, 0.3), (33, 1000.0), (77, 0.3)] {
            let input = lanes_state(n, a, n as u64);
            let portable = run(&p, &input, |p, a, l| step_lanes(p, a, l, sin_cos));
            for &isa in &builds {
                let fast = run(&p, &input, |p, a, l| step_fast(p, a, l, isa));
                assert_eq!(portable, fast, "n = {n}, {isa:?}");
            }
            let exact = run(&p, &input, |p, a, l| step_lanes(p, a, l, sin_cos_any));
            assert_eq!(portable, exact, "n = {n}");
        }
        assert!(thetas_in_range(&[0.0, -SIN_COS_RANGE, SIN_COS_RANGE]));
        assert!(!thetas_in_range(&[0.0, f64::NAN]));
        assert!(!thetas_in_range(&[-f64::INFINITY]));
        assert!(!thetas_in_range(&[2e6, 0.0]));
    }
}
