//! Proximal Policy Optimization (Schulman et al. 2017, "Proximal Policy Optimization
//! Algorithms", <https://arxiv.org/abs/1707.06347>), following CleanRL's `ppo.py` and
//! `ppo_continuous_action.py` and the implementation details catalogued by Huang et al. 2022,
//! "The 37 Implementation Details of PPO" (ICLR blog track): vector envs, GAE, clipped
//! surrogate, clipped value loss, per-minibatch advantage normalisation, orthogonal
//! initialisation, Adam with eps 1e-5, linear learning-rate annealing, gradient clipping.
//!
//! Discrete actions use a categorical policy over logits; continuous ones a diagonal Gaussian
//! with a state-independent log standard deviation (actions are clipped to the box only when
//! sent to the env; the stored action is the sample).
//!
//! One difference from CleanRL, on purpose: an episode cut by its time limit is bootstrapped
//! with the value of its final observation (Pardo et al. 2018, "Time Limits in Reinforcement
//! Learning", <https://arxiv.org/abs/1712.00378>); see [`crate::rl::gae`]. The vector env
//! autoresets on the next step, so that step's transition is masked out of the loss.

use serde::{Deserialize, Serialize};
use tch::nn;
use tch::{Device, Kind, Tensor};

use graft_envs::BatchAction;

use crate::error::{Error, Result};
use crate::models::Activation;
use crate::optim::{Optimizer, OptimizerConfig};
use crate::rl::buffer::{check_storage, Rollout};
use crate::rl::gae::gae;
use crate::rl::harness::Harness;
use crate::rl::nets::{ActionSpec, ObsSpec, TorsoConfig};
pub use crate::rl::ppo_net::{clip_to_box, gaussian_logprob_entropy, PpoNet};
use crate::rl::run::{RunOptions, TrainSummary};
use crate::rl::state::Part;
use crate::train::{step_seed, NoHooks, TrainHooks};

/// PPO hyperparameters. Defaults are CleanRL `ppo.py`'s (classic control, 500k steps).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Env steps to train for, summed over the vector env's copies.
    pub total_timesteps: u64,
    /// Adam learning rate (annealed linearly to 0 when `anneal_lr`).
    pub learning_rate: f64,
    /// Parallel envs in the vector env.
    pub num_envs: usize,
    /// Steps per env per rollout.
    pub num_steps: usize,
    /// Anneal the learning rate linearly to 0 over training.
    pub anneal_lr: bool,
    /// Discount factor γ.
    pub gamma: f64,
    /// GAE's λ.
    pub gae_lambda: f64,
    /// Minibatches per epoch.
    pub num_minibatches: usize,
    /// Epochs over each rollout.
    pub update_epochs: usize,
    /// Normalise advantages per minibatch.
    pub norm_adv: bool,
    /// Surrogate clipping coefficient ε.
    pub clip_coef: f64,
    /// Clip the value loss around the old values with the same ε.
    pub clip_vloss: bool,
    /// Entropy bonus coefficient.
    pub ent_coef: f64,
    /// Value loss coefficient.
    pub vf_coef: f64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// Stop an update's epochs early once the approximate KL exceeds this.
    pub target_kl: Option<f64>,
    /// Hidden widths of the default MLP torso.
    pub hidden: Vec<i64>,
    /// Activation of the default MLP torso.
    pub activation: Activation,
    /// One torso for actor and critic (pixel agents) instead of two (CleanRL's classic control).
    pub shared_torso: bool,
    /// The torso: zoo model, pretrained weights, freezing.
    pub torso: TorsoConfig,
    /// Initial log standard deviation of the Gaussian policy (continuous actions).
    pub init_log_std: f64,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig {
            total_timesteps: 500_000,
            learning_rate: 2.5e-4,
            num_envs: 4,
            num_steps: 128,
            anneal_lr: true,
            gamma: 0.99,
            gae_lambda: 0.95,
            num_minibatches: 4,
            update_epochs: 4,
            norm_adv: true,
            clip_coef: 0.2,
            clip_vloss: true,
            ent_coef: 0.01,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            shared_torso: false,
            torso: TorsoConfig::default(),
            init_log_std: 0.0,
        }
    }
}

impl PpoConfig {
    /// CartPole-v1 and other classic control with discrete actions: CleanRL's defaults.
    pub fn cartpole() -> Self {
        Self::default()
    }

    /// Continuous control: CleanRL's `ppo_continuous_action.py` (1M steps, one env, 2048-step
    /// rollouts, 32 minibatches, 10 epochs, no entropy bonus, lr 3e-4).
    pub fn continuous() -> Self {
        PpoConfig {
            total_timesteps: 1_000_000,
            learning_rate: 3e-4,
            num_envs: 1,
            num_steps: 2048,
            num_minibatches: 32,
            update_epochs: 10,
            ent_coef: 0.0,
            ..Self::default()
        }
    }

    /// CleanRL's `ppo_atari.py`: 10M steps, 8 envs x 128 steps, lr 2.5e-4 annealed, 4
    /// minibatches, 4 epochs, clip 0.1, entropy 0.01, one Nature-CNN torso shared by actor
    /// and critic, on 4 stacked 84x84 frames (the env: `AtariPreprocessing` with SB3's
    /// wrappers, docs/atari.md).
    pub fn atari() -> Self {
        PpoConfig {
            total_timesteps: 10_000_000,
            learning_rate: 2.5e-4,
            num_envs: 8,
            num_steps: 128,
            clip_coef: 0.1,
            shared_torso: true,
            ..Self::default()
        }
    }

    /// The RL Baselines3 Zoo's CartPole-v1 settings (what Stable-Baselines3 is benchmarked
    /// with): 100k steps, 8 envs x 32 steps, one minibatch of 256, 20 epochs, γ 0.98, λ 0.8, no
    /// entropy bonus, lr 1e-3 annealed, no value clipping (SB3's `clip_range_vf=None`). The
    /// zoo also anneals the clip range; Graft keeps it at 0.2.
    pub fn sb3_zoo_cartpole() -> Self {
        PpoConfig {
            total_timesteps: 100_000,
            learning_rate: 1e-3,
            num_envs: 8,
            num_steps: 32,
            num_minibatches: 1,
            update_epochs: 20,
            gamma: 0.98,
            gae_lambda: 0.8,
            ent_coef: 0.0,
            clip_vloss: false,
            ..Self::default()
        }
    }

    /// Samples per rollout.
    pub fn batch_size(&self) -> usize {
        self.num_envs * self.num_steps
    }

    /// Rollouts (and updates) in the whole run.
    pub fn num_iterations(&self) -> u64 {
        self.total_timesteps / self.batch_size().max(1) as u64
    }

    /// Refuse values that cannot train.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Invalid(format!("ppo config: {m}")));
        if self.num_envs == 0
            || self.num_steps == 0
            || self.num_minibatches == 0
            || self.update_epochs == 0
        {
            return bad(
                "num_envs, num_steps, num_minibatches and update_epochs must be at least 1",
            );
        }
        if self.num_iterations() == 0 {
            return bad("total_timesteps is smaller than one rollout (num_envs * num_steps)");
        }
        if !(0.0..=1.0).contains(&self.gamma) || !(0.0..=1.0).contains(&self.gae_lambda) {
            return bad("gamma and gae_lambda must lie in [0, 1]");
        }
        if self.learning_rate.is_nan()
            || self.learning_rate <= 0.0
            || self.clip_coef.is_nan()
            || self.clip_coef <= 0.0
        {
            return bad("learning_rate and clip_coef must be positive");
        }
        Ok(())
    }
}

/// The terms of PPO's loss on one minibatch.
#[derive(Debug)]
pub struct PpoLoss {
    /// `pg_loss − ent_coef · entropy + vf_coef · v_loss`.
    pub total: Tensor,
    /// Clipped surrogate policy loss.
    pub pg_loss: f64,
    /// (Clipped) value loss, `0.5 · mean(max(...))`.
    pub v_loss: f64,
    /// Mean entropy.
    pub entropy: f64,
    /// Approximate KL `mean((r − 1) − log r)` (Schulman's low-variance estimator).
    pub approx_kl: f64,
    /// Fraction of samples whose ratio was clipped.
    pub clipfrac: f64,
}

/// PPO's loss from the new policy's outputs and the rollout's stored values (all `[B]`).
#[allow(clippy::too_many_arguments)]
pub fn ppo_loss(
    new_logprob: &Tensor,
    entropy: &Tensor,
    new_value: &Tensor,
    old_logprob: &Tensor,
    advantages: &Tensor,
    returns: &Tensor,
    old_values: &Tensor,
    cfg: &PpoConfig,
) -> PpoLoss {
    let logratio = new_logprob - old_logprob;
    let ratio = logratio.exp();
    let (approx_kl, clipfrac) = tch::no_grad(|| {
        let kl = ((&ratio - 1.0) - &logratio).mean(Kind::Float).double_value(&[]);
        let cf = (&ratio - 1.0)
            .abs()
            .gt(cfg.clip_coef)
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        (kl, cf)
    });
    let adv = if cfg.norm_adv && advantages.numel() > 1 {
        (advantages - advantages.mean(Kind::Float)) / (advantages.std(true) + 1e-8)
    } else {
        advantages.shallow_clone()
    };
    let pg1 = -&adv * &ratio;
    let pg2 = -&adv * ratio.clamp(1.0 - cfg.clip_coef, 1.0 + cfg.clip_coef);
    let pg_loss = pg1.maximum(&pg2).mean(Kind::Float);
    let v_unclipped = (new_value - returns).square();
    let v_loss = if cfg.clip_vloss {
        let v_clipped = old_values + (new_value - old_values).clamp(-cfg.clip_coef, cfg.clip_coef);
        v_unclipped.maximum(&(v_clipped - returns).square()).mean(Kind::Float) * 0.5
    } else {
        v_unclipped.mean(Kind::Float) * 0.5
    };
    let ent = entropy.mean(Kind::Float);
    let total = &pg_loss - &ent * cfg.ent_coef + &v_loss * cfg.vf_coef;
    PpoLoss {
        pg_loss: pg_loss.double_value(&[]),
        v_loss: v_loss.double_value(&[]),
        entropy: ent.double_value(&[]),
        total,
        approx_kl,
        clipfrac,
    }
}

/// Build the agent for `env_id`: networks, pretrained torso, optimizer (frozen torso groups).
pub fn build(
    vs: &mut nn::VarStore,
    cfg: &PpoConfig,
    obs: &ObsSpec,
    action: &ActionSpec,
) -> Result<(PpoNet, Optimizer)> {
    let net = PpoNet::new(vs, cfg, obs, action)?;
    let mut groups = Vec::new();
    for torso in net.torsos() {
        torso.load_pretrained(vs, &cfg.torso)?;
        groups.extend(torso.layer_groups());
    }
    let opt_cfg = OptimizerConfig { eps: 1e-5, ..OptimizerConfig::adam(cfg.learning_rate) };
    let mut opt = Optimizer::new(vs, &groups, &opt_cfg)?;
    if cfg.torso.freeze {
        for g in &groups {
            opt.freeze(&g.name)?;
        }
    }
    Ok((net, opt))
}

/// Salt separating the update's random stream (minibatch shuffles) from acting's.
const UPDATE_SALT: u64 = 0x5050_4f5f_5550_4454;

/// Train PPO on `env_id` (see the module docs); writes metrics and a checkpoint into
/// `opts.out` when set, resumes from it when `opts.resume`.
pub fn train(cfg: &PpoConfig, env_id: &str, seed: u64, opts: &RunOptions) -> Result<TrainSummary> {
    train_with_hooks(cfg, env_id, seed, opts, &mut NoHooks)
}

/// [`train`] with schedule hooks: `on_epoch_start` before every iteration, `on_step` and
/// `on_eval` after the iterations where they fall due (in env steps,
/// [`crate::rl::harness`]). A Rhai schedule can unfreeze torso groups or change their
/// learning rates mid-run; linear annealing (`anneal_lr`) multiplies whatever base rates the
/// hooks set.
pub fn train_with_hooks(
    cfg: &PpoConfig,
    env_id: &str,
    seed: u64,
    opts: &RunOptions,
    hooks: &mut dyn TrainHooks,
) -> Result<TrainSummary> {
    cfg.validate()?;
    let run = Harness::open("ppo", env_id, seed, cfg, opts)?;
    let device = opts.device;
    let mut envs = opts.make_vec(env_id, cfg.num_envs)?;
    let obs_spec = ObsSpec::from_space(envs.single_observation_space())?;
    let act_spec = ActionSpec::from_space(envs.single_action_space())?;
    let (n, dim) = (cfg.num_envs, act_spec.dim());
    tch::manual_seed(step_seed(seed, u64::MAX));
    let mut vs = nn::VarStore::new(device);
    let (net, mut opt) = build(&mut vs, cfg, &obs_spec, &act_spec)?;
    check_storage("PPO rollout", (cfg.num_steps * n) as u128, &obs_spec, dim)?;
    let num_iterations = cfg.num_iterations();
    let batch = cfg.batch_size() as u64;
    let start_iter = run.updates_done();
    let parts = &mut [Part::trained("policy", &vs, &mut opt)];
    let mut run = run.begin(num_iterations * batch, n, dim, parts, hooks)?;

    // Resume: replay the logged actions through the freshly seeded envs.
    let mut prev_done = vec![false; n];
    envs.reset(Some(seed), &Default::default())?;
    let mut t = 0;
    while let Some(acts) = run.replay_action(t).map(<[f32]>::to_vec) {
        let view = step_envs(&mut envs, &act_spec, &acts)?;
        for (i, prev) in prev_done.iter_mut().enumerate() {
            *prev = view.terminated[i] || view.truncated[i];
            run.on_step(i, view.rewards[i], *prev, t * n as u64)?;
        }
        t += 1;
    }

    let mut global_step = run.env_steps();
    let mut rollout = Rollout::new(n);
    for iteration in start_iter..num_iterations {
        if cfg.anneal_lr {
            opt.set_lr_factor(1.0 - iteration as f64 / num_iterations as f64);
        }
        if run.round_start(iteration, &mut [Part::trained("policy", &vs, &mut opt)])?.is_break() {
            break;
        }
        // ---- Rollout: num_steps steps of every env. ----
        rollout.clear();
        for _ in 0..cfg.num_steps {
            let view = envs.view();
            let x = obs_spec.to_tensor(view.obs_f32, view.obs_u8, n, device);
            rollout.obs_f32.extend_from_slice(view.obs_f32);
            rollout.obs_u8.extend_from_slice(view.obs_u8);
            tch::manual_seed(step_seed(seed, global_step));
            let (actions, logprob, value) = tch::no_grad(|| net.sample(&x));
            let acts: Vec<f32> = Vec::try_from(&actions.reshape([-1]).to_device(Device::Cpu))?;
            rollout.actions.extend_from_slice(&acts);
            rollout.logprobs.extend(Vec::<f32>::try_from(&logprob.to_device(Device::Cpu))?);
            rollout.values.extend(Vec::<f32>::try_from(&value.to_device(Device::Cpu))?);
            // After a finished episode the vector env resets on this step and ignores the action.
            rollout.valid.extend(prev_done.iter().map(|d| !d));
            run.log_action(&acts);
            global_step += n as u64;
            let view = step_envs(&mut envs, &act_spec, &acts)?;
            for (i, prev) in prev_done.iter_mut().enumerate() {
                let done = view.terminated[i] || view.truncated[i];
                rollout.rewards.push(view.rewards[i] as f32);
                rollout.terminated.push(view.terminated[i]);
                rollout.truncated.push(view.truncated[i]);
                *prev = done;
                run.on_step(i, view.rewards[i], done, global_step)?;
            }
        }
        // Bootstrap: the value of the observation after the last step (a final observation
        // when that step ended an episode).
        let view = envs.view();
        let x = obs_spec.to_tensor(view.obs_f32, view.obs_u8, n, device);
        let last_value = tch::no_grad(|| net.value(&x));
        rollout.values.extend(Vec::<f32>::try_from(&last_value.to_device(Device::Cpu))?);
        let (adv, ret) = gae(
            &rollout.rewards,
            &rollout.values,
            &rollout.terminated,
            &rollout.truncated,
            n,
            cfg.gamma as f32,
            cfg.gae_lambda as f32,
        );

        // ---- Update: update_epochs passes over the valid samples in minibatches. ----
        let valid = rollout.valid_indices();
        let b_obs =
            obs_spec.to_tensor(&rollout.obs_f32, &rollout.obs_u8, n * cfg.num_steps, device);
        let b_actions = Tensor::from_slice(&rollout.actions)
            .view([(n * cfg.num_steps) as i64, dim as i64])
            .to_device(device);
        let b_logprobs = Tensor::from_slice(&rollout.logprobs).to_device(device);
        let b_values = Tensor::from_slice(&rollout.values[..n * cfg.num_steps]).to_device(device);
        let b_adv = Tensor::from_slice(&adv).to_device(device);
        let b_ret = Tensor::from_slice(&ret).to_device(device);
        let valid_t = Tensor::from_slice(&valid).to_device(device);
        let mb_size = valid.len().div_ceil(cfg.num_minibatches).max(1) as i64;
        let mut last = None;
        'epochs: for epoch in 0..cfg.update_epochs as u64 {
            tch::manual_seed(step_seed(
                seed ^ UPDATE_SALT,
                iteration * cfg.update_epochs as u64 + epoch,
            ));
            let perm = valid_t
                .index_select(0, &Tensor::randperm(valid.len() as i64, (Kind::Int64, device)));
            for mb in perm.split(mb_size, 0) {
                let x = b_obs.index_select(0, &mb);
                let (lp, ent) = net.logprob_entropy(&x, &b_actions.index_select(0, &mb));
                let v = net.value(&x);
                let loss = ppo_loss(
                    &lp,
                    &ent,
                    &v,
                    &b_logprobs.index_select(0, &mb),
                    &b_adv.index_select(0, &mb),
                    &b_ret.index_select(0, &mb),
                    &b_values.index_select(0, &mb),
                    cfg,
                );
                let total = loss.total.double_value(&[]);
                if !total.is_finite() {
                    return Err(Error::Diverged { step: global_step as usize, loss: total });
                }
                opt.backward_step_clip(&loss.total, cfg.max_grad_norm)?;
                let stop = cfg.target_kl.is_some_and(|k| loss.approx_kl > k);
                last = Some(loss);
                if stop {
                    break 'epochs;
                }
            }
        }
        if let Some(l) = &last {
            run.log(
                global_step,
                &[
                    ("losses/policy_loss", l.pg_loss),
                    ("losses/value_loss", l.v_loss),
                    ("losses/entropy", l.entropy),
                    ("losses/approx_kl", l.approx_kl),
                    ("losses/clipfrac", l.clipfrac),
                    ("charts/learning_rate", cfg.learning_rate * opt.lr_factor()),
                ],
            )?;
        }

        // ---- Hooks, evaluation, checkpoint, stop: the harness decides. ----
        let parts = &mut [Part::trained("policy", &vs, &mut opt)];
        let policy = |x: &Tensor| net.act_deterministic(x);
        if run.after_update(global_step, iteration + 1, parts, &policy)?.is_break() {
            break;
        }
    }
    run.finish()
}

/// Step the vector env with a flat batch of float actions (discrete: indices as floats,
/// shifted by the space's start; continuous: clipped to the box).
pub fn step_envs<'a>(
    envs: &'a mut graft_envs::registry::VecEnv,
    spec: &ActionSpec,
    acts: &[f32],
) -> Result<graft_envs::BatchView<'a>> {
    Ok(match spec {
        ActionSpec::Discrete { start, .. } => {
            let a: Vec<i64> = acts.iter().map(|&x| x as i64 + start).collect();
            envs.step(BatchAction::Discrete(&a))?
        }
        ActionSpec::Continuous { low, high } => {
            let d = low.len();
            let a: Vec<f32> =
                acts.iter().enumerate().map(|(k, &x)| x.clamp(low[k % d], high[k % d])).collect();
            envs.step(BatchAction::Continuous(&a))?
        }
    })
}
