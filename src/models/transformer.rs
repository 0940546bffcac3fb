//! The pre-norm transformer block shared by ViT and the GPT/BERT-style sequence models
//! (Vaswani et al. 2017, "Attention Is All You Need", <https://arxiv.org/abs/1706.03762>;
//! pre-norm placement as in ViT, Dosovitskiy et al. 2021, and GPT-2).
//!
//! Parameter names are torchvision's `EncoderBlock`: `ln_1`, `self_attention.in_proj_weight`,
//! `self_attention.in_proj_bias`, `self_attention.out_proj`, `ln_2`, `mlp.0`, `mlp.3` — the
//! layout of `torch.nn.MultiheadAttention`, so torchvision ViT weights load unchanged.
//! Initialisation follows torchvision: Xavier-uniform projections, zero attention biases,
//! MLP biases N(0, 1e-6).

use tch::nn::{self, Module};
use tch::Tensor;

use super::adapter::adapt;
use super::base::{join_key, path_prefix};
use super::mlp::Activation;

/// LayerNorm with PyTorch's defaults and a chosen epsilon.
pub(crate) fn layer_norm(p: nn::Path, dim: i64, eps: f64) -> nn::LayerNorm {
    nn::layer_norm(p, vec![dim], nn::LayerNormConfig { eps, ..Default::default() })
}

/// PyTorch's `xavier_uniform_` for a `[fan_out, fan_in]` weight.
pub(crate) fn xavier_uniform(fan_in: i64, fan_out: i64) -> nn::Init {
    let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
    nn::Init::Uniform { lo: -bound, up: bound }
}

/// One pre-norm block: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.
#[derive(Debug)]
pub struct TransformerBlock {
    ln_1: nn::LayerNorm,
    in_proj_weight: Tensor,
    in_proj_bias: Tensor,
    out_proj: nn::Linear,
    ln_2: nn::LayerNorm,
    fc1: nn::Linear,
    fc2: nn::Linear,
    heads: i64,
    dropout: f64,
    attention_dropout: f64,
    activation: Activation,
    /// Weight keys of the four projections (`in_proj`, `out_proj`, `mlp.0`, `mlp.3`), for
    /// forward-time adapters ([`super::adapter`]).
    keys: [String; 4],
}

/// Hyperparameters of a [`TransformerBlock`] (validated by the model that owns it).
#[derive(Debug, Clone, Copy)]
pub struct BlockConfig {
    /// Token width.
    pub dim: i64,
    /// Attention heads; must divide `dim`.
    pub heads: i64,
    /// Hidden width of the MLP.
    pub mlp_dim: i64,
    /// Dropout after attention and in the MLP.
    pub dropout: f64,
    /// Dropout on attention weights.
    pub attention_dropout: f64,
    /// LayerNorm epsilon.
    pub eps: f64,
    /// MLP non-linearity.
    pub activation: Activation,
}

impl TransformerBlock {
    /// Build a block under `p`.
    pub fn new(p: &nn::Path, c: BlockConfig) -> Self {
        let a = p / "self_attention";
        let mlp = p / "mlp";
        let mlp_linear = |p: nn::Path, i: i64, o: i64| {
            nn::linear(
                p,
                i,
                o,
                nn::LinearConfig {
                    ws_init: xavier_uniform(i, o),
                    bs_init: Some(nn::Init::Randn { mean: 0.0, stdev: 1e-6 }),
                    bias: true,
                },
            )
        };
        // torch.nn.MultiheadAttention keeps nn.Linear's default for out_proj's weight.
        let out_bound = 1.0 / (c.dim as f64).sqrt();
        let base = path_prefix(p);
        let keys = [
            "self_attention.in_proj_weight",
            "self_attention.out_proj.weight",
            "mlp.0.weight",
            "mlp.3.weight",
        ]
        .map(|k| join_key(&base, k));
        TransformerBlock {
            keys,
            ln_1: layer_norm(p / "ln_1", c.dim, c.eps),
            in_proj_weight: a.var(
                "in_proj_weight",
                &[3 * c.dim, c.dim],
                xavier_uniform(c.dim, 3 * c.dim),
            ),
            in_proj_bias: a.var("in_proj_bias", &[3 * c.dim], nn::Init::Const(0.0)),
            out_proj: nn::linear(
                &a / "out_proj",
                c.dim,
                c.dim,
                nn::LinearConfig {
                    ws_init: nn::Init::Uniform { lo: -out_bound, up: out_bound },
                    bs_init: Some(nn::Init::Const(0.0)),
                    bias: true,
                },
            ),
            ln_2: layer_norm(p / "ln_2", c.dim, c.eps),
            fc1: mlp_linear(&mlp / 0, c.dim, c.mlp_dim),
            fc2: mlp_linear(&mlp / 3, c.mlp_dim, c.dim),
            heads: c.heads,
            dropout: c.dropout,
            attention_dropout: c.attention_dropout,
            activation: c.activation,
        }
    }

    /// Multi-head self-attention on normalised tokens.
    ///
    /// # Shapes
    /// `[B, N, D]` → `[B, N, D]`; `mask`, if any, is additive and broadcasts to `[B, H, N, N]`.
    fn attention(&self, xs: &Tensor, mask: Option<&Tensor>, causal: bool, train: bool) -> Tensor {
        let (b, n, d) = xs.size3().unwrap_or((0, 0, 0));
        let hd = d / self.heads;
        let qkv =
            adapt(&self.keys[0], xs, xs.linear(&self.in_proj_weight, Some(&self.in_proj_bias))); // [B, N, 3D]
        let split = |t: &Tensor| t.reshape([b, n, self.heads, hd]).transpose(1, 2); // [B, H, N, hd]
        let chunks = qkv.chunk(3, -1);
        let (q, k, v) = (split(&chunks[0]), split(&chunks[1]), split(&chunks[2]));
        let p = if train { self.attention_dropout } else { 0.0 };
        let out = Tensor::scaled_dot_product_attention(&q, &k, &v, mask, p, causal, None, false);
        let out = out.transpose(1, 2).reshape([b, n, d]);
        adapt(&self.keys[1], &out, self.out_proj.forward(&out))
    }

    /// # Shapes
    /// `[B, N, D]` → `[B, N, D]`.
    pub fn forward_t(
        &self,
        xs: &Tensor,
        mask: Option<&Tensor>,
        causal: bool,
        train: bool,
    ) -> Tensor {
        let y = self
            .attention(&self.ln_1.forward(xs), mask, causal, train)
            .dropout(self.dropout, train);
        let x = xs + y;
        let h = self.ln_2.forward(&x);
        let y = adapt(&self.keys[2], &h, h.apply(&self.fc1));
        let y = self.activation.apply(&y).dropout(self.dropout, train);
        let y = adapt(&self.keys[3], &y, y.apply(&self.fc2)).dropout(self.dropout, train);
        x + y
    }
}
