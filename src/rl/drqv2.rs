//! DrQ-v2 for continuous control from pixels (Yarats et al. 2021, "Mastering Visual
//! Continuous Control: Improved Data-Augmented Reinforcement Learning",
//! <https://arxiv.org/abs/2107.09645>), following the authors' implementation
//! (`facebookresearch/drqv2`): a DDPG-style actor-critic on the features of a convolutional
//! encoder ([`crate::models::DrqCnn`] by default, any zoo CNN through `torso.model`, so it
//! can be a pretrained encoder, frozen or scheduled by hooks), with
//!
//! - random-shift augmentation of every sampled frame (replicate-pad 4, bilinear grid sample
//!   at a whole-pixel offset: [`random_shift_grid`]);
//! - n-step returns and clipped double Q-learning: `y = R + γ^n min_j Q'_j(s', a')`,
//!   `a' = μ(s') + clip(ε, ±stddev_clip)`, `ε ~ N(0, σ(t)²)`;
//! - exploration noise `σ(t)` on a linear schedule, uniform actions for the first
//!   `num_expl_steps` steps;
//! - the encoder trained by the critic's loss only (the actor sees detached features), the
//!   critic's target a Polyak copy of its trunk and heads (the encoder is shared, not copied).
//!
//! Every count here is in agent steps (env steps of the wrapped env: one decision, repeated
//! `action_repeat` physics steps). DrQ-v2 repeats each action twice, so its "frames" are twice
//! these steps: 4000 seed frames are 2000 steps here.
//!
//! Hooks see the encoder's optimizer (its layer groups `encoder.<group>`), so a schedule can
//! keep a pretrained encoder frozen for a while, unfreeze it, or set its learning rate.

use serde::{Deserialize, Serialize};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

use graft_envs::wrappers::PixelObservation;
use graft_envs::{Action, Env};

use crate::data::augment::random_shift_grid;
use crate::error::{Error, Result};
use crate::optim::{ema_update, Optimizer, OptimizerConfig};
use crate::rl::buffer::{check_replay_storage, Batch, NStep, ReplayBuffer};
use crate::rl::drqv2_net::{noisy_action, Nets};
use crate::rl::harness::Harness;
use crate::rl::nets::{ActionSpec, ObsSpec, TorsoConfig};
use crate::rl::run::{RunOptions, TrainSummary};
use crate::rl::single_env::SingleEnv;
use crate::rl::state::Part;
use crate::rl::td3::td3_target;
use crate::train::{step_seed, TrainHooks};

/// DrQ-v2's observation of a Control Suite task: 84x84 RGB frames, the last 3 stacked.
pub fn paper_pixels() -> PixelObservation {
    PixelObservation { size: [84, 84], grayscale: false, frame_stack: 3 }
}

/// DrQ-v2 repeats every action twice on every task.
pub const PAPER_ACTION_REPEAT: usize = 2;

/// A value moving linearly from `init` to `end` over `duration` steps, then held: DrQ-v2's
/// `linear(init, end, duration)` exploration schedule.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LinearSchedule {
    /// Value at step 0.
    pub init: f64,
    /// Value from `duration` on.
    pub end: f64,
    /// Steps of the ramp.
    pub duration: u64,
}

impl LinearSchedule {
    /// The value at `step`.
    pub fn at(&self, step: u64) -> f64 {
        let mix = (step as f64 / self.duration.max(1) as f64).clamp(0.0, 1.0);
        (1.0 - mix) * self.init + mix * self.end
    }
}

/// DrQ-v2 hyperparameters. Defaults are the paper's "medium" tasks (`cfgs/config.yaml` with
/// `task/medium.yaml`); [`DrqV2Config::for_task`] gives each Control Suite task its own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DrqV2Config {
    /// Agent steps to train for (the paper's medium tasks: 3.1M frames = 1.55M steps).
    pub total_timesteps: u64,
    /// Adam learning rate of the encoder, the actor and the critic.
    pub learning_rate: f64,
    /// Replay buffer capacity (transitions).
    pub buffer_size: usize,
    /// Discount factor γ.
    pub gamma: f64,
    /// Steps summed into one return (`n` of the n-step target).
    pub n_step: usize,
    /// Polyak rate of the critic's target.
    pub tau: f64,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Steps before the first update (the paper's 4000 seed frames at action repeat 2).
    pub learning_starts: u64,
    /// Steps of uniformly random actions.
    pub num_expl_steps: u64,
    /// One update every this many steps.
    pub update_every: u64,
    /// Standard deviation of the actor's Gaussian noise over the steps.
    pub stddev_schedule: LinearSchedule,
    /// Bound of that noise when the actor's action is used in a loss or a target.
    pub stddev_clip: f64,
    /// Width of the trunk (linear → LayerNorm → tanh) the actor and the critic each put on
    /// the encoder's features.
    pub feature_dim: i64,
    /// Hidden widths of the actor's policy MLP and of each Q-network.
    pub hidden: Vec<i64>,
    /// Replicate padding of the random shift (0: no augmentation).
    pub augment_pad: usize,
    /// The encoder: `model` defaults to `drq_cnn` (the paper's); `init_encoder` / `freeze`
    /// as for every agent.
    pub torso: TorsoConfig,
}

impl Default for DrqV2Config {
    fn default() -> Self {
        DrqV2Config {
            total_timesteps: 1_550_000,
            learning_rate: 1e-4,
            buffer_size: 1_000_000,
            gamma: 0.99,
            n_step: 3,
            tau: 0.01,
            batch_size: 256,
            learning_starts: 2_000,
            num_expl_steps: 2_000,
            update_every: 2,
            stddev_schedule: LinearSchedule { init: 1.0, end: 0.1, duration: 500_000 },
            stddev_clip: 0.3,
            feature_dim: 50,
            hidden: vec![1024, 1024],
            augment_pad: 4,
            torso: TorsoConfig::default(),
        }
    }
}

/// The paper's task groups (`cfgs/task/*.yaml`): "easy" tasks ramp the noise down over 100k
/// steps and train 1.1M frames; "hard" (humanoid) over 2M steps, 30.1M frames, with lr 8e-5
/// and 100 features; every other task is "medium".
const EASY_TASKS: &[&str] = &[
    "cartpole-balance",
    "cartpole-balance_sparse",
    "cartpole-swingup",
    "cup-catch",
    "finger-spin",
    "hopper-stand",
    "pendulum-swingup",
    "walker-stand",
    "walker-walk",
];

impl DrqV2Config {
    /// The paper's "easy" tasks.
    pub fn easy() -> Self {
        DrqV2Config {
            total_timesteps: 550_000,
            stddev_schedule: LinearSchedule { init: 1.0, end: 0.1, duration: 100_000 },
            ..Self::default()
        }
    }

    /// The paper's "medium" tasks (the defaults).
    pub fn medium() -> Self {
        Self::default()
    }

    /// The paper's "hard" tasks (humanoid).
    pub fn hard() -> Self {
        DrqV2Config {
            total_timesteps: 15_050_000,
            learning_rate: 8e-5,
            feature_dim: 100,
            stddev_schedule: LinearSchedule { init: 1.0, end: 0.1, duration: 2_000_000 },
            ..Self::default()
        }
    }

    /// The paper's settings for a Control Suite id (`dmc/walker-walk`): its task group, plus
    /// the per-task changes of `cfgs/task/` (walker: 1-step returns, batch 512; quadruped-run:
    /// a 100k buffer). Other ids get the defaults.
    pub fn for_task(env_id: &str) -> Self {
        let task = env_id.strip_prefix("dmc/").unwrap_or("");
        let mut cfg = if task.starts_with("humanoid-") {
            Self::hard()
        } else if EASY_TASKS.contains(&task) {
            Self::easy()
        } else {
            Self::medium()
        };
        if task.starts_with("walker-") {
            (cfg.n_step, cfg.batch_size) = (1, 512);
        }
        if task == "quadruped-run" {
            cfg.buffer_size = 100_000;
        }
        cfg
    }

    /// Refuse values that cannot train.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Invalid(format!("drqv2 config: {m}")));
        if self.batch_size == 0
            || self.buffer_size == 0
            || self.update_every == 0
            || self.n_step == 0
        {
            return bad("batch_size, buffer_size, update_every and n_step must be at least 1");
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
        let s = &self.stddev_schedule;
        if [s.init, s.end, self.stddev_clip].iter().any(|x| !x.is_finite() || *x < 0.0) {
            return bad("stddev_schedule's init and end and stddev_clip must be non-negative");
        }
        if self.feature_dim <= 0 || self.hidden.iter().any(|&h| h <= 0) {
            return bad("feature_dim and the hidden widths must be positive");
        }
        Ok(())
    }

    /// The encoder's settings: the paper's `drq_cnn` unless `torso.model` names another.
    pub fn encoder(&self) -> TorsoConfig {
        let mut torso = self.torso.clone();
        if torso.model.is_none() {
            torso.model = Some(serde_json::json!({ "kind": "drq_cnn" }));
        }
        torso
    }
}

impl DrqV2Learner {
    /// The checkpoint's parts (see [`parts`]).
    pub fn parts(&mut self) -> [Part<'_>; 4] {
        parts(&self.nets, &mut self.encoder_opt, &mut self.actor_opt, &mut self.critic_opt)
    }
}

/// The checkpoint's parts, the encoder first: hooks see its optimizer.
fn parts<'a>(
    nets: &'a Nets,
    encoder_opt: &'a mut Optimizer,
    actor_opt: &'a mut Optimizer,
    critic_opt: &'a mut Optimizer,
) -> [Part<'a>; 4] {
    [
        Part::trained("encoder", &nets.encoder_vs, encoder_opt),
        Part::trained("actor", &nets.actor_vs, actor_opt),
        Part::trained("critic", &nets.critic_vs, critic_opt),
        Part::fixed("critic_target", &nets.target_vs),
    ]
}

/// The observation layout DrQ-v2 accepts: frames (a single image or a stack), or an error
/// that says how to get them.
fn pixel_spec(env: &dyn Env, env_id: &str) -> Result<ObsSpec> {
    match ObsSpec::from_space(env.observation_space())? {
        ObsSpec::Vector(d) => Err(Error::Invalid(format!(
            "drqv2 learns from pixels, but {env_id} gives {d}-wide state vectors: observe \
             rendered frames (graft rl train --pixels 84x84 --frame-stack 3; in scripts \
             pixels: #{{size: [84, 84], frame_stack: 3}}), or use sac or td3 on states"
        ))),
        spec => Ok(spec),
    }
}

/// The `[−1, 1]` action box mapped to the env's: `(scale, bias)` with `a_env = a · scale +
/// bias`, refusing discrete and unbounded actions.
fn action_map(env: &dyn Env, env_id: &str) -> Result<(Vec<f32>, Vec<f32>)> {
    let (low, high) = match ActionSpec::from_space(env.action_space())? {
        ActionSpec::Continuous { low, high } => (low, high),
        ActionSpec::Discrete { .. } => {
            return Err(Error::Invalid(format!(
                "drqv2 needs continuous actions; {env_id} has discrete ones (use dqn or ppo)"
            )))
        }
    };
    if low.iter().chain(&high).any(|x| !x.is_finite()) {
        return Err(Error::Invalid(format!(
            "drqv2 needs a bounded action box (its actor ends in tanh); {env_id}'s is unbounded"
        )));
    }
    let scale = low.iter().zip(&high).map(|(l, h)| (h - l) / 2.0).collect();
    let bias = low.iter().zip(&high).map(|(l, h)| (h + l) / 2.0).collect();
    Ok((scale, bias))
}

/// What one update measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateStats {
    /// `MSE(Q1, y) + MSE(Q2, y)`.
    pub critic_loss: f64,
    /// `−mean min(Q1, Q2)` at the actor's noisy action.
    pub actor_loss: f64,
    /// Mean of the target `y`.
    pub target_q: f64,
}

/// DrQ-v2's networks with their optimizers: what one update changes. [`train_with_hooks`]
/// drives it from the env; the benchmark (`benchmarks/rl_updates.rs`) times
/// [`DrqV2Learner::update`] on its own against the PyTorch peer.
pub struct DrqV2Learner {
    nets: Nets,
    encoder_opt: Optimizer,
    actor_opt: Optimizer,
    critic_opt: Optimizer,
    cfg: DrqV2Config,
}

impl DrqV2Learner {
    /// The networks for observations `obs` and `action_dim`-wide actions in `[−1, 1]`, seeded
    /// from libtorch's generator, the encoder loaded (and frozen) as `cfg.torso` says, one
    /// Adam per network at `cfg.learning_rate`.
    pub fn new(
        cfg: &DrqV2Config,
        obs: &ObsSpec,
        action_dim: usize,
        device: Device,
    ) -> Result<Self> {
        let nets = Nets::new(cfg, obs, action_dim as i64, device)?;
        let adam = OptimizerConfig::adam(cfg.learning_rate);
        let encoder_groups = nets.encoder.layer_groups();
        let mut encoder_opt = Optimizer::new(&nets.encoder_vs, &encoder_groups, &adam)?;
        if cfg.torso.freeze {
            for g in &encoder_groups {
                encoder_opt.freeze(&g.name)?;
            }
        }
        let actor_opt = Optimizer::new(&nets.actor_vs, &[], &adam)?;
        let critic_opt = Optimizer::new(&nets.critic_vs, &[], &adam)?;
        Ok(DrqV2Learner { nets, encoder_opt, actor_opt, critic_opt, cfg: cfg.clone() })
    }

    /// The action for one observation batch, in `[−1, 1]`: the mean plus unclipped noise of
    /// `stddev` (what the agent explores with).
    pub fn explore(&self, x: &Tensor, stddev: f64) -> Tensor {
        let mean = tch::no_grad(|| self.nets.mean_action(x));
        noisy_action(&mean, &mean.randn_like(), stddev, None)
    }

    /// One update on a sampled batch (actions in `[−1, 1]`), with the noise at `stddev`:
    /// augment both observations, critic and encoder step, actor step on detached features,
    /// Polyak step of the critic's target.
    pub fn update(&mut self, b: &Batch, stddev: f64) -> Result<UpdateStats> {
        let (cfg, nets) = (&self.cfg, &self.nets);
        let obs = random_shift_grid(&b.obs, cfg.augment_pad);
        let next_obs = random_shift_grid(&b.next_obs, cfg.augment_pad);
        let h = nets.encoder.forward(&obs);
        let y = tch::no_grad(|| {
            let h_next = nets.encoder.forward(&next_obs);
            let mean = nets.actor.mean(&h_next);
            let next_a = noisy_action(&mean, &mean.randn_like(), stddev, Some(cfg.stddev_clip));
            let (t1, t2) = nets.target.forward(&h_next, &next_a);
            td3_target(&b.rewards, &b.discounts, &b.terminated, &t1, &t2)
        });
        let (q1, q2) = nets.critic.forward(&h, &b.actions);
        let critic_loss = q1.mse_loss(&y, Reduction::Mean) + q2.mse_loss(&y, Reduction::Mean);
        let critic_value = critic_loss.double_value(&[]);
        if !critic_value.is_finite() {
            return Ok(UpdateStats {
                critic_loss: critic_value,
                actor_loss: f64::NAN,
                target_q: f64::NAN,
            });
        }
        self.encoder_opt.zero_grad();
        self.critic_opt.zero_grad();
        critic_loss.f_backward()?;
        self.critic_opt.step()?;
        self.encoder_opt.step()?;
        // The actor learns on detached features: only the critic shapes the encoder.
        let h = h.detach();
        let mean = nets.actor.mean(&h);
        let a_pi = noisy_action(&mean, &mean.randn_like(), stddev, Some(cfg.stddev_clip));
        let (p1, p2) = nets.critic.forward(&h, &a_pi);
        let actor_loss = -p1.minimum(&p2).mean(Kind::Float);
        self.actor_opt.backward_step(&actor_loss)?;
        ema_update(&nets.target_vs, &nets.critic_vs, 1.0 - cfg.tau)?;
        Ok(UpdateStats {
            critic_loss: critic_value,
            actor_loss: actor_loss.double_value(&[]),
            target_q: y.mean(Kind::Float).double_value(&[]),
        })
    }
}

/// Train DrQ-v2 on `env_id` (see the module docs) with schedule hooks on the encoder.
pub fn train_with_hooks(
    cfg: &DrqV2Config,
    env_id: &str,
    seed: u64,
    opts: &RunOptions,
    hooks: &mut dyn TrainHooks,
) -> Result<TrainSummary> {
    cfg.validate()?;
    let run = Harness::open("drqv2", env_id, seed, cfg, opts)?;
    let device = opts.device;
    let env = opts.make_env(env_id)?;
    let obs_spec = pixel_spec(env.as_ref(), env_id)?;
    let (scale, bias) = action_map(env.as_ref(), env_id)?;
    let d = scale.len();
    tch::manual_seed(step_seed(seed, u64::MAX));
    let mut learner = DrqV2Learner::new(cfg, &obs_spec, d, device)?;
    // The buffer fills up to its size or the run's budget, whichever is smaller.
    let stored = cfg.buffer_size.min(cfg.total_timesteps as usize) as u128;
    check_replay_storage("DrQ-v2 replay buffer", stored, &obs_spec, d)?;
    let mut run = run.begin(cfg.total_timesteps, 1, d, &mut learner.parts(), hooks)?;
    let mut updates = run.updates();
    let mut rb = ReplayBuffer::new(cfg.buffer_size, obs_spec.clone(), d);
    let mut returns = NStep::new(cfg.n_step, cfg.gamma as f32);
    let mut env = SingleEnv::new(env, seed)?;
    let to_env = |a: &[f32]| -> Vec<f32> {
        a.iter().zip(scale.iter().zip(&bias)).map(|(x, (s, b))| x * s + b).collect()
    };
    let (scale_dev, bias_dev) =
        (Tensor::from_slice(&scale).to_device(device), Tensor::from_slice(&bias).to_device(device));
    if run.round_start(0, &mut learner.parts())?.is_break() {
        return run.finish();
    }

    for step in 0..cfg.total_timesteps {
        // ---- Act in [−1, 1]^d: logged (replay), uniform (exploration), or μ(s) + noise. ----
        tch::manual_seed(step_seed(seed, step));
        let stddev = cfg.stddev_schedule.at(step);
        let a: Vec<f32> = match run.replay_action(step) {
            Some(logged) => logged.to_vec(),
            None if step < cfg.num_expl_steps => {
                let u = Tensor::rand([d as i64], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
                Vec::try_from(&u)?
            }
            None => {
                let x = obs_spec.to_tensor(&env.obs.f32, &env.obs.u8, 1, device);
                Vec::try_from(learner.explore(&x, stddev).view([-1]).to_device(Device::Cpu))?
            }
        };
        let env_action = Action::Continuous(to_env(&a));
        env.step(env_action.as_ref(), &a, &mut returns, &mut rb, &mut run, step)?;
        // A replayed step only rebuilds the env and the buffer.
        if run.replaying() {
            continue;
        }
        run.log_action(&a);

        // ---- Learn every update_every steps once the seed steps are done. ----
        if step >= cfg.learning_starts && step % cfg.update_every == 0 && !rb.is_empty() {
            let stats = learner.update(&rb.sample(cfg.batch_size, device), stddev)?;
            if !stats.critic_loss.is_finite() {
                return Err(Error::Diverged { step: step as usize, loss: stats.critic_loss });
            }
            updates += 1;
            if updates % 50 == 1 {
                let row = [
                    ("losses/critic_loss", stats.critic_loss),
                    ("losses/actor_loss", stats.actor_loss),
                    ("losses/critic_target_q", stats.target_q),
                    ("charts/stddev", stddev),
                ];
                run.log(step, &row)?;
            }
        }

        // ---- Evaluation (the noise-free mean action), checkpoint, stop: the harness. ----
        let DrqV2Learner { nets, encoder_opt, actor_opt, critic_opt, .. } = &mut learner;
        let policy = |x: &Tensor| nets.mean_action(x) * &scale_dev + &bias_dev;
        let mut p = parts(nets, encoder_opt, actor_opt, critic_opt);
        if run.after_update(step + 1, updates, &mut p, &policy)?.is_break() {
            break;
        }
    }
    run.finish()
}

/// A trained DrQ-v2 agent's deterministic policy, rebuilt from `cfg` (without re-reading a
/// pretraining checkpoint: the weights come from the run's checkpoint).
pub struct DrqV2Policy {
    nets: Nets,
    scale: Tensor,
    bias: Tensor,
}

impl DrqV2Policy {
    /// Build the networks for `env`'s spaces; the caller restores `encoder` and `actor` into
    /// the VarStores returned by [`DrqV2Policy::stores`].
    pub fn new(cfg: &DrqV2Config, env: &dyn Env, device: Device) -> Result<Self> {
        let id = env.id().to_string();
        let obs = pixel_spec(env, &id)?;
        let (scale, bias) = action_map(env, &id)?;
        let mut cfg = cfg.clone();
        cfg.torso.init_encoder = None;
        let nets = Nets::new(&cfg, &obs, scale.len() as i64, device)?;
        let scale = Tensor::from_slice(&scale).to_device(device);
        let bias = Tensor::from_slice(&bias).to_device(device);
        Ok(DrqV2Policy { nets, scale, bias })
    }

    /// The encoder's and the actor's variables, for restoring.
    pub fn stores(&self) -> (&nn::VarStore, &nn::VarStore) {
        (&self.nets.encoder_vs, &self.nets.actor_vs)
    }

    /// The mean action in the env's box, `[B, d]`.
    pub fn act(&self, x: &Tensor) -> Tensor {
        self.nets.mean_action(x) * &self.scale + &self.bias
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// linear(1.0, 0.1, 100000): 1.0 at 0, halfway 0.55, held at 0.1 after the ramp.
    #[test]
    fn the_noise_schedule_ramps_then_holds() {
        let s = LinearSchedule { init: 1.0, end: 0.1, duration: 100_000 };
        for (step, want) in [(0, 1.0), (50_000, 0.55), (100_000, 0.1), (400_000, 0.1)] {
            assert!((s.at(step) - want).abs() < 1e-12, "{step}: {}", s.at(step));
        }
    }

    #[test]
    fn the_papers_task_groups() {
        let w = DrqV2Config::for_task("dmc/walker-walk");
        assert_eq!((w.stddev_schedule.duration, w.n_step, w.batch_size), (100_000, 1, 512));
        let c = DrqV2Config::for_task("dmc/cheetah-run");
        assert_eq!((c.stddev_schedule.duration, c.n_step, c.batch_size), (500_000, 3, 256));
        let h = DrqV2Config::for_task("dmc/humanoid-run");
        assert_eq!((h.learning_rate, h.feature_dim), (8e-5, 100));
        assert_eq!(DrqV2Config::for_task("dmc/quadruped-run").buffer_size, 100_000);
    }

    #[test]
    fn bad_configs_are_refused_by_name() {
        for (cfg, word) in [
            (DrqV2Config { n_step: 0, ..Default::default() }, "n_step"),
            (DrqV2Config { tau: 2.0, ..Default::default() }, "tau"),
            (DrqV2Config { learning_rate: 0.0, ..Default::default() }, "learning_rate"),
            (DrqV2Config { stddev_clip: f64::NAN, ..Default::default() }, "stddev_clip"),
            (DrqV2Config { feature_dim: 0, ..Default::default() }, "feature_dim"),
        ] {
            let e = cfg.validate().unwrap_err().to_string();
            assert!(e.contains(word), "{e}");
        }
    }
}
