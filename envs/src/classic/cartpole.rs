//! CartPole-v1: balance a pole hinged on a cart by pushing the cart left or right.
//!
//! The cart-pole system of Barto, Sutton & Anderson, "Neuronlike adaptive elements that can
//! solve difficult learning control problems" (IEEE SMC, 1983), with the equations, constants,
//! spaces and episode rules of Gymnasium 1.x (`classic_control/cartpole.py`): explicit Euler
//! integration by default or semi-implicit Euler, termination when |x| > 2.4 or
//! |theta| > 12 degrees, reward 1 per step, or with `sutton_barto_reward` 0 per step and -1 on
//! termination.

use image::RgbImage;

pub use crate::classic::cartpole_config::{CartPoleConfig, KinematicsIntegrator};
use crate::classic::division::ConstDivisor;
use crate::classic::trig::sin_cos_fast;
use crate::classic::{full_frame, render_before_reset, reseed, reset_bounds, write_obs};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::numpy_rng::NumpyRng;
use crate::render::classic::draw_cartpole;
use crate::space::Space;

pub(crate) const ID: &str = "CartPole-v1";
/// Values per observation: `[x, x_dot, theta, theta_dot]`.
pub(crate) const OBS_LEN: usize = 4;

/// The CartPole environment. State `[x, x_dot, theta, theta_dot]`; actions 0 (push left) and
/// 1 (push right).
///
/// It can carry its own time limit ([`CartPole::with_time_limit`], what `make` builds): the
/// rules of the [`TimeLimit`](crate::wrappers::time_limit::TimeLimit) wrapper (the step that
/// brings the count to the limit returns `truncated = true`, `terminated` is reported as it
/// is, further steps are refused until `reset`) without a wrapper layer around every step.
#[derive(Debug, Clone)]
pub struct CartPole {
    config: CartPoleConfig,
    // Derived as Gymnasium derives them: the step does Gymnasium's arithmetic operation for
    // operation (only `sin` / `cos` may differ by an ulp; see `sin_cos_fast`).
    total_mass: ConstDivisor,
    /// The CPU has FMA: the division on the step's critical path takes the fused route
    /// (`division`), which gives the same bits sooner.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fused_division: bool,
    polemass_length: f64,
    observation_space: Space,
    action_space: Space,
    state: [f64; 4],
    episode: EpisodeState,
    /// The built-in time limit; `u64::MAX` for none.
    max_episode_steps: u64,
    elapsed_steps: u64,
    /// Gymnasium's `np_random`: seeded by `reset(seed)`, kept across unseeded resets.
    rng: Option<NumpyRng>,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::build(CartPoleConfig::default())
    }
}

impl CartPole {
    /// A CartPole with `config`; fails on non-finite or non-positive physical parameters.
    pub fn new(config: CartPoleConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    /// A CartPole from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        Self::new(CartPoleConfig::from_kwargs(kwargs)?)
    }

    fn build(config: CartPoleConfig) -> Self {
        let inf = f64::INFINITY;
        let (x2, t2) = (config.x_threshold * 2.0, config.theta_threshold_radians * 2.0);
        let total_mass = ConstDivisor::new(config.masspole + config.masscart);
        CartPole {
            total_mass,
            fused_division: total_mass.fused_available(),
            polemass_length: config.masspole * config.length,
            observation_space: Space::box_f32(vec![-x2, -inf, -t2, -inf], vec![x2, inf, t2, inf]),
            action_space: Space::discrete(2),
            state: [0.0; 4],
            episode: EpisodeState::NeedsReset,
            max_episode_steps: u64::MAX,
            elapsed_steps: 0,
            rng: None,
            config,
        }
    }

    /// This env with a built-in limit of `max_episode_steps` steps per episode, with
    /// `TimeLimit`'s semantics; `make("CartPole-v1")` returns one with the spec's 500. Zero is
    /// refused with [`EnvError::BadKwarg`], as `TimeLimit::new` refuses it.
    pub fn with_time_limit(mut self, max_episode_steps: u64) -> Result<Self> {
        if max_episode_steps == 0 {
            return Err(EnvError::BadKwarg {
                env: ID.into(),
                key: "max_episode_steps".into(),
                reason: "must be positive, got 0".into(),
            });
        }
        self.max_episode_steps = max_episode_steps;
        Ok(self)
    }

    /// The built-in time limit, if any.
    pub fn max_episode_steps(&self) -> Option<u64> {
        (self.max_episode_steps != u64::MAX).then_some(self.max_episode_steps)
    }

    /// Steps taken since the last reset (counted with or without a time limit).
    pub fn elapsed_steps(&self) -> u64 {
        self.elapsed_steps
    }

    /// The parameters.
    pub fn config(&self) -> &CartPoleConfig {
        &self.config
    }

    /// The physical state `[x, x_dot, theta, theta_dot]`.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// Replace the physical state (as `env.unwrapped.state = ...` in Gymnasium) and start an
    /// episode from it. The time limit's step count is left as it is, as Gymnasium's
    /// `TimeLimit` keeps counting when the unwrapped env's state is replaced.
    pub fn set_state(&mut self, state: [f64; 4]) {
        self.state = state;
        self.episode = EpisodeState::Running;
    }

    /// The error `step_into` returns for a call its fast checks refused, from the same checks
    /// (and in the same order) as the other environments use.
    #[cold]
    #[inline(never)]
    fn refusal(&self, action: ActionRef<'_>, obs: &ObsMut<'_>) -> EnvError {
        let checks = self
            .episode
            .check_step(ID)
            .and_then(|()| self.action_space.check_action(ID, action))
            .and_then(|()| obs.check(&self.observation_space, ID));
        match checks {
            Err(e) => e,
            Ok(()) => EnvError::Other(format!("{ID}: step refused for action {action}")),
        }
    }

    /// The state, read one `f64` at a time. The step is bound by the latency of the chain
    /// from one step's `theta_dot` to the next, which passes through `self.state` between
    /// calls; a load that spans two of the previous call's stores (which the compiler emits
    /// when it pairs values into vector registers, depending on the surrounding code) cannot
    /// be forwarded from them and stalls that chain for tens of cycles. Volatile accesses
    /// keep every load and store to one element, so forwarding always works.
    #[inline(always)]
    fn load_state(&self) -> [f64; 4] {
        // SAFETY: each pointer comes from a reference to an initialised, aligned `f64`.
        std::array::from_fn(|i| unsafe { std::ptr::read_volatile(&self.state[i]) })
    }

    /// Store the state one `f64` at a time (see [`Self::load_state`]).
    #[inline(always)]
    fn store_state(slots: &mut [f64; 4], state: [f64; 4]) {
        for (slot, v) in slots.iter_mut().zip(state) {
            // SAFETY: `slot` comes from a mutable reference to an aligned `f64`.
            unsafe { std::ptr::write_volatile(slot, v) };
        }
    }

    /// One step of the dynamics for `push_right`; returns whether the new state is terminal.
    #[inline]
    fn advance(&mut self, push_right: bool) -> bool {
        #[cfg(target_arch = "x86_64")]
        if self.fused_division {
            // SAFETY: `fused_division` is true only where the CPU reported FMA.
            return unsafe { self.advance_fused(push_right) };
        }
        self.advance_with(push_right, ConstDivisor::divide)
    }

    /// [`Self::advance`] compiled with FMA, dividing by the total mass on the fused route.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    fn advance_fused(&mut self, push_right: bool) -> bool {
        self.advance_with(push_right, ConstDivisor::divide_fused)
    }

    /// The step, with `divide` for the division by the total mass on the `theta_dot` chain
    /// (either way the division instruction's bits). Nothing else may change between the two
    /// builds: Rust never fuses a multiply and an add on its own, so with FMA enabled every
    /// other operation still rounds as Gymnasium's does.
    #[inline(always)]
    fn advance_with(
        &mut self,
        push_right: bool,
        divide: impl Fn(ConstDivisor, f64) -> f64,
    ) -> bool {
        let c = &self.config;
        let total_mass = self.total_mass.divisor();
        let [mut x, mut x_dot, mut theta, mut theta_dot] = self.load_state();
        // `force_mag` or `-force_mag` by flipping the sign bit, with no branch on the action.
        let force = f64::from_bits(c.force_mag.to_bits() ^ (u64::from(!push_right) << 63));
        let (sintheta, costheta) = sin_cos_fast(theta);
        let temp = divide(
            self.total_mass,
            force + self.polemass_length * (theta_dot * theta_dot) * sintheta,
        );
        let thetaacc = (c.gravity * sintheta - costheta * temp)
            / (c.length * (4.0 / 3.0 - c.masspole * (costheta * costheta) / total_mass));
        let xacc = temp - self.polemass_length * thetaacc * costheta / total_mass;
        match c.kinematics_integrator {
            KinematicsIntegrator::Euler => {
                x += c.tau * x_dot;
                x_dot += c.tau * xacc;
                theta += c.tau * theta_dot;
                theta_dot += c.tau * thetaacc;
            }
            KinematicsIntegrator::SemiImplicit => {
                x_dot += c.tau * xacc;
                x += c.tau * x_dot;
                theta_dot += c.tau * thetaacc;
                theta += c.tau * theta_dot;
            }
        }
        Self::store_state(&mut self.state, [x, x_dot, theta, theta_dot]);
        x < -c.x_threshold
            || x > c.x_threshold
            || theta < -c.theta_threshold_radians
            || theta > c.theta_threshold_radians
    }
}

impl Env for CartPole {
    fn id(&self) -> &str {
        ID
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        if obs.f32.len() != OBS_LEN || !obs.u8.is_empty() {
            obs.check(&self.observation_space, ID)?;
        }
        // As Gymnasium: reseed, then read the bounds, then
        // `np_random.uniform(low=low, high=high, size=(4,))`.
        let rng = reseed(&mut self.rng, seed);
        let (low, high) = if options.is_empty() {
            (-0.05, 0.05)
        } else {
            reset_bounds(ID, options, -0.05, 0.05)?
        };
        for s in &mut self.state {
            *s = rng.uniform(low, high);
        }
        self.episode = EpisodeState::Running;
        self.elapsed_steps = 0;
        write_obs(&mut obs, &self.state);
        Ok(Info::new())
    }

    #[inline]
    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        // The checks of `EpisodeState::check_step`, `Space::check_action` and `ObsMut::check`,
        // written out so the valid case is a few compares and one branch; the errors come
        // from those calls. The direction itself is data (actions are often random, and a
        // branch on them would be mispredicted half the time).
        let (push_right, valid_action) = match action {
            ActionRef::Discrete(a) => (a == 1, (a as u64) < 2),
            _ => (false, false),
        };
        let running = self.episode == EpisodeState::Running;
        let out: &mut [f32; OBS_LEN] = match obs.f32.try_into() {
            Ok(out) if valid_action & running & obs.u8.is_empty() => out,
            _ => return Err(self.refusal(action, &obs)),
        };
        let terminated = self.advance(push_right);
        self.elapsed_steps += 1;
        let truncated = self.elapsed_steps >= self.max_episode_steps;
        // Gymnasium gives 1 per step (the terminating one included), or with the Sutton-Barto
        // reward 0 per step and -1 on termination. Stepping past the end is refused above.
        let reward = match (self.config.sutton_barto_reward, terminated) {
            (false, _) => 1.0,
            (true, false) => 0.0,
            (true, true) => -1.0,
        };
        self.episode = EpisodeState::after_step(terminated, truncated);
        *out = self.state.map(|v| v as f32);
        Ok(StepOutcome { reward, terminated, truncated, info: Info::new() })
    }

    fn render(&self) -> Result<RgbImage> {
        full_frame(600, 400, |w, h, out| self.render_into(w, h, out))
    }

    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        if self.episode == EpisodeState::NeedsReset {
            return Err(render_before_reset(ID));
        }
        draw_cartpole(self.state[0], self.state[2], self.config.x_threshold, width, height, out)
    }

    fn render_fps(&self) -> u32 {
        50
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Obs};
    use crate::rng::EnvRng;
    use crate::Value;

    #[test]
    fn one_euler_step_by_hand() {
        let mut env = CartPole::default();
        env.set_state([0.0, 0.0, 0.1, 0.0]);
        let s = env.step(&Action::Discrete(1)).unwrap();
        // temp = 10 / 1.1; thetaacc = (9.8 sin 0.1 - cos 0.1 temp) / (0.5 (4/3 - 0.1 cos^2 0.1 / 1.1))
        let (sn, cs) = (0.1f64.sin(), 0.1f64.cos());
        let temp = 10.0 / 1.1;
        let thetaacc = (9.8 * sn - cs * temp) / (0.5 * (4.0 / 3.0 - 0.1 * cs * cs / 1.1));
        let xacc = temp - 0.05 * thetaacc * cs / 1.1;
        let st = env.state();
        // Euler: positions move with the old (zero) velocities.
        assert_eq!(st[0], 0.0);
        assert_eq!(st[2], 0.1);
        assert!((st[1] - 0.02 * xacc).abs() < 1e-15);
        assert!((st[3] - 0.02 * thetaacc).abs() < 1e-15);
        // The same numbers worked out by hand: thetaacc = -12.9766, xacc = 9.6778.
        assert!((thetaacc + 12.9766).abs() < 1e-4, "{thetaacc}");
        assert!((xacc - 9.6778).abs() < 1e-4, "{xacc}");
        assert_eq!(s.obs.f32, vec![0.0, (0.02 * xacc) as f32, 0.1, (0.02 * thetaacc) as f32]);
        assert_eq!((s.reward, s.terminated, s.truncated), (1.0, false, false));
    }

    #[test]
    fn semi_implicit_moves_positions_with_new_velocities() {
        let cfg = CartPoleConfig {
            kinematics_integrator: KinematicsIntegrator::SemiImplicit,
            ..Default::default()
        };
        let mut env = CartPole::new(cfg).unwrap();
        env.set_state([0.0, 0.0, 0.0, 0.0]);
        env.step(&Action::Discrete(0)).unwrap();
        let [x, x_dot, theta, theta_dot] = env.state();
        assert!(x_dot < 0.0 && theta_dot > 0.0);
        assert_eq!(x, 0.02 * x_dot);
        assert_eq!(theta, 0.02 * theta_dot);
    }

    #[test]
    fn termination_and_sutton_barto_reward() {
        let mut env = CartPole::from_kwargs(
            &[("sutton_barto_reward".to_string(), Value::Bool(true))].into_iter().collect(),
        )
        .unwrap();
        env.set_state([0.0, 0.0, 0.0, 0.0]);
        assert_eq!(env.step(&Action::Discrete(0)).unwrap().reward, 0.0);
        env.set_state([2.39, 1.0, 0.0, 0.0]);
        let s = env.step(&Action::Discrete(1)).unwrap();
        assert!(s.terminated && !s.truncated);
        assert_eq!(s.reward, -1.0);
        assert!(matches!(env.step(&Action::Discrete(1)), Err(EnvError::StepAfterDone { .. })));
    }

    #[test]
    fn refuses_bad_use() {
        let mut env = CartPole::default();
        assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepBeforeReset { .. })));
        env.reset(Some(0), &Kwargs::new()).unwrap();
        assert!(matches!(env.step(&Action::Discrete(2)), Err(EnvError::InvalidAction { .. })));
        assert!(matches!(
            env.step(&Action::Continuous(vec![0.5])),
            Err(EnvError::WrongActionShape { .. })
        ));
        let mut small = Obs { f32: vec![0.0; 3], u8: vec![] };
        assert!(matches!(
            env.step_into(ActionRef::Discrete(0), small.as_mut()),
            Err(EnvError::LengthMismatch { .. })
        ));
        let bad: Kwargs = [("gravityy".to_string(), Value::Float(1.0))].into_iter().collect();
        assert!(matches!(CartPole::from_kwargs(&bad), Err(EnvError::BadKwarg { .. })));
        let bad: Kwargs = [("tau".to_string(), Value::Str("x".into()))].into_iter().collect();
        assert!(matches!(CartPole::from_kwargs(&bad), Err(EnvError::BadKwarg { .. })));
    }

    #[test]
    fn seeded_resets_repeat_and_stay_in_range() {
        let mut env = CartPole::default();
        let (a, _) = env.reset(Some(7), &Kwargs::new()).unwrap();
        let (b, _) = env.reset(Some(7), &Kwargs::new()).unwrap();
        assert_eq!(a, b);
        assert!(a.f32.iter().all(|x| x.abs() <= 0.05));
        let opts: Kwargs =
            [("low".to_string(), Value::Float(0.1)), ("high".into(), Value::Float(0.2))]
                .into_iter()
                .collect();
        let (c, _) = env.reset(None, &opts).unwrap();
        assert!(c.f32.iter().all(|&x| (0.1..=0.2).contains(&x)));
    }

    #[test]
    fn built_in_time_limit_truncates_like_time_limit() {
        assert!(matches!(CartPole::default().with_time_limit(0), Err(EnvError::BadKwarg { .. })));
        let mut env = CartPole::default().with_time_limit(3).unwrap();
        assert_eq!(
            (env.max_episode_steps(), CartPole::default().max_episode_steps()),
            (Some(3), None)
        );
        env.reset(Some(1), &Kwargs::new()).unwrap();
        let a = Action::Discrete(1);
        assert!(!env.step(&a).unwrap().truncated);
        assert!(!env.step(&a).unwrap().truncated);
        let last = env.step(&a).unwrap();
        assert!(last.truncated && !last.terminated && env.elapsed_steps() == 3);
        assert!(matches!(env.step(&a), Err(EnvError::StepAfterDone { .. })));
        env.reset(None, &Kwargs::new()).unwrap();
        assert_eq!(env.elapsed_steps(), 0);
        // Termination on the last allowed step sets both flags.
        env.step(&a).unwrap();
        env.step(&a).unwrap();
        env.set_state([2.39, 1.0, 0.0, 0.0]);
        let both = env.step(&a).unwrap();
        assert!(both.terminated && both.truncated);
    }

    /// The fast checks give the same errors, in the same order, as the general ones.
    #[test]
    fn refusals_come_in_order() {
        let mut env = CartPole::default();
        let mut small = Obs { f32: vec![0.0; 3], u8: vec![] };
        assert!(matches!(
            env.step_into(ActionRef::Discrete(5), small.as_mut()),
            Err(EnvError::StepBeforeReset { .. })
        ));
        env.reset(Some(0), &Kwargs::new()).unwrap();
        assert!(matches!(
            env.step_into(ActionRef::Discrete(5), small.as_mut()),
            Err(EnvError::InvalidAction { .. })
        ));
        assert!(matches!(
            env.step_into(ActionRef::Discrete(-1), small.as_mut()),
            Err(EnvError::InvalidAction { .. })
        ));
        let mut extra = Obs { f32: vec![0.0; 4], u8: vec![0] };
        assert!(matches!(
            env.step_into(ActionRef::Discrete(1), extra.as_mut()),
            Err(EnvError::LengthMismatch { .. })
        ));
        let mut ok = Obs { f32: vec![0.0; 4], u8: vec![] };
        assert!(env.step_into(ActionRef::Discrete(1), ok.as_mut()).is_ok());
    }

    /// The fused division (taken on CPUs with FMA) and the division instruction give the same
    /// trajectories bit for bit: both integrators, other masses, random pushes from random
    /// states (up to the angles where `sin`/`cos` leave the inline kernels).
    #[test]
    fn fused_division_steps_exactly_as_the_division_instruction() {
        let mut rng = EnvRng::seed_from(3);
        let integrators = [KinematicsIntegrator::Euler, KinematicsIntegrator::SemiImplicit];
        for (i, masscart) in [1.0, 0.3, 7.25].into_iter().enumerate() {
            let config = CartPoleConfig {
                masscart,
                kinematics_integrator: integrators[i % 2],
                ..Default::default()
            };
            let (mut fused, mut plain) =
                (CartPole::new(config.clone()).unwrap(), CartPole::new(config).unwrap());
            plain.fused_division = false;
            for _ in 0..2_000 {
                let start: [f64; 4] = std::array::from_fn(|_| rng.uniform(-1.0, 1.0));
                fused.set_state(start);
                plain.set_state(start);
                for _ in 0..20 {
                    let push_right = rng.below(2) == 1;
                    let ended = (fused.advance(push_right), plain.advance(push_right));
                    assert_eq!(fused.state.map(f64::to_bits), plain.state.map(f64::to_bits));
                    assert_eq!(ended.0, ended.1);
                }
            }
        }
    }
}
