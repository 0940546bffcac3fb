//! Twin Delayed DDPG for continuous actions (Fujimoto et al. 2018, "Addressing Function
//! Approximation Error in Actor-Critic Methods", <https://arxiv.org/abs/1802.09477>), following
//! CleanRL's `td3_continuous_action.py`: a deterministic tanh actor with Gaussian exploration
//! noise, twin Q-networks (SAC's critic, [`SoftQ`]) trained towards the smaller of their
//! target copies, target policy smoothing (clipped noise on the target action) and delayed
//! actor and target updates (every `policy_frequency` steps).
//!
//! Targets: `y = r + γ (1 − terminated) min_j Q'_j(s', clip(μ'(s') + ε, low, high))`,
//! `ε = clip(N(0, policy_noise), −noise_clip, noise_clip) · scale`; a truncated episode is
//! bootstrapped like any other step.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Reduction, Tensor};

use graft_envs::{Action, Env};

use crate::error::{Error, Result};
use crate::models::base::torch_linear;
use crate::models::Activation;
use crate::optim::{ema_update, Optimizer, OptimizerConfig};
use crate::rl::buffer::{check_replay_storage, NStep, ReplayBuffer};
use crate::rl::harness::Harness;
use crate::rl::nets::{torch_default_init, ActionSpec, ObsSpec, Torso, TorsoConfig};
use crate::rl::run::{RunOptions, TrainSummary};
use crate::rl::sac::SoftQ;
use crate::rl::single_env::SingleEnv;
use crate::rl::state::Part;
use crate::train::{step_seed, NoHooks};

/// TD3 hyperparameters. Defaults are CleanRL `td3_continuous_action.py`'s (MuJoCo, 1M steps).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Td3Config {
    /// Env steps to train for.
    pub total_timesteps: u64,
    /// Adam learning rate of the actor and of the Q-networks.
    pub learning_rate: f64,
    /// Replay buffer capacity.
    pub buffer_size: usize,
    /// Discount factor γ.
    pub gamma: f64,
    /// Polyak rate of the target networks.
    pub tau: f64,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Standard deviation of the target policy smoothing noise, in units of the action scale.
    pub policy_noise: f64,
    /// Standard deviation of the exploration noise, in units of the action scale.
    pub exploration_noise: f64,
    /// Env steps of uniformly random actions before learning starts.
    pub learning_starts: u64,
    /// The actor and the targets are updated every this many steps.
    pub policy_frequency: u64,
    /// Bound of the target policy smoothing noise, in units of the action scale.
    pub noise_clip: f64,
    /// Hidden widths of the actor torso and of the Q-networks.
    pub hidden: Vec<i64>,
    /// The actor's (and, when it names a model, the critics') observation torso.
    pub torso: TorsoConfig,
}

impl Default for Td3Config {
    fn default() -> Self {
        Td3Config {
            total_timesteps: 1_000_000,
            learning_rate: 3e-4,
            buffer_size: 1_000_000,
            gamma: 0.99,
            tau: 0.005,
            batch_size: 256,
            policy_noise: 0.2,
            exploration_noise: 0.1,
            learning_starts: 25_000,
            policy_frequency: 2,
            noise_clip: 0.5,
            hidden: vec![256, 256],
            torso: TorsoConfig::default(),
        }
    }
}

impl Td3Config {
    /// Pendulum-v1: a 20k-step budget with 1000 random warm-up steps and lr 1e-3 (the RL
    /// Baselines3 Zoo's TD3 Pendulum budget), CleanRL's architecture and noise.
    pub fn pendulum() -> Self {
        Td3Config {
            total_timesteps: 20_000,
            learning_starts: 1_000,
            learning_rate: 1e-3,
            ..Self::default()
        }
    }

    /// Refuse values that cannot train.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Invalid(format!("td3 config: {m}")));
        if self.batch_size == 0 || self.buffer_size == 0 || self.policy_frequency == 0 {
            return bad("batch_size, buffer_size and policy_frequency must be at least 1");
        }
        if self.tau.is_nan()
            || self.tau <= 0.0
            || self.tau > 1.0
            || !(0.0..=1.0).contains(&self.gamma)
        {
            return bad("tau must lie in (0, 1] and gamma in [0, 1]");
        }
        if self.learning_rate.is_nan() || self.learning_rate <= 0.0 {
            return bad("learning_rate must be positive");
        }
        let noises = [self.policy_noise, self.exploration_noise, self.noise_clip];
        if noises.iter().any(|x| x.is_nan() || *x < 0.0) {
            return bad("policy_noise, exploration_noise and noise_clip must be non-negative");
        }
        Ok(())
    }
}

/// The deterministic actor: torso, then `tanh` of a linear layer mapped to the action box.
#[derive(Debug)]
pub struct Td3Actor {
    torso: Torso,
    fc_mu: nn::Linear,
    scale: Tensor,
    bias: Tensor,
}

impl Td3Actor {
    /// Build under `p` (`torso`, `fc_mu`) for actions in `[low, high]`.
    pub fn new(
        p: &nn::Path,
        cfg: &Td3Config,
        obs: &ObsSpec,
        low: &[f32],
        high: &[f32],
    ) -> Result<Self> {
        let torso = Torso::build(p, "torso", &cfg.torso, obs, &cfg.hidden, Activation::Relu)?;
        let fc_mu = torch_linear(p / "fc_mu", torso.output_dim(), low.len() as i64);
        let lo = Tensor::from_slice(low).to_device(p.device());
        let hi = Tensor::from_slice(high).to_device(p.device());
        Ok(Td3Actor { torso, fc_mu, scale: (&hi - &lo) / 2.0, bias: (&hi + &lo) / 2.0 })
    }

    /// `μ(s)`, `[B, d]`, inside the box.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.fc_mu.forward(&self.torso.forward(x)).tanh() * &self.scale + &self.bias
    }

    /// The action scale `(high − low) / 2`, `[d]`.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }

    fn torso(&self) -> &Torso {
        &self.torso
    }
}

/// TD3's critic target for a batch: `r + discount (1 − terminated) min(q1_next, q2_next)`,
/// where the `q*_next` are the target critics at the smoothed target action.
pub fn td3_target(
    rewards: &Tensor,
    discounts: &Tensor,
    terminated: &Tensor,
    q1_next: &Tensor,
    q2_next: &Tensor,
) -> Tensor {
    rewards + discounts * (1.0 - terminated) * q1_next.minimum(q2_next)
}

/// Target policy smoothing: `clip(μ'(s') + clip(noise · policy_noise, ±noise_clip) · scale,
/// low, high)`, with `noise` standard normal of the action's shape.
pub fn smoothed_target_action(
    target_action: &Tensor,
    noise: &Tensor,
    cfg: &Td3Config,
    scale: &Tensor,
    low: &Tensor,
    high: &Tensor,
) -> Tensor {
    let eps = (noise * cfg.policy_noise).clamp(-cfg.noise_clip, cfg.noise_clip) * scale;
    (target_action + eps).clamp_tensor(Some(low), Some(high))
}

/// Train TD3 on `env_id` (see the module docs). TD3 takes no schedule hooks: its actor and
/// critics have separate optimizers, and a schedule sees one.
pub fn train(cfg: &Td3Config, env_id: &str, seed: u64, opts: &RunOptions) -> Result<TrainSummary> {
    cfg.validate()?;
    let run = Harness::open("td3", env_id, seed, cfg, opts)?;
    let device = opts.device;
    let env = opts.make_env(env_id)?;
    let obs_spec = ObsSpec::from_space(env.observation_space())?;
    let (low, high) = match ActionSpec::from_space(env.action_space())? {
        ActionSpec::Continuous { low, high } => (low, high),
        ActionSpec::Discrete { .. } => {
            return Err(Error::Invalid(format!(
                "td3 needs continuous actions; {env_id} has discrete ones (use dqn or ppo)"
            )))
        }
    };
    if low.iter().chain(&high).any(|x| !x.is_finite()) {
        return Err(Error::Invalid(format!(
            "td3 needs a bounded action box (its actor ends in tanh); {env_id}'s is unbounded"
        )));
    }
    let d = low.len();
    tch::manual_seed(step_seed(seed, u64::MAX));
    let mut actor_vs = nn::VarStore::new(device);
    let actor = Td3Actor::new(&actor_vs.root(), cfg, &obs_spec, &low, &high)?;
    let mut q_vs = nn::VarStore::new(device);
    let (q1, q2) = (
        SoftQ::new(&(q_vs.root() / "q1"), &cfg.torso, &cfg.hidden, &obs_spec, d as i64)?,
        SoftQ::new(&(q_vs.root() / "q2"), &cfg.torso, &cfg.hidden, &obs_spec, d as i64)?,
    );
    torch_default_init(&actor_vs, "");
    torch_default_init(&q_vs, "");
    let groups = actor.torso().layer_groups();
    actor.torso().load_pretrained(&mut actor_vs, &cfg.torso)?;
    let mut q_groups = Vec::new();
    for q in [&q1, &q2] {
        if let Some(t) = q.torso() {
            t.load_pretrained(&mut q_vs, &cfg.torso)?;
            q_groups.extend(t.layer_groups());
        }
    }
    let actor_target_vs = nn::VarStore::new(device);
    let actor_target = Td3Actor::new(&actor_target_vs.root(), cfg, &obs_spec, &low, &high)?;
    ema_update(&actor_target_vs, &actor_vs, 0.0)?;
    let q_target_vs = nn::VarStore::new(device);
    let (q1_t, q2_t) = (
        SoftQ::new(&(q_target_vs.root() / "q1"), &cfg.torso, &cfg.hidden, &obs_spec, d as i64)?,
        SoftQ::new(&(q_target_vs.root() / "q2"), &cfg.torso, &cfg.hidden, &obs_spec, d as i64)?,
    );
    ema_update(&q_target_vs, &q_vs, 0.0)?;
    let adam = OptimizerConfig::adam(cfg.learning_rate);
    let mut actor_opt = Optimizer::new(&actor_vs, &groups, &adam)?;
    let mut q_opt = Optimizer::new(&q_vs, &q_groups, &adam)?;
    if cfg.torso.freeze {
        for g in &groups {
            actor_opt.freeze(&g.name)?;
        }
        for g in &q_groups {
            q_opt.freeze(&g.name)?;
        }
    }
    // The buffer fills up to its size or the run's budget, whichever is smaller.
    let stored = cfg.buffer_size.min(cfg.total_timesteps as usize) as u128;
    check_replay_storage("TD3 replay buffer", stored, &obs_spec, d)?;
    let parts = &mut [
        Part::trained("actor", &actor_vs, &mut actor_opt),
        Part::fixed("actor_target", &actor_target_vs),
        Part::trained("q", &q_vs, &mut q_opt),
        Part::fixed("q_target", &q_target_vs),
    ];
    let mut no_hooks = NoHooks;
    let mut run = run.begin(cfg.total_timesteps, 1, d, parts, &mut no_hooks)?;
    let mut updates = run.updates();
    let mut rb = ReplayBuffer::new(cfg.buffer_size, obs_spec.clone(), d);
    let mut one_step = NStep::new(1, cfg.gamma as f32);
    let mut env = SingleEnv::new(env, seed)?;
    let (lo_cpu, hi_cpu) = (Tensor::from_slice(&low), Tensor::from_slice(&high));
    let (lo_dev, hi_dev) = (lo_cpu.to_device(device), hi_cpu.to_device(device));
    let scale_cpu = actor.scale().to_device(Device::Cpu);

    for global_step in 0..cfg.total_timesteps {
        // ---- Act: logged action (replay), uniform random (warm-up), or μ(s) plus noise. ----
        let a: Vec<f32> = match run.replay_action(global_step) {
            Some(logged) => logged.to_vec(),
            None => {
                tch::manual_seed(step_seed(seed, global_step));
                let t = if global_step < cfg.learning_starts {
                    Tensor::rand([d as i64], (Kind::Float, Device::Cpu)) * (&hi_cpu - &lo_cpu)
                        + &lo_cpu
                } else {
                    let x = obs_spec.to_tensor(&env.obs.f32, &env.obs.u8, 1, device);
                    let mu = tch::no_grad(|| actor.forward(&x)).view([-1]).to_device(Device::Cpu);
                    let noise = Tensor::randn([d as i64], (Kind::Float, Device::Cpu))
                        * (&scale_cpu * cfg.exploration_noise);
                    (mu + noise).clamp_tensor(Some(&lo_cpu), Some(&hi_cpu))
                };
                Vec::try_from(&t)?
            }
        };
        let action = Action::Continuous(a.clone());
        env.step(action.as_ref(), &a, &mut one_step, &mut rb, &mut run, global_step)?;
        // A replayed step only rebuilds the env and the buffer.
        if run.replaying() {
            continue;
        }
        run.log_action(&a);

        // ---- Learn: critics every step; actor and targets every policy_frequency steps. ----
        if global_step >= cfg.learning_starts {
            let b = rb.sample(cfg.batch_size, device);
            let y = tch::no_grad(|| {
                let target_a = actor_target.forward(&b.next_obs);
                let next_a = smoothed_target_action(
                    &target_a,
                    &target_a.randn_like(),
                    cfg,
                    actor.scale(),
                    &lo_dev,
                    &hi_dev,
                );
                let (n1, n2) =
                    (q1_t.forward(&b.next_obs, &next_a), q2_t.forward(&b.next_obs, &next_a));
                td3_target(&b.rewards, &b.discounts, &b.terminated, &n1, &n2)
            });
            let q_loss = q1.forward(&b.obs, &b.actions).mse_loss(&y, Reduction::Mean)
                + q2.forward(&b.obs, &b.actions).mse_loss(&y, Reduction::Mean);
            let qv = q_loss.double_value(&[]);
            if !qv.is_finite() {
                return Err(Error::Diverged { step: global_step as usize, loss: qv });
            }
            q_opt.backward_step(&q_loss)?;
            updates += 1;
            let mut actor_loss_value = None;
            if global_step % cfg.policy_frequency == 0 {
                let actor_loss = -q1.forward(&b.obs, &actor.forward(&b.obs)).mean(Kind::Float);
                actor_opt.backward_step(&actor_loss)?;
                actor_loss_value = Some(actor_loss.double_value(&[]));
                ema_update(&actor_target_vs, &actor_vs, 1.0 - cfg.tau)?;
                ema_update(&q_target_vs, &q_vs, 1.0 - cfg.tau)?;
            }
            if global_step % 100 == 0 {
                let mut row = vec![("losses/qf_loss", qv / 2.0)];
                if let Some(v) = actor_loss_value {
                    row.push(("losses/actor_loss", v));
                }
                run.log(global_step, &row)?;
            }
        }

        // ---- Evaluation, checkpoint, stop: the harness decides. ----
        let parts = &mut [
            Part::trained("actor", &actor_vs, &mut actor_opt),
            Part::fixed("actor_target", &actor_target_vs),
            Part::trained("q", &q_vs, &mut q_opt),
            Part::fixed("q_target", &q_target_vs),
        ];
        let policy = |x: &Tensor| actor.forward(x);
        if run.after_update(global_step + 1, updates, parts, &policy)?.is_break() {
            break;
        }
    }
    run.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(xs: &[f32]) -> Tensor {
        Tensor::from_slice(xs)
    }

    fn values(x: &Tensor) -> Vec<f32> {
        Vec::try_from(x).unwrap()
    }

    /// y = r + γ (1 − terminated) min(q1', q2'), by hand: 1 + 0.99 · 2 = 2.98; terminated
    /// keeps the reward alone; the smaller critic is taken per sample.
    #[test]
    fn target_takes_the_smaller_critic_and_stops_at_termination() {
        let y = td3_target(
            &t(&[1.0, 1.0, -0.5]),
            &t(&[0.99, 0.99, 0.5]),
            &t(&[0.0, 1.0, 0.0]),
            &t(&[2.0, 5.0, 3.0]),
            &t(&[4.0, 5.0, -1.0]),
        );
        let got = values(&y);
        for (g, w) in got.iter().zip([2.98f32, 1.0, -1.0]) {
            assert!((g - w).abs() < 1e-6, "{got:?}");
        }
    }

    /// Noise 3σ → 0.6, clipped to 0.5, times the scale 2 → +1.0; the sum is clipped to the box.
    #[test]
    fn smoothing_clips_the_noise_then_the_action() {
        let cfg = Td3Config::default();
        let (scale, low, high) = (t(&[2.0, 2.0, 2.0]), t(&[-2.0; 3]), t(&[2.0; 3]));
        let a = smoothed_target_action(
            &t(&[0.0, 1.5, -1.0]),
            &t(&[3.0, 1.0, -0.5]),
            &cfg,
            &scale,
            &low,
            &high,
        );
        // 0 + 1.0; 1.5 + 0.4 = 1.9; -1.0 - 0.2 = -1.2.
        let got = values(&a);
        for (g, w) in got.iter().zip([1.0f32, 1.9, -1.2]) {
            assert!((g - w).abs() < 1e-6, "{got:?}");
        }
        let big = smoothed_target_action(
            &t(&[1.8]),
            &t(&[2.0]),
            &cfg,
            &t(&[2.0]),
            &t(&[-2.0]),
            &t(&[2.0]),
        );
        assert_eq!(values(&big), [2.0]);
    }

    #[test]
    fn bad_configs_are_refused_by_name() {
        for (cfg, word) in [
            (Td3Config { policy_frequency: 0, ..Td3Config::default() }, "policy_frequency"),
            (Td3Config { tau: 0.0, ..Td3Config::default() }, "tau"),
            (Td3Config { learning_rate: -1.0, ..Td3Config::default() }, "learning_rate"),
            (Td3Config { noise_clip: f64::NAN, ..Td3Config::default() }, "noise_clip"),
        ] {
            let e = cfg.validate().unwrap_err().to_string();
            assert!(e.contains(word), "{e}");
        }
    }
}
