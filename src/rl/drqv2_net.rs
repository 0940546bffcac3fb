//! DrQ-v2's networks ([`super::drqv2`]): the encoder (a zoo torso, `drq_cnn` by default),
//! the actor and the twin critic, each with its own linear → LayerNorm → tanh trunk on the
//! encoder's features, the critic's Polyak target, the paper's initialisation, and its noisy
//! action (clipped Gaussian noise, clamped with a straight-through gradient).

use tch::nn::{self, Module, ModuleT};
use tch::{Device, Tensor};

use crate::error::Result;
use crate::models::{mlp, Activation, Mlp, MlpConfig};
use crate::optim::ema_update;
use crate::rl::drqv2::DrqV2Config;
use crate::rl::nets::{orthogonal_init, ObsSpec, Torso};

/// Linear → LayerNorm → tanh: the small trunk the actor and the critic each put on the
/// encoder's (large) feature vector.
#[derive(Debug)]
struct Trunk {
    fc: nn::Linear,
    norm: nn::LayerNorm,
}

impl Trunk {
    fn new(p: &nn::Path, input: i64, features: i64) -> Self {
        let fc = nn::linear(p / "fc", input, features, Default::default());
        let norm = nn::layer_norm(p / "norm", vec![features], Default::default());
        Trunk { fc, norm }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        self.norm.forward(&self.fc.forward(x)).tanh()
    }
}

fn relu_mlp(p: &nn::Path, input: i64, hidden: &[i64], out: i64) -> Result<Mlp> {
    let cfg = MlpConfig {
        input_dim: input,
        hidden: hidden.to_vec(),
        activation: Activation::Relu,
        num_outputs: Some(out),
    };
    mlp(p, &cfg)
}

/// The deterministic actor on encoder features: `tanh(policy(trunk(h)))`, in `[−1, 1]^d`.
#[derive(Debug)]
pub struct DrqV2Actor {
    trunk: Trunk,
    policy: Mlp,
}

impl DrqV2Actor {
    /// Build under `p` (`trunk`, `policy`) for `features`-wide encoder outputs.
    pub fn new(p: &nn::Path, cfg: &DrqV2Config, features: i64, action_dim: i64) -> Result<Self> {
        let trunk = Trunk::new(&(p / "trunk"), features, cfg.feature_dim);
        let policy = relu_mlp(&(p / "policy"), cfg.feature_dim, &cfg.hidden, action_dim)?;
        Ok(DrqV2Actor { trunk, policy })
    }

    /// The mean action `μ(h)`, `[B, d]` in `[−1, 1]`.
    pub fn mean(&self, features: &Tensor) -> Tensor {
        self.policy.forward_t(&self.trunk.forward(features), false).tanh()
    }
}

/// Twin Q-networks on encoder features and an action in `[−1, 1]^d`, behind one trunk.
#[derive(Debug)]
pub struct DrqV2Critic {
    trunk: Trunk,
    q1: Mlp,
    q2: Mlp,
}

impl DrqV2Critic {
    /// Build under `p` (`trunk`, `q1`, `q2`).
    pub fn new(p: &nn::Path, cfg: &DrqV2Config, features: i64, action_dim: i64) -> Result<Self> {
        let trunk = Trunk::new(&(p / "trunk"), features, cfg.feature_dim);
        let input = cfg.feature_dim + action_dim;
        let q1 = relu_mlp(&(p / "q1"), input, &cfg.hidden, 1)?;
        let q2 = relu_mlp(&(p / "q2"), input, &cfg.hidden, 1)?;
        Ok(DrqV2Critic { trunk, q1, q2 })
    }

    /// `(Q1(h, a), Q2(h, a))`, each `[B]`.
    pub fn forward(&self, features: &Tensor, action: &Tensor) -> (Tensor, Tensor) {
        let x = Tensor::cat(&[self.trunk.forward(features), action.shallow_clone()], 1);
        let q = |m: &Mlp| m.forward_t(&x, false).squeeze_dim(-1);
        (q(&self.q1), q(&self.q2))
    }
}

/// DrQ-v2's noisy action: `μ + clip(noise · stddev, ±clip)` (no clip when `clip` is `None`),
/// then clamped into `(−1, 1)` with a straight-through gradient (the clamp is not
/// differentiated, so the actor still learns at the boundary). `noise` is standard normal.
pub fn noisy_action(mean: &Tensor, noise: &Tensor, stddev: f64, clip: Option<f64>) -> Tensor {
    let mut eps = noise * stddev;
    if let Some(c) = clip {
        eps = eps.clamp(-c, c);
    }
    let x = mean + eps;
    let clamped = x.clamp(-1.0 + 1e-6, 1.0 - 1e-6);
    &x - x.detach() + clamped.detach()
}

/// The encoder, actor and critic of a DrQ-v2 agent, each in its own VarStore (the critic's
/// target copies the critic's trunk and heads, not the shared encoder).
pub(crate) struct Nets {
    pub(crate) encoder_vs: nn::VarStore,
    pub(crate) encoder: Torso,
    pub(crate) actor_vs: nn::VarStore,
    pub(crate) actor: DrqV2Actor,
    pub(crate) critic_vs: nn::VarStore,
    pub(crate) critic: DrqV2Critic,
    pub(crate) target_vs: nn::VarStore,
    pub(crate) target: DrqV2Critic,
}

impl Nets {
    /// Build with the paper's initialisation (orthogonal weights, ReLU gain on convolutions,
    /// zero biases), then load a pretrained encoder when the config names one.
    pub(crate) fn new(
        cfg: &DrqV2Config,
        obs: &ObsSpec,
        action_dim: i64,
        device: Device,
    ) -> Result<Self> {
        let mut encoder_vs = nn::VarStore::new(device);
        let encoder = Torso::build(
            &encoder_vs.root(),
            "encoder",
            &cfg.encoder(),
            obs,
            &[],
            Activation::Relu,
        )?;
        let features = encoder.output_dim();
        let actor_vs = nn::VarStore::new(device);
        let actor = DrqV2Actor::new(&(actor_vs.root() / "actor"), cfg, features, action_dim)?;
        let critic_vs = nn::VarStore::new(device);
        let critic = DrqV2Critic::new(&(critic_vs.root() / "critic"), cfg, features, action_dim)?;
        paper_init(&encoder_vs);
        paper_init(&actor_vs);
        paper_init(&critic_vs);
        encoder.load_pretrained(&mut encoder_vs, &cfg.encoder())?;
        let target_vs = nn::VarStore::new(device);
        let target = DrqV2Critic::new(&(target_vs.root() / "critic"), cfg, features, action_dim)?;
        ema_update(&target_vs, &critic_vs, 0.0)?;
        Ok(Nets { encoder_vs, encoder, actor_vs, actor, critic_vs, critic, target_vs, target })
    }

    /// The noise-free action `μ(encoder(x))`, `[B, d]` in `[−1, 1]`.
    pub(crate) fn mean_action(&self, x: &Tensor) -> Tensor {
        self.actor.mean(&self.encoder.forward(x))
    }
}

/// `utils.weight_init` of the paper's code: orthogonal linear weights (gain 1), orthogonal
/// convolution kernels with ReLU's gain √2, zero biases; LayerNorm keeps ones and zeros.
fn paper_init(vs: &nn::VarStore) {
    orthogonal_init(vs, "", 1.0);
    tch::no_grad(|| {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0)); // a fixed order: the draws depend on the seed only
        for (key, mut t) in vars {
            if key.ends_with(".weight") && t.dim() == 4 {
                t.init(nn::Init::Orthogonal { gain: 2f64.sqrt() });
            } else if key.ends_with(".bias") {
                let _ = t.fill_(0.0);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    fn values(x: &Tensor) -> Vec<f32> {
        Vec::try_from(x).unwrap()
    }

    /// μ + clip(σ·ε, ±c) by hand: σ 0.2, c 0.3; ε = (1, 1, −3) → (+0.2, +0.2, −0.3); 0.9 + 0.2
    /// is clamped just below 1, but the gradient passes straight through to μ everywhere.
    #[test]
    fn noisy_actions_clip_the_noise_then_clamp_with_a_straight_through_gradient() {
        let mean = Tensor::from_slice(&[0.0f32, 0.9, -0.5]).set_requires_grad(true);
        let noise = Tensor::from_slice(&[1.0f32, 1.0, -3.0]);
        let a = noisy_action(&mean, &noise, 0.2, Some(0.3));
        let got = values(&a.detach());
        for (g, w) in got.iter().zip([0.2f32, 1.0 - 1e-6, -0.8]) {
            assert!((g - w).abs() < 1e-6, "{got:?}");
        }
        a.sum(Kind::Float).backward();
        assert_eq!(values(&mean.grad()), [1.0, 1.0, 1.0]);
        // Without a clip the noise is used whole (−0.6).
        let free = noisy_action(&mean.detach(), &noise, 0.2, None);
        assert!((values(&free)[2] + 1.1f32.min(1.0 - 1e-6)).abs() < 1e-6);
    }
}
