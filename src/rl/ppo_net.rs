//! PPO's actor-critic network (see [`crate::rl::ppo`]): a zoo torso for the actor and,
//! unless shared, another for the critic; a categorical head over logits for discrete actions
//! or a Gaussian head with a state-independent log standard deviation for continuous ones.
//! Initialisation follows CleanRL (orthogonal, gain √2 in the torso, 0.01 on the policy head,
//! 1 on the value head; Huang et al. 2022, "The 37 Implementation Details of PPO").

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::rl::nets::{ortho_linear, orthogonal_init, ActionSpec, ObsSpec, Torso};
use crate::rl::ppo::PpoConfig;

/// Actor and critic.
#[derive(Debug)]
pub struct PpoNet {
    actor_torso: Torso,
    critic_torso: Option<Torso>,
    actor_head: nn::Linear,
    critic_head: nn::Linear,
    log_std: Option<Tensor>,
    action: ActionSpec,
}

impl PpoNet {
    /// Build under `vs`'s root (`actor.torso`, `actor.head`, `critic.torso`, `critic.head`,
    /// `actor.log_std`) with CleanRL's orthogonal initialisation.
    pub fn new(
        vs: &nn::VarStore,
        cfg: &PpoConfig,
        obs: &ObsSpec,
        action: &ActionSpec,
    ) -> Result<Self> {
        let root = vs.root();
        let actor_torso = Torso::build(
            &(&root / "actor"),
            "torso",
            &cfg.torso,
            obs,
            &cfg.hidden,
            cfg.activation,
        )?;
        let critic_torso = if cfg.shared_torso {
            None
        } else {
            Some(Torso::build(
                &(&root / "critic"),
                "torso",
                &cfg.torso,
                obs,
                &cfg.hidden,
                cfg.activation,
            )?)
        };
        orthogonal_init(vs, "actor.torso", 2f64.sqrt());
        orthogonal_init(vs, "critic.torso", 2f64.sqrt());
        let feat = actor_torso.output_dim();
        let (out, log_std) = match action {
            ActionSpec::Discrete { n, .. } => (*n, None),
            ActionSpec::Continuous { low, .. } => {
                let d = low.len() as i64;
                (
                    d,
                    Some((&root / "actor").var(
                        "log_std",
                        &[1, d],
                        nn::Init::Const(cfg.init_log_std),
                    )),
                )
            }
        };
        let actor_head = ortho_linear(&root / "actor" / "head", feat, out, 0.01);
        let critic_feat = critic_torso.as_ref().map_or(feat, |t| t.output_dim());
        let critic_head = ortho_linear(&root / "critic" / "head", critic_feat, 1, 1.0);
        Ok(PpoNet {
            actor_torso,
            critic_torso,
            actor_head,
            critic_head,
            log_std,
            action: action.clone(),
        })
    }

    /// The torsos, for loading pretrained weights and freezing.
    pub fn torsos(&self) -> Vec<&Torso> {
        std::iter::once(&self.actor_torso).chain(self.critic_torso.as_ref()).collect()
    }

    /// `V(s)`, `[B]`.
    pub fn value(&self, x: &Tensor) -> Tensor {
        let torso = self.critic_torso.as_ref().unwrap_or(&self.actor_torso);
        self.critic_head.forward(&torso.forward(x)).squeeze_dim(-1)
    }

    /// Logits `[B, n]` (discrete) or means `[B, dim]` (continuous).
    fn policy_out(&self, x: &Tensor) -> Tensor {
        self.actor_head.forward(&self.actor_torso.forward(x))
    }

    /// Log-probability and entropy of `actions` under the current policy, each `[B]`.
    /// `actions`: `[B, 1]` indices as floats (discrete) or `[B, dim]`.
    pub fn logprob_entropy(&self, x: &Tensor, actions: &Tensor) -> (Tensor, Tensor) {
        let out = self.policy_out(x);
        match &self.log_std {
            None => {
                let logp = out.log_softmax(-1, Kind::Float);
                let lp = logp.gather(1, &actions.to_kind(Kind::Int64), false).squeeze_dim(-1);
                let ent = -(logp.exp() * &logp).sum_dim_intlist(-1, false, Kind::Float);
                (lp, ent)
            }
            Some(log_std) => gaussian_logprob_entropy(&out, &log_std.expand_as(&out), actions),
        }
    }

    /// Sample actions for a batch: `(actions [B, dim] as floats, log-probs [B], values [B])`.
    pub fn sample(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        let out = self.policy_out(x);
        let actions = match &self.log_std {
            None => out.softmax(-1, Kind::Float).multinomial(1, true).to_kind(Kind::Float),
            Some(log_std) => &out + log_std.exp() * out.randn_like(),
        };
        let (lp, _) = match &self.log_std {
            None => {
                let logp = out.log_softmax(-1, Kind::Float);
                (
                    logp.gather(1, &actions.to_kind(Kind::Int64), false).squeeze_dim(-1),
                    Tensor::new(),
                )
            }
            Some(log_std) => gaussian_logprob_entropy(&out, &log_std.expand_as(&out), &actions),
        };
        (actions, lp, self.value(x))
    }

    /// The deterministic action: argmax (discrete, `[B]` int64) or the mean (`[B, dim]`,
    /// clipped to the action box).
    pub fn act_deterministic(&self, x: &Tensor) -> Tensor {
        let out = self.policy_out(x);
        match &self.action {
            ActionSpec::Discrete { .. } => out.argmax(-1, false),
            ActionSpec::Continuous { low, high } => clip_to_box(&out, low, high),
        }
    }
}

/// Diagonal Gaussian log-density and entropy, summed over action dimensions, each `[B]`.
pub fn gaussian_logprob_entropy(
    mean: &Tensor,
    log_std: &Tensor,
    actions: &Tensor,
) -> (Tensor, Tensor) {
    let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    let var = (log_std * 2.0).exp();
    let lp = (-(actions - mean).square() / (var * 2.0) - log_std - half_log_2pi).sum_dim_intlist(
        -1,
        false,
        Kind::Float,
    );
    let ent = (log_std + 0.5 + half_log_2pi).sum_dim_intlist(-1, false, Kind::Float);
    (lp, ent)
}

/// Clamp `[B, dim]` actions to per-dimension bounds.
pub fn clip_to_box(a: &Tensor, low: &[f32], high: &[f32]) -> Tensor {
    let lo = Tensor::from_slice(low).to_device(a.device());
    let hi = Tensor::from_slice(high).to_device(a.device());
    a.maximum(&lo).minimum(&hi)
}
