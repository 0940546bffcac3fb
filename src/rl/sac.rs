//! Soft Actor-Critic for continuous actions (Haarnoja et al. 2018, "Soft Actor-Critic
//! Algorithms and Applications", <https://arxiv.org/abs/1812.05905>), following CleanRL's
//! `sac_continuous_action.py`: a tanh-squashed Gaussian actor, twin Q-networks with Polyak
//! target copies (the clipped double-Q trick of TD3, Fujimoto et al. 2018), delayed actor
//! updates (`policy_frequency` actor steps every `policy_frequency` env steps) and automatic
//! entropy tuning towards a target entropy of `−dim(A)`.
//!
//! Targets: `y = r + γ (1 − terminated) (min_j Q'_j(s', a') − α log π(a'|s'))`, `a' ~ π(s')`;
//! a truncated episode is bootstrapped like any other step.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Reduction, Tensor};

use graft_envs::{Action, Env};

use crate::error::{Error, Result};
use crate::models::base::torch_linear;
use crate::models::{mlp, Activation, Mlp, MlpConfig};
use crate::optim::{ema_update, Optimizer, OptimizerConfig};
use crate::rl::buffer::{check_replay_storage, NStep, ReplayBuffer};
use crate::rl::harness::Harness;
use crate::rl::nets::{torch_default_init, ActionSpec, ObsSpec, Torso, TorsoConfig};
use crate::rl::run::{RunOptions, TrainSummary};
use crate::rl::single_env::SingleEnv;
use crate::rl::state::Part;
use crate::train::{step_seed, NoHooks};

const LOG_STD_MIN: f64 = -5.0;
const LOG_STD_MAX: f64 = 2.0;

/// SAC hyperparameters. Defaults are CleanRL `sac_continuous_action.py`'s (MuJoCo, 1M steps).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SacConfig {
    /// Env steps to train for.
    pub total_timesteps: u64,
    /// Replay buffer capacity.
    pub buffer_size: usize,
    /// Discount factor γ.
    pub gamma: f64,
    /// Polyak rate of the target Q-networks.
    pub tau: f64,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Env steps of uniformly random actions before learning starts.
    pub learning_starts: u64,
    /// Adam learning rate of the actor.
    pub policy_lr: f64,
    /// Adam learning rate of the Q-networks (and of the entropy temperature).
    pub q_lr: f64,
    /// Actor updates happen every this many steps, this many at a time.
    pub policy_frequency: u64,
    /// Env steps between target updates.
    pub target_network_frequency: u64,
    /// Entropy temperature α when not tuned.
    pub alpha: f64,
    /// Tune α automatically towards the target entropy `−dim(A)`.
    pub autotune: bool,
    /// Hidden widths of the actor torso and of the Q-networks.
    pub hidden: Vec<i64>,
    /// The actor's (and, when it names a model, the critics') observation torso.
    pub torso: TorsoConfig,
}

impl Default for SacConfig {
    fn default() -> Self {
        SacConfig {
            total_timesteps: 1_000_000,
            buffer_size: 1_000_000,
            gamma: 0.99,
            tau: 0.005,
            batch_size: 256,
            learning_starts: 5_000,
            policy_lr: 3e-4,
            q_lr: 1e-3,
            policy_frequency: 2,
            target_network_frequency: 1,
            alpha: 0.2,
            autotune: true,
            hidden: vec![256, 256],
            torso: TorsoConfig::default(),
        }
    }
}

impl SacConfig {
    /// Pendulum-v1: the RL Baselines3 Zoo's budget (20k steps, lr 1e-3 for every network) with
    /// CleanRL's architecture, and 1000 random warm-up steps.
    pub fn pendulum() -> Self {
        SacConfig {
            total_timesteps: 20_000,
            learning_starts: 1_000,
            policy_lr: 1e-3,
            q_lr: 1e-3,
            ..Self::default()
        }
    }

    /// Refuse values that cannot train.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Invalid(format!("sac config: {m}")));
        if self.batch_size == 0
            || self.buffer_size == 0
            || self.policy_frequency == 0
            || self.target_network_frequency == 0
        {
            return bad("batch_size, buffer_size, policy_frequency and target_network_frequency must be at least 1");
        }
        if self.tau.is_nan()
            || self.tau <= 0.0
            || self.tau > 1.0
            || !(0.0..=1.0).contains(&self.gamma)
        {
            return bad("tau must lie in (0, 1] and gamma in [0, 1]");
        }
        if self.policy_lr.is_nan()
            || self.q_lr.is_nan()
            || self.policy_lr <= 0.0
            || self.q_lr <= 0.0
        {
            return bad("learning rates must be positive");
        }
        Ok(())
    }
}

/// The squashed-Gaussian actor.
#[derive(Debug)]
pub struct Actor {
    torso: Torso,
    fc_mean: nn::Linear,
    fc_logstd: nn::Linear,
    scale: Tensor,
    bias: Tensor,
}

impl Actor {
    /// Build under `vs` (`torso`, `fc_mean`, `fc_logstd`) for actions in `[low, high]`.
    pub fn new(
        vs: &nn::VarStore,
        cfg: &SacConfig,
        obs: &ObsSpec,
        low: &[f32],
        high: &[f32],
    ) -> Result<Self> {
        let root = vs.root();
        let torso = Torso::build(&root, "torso", &cfg.torso, obs, &cfg.hidden, Activation::Relu)?;
        let d = low.len() as i64;
        let fc_mean = torch_linear(&root / "fc_mean", torso.output_dim(), d);
        let fc_logstd = torch_linear(&root / "fc_logstd", torso.output_dim(), d);
        let lo = Tensor::from_slice(low).to_device(vs.device());
        let hi = Tensor::from_slice(high).to_device(vs.device());
        Ok(Actor { torso, fc_mean, fc_logstd, scale: (&hi - &lo) / 2.0, bias: (&hi + &lo) / 2.0 })
    }

    fn mean_logstd(&self, x: &Tensor) -> (Tensor, Tensor) {
        let h = self.torso.forward(x);
        let log_std = self.fc_logstd.forward(&h).tanh();
        let log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (log_std + 1.0);
        (self.fc_mean.forward(&h), log_std)
    }

    /// A reparameterised sample: `(action [B, d], log π(action) [B])`.
    pub fn sample(&self, x: &Tensor) -> (Tensor, Tensor) {
        let (mean, log_std) = self.mean_logstd(x);
        let std = log_std.exp();
        let x_t = &mean + &std * mean.randn_like();
        let y_t = x_t.tanh();
        let action = &y_t * &self.scale + &self.bias;
        let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        let normal_lp = -(&x_t - &mean).square() / (std.square() * 2.0) - &log_std - half_log_2pi;
        // Change of variables through tanh and the affine map to the action box.
        let one_minus_y2: Tensor = 1.0 - y_t.square();
        let correction = (&self.scale * one_minus_y2 + 1e-6).log();
        let log_prob = (normal_lp - correction).sum_dim_intlist(-1, false, Kind::Float);
        (action, log_prob)
    }

    /// The deterministic action `tanh(mean)` mapped to the box, `[B, d]`.
    pub fn act_deterministic(&self, x: &Tensor) -> Tensor {
        let (mean, _) = self.mean_logstd(x);
        mean.tanh() * &self.scale + &self.bias
    }

    fn torso(&self) -> &Torso {
        &self.torso
    }
}

/// One soft Q-network: optional observation torso, then an MLP over `[features, action]`.
#[derive(Debug)]
pub struct SoftQ {
    torso: Option<Torso>,
    mlp: Mlp,
}

impl SoftQ {
    /// Build under `p` with MLP widths `hidden`. Without a torso model, state vectors go
    /// straight into the MLP (CleanRL's critic); with one (pixels, pretrained encoders) the MLP
    /// sees its features. TD3 uses the same critic.
    pub fn new(
        p: &nn::Path,
        torso_cfg: &TorsoConfig,
        hidden: &[i64],
        obs: &ObsSpec,
        act_dim: i64,
    ) -> Result<Self> {
        let torso = match (&torso_cfg.model, obs) {
            (None, ObsSpec::Vector(_)) => None,
            _ => Some(Torso::build(p, "torso", torso_cfg, obs, hidden, Activation::Relu)?),
        };
        let feat = torso.as_ref().map_or_else(|| obs.lens().0 as i64, |t| t.output_dim());
        let mlp_cfg = MlpConfig {
            input_dim: feat + act_dim,
            hidden: hidden.to_vec(),
            activation: Activation::Relu,
            num_outputs: Some(1),
        };
        Ok(SoftQ { torso, mlp: mlp(&(p / "mlp"), &mlp_cfg)? })
    }

    /// The observation torso, when the critic has one.
    pub fn torso(&self) -> Option<&Torso> {
        self.torso.as_ref()
    }

    /// `Q(s, a)`, `[B]`.
    pub fn forward(&self, x: &Tensor, a: &Tensor) -> Tensor {
        let f = self.torso.as_ref().map_or_else(|| x.shallow_clone(), |t| t.forward(x));
        nn::ModuleT::forward_t(&self.mlp, &Tensor::cat(&[f, a.shallow_clone()], 1), false)
            .squeeze_dim(-1)
    }
}

/// Train SAC on `env_id` (see the module docs). SAC takes no schedule hooks: its actor,
/// critics and temperature have separate optimizers, and a schedule sees one.
pub fn train(cfg: &SacConfig, env_id: &str, seed: u64, opts: &RunOptions) -> Result<TrainSummary> {
    cfg.validate()?;
    let run = Harness::open("sac", env_id, seed, cfg, opts)?;
    let device = opts.device;
    let env = opts.make_env(env_id)?;
    let obs_spec = ObsSpec::from_space(env.observation_space())?;
    let (low, high) = match ActionSpec::from_space(env.action_space())? {
        ActionSpec::Continuous { low, high } => (low, high),
        ActionSpec::Discrete { .. } => {
            return Err(Error::Invalid(format!(
                "sac needs continuous actions; {env_id} has discrete ones (use dqn or ppo)"
            )))
        }
    };
    let d = low.len();
    tch::manual_seed(step_seed(seed, u64::MAX));
    let mut actor_vs = nn::VarStore::new(device);
    let actor = Actor::new(&actor_vs, cfg, &obs_spec, &low, &high)?;
    let mut q_vs = nn::VarStore::new(device);
    let (q1, q2) = (
        SoftQ::new(&(q_vs.root() / "q1"), &cfg.torso, &cfg.hidden, &obs_spec, d as i64)?,
        SoftQ::new(&(q_vs.root() / "q2"), &cfg.torso, &cfg.hidden, &obs_spec, d as i64)?,
    );
    torch_default_init(&actor_vs, "");
    torch_default_init(&q_vs, "");
    let mut groups = actor.torso().layer_groups();
    actor.torso().load_pretrained(&mut actor_vs, &cfg.torso)?;
    let mut q_groups = Vec::new();
    for q in [&q1, &q2] {
        if let Some(t) = &q.torso {
            t.load_pretrained(&mut q_vs, &cfg.torso)?;
            q_groups.extend(t.layer_groups());
        }
    }
    let q_target_vs = nn::VarStore::new(device);
    let (q1_t, q2_t) = (
        SoftQ::new(&(q_target_vs.root() / "q1"), &cfg.torso, &cfg.hidden, &obs_spec, d as i64)?,
        SoftQ::new(&(q_target_vs.root() / "q2"), &cfg.torso, &cfg.hidden, &obs_spec, d as i64)?,
    );
    ema_update(&q_target_vs, &q_vs, 0.0)?;
    let mut actor_opt = Optimizer::new(&actor_vs, &groups, &OptimizerConfig::adam(cfg.policy_lr))?;
    let mut q_opt = Optimizer::new(&q_vs, &q_groups, &OptimizerConfig::adam(cfg.q_lr))?;
    if cfg.torso.freeze {
        for g in &groups {
            actor_opt.freeze(&g.name)?;
        }
        for g in &q_groups {
            q_opt.freeze(&g.name)?;
        }
    }
    groups.clear();
    let alpha_vs = nn::VarStore::new(device);
    let log_alpha = alpha_vs.root().var("log_alpha", &[1], nn::Init::Const(0.0));
    let mut alpha_opt = Optimizer::for_all(&alpha_vs, &OptimizerConfig::adam(cfg.q_lr))?;
    let target_entropy = -(d as f64);
    let alpha_now =
        |la: &Tensor| if cfg.autotune { la.exp().double_value(&[0]) } else { cfg.alpha };
    // The buffer fills up to its size or the run's budget, whichever is smaller.
    let stored = cfg.buffer_size.min(cfg.total_timesteps as usize) as u128;
    check_replay_storage("SAC replay buffer", stored, &obs_spec, d)?;
    let parts = &mut [
        Part::trained("actor", &actor_vs, &mut actor_opt),
        Part::trained("q", &q_vs, &mut q_opt),
        Part::fixed("q_target", &q_target_vs),
        Part::trained("alpha", &alpha_vs, &mut alpha_opt),
    ];
    let mut no_hooks = NoHooks;
    let mut run = run.begin(cfg.total_timesteps, 1, d, parts, &mut no_hooks)?;
    let mut updates = run.updates();
    let mut rb = ReplayBuffer::new(cfg.buffer_size, obs_spec.clone(), d);
    let mut one_step = NStep::new(1, cfg.gamma as f32);
    let mut env = SingleEnv::new(env, seed)?;
    let (lo_t, hi_t) = (Tensor::from_slice(&low), Tensor::from_slice(&high));

    for global_step in 0..cfg.total_timesteps {
        // ---- Act: logged action (replay), uniform random (warm-up) or a policy sample. ----
        let a: Vec<f32> = match run.replay_action(global_step) {
            Some(logged) => logged.to_vec(),
            None => {
                tch::manual_seed(step_seed(seed, global_step));
                let t = if global_step < cfg.learning_starts {
                    Tensor::rand([d as i64], (Kind::Float, Device::Cpu)) * (&hi_t - &lo_t) + &lo_t
                } else {
                    let x = obs_spec.to_tensor(&env.obs.f32, &env.obs.u8, 1, device);
                    tch::no_grad(|| actor.sample(&x).0).view([-1]).to_device(Device::Cpu)
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

        // ---- Learn: critics every step, the actor (and α) every policy_frequency steps. ----
        if global_step >= cfg.learning_starts {
            let b = rb.sample(cfg.batch_size, device);
            let alpha = alpha_now(&log_alpha);
            let y = tch::no_grad(|| {
                let (next_a, next_lp) = actor.sample(&b.next_obs);
                let min_q =
                    q1_t.forward(&b.next_obs, &next_a).minimum(&q2_t.forward(&b.next_obs, &next_a));
                &b.rewards + &b.discounts * (1.0 - &b.terminated) * (min_q - next_lp * alpha)
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
                for _ in 0..cfg.policy_frequency {
                    let alpha = alpha_now(&log_alpha);
                    let (pi, lp) = actor.sample(&b.obs);
                    let min_q = q1.forward(&b.obs, &pi).minimum(&q2.forward(&b.obs, &pi));
                    let actor_loss = (&lp * alpha - min_q).mean(Kind::Float);
                    actor_opt.backward_step(&actor_loss)?;
                    actor_loss_value = Some(actor_loss.double_value(&[]));
                    if cfg.autotune {
                        let lp = tch::no_grad(|| actor.sample(&b.obs).1);
                        let alpha_loss =
                            (-log_alpha.exp() * (lp + target_entropy)).mean(Kind::Float);
                        alpha_opt.backward_step(&alpha_loss)?;
                    }
                }
            }
            if global_step % cfg.target_network_frequency == 0 {
                ema_update(&q_target_vs, &q_vs, 1.0 - cfg.tau)?;
            }
            if global_step % 100 == 0 {
                let mut row =
                    vec![("losses/qf_loss", qv / 2.0), ("losses/alpha", alpha_now(&log_alpha))];
                if let Some(v) = actor_loss_value {
                    row.push(("losses/actor_loss", v));
                }
                run.log(global_step, &row)?;
            }
        }

        // ---- Evaluation, checkpoint, stop: the harness decides. ----
        let parts = &mut [
            Part::trained("actor", &actor_vs, &mut actor_opt),
            Part::trained("q", &q_vs, &mut q_opt),
            Part::fixed("q_target", &q_target_vs),
            Part::trained("alpha", &alpha_vs, &mut alpha_opt),
        ];
        let policy = |x: &Tensor| actor.act_deterministic(x);
        if run.after_update(global_step + 1, updates, parts, &policy)?.is_break() {
            break;
        }
    }
    run.finish()
}
