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
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

use graft_envs::{Action, Env};

use crate::error::{Error, Result};
use crate::models::Activation;
use crate::optim::{copy_vars, ema_update, Optimizer, OptimizerConfig};
use crate::rl::buffer::{check_replay_storage, Batch, NStep, ReplayBuffer};
pub use crate::rl::dqn_net::{augment_images, QNetwork};
use crate::rl::harness::Harness;
use crate::rl::nets::{torch_default_init, ActionSpec, ObsSpec, TorsoConfig};
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
    /// Adam with PyTorch's defaults besides the learning rate and `eps` (CleanRL and
    /// Stable-Baselines3 keep PyTorch's 1e-8; the data-efficient Atari agents use 1.5e-4).
    Adam {
        /// Added to the denominator.
        #[serde(default = "adam_default_eps")]
        eps: f64,
    },
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

fn adam_default_eps() -> f64 {
    OptimizerConfig::default().eps
}

impl DqnOptimizer {
    /// Adam with PyTorch's defaults.
    pub fn adam() -> Self {
        DqnOptimizer::Adam { eps: adam_default_eps() }
    }

    /// The optimizer configuration for learning rate `lr`.
    pub fn config(&self, lr: f64) -> OptimizerConfig {
        match *self {
            DqnOptimizer::Adam { eps } => OptimizerConfig { eps, ..OptimizerConfig::adam(lr) },
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
    /// The optimizer (`{"kind": "adam", "eps"}` or `{"kind": "rmsprop", "alpha", "eps",
    /// "centered"}`).
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
    /// Hold ε at `start_e` until `learning_starts` and decay it from there (Dopamine's
    /// `linearly_decaying_epsilon` with its warm-up), instead of decaying from the first step
    /// (CleanRL).
    pub decay_after_learning_starts: bool,
    /// ε of the evaluation episodes (0: greedy; Dopamine's agents use 0.001, which also keeps
    /// a stuck policy, e.g. one that never serves in Breakout, from idling to the frame limit).
    pub eval_epsilon: f64,
    /// Env steps of pure data collection before learning starts.
    pub learning_starts: u64,
    /// Env steps between training steps.
    pub train_frequency: u64,
    /// Gradient steps per training step.
    pub gradient_steps: usize,
    /// Double DQN targets.
    pub double_q: bool,
    /// Dueling heads (Wang et al. 2016, <https://arxiv.org/abs/1511.06581>): a value and an
    /// advantage stream on the torso's features, `Q = V + A − mean(A)`.
    pub dueling: bool,
    /// DrQ's augmentation (Kostrikov et al. 2020, <https://arxiv.org/abs/2004.13649>): each
    /// sampled observation and successor, independently, is shifted by up to this many pixels
    /// (replicate padding, then a random crop back to size; 0: no shift). Image observations
    /// only.
    pub random_shift_pad: usize,
    /// DrQ's intensity augmentation as Dopamine implements it (after Schwarzer et al. 2021):
    /// each augmented image is multiplied by `1 + σ·clip(N(0, 1), −2, 2)`, σ this scale (0:
    /// none). Image observations only.
    pub intensity_scale: f64,
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
            optimizer: DqnOptimizer::adam(),
            buffer_size: 10_000,
            gamma: 0.99,
            tau: 1.0,
            target_network_frequency: 500,
            batch_size: 128,
            start_e: 1.0,
            end_e: 0.05,
            exploration_fraction: 0.5,
            decay_after_learning_starts: false,
            eval_epsilon: 0.0,
            learning_starts: 10_000,
            train_frequency: 10,
            gradient_steps: 1,
            double_q: false,
            dueling: false,
            random_shift_pad: 0,
            intensity_scale: 0.0,
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
    /// wrappers, docs/atari.md). With frames stored once
    /// ([`crate::rl::frame_store`]) its buffer takes 7.2 GB (whole stacks would be 56 GB);
    /// machines with less memory refuse it before it starts, with the numbers.
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
    /// 1e-4, a 100k buffer (0.7 GB of 4x84x84 stacks, frames shared), batch 32, 100k warm-up steps, one
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

    /// DrQ(ε) for Atari 100k (Kostrikov et al. 2020 with the ε of Agarwal et al. 2021,
    /// <https://arxiv.org/abs/2108.13264>; Dopamine's `labs/atari_100k/configs/DrQ_eps.gin`):
    /// 100k agent steps (400k frames), Adam lr 1e-4 with ε 1.5e-4, batch 32, every transition
    /// kept, 1600 warm-up steps, one gradient step per env step, the target network synced
    /// every step, 10-step double-DQN targets with dueling heads and Huber loss, ε from 1 to
    /// 0.01 over the 5000 steps after the warm-up, evaluation at ε 0.001, random shifts of
    /// ±4 pixels and intensity noise (σ 0.05) on observations and successors. The env is
    /// Atari 100k's: no sticky actions, a lost life ends the agent's episode, clipped
    /// rewards, 4 stacked 84x84 grey frames (docs/atari.md gives the kwargs). Dopamine's
    /// dueling streams each have their own 512-unit layer on the convolutions' output; here
    /// both streams are linear on the torso's 512 features, so the torso stays a plain zoo
    /// Nature CNN that pretraining can fill.
    pub fn atari100k() -> Self {
        DqnConfig {
            total_timesteps: 100_000,
            learning_rate: 1e-4,
            optimizer: DqnOptimizer::Adam { eps: 1.5e-4 },
            buffer_size: 100_000,
            target_network_frequency: 1,
            batch_size: 32,
            end_e: 0.01,
            exploration_fraction: 0.05,
            decay_after_learning_starts: true,
            eval_epsilon: 0.001,
            learning_starts: 1600,
            train_frequency: 1,
            double_q: true,
            dueling: true,
            random_shift_pad: 4,
            intensity_scale: 0.05,
            n_step: 10,
            loss: TdLoss::Huber,
            ..Self::default()
        }
    }

    /// ε at env step `t`: linear from `start_e` to `end_e` over the exploration fraction of
    /// the budget, counted from the first step or, with `decay_after_learning_starts`, from
    /// `learning_starts` (ε is `start_e` before).
    pub fn epsilon(&self, t: u64) -> f64 {
        let duration = self.exploration_fraction * self.total_timesteps as f64;
        let start = if self.decay_after_learning_starts { self.learning_starts } else { 0 };
        if t < start {
            return self.start_e;
        }
        if duration <= 0.0 {
            return self.end_e;
        }
        let slope = (self.end_e - self.start_e) / duration;
        (slope * (t - start) as f64 + self.start_e).max(self.end_e)
    }

    /// Whether the target network is the online one: copied after every update, so a
    /// target computed from the online network under `no_grad` is the same number, without
    /// the copy or a second forward pass.
    pub fn target_is_online(&self) -> bool {
        self.target_network_frequency == 1
            && self.tau >= 1.0
            && self.train_frequency == 1
            && self.gradient_steps == 1
    }

    /// Whether sampled observations are augmented.
    fn augments(&self) -> bool {
        self.random_shift_pad > 0 || self.intensity_scale > 0.0
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
        if !(0.0..=1.0).contains(&self.eval_epsilon) {
            return bad(&format!("eval_epsilon must lie in [0, 1], got {}", self.eval_epsilon));
        }
        if !(self.intensity_scale.is_finite() && self.intensity_scale >= 0.0) {
            return bad(&format!("intensity_scale must be ≥ 0, got {}", self.intensity_scale));
        }
        if let DqnOptimizer::Adam { eps } = self.optimizer {
            if !(eps.is_finite() && eps >= 0.0) {
                return bad(&format!("optimizer eps must be ≥ 0, got {eps}"));
            }
        }
        Ok(())
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
    if cfg.augments() && matches!(obs_spec, ObsSpec::Vector(_)) {
        return Err(Error::Invalid(format!(
            "dqn config: random_shift_pad and intensity_scale augment images; {env_id} \
             observes a vector of {} floats",
            obs_spec.lens().0
        )));
    }
    tch::manual_seed(step_seed(seed, u64::MAX));
    let mut learner = DqnLearner::new(cfg, &obs_spec, n_actions, device)?;
    // The buffer fills up to its size or the run's budget, whichever is smaller.
    let stored = cfg.buffer_size.min(cfg.total_timesteps as usize) as u128;
    check_replay_storage("DQN replay buffer", stored, &obs_spec, 1)?;
    let mut run = run.begin(cfg.total_timesteps, 1, 1, &mut learner.parts(), hooks)?;
    let mut updates = run.updates();
    let mut rb = ReplayBuffer::new(cfg.buffer_size, obs_spec.clone(), 1);
    let mut nstep = NStep::new(cfg.n_step, cfg.gamma as f32);
    let mut env = SingleEnv::new(env, seed)?;
    if run.round_start(0, &mut learner.parts())?.is_break() {
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
                    tch::no_grad(|| learner.q.forward(&x)).argmax(1, false).int64_value(&[0])
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
                    let stats = learner.update(&rb.sample(cfg.batch_size, device))?;
                    if !stats.td_loss.is_finite() {
                        let step = global_step as usize;
                        return Err(Error::Diverged { step, loss: stats.td_loss });
                    }
                    updates += 1;
                    if updates % 100 == 1 {
                        let row = [
                            ("losses/td_loss", stats.td_loss),
                            ("losses/q_values", stats.mean_q),
                            ("charts/epsilon", cfg.epsilon(global_step)),
                        ];
                        run.log(global_step, &row)?;
                    }
                }
            }
            if global_step % cfg.target_network_frequency == 0 {
                learner.update_target()?;
            }
        }

        // ---- Hooks, evaluation, checkpoint, stop: the harness decides. ----
        let DqnLearner { q_vs, q, target_vs, opt, .. } = &mut learner;
        let policy = |x: &Tensor| q.act(x, cfg.eval_epsilon);
        let mut parts = parts(q_vs, opt, target_vs);
        if run.after_update(global_step + 1, updates, &mut parts, &policy)?.is_break() {
            break;
        }
    }
    run.finish()
}

/// The checkpoint's parts: the online network with its optimizer (what hooks see), the
/// target network.
fn parts<'a>(
    q_vs: &'a nn::VarStore,
    opt: &'a mut Optimizer,
    target_vs: &'a nn::VarStore,
) -> [Part<'a>; 2] {
    [Part::trained("q", q_vs, opt), Part::fixed("target", target_vs)]
}

/// What one update reports.
#[derive(Debug, Clone, Copy)]
pub struct UpdateStats {
    /// The TD loss.
    pub td_loss: f64,
    /// Mean Q-value of the batch's actions.
    pub mean_q: f64,
}

/// DQN's networks, optimizer and update, apart from the env loop: the train loop and the
/// update benchmark (`benchmarks/rl_updates.rs`) share it.
#[derive(Debug)]
pub struct DqnLearner {
    q_vs: nn::VarStore,
    q: QNetwork,
    target_vs: nn::VarStore,
    target: QNetwork,
    opt: Optimizer,
    cfg: DqnConfig,
}

impl DqnLearner {
    /// The online and target networks for observations `obs` and `n_actions` actions,
    /// initialised from libtorch's generator as PyTorch does, the torso loaded (and frozen) as
    /// `cfg.torso` says, the target a copy of the online network.
    pub fn new(cfg: &DqnConfig, obs: &ObsSpec, n_actions: i64, device: Device) -> Result<Self> {
        let mut q_vs = nn::VarStore::new(device);
        let q = QNetwork::new(&q_vs.root(), cfg, obs, n_actions)?;
        torch_default_init(&q_vs, "");
        q.torso.load_pretrained(&mut q_vs, &cfg.torso)?;
        let mut target_vs = nn::VarStore::new(device);
        let target = QNetwork::new(&target_vs.root(), cfg, obs, n_actions)?;
        copy_vars(&mut target_vs, &q_vs)?;
        let groups = q.torso.layer_groups();
        let mut opt = Optimizer::new(&q_vs, &groups, &cfg.optimizer.config(cfg.learning_rate))?;
        if cfg.torso.freeze {
            for g in &groups {
                opt.freeze(&g.name)?;
            }
        }
        Ok(DqnLearner { q_vs, q, target_vs, target, opt, cfg: cfg.clone() })
    }

    /// The online network.
    pub fn q(&self) -> &QNetwork {
        &self.q
    }

    /// The checkpoint's parts (see [`parts`]).
    pub fn parts(&mut self) -> [Part<'_>; 2] {
        parts(&self.q_vs, &mut self.opt, &self.target_vs)
    }

    /// One gradient step on a sampled batch: augment the observations (DrQ), the TD target
    /// from the successors, the TD loss, the optimizer step (gradient clipped when asked).
    pub fn update(&mut self, b: &Batch) -> Result<UpdateStats> {
        let (cfg, q, target) = (&self.cfg, &self.q, &self.target);
        let (obs, next_obs) = if cfg.augments() {
            let aug = |x: &Tensor| augment_images(x, cfg.random_shift_pad, cfg.intensity_scale);
            (aug(&b.obs)?, aug(&b.next_obs)?)
        } else {
            (b.obs.shallow_clone(), b.next_obs.shallow_clone())
        };
        let (r, t, d) = (&b.rewards, &b.terminated, &b.discounts);
        let y = tch::no_grad(|| {
            if cfg.target_is_online() {
                // Online and target networks hold the same weights: one pass both picks and
                // values the next action.
                let next = q.forward(&next_obs);
                let online = cfg.double_q.then(|| next.shallow_clone());
                return td_target(&next, online.as_ref(), r, t, d);
            }
            let target_next = target.forward(&next_obs);
            let online_next = cfg.double_q.then(|| q.forward(&next_obs));
            td_target(&target_next, online_next.as_ref(), r, t, d)
        });
        let q_sa = q.forward(&obs).gather(1, &b.action_index(), false).squeeze_dim(1);
        let loss = match cfg.loss {
            TdLoss::Mse => q_sa.mse_loss(&y, Reduction::Mean),
            TdLoss::Huber => q_sa.smooth_l1_loss(&y, Reduction::Mean, 1.0),
        };
        let td_loss = loss.double_value(&[]);
        if !td_loss.is_finite() {
            // The caller reports the divergence with its step; no step on a NaN.
            return Ok(UpdateStats { td_loss, mean_q: f64::NAN });
        }
        match cfg.max_grad_norm {
            Some(m) => self.opt.backward_step_clip(&loss, m).map(|_| ())?,
            None => self.opt.backward_step(&loss)?,
        }
        let mean_q = tch::no_grad(|| q_sa.mean(Kind::Float).double_value(&[]));
        Ok(UpdateStats { td_loss, mean_q })
    }

    /// The target network's update: a copy at `tau` 1, Polyak averaging below; nothing when
    /// the target is the online network (every step, [`DqnConfig::target_is_online`]).
    pub fn update_target(&mut self) -> Result<()> {
        if self.cfg.target_is_online() {
            Ok(())
        } else if self.cfg.tau >= 1.0 {
            copy_vars(&mut self.target_vs, &self.q_vs)
        } else {
            ema_update(&self.target_vs, &self.q_vs, 1.0 - self.cfg.tau)
        }
    }
}
