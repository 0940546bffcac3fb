//! Deep Q-Networks (Mnih et al. 2015, "Human-level control through deep reinforcement
//! learning", Nature 518, <https://doi.org/10.1038/nature14236>), following CleanRL's
//! `dqn.py`: one env, ε-greedy with a linearly decaying ε, a uniform replay buffer, a target
//! network updated every `target_network_frequency` steps (hard copy at `tau = 1`, Polyak
//! averaging below), MSE or Huber TD loss.
//!
//! Options beyond CleanRL's defaults:
//! - **Double DQN** (van Hasselt et al. 2016, <https://arxiv.org/abs/1509.06461>): the online
//!   network picks the next action, the target network values it.
//! - **n-step returns** (Sutton 1988; Hessel et al. 2018), through [`NStep`].
//! - `gradient_steps` per training step and gradient clipping, to reproduce Stable-Baselines3's
//!   settings.
//!
//! Terminated and truncated episodes differ only in bootstrapping: a truncated transition is
//! stored with `terminated = false`, so its target still includes `γ max Q(s_final)`.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Reduction, Tensor};

use graft_envs::{Action, Env};

use crate::error::{Error, Result};
use crate::models::Activation;
use crate::optim::{copy_vars, ema_update, Optimizer, OptimizerConfig};
use crate::rl::buffer::{check_storage, NStep, ReplayBuffer};
use crate::rl::harness::Harness;
use crate::rl::nets::{torch_default_init, ActionSpec, ObsSpec, Torso, TorsoConfig};
use crate::rl::run::{RunOptions, TrainSummary};
use crate::rl::single_env::SingleEnv;
use crate::rl::state::Part;
use crate::train::{step_seed, NoHooks, TrainHooks};

/// The TD loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TdLoss {
    /// Mean squared error (CleanRL).
    Mse,
    /// Huber / smooth L1 with threshold 1 (the Nature paper's error clipping; SB3).
    Huber,
}

/// The optimizer of the Q-network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DqnOptimizer {
    /// Adam with PyTorch's defaults besides the learning rate (CleanRL, Stable-Baselines3).
    Adam,
    /// RMSprop (MinAtar's DQN: centred, α 0.95, ε 0.01; the Nature DQN used a centred variant
    /// too).
    Rmsprop {
        /// Smoothing constant of the squared-gradient average.
        alpha: f64,
        /// Added to the denominator.
        eps: f64,
        /// Divide by the gradient's standard deviation instead of its root mean square.
        centered: bool,
    },
}

impl DqnOptimizer {
    /// The optimizer configuration for learning rate `lr`.
    pub fn config(&self, lr: f64) -> OptimizerConfig {
        match *self {
            DqnOptimizer::Adam => OptimizerConfig::adam(lr),
            DqnOptimizer::Rmsprop { alpha, eps, centered } => {
                OptimizerConfig::rmsprop(lr, alpha, eps, centered)
            }
        }
    }
}

/// DQN hyperparameters. Defaults are CleanRL `dqn.py`'s (CartPole-v1, 500k steps).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DqnConfig {
    /// Env steps to train for.
    pub total_timesteps: u64,
    /// Learning rate.
    pub learning_rate: f64,
    /// The optimizer (`{"kind": "adam"}` or `{"kind": "rmsprop", "alpha", "eps", "centered"}`).
    pub optimizer: DqnOptimizer,
    /// Replay buffer capacity (transitions).
    pub buffer_size: usize,
    /// Discount factor γ.
    pub gamma: f64,
    /// Target update rate: 1 copies the online network, below 1 averages (Polyak).
    pub tau: f64,
    /// Env steps between target updates.
    pub target_network_frequency: u64,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// ε at the start.
    pub start_e: f64,
    /// ε at the end of the decay.
    pub end_e: f64,
    /// Fraction of `total_timesteps` over which ε decays linearly.
    pub exploration_fraction: f64,
    /// Env steps of pure data collection before learning starts.
    pub learning_starts: u64,
    /// Env steps between training steps.
    pub train_frequency: u64,
    /// Gradient steps per training step.
    pub gradient_steps: usize,
    /// Double DQN targets.
    pub double_q: bool,
    /// n of n-step returns (1: ordinary one-step targets).
    pub n_step: usize,
    /// The TD loss.
    pub loss: TdLoss,
    /// Clip the gradient norm to this (None: no clipping).
    pub max_grad_norm: Option<f64>,
    /// Hidden widths of the default MLP torso.
    pub hidden: Vec<i64>,
    /// Activation of the default MLP torso.
    pub activation: Activation,
    /// The torso: zoo model, pretrained weights, freezing.
    pub torso: TorsoConfig,
}

impl Default for DqnConfig {
    fn default() -> Self {
        DqnConfig {
            total_timesteps: 500_000,
            learning_rate: 2.5e-4,
            optimizer: DqnOptimizer::Adam,
            buffer_size: 10_000,
            gamma: 0.99,
            tau: 1.0,
            target_network_frequency: 500,
            batch_size: 128,
            start_e: 1.0,
            end_e: 0.05,
            exploration_fraction: 0.5,
            learning_starts: 10_000,
            train_frequency: 10,
            gradient_steps: 1,
            double_q: false,
            n_step: 1,
            loss: TdLoss::Mse,
            max_grad_norm: None,
            hidden: vec![120, 84],
            activation: Activation::Relu,
            torso: TorsoConfig::default(),
        }
    }
}

impl DqnConfig {
    /// CartPole-v1: CleanRL's defaults.
    pub fn cartpole() -> Self {
        Self::default()
    }

    /// The RL Baselines3 Zoo's CartPole-v1 settings (what Stable-Baselines3 is benchmarked
    /// with): 50k steps, lr 2.3e-3, batch 64, 100k buffer, 1000 warm-up steps, target copy
    /// every 10 steps, 128 gradient steps every 256 env steps, ε to 0.04 over 16%, [256, 256]
    /// network, Huber loss, gradient norm 10.
    pub fn sb3_zoo_cartpole() -> Self {
        DqnConfig {
            total_timesteps: 50_000,
            learning_rate: 2.3e-3,
            buffer_size: 100_000,
            target_network_frequency: 10,
            batch_size: 64,
            end_e: 0.04,
            exploration_fraction: 0.16,
            learning_starts: 1000,
            train_frequency: 256,
            gradient_steps: 128,
            loss: TdLoss::Huber,
            max_grad_norm: Some(10.0),
            hidden: vec![256, 256],
            ..Self::default()
        }
    }

    /// MinAtar's DQN (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>; `examples/dqn.py`
    /// of the `minatar` package): 5M frames (one frame per env step), batch 32, 100k replay,
    /// 5000 warm-up steps, one gradient step per env step, target copy every 1000 steps, ε
    /// from 1 to 0.1 over the first 100k steps, Huber loss, γ 0.99, centred RMSprop with lr
    /// 2.5e-4, α 0.95 and ε 0.01. Its torso on a 10×10 MinAtar grid is the paper's network
    /// (the `minatar_cnn` preset: 16 3×3 filters, 128 hidden units). The paper's results use
    /// all six actions: `MinAtar/<Game>-v0`. With `--steps`, set `exploration_fraction` so
    /// that ε still decays over 100k steps.
    pub fn minatar() -> Self {
        DqnConfig {
            total_timesteps: 5_000_000,
            learning_rate: 2.5e-4,
            optimizer: DqnOptimizer::Rmsprop { alpha: 0.95, eps: 0.01, centered: true },
            buffer_size: 100_000,
            target_network_frequency: 1000,
            batch_size: 32,
            end_e: 0.1,
            exploration_fraction: 0.02,
            learning_starts: 5000,
            train_frequency: 1,
            loss: TdLoss::Huber,
            ..Self::default()
        }
    }

    /// CleanRL's `dqn_atari.py` (the Nature DQN of Mnih et al. 2015 with Adam): 10M steps,
    /// lr 1e-4, a 1M-transition buffer, batch 32, 80k warm-up steps, one gradient step every 4
    /// steps, target copy every 1000 steps, ε from 1 to 0.01 over the first 10%, MSE loss, the
    /// Nature CNN on 4 stacked 84x84 frames (the env: `AtariPreprocessing` with SB3's
    /// wrappers, docs/atari.md). Its buffer holds each observation and its successor, 56 GB at
    /// this size: refused, with the numbers, on machines with less memory (use
    /// `sb3_zoo_atari`'s 100k buffer there).
    pub fn atari() -> Self {
        DqnConfig {
            total_timesteps: 10_000_000,
            learning_rate: 1e-4,
            buffer_size: 1_000_000,
            target_network_frequency: 1000,
            batch_size: 32,
            end_e: 0.01,
            exploration_fraction: 0.1,
            learning_starts: 80_000,
            train_frequency: 4,
            ..Self::default()
        }
    }

    /// The RL Baselines3 Zoo's Atari DQN (`hyperparams/dqn.yml`, `atari`): 10M steps, lr
    /// 1e-4, a 100k buffer (5.6 GB of 4x84x84 stacks here), batch 32, 100k warm-up steps, one
    /// gradient step every 4 steps, target copy every 1000 steps, ε to 0.01 over 10%, Huber
    /// loss and gradient norm 10 (SB3's DQN defaults).
    pub fn sb3_zoo_atari() -> Self {
        DqnConfig {
            buffer_size: 100_000,
            learning_starts: 100_000,
            loss: TdLoss::Huber,
            max_grad_norm: Some(10.0),
            ..Self::atari()
        }
    }

    /// ε at env step `t`: linear from `start_e` to `end_e` over the exploration fraction.
    pub fn epsilon(&self, t: u64) -> f64 {
        let duration = self.exploration_fraction * self.total_timesteps as f64;
        if duration <= 0.0 {
            return self.end_e;
        }
        let slope = (self.end_e - self.start_e) / duration;
        (slope * t as f64 + self.start_e).max(self.end_e)
    }

    /// Refuse values that cannot train.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Invalid(format!("dqn config: {m}")));
        if self.batch_size == 0
            || self.buffer_size == 0
            || self.train_frequency == 0
            || self.n_step == 0
        {
            return bad("batch_size, buffer_size, train_frequency and n_step must be at least 1");
        }
        if self.target_network_frequency == 0
            || self.tau.is_nan()
            || self.tau <= 0.0
            || self.tau > 1.0
        {
            return bad("target_network_frequency must be at least 1 and tau in (0, 1]");
        }
        if !(0.0..=1.0).contains(&self.gamma)
            || self.learning_rate.is_nan()
            || self.learning_rate <= 0.0
        {
            return bad("gamma must lie in [0, 1] and learning_rate be positive");
        }
        Ok(())
    }
}

/// A Q-network: torso + linear head with one output per action.
#[derive(Debug)]
pub struct QNetwork {
    torso: Torso,
    head: nn::Linear,
}

impl QNetwork {
    /// Build under `p` (`torso`, `head`).
    pub fn new(p: &nn::Path, cfg: &DqnConfig, obs: &ObsSpec, n_actions: i64) -> Result<Self> {
        let torso = Torso::build(p, "torso", &cfg.torso, obs, &cfg.hidden, cfg.activation)?;
        let head = nn::linear(p / "head", torso.output_dim(), n_actions, Default::default());
        Ok(QNetwork { torso, head })
    }

    /// Q-values, `[B, n_actions]`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.head.forward(&self.torso.forward(x))
    }
}

/// The TD target `r + discount · (1 − terminated) · Q_target(s', a*)`, `[B]`, where `a*` is
/// the target network's argmax, or the online network's when `online_next` is given (double
/// DQN). `q_target_next` and `online_next` are `[B, n_actions]`.
pub fn td_target(
    q_target_next: &Tensor,
    online_next: Option<&Tensor>,
    rewards: &Tensor,
    terminated: &Tensor,
    discounts: &Tensor,
) -> Tensor {
    let next = match online_next {
        Some(online) => q_target_next.gather(1, &online.argmax(1, true), false).squeeze_dim(1),
        None => q_target_next.amax(1, false),
    };
    rewards + discounts * (1.0 - terminated) * next
}

/// Train DQN on `env_id` (see the module docs).
pub fn train(cfg: &DqnConfig, env_id: &str, seed: u64, opts: &RunOptions) -> Result<TrainSummary> {
    train_with_hooks(cfg, env_id, seed, opts, &mut NoHooks)
}

/// [`train`] with schedule hooks: DQN has a single update round, so `on_epoch_start` runs
/// once, before the first step this invocation takes; `on_step` and `on_eval` run where they
/// fall due, in env steps ([`crate::rl::harness`]).
pub fn train_with_hooks(
    cfg: &DqnConfig,
    env_id: &str,
    seed: u64,
    opts: &RunOptions,
    hooks: &mut dyn TrainHooks,
) -> Result<TrainSummary> {
    cfg.validate()?;
    let run = Harness::open("dqn", env_id, seed, cfg, opts)?;
    let device = opts.device;
    let env = opts.make_env(env_id)?;
    let obs_spec = ObsSpec::from_space(env.observation_space())?;
    let (n_actions, start) = match ActionSpec::from_space(env.action_space())? {
        ActionSpec::Discrete { n, start } => (n, start),
        ActionSpec::Continuous { .. } => {
            return Err(Error::Invalid(format!(
                "dqn needs discrete actions; {env_id} has continuous ones (use sac or ppo)"
            )))
        }
    };
    tch::manual_seed(step_seed(seed, u64::MAX));
    let mut q_vs = nn::VarStore::new(device);
    let q = QNetwork::new(&q_vs.root(), cfg, &obs_spec, n_actions)?;
    torch_default_init(&q_vs, "");
    q.torso.load_pretrained(&mut q_vs, &cfg.torso)?;
    let mut target_vs = nn::VarStore::new(device);
    let target = QNetwork::new(&target_vs.root(), cfg, &obs_spec, n_actions)?;
    copy_vars(&mut target_vs, &q_vs)?;
    let groups = q.torso.layer_groups();
    let mut opt = Optimizer::new(&q_vs, &groups, &cfg.optimizer.config(cfg.learning_rate))?;
    if cfg.torso.freeze {
        for g in &groups {
            opt.freeze(&g.name)?;
        }
    }
    // The buffer fills up to its size or the run's budget, whichever is smaller.
    let stored = cfg.buffer_size.min(cfg.total_timesteps as usize) as u128;
    check_storage("DQN replay buffer", stored, &obs_spec, 1)?;
    let parts = &mut [Part::trained("q", &q_vs, &mut opt), Part::fixed("target", &target_vs)];
    let mut run = run.begin(cfg.total_timesteps, 1, 1, parts, hooks)?;
    let mut updates = run.updates();
    let mut rb = ReplayBuffer::new(cfg.buffer_size, obs_spec.clone(), 1);
    let mut nstep = NStep::new(cfg.n_step, cfg.gamma as f32);
    let mut env = SingleEnv::new(env, seed)?;
    if run.round_start(0, parts)?.is_break() {
        return run.finish();
    }

    for global_step in 0..cfg.total_timesteps {
        // ---- Act: the logged action while replaying a resumed run, else ε-greedy. ----
        let a = match run.replay_action(global_step) {
            Some(logged) => logged[0] as i64,
            None => {
                tch::manual_seed(step_seed(seed, global_step));
                let explore = Tensor::rand([1], (Kind::Float, Device::Cpu)).double_value(&[0])
                    < cfg.epsilon(global_step);
                let random =
                    Tensor::randint(n_actions, [1], (Kind::Int64, Device::Cpu)).int64_value(&[0]);
                if explore {
                    random
                } else {
                    let x = obs_spec.to_tensor(&env.obs.f32, &env.obs.u8, 1, device);
                    tch::no_grad(|| q.forward(&x)).argmax(1, false).int64_value(&[0])
                }
            }
        };
        let action = Action::Discrete(a + start);
        env.step(action.as_ref(), &[a as f32], &mut nstep, &mut rb, &mut run, global_step)?;
        // A replayed step only rebuilds the env and the buffer.
        if run.replaying() {
            continue;
        }
        run.log_action(&[a as f32]);

        // ---- Learn. ----
        if global_step > cfg.learning_starts {
            if global_step % cfg.train_frequency == 0 {
                for _ in 0..cfg.gradient_steps {
                    let b = rb.sample(cfg.batch_size, device);
                    let y = tch::no_grad(|| {
                        let target_next = target.forward(&b.next_obs);
                        let online_next = cfg.double_q.then(|| q.forward(&b.next_obs));
                        td_target(
                            &target_next,
                            online_next.as_ref(),
                            &b.rewards,
                            &b.terminated,
                            &b.discounts,
                        )
                    });
                    let q_sa = q.forward(&b.obs).gather(1, &b.action_index(), false).squeeze_dim(1);
                    let loss = match cfg.loss {
                        TdLoss::Mse => q_sa.mse_loss(&y, Reduction::Mean),
                        TdLoss::Huber => q_sa.smooth_l1_loss(&y, Reduction::Mean, 1.0),
                    };
                    let value = loss.double_value(&[]);
                    if !value.is_finite() {
                        return Err(Error::Diverged { step: global_step as usize, loss: value });
                    }
                    match cfg.max_grad_norm {
                        Some(m) => opt.backward_step_clip(&loss, m).map(|_| ())?,
                        None => opt.backward_step(&loss)?,
                    }
                    updates += 1;
                    if updates % 100 == 1 {
                        let mean_q = tch::no_grad(|| q_sa.mean(Kind::Float).double_value(&[]));
                        run.log(
                            global_step,
                            &[
                                ("losses/td_loss", value),
                                ("losses/q_values", mean_q),
                                ("charts/epsilon", cfg.epsilon(global_step)),
                            ],
                        )?;
                    }
                }
            }
            if global_step % cfg.target_network_frequency == 0 {
                if cfg.tau >= 1.0 {
                    copy_vars(&mut target_vs, &q_vs)?;
                } else {
                    ema_update(&target_vs, &q_vs, 1.0 - cfg.tau)?;
                }
            }
        }

        // ---- Hooks, evaluation, checkpoint, stop: the harness decides. ----
        let parts = &mut [Part::trained("q", &q_vs, &mut opt), Part::fixed("target", &target_vs)];
        let policy = |x: &Tensor| q.forward(x).argmax(1, false);
        if run.after_update(global_step + 1, updates, parts, &policy)?.is_break() {
            break;
        }
    }
    run.finish()
}
