//! Sequence transformers from the pre-norm blocks of [`super::transformer`]:
//!
//! - [`Gpt`]: a GPT-style stack (Radford et al. 2019, "Language Models are Unsupervised
//!   Multitask Learners") over token embeddings — learned positions, blocks, final LayerNorm —
//!   causal (`causal: true`) or bidirectional with a learned `[MASK]` embedding for BERT-style
//!   masked modelling (Devlin et al. 2019, "BERT", <https://arxiv.org/abs/1810.04805>).
//! - [`DecisionTransformer`] (Chen et al. 2021, "Decision Transformer: Reinforcement Learning
//!   via Sequence Modeling", <https://arxiv.org/abs/2106.01345>): return-to-go, state and
//!   action embedders plus a timestep embedding, interleaved as `(R_1, s_1, a_1, R_2, …)`
//!   tokens through a causal [`Gpt`]; actions are predicted from the state tokens.
//!
//! Keys: `pos_embedding`, `mask_token` (bidirectional only), `layers.{i}.…` (torchvision's
//! block names), `ln`; the Decision Transformer adds `embed_return`, `embed_state`,
//! `embed_action`, `embed_timestep`, `embed_ln`, `predict_action` around `gpt.…`.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::base::{group, join_key, path_prefix, positive, LayerGroup};
use super::mlp::Activation;
use super::transformer::{layer_norm, BlockConfig, TransformerBlock};
use crate::error::{Error, Result};

/// Hyperparameters of a [`Gpt`]. Defaults: the Decision Transformer's Atari/Gym model
/// (3 blocks, width 128, 1 head, context of 3 × 20 tokens).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GptConfig {
    /// Number of transformer blocks.
    pub depth: usize,
    /// Token width.
    pub width: i64,
    /// Attention heads; must divide `width`.
    pub heads: i64,
    /// MLP hidden width as a multiple of `width`.
    pub mlp_ratio: f64,
    /// Longest sequence, in tokens (size of the position table).
    pub max_len: i64,
    /// Dropout on embeddings, after attention and in the MLP.
    pub dropout: f64,
    /// Causal (GPT) or bidirectional with a `[MASK]` embedding (BERT).
    pub causal: bool,
}

impl Default for GptConfig {
    fn default() -> Self {
        GptConfig {
            depth: 3,
            width: 128,
            heads: 1,
            mlp_ratio: 4.0,
            max_len: 60,
            dropout: 0.1,
            causal: true,
        }
    }
}

impl GptConfig {
    /// The same stack, bidirectional (BERT-style masked modelling).
    pub fn bert(self) -> Self {
        GptConfig { causal: false, ..self }
    }

    fn mlp_dim(&self) -> i64 {
        (self.width as f64 * self.mlp_ratio).round() as i64
    }

    fn validate(&self) -> Result<()> {
        positive("gpt width", self.width)?;
        positive("gpt heads", self.heads)?;
        positive("gpt max_len", self.max_len)?;
        positive("gpt mlp width", self.mlp_dim())?;
        if self.width % self.heads != 0 {
            return Err(Error::Invalid(format!(
                "model config: gpt heads {} do not divide width {}",
                self.heads, self.width
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Invalid(format!(
                "model config: gpt dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        Ok(())
    }
}

/// A stack of pre-norm transformer blocks over token embeddings.
#[derive(Debug)]
pub struct Gpt {
    pos_embedding: Tensor,
    mask_token: Option<Tensor>,
    blocks: Vec<TransformerBlock>,
    ln: nn::LayerNorm,
    config: GptConfig,
    base: String,
}

/// Build a [`Gpt`] under `p`.
pub fn gpt(p: &nn::Path, config: &GptConfig) -> Result<Gpt> {
    config.validate()?;
    let d = config.width;
    let block = BlockConfig {
        dim: d,
        heads: config.heads,
        mlp_dim: config.mlp_dim(),
        dropout: config.dropout,
        attention_dropout: config.dropout,
        eps: 1e-5,
        activation: Activation::Gelu,
    };
    Ok(Gpt {
        pos_embedding: p.var(
            "pos_embedding",
            &[1, config.max_len, d],
            nn::Init::Randn { mean: 0.0, stdev: 0.02 },
        ),
        mask_token: (!config.causal)
            .then(|| p.var("mask_token", &[d], nn::Init::Randn { mean: 0.0, stdev: 0.02 })),
        blocks: (0..config.depth)
            .map(|i| TransformerBlock::new(&(p / "layers" / i), block))
            .collect(),
        ln: layer_norm(p / "ln", d, 1e-5),
        config: config.clone(),
        base: path_prefix(p),
    })
}

impl Gpt {
    /// The configuration it was built from.
    pub fn config(&self) -> &GptConfig {
        &self.config
    }

    /// Contextualise token embeddings. `mask` (`[B, T]`, true = hidden) replaces tokens by the
    /// `[MASK]` embedding; it is refused by a causal model, which has none.
    ///
    /// # Shapes
    /// `[B, T, width]` → `[B, T, width]`, `T <= max_len`.
    pub fn forward_tokens(
        &self,
        tokens: &Tensor,
        mask: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        let size = tokens.size();
        if size.len() != 3 || size[2] != self.config.width || size[1] > self.config.max_len {
            return Err(Error::ShapeMismatch {
                what: format!("gpt tokens (at most {} of them)", self.config.max_len),
                expected: vec![-1, self.config.max_len, self.config.width],
                got: size,
            });
        }
        let mut x = tokens.shallow_clone();
        if let Some(mask) = mask {
            let Some(mask_token) = &self.mask_token else {
                return Err(Error::Invalid(
                    "a causal gpt has no [MASK] embedding; build it with causal: false".into(),
                ));
            };
            if mask.size() != size[..2] {
                return Err(Error::ShapeMismatch {
                    what: "gpt mask".into(),
                    expected: size[..2].to_vec(),
                    got: mask.size(),
                });
            }
            x = x.where_self(&mask.to_kind(Kind::Bool).unsqueeze(-1).logical_not(), mask_token);
        }
        let t = size[1];
        let mut x = (x + self.pos_embedding.narrow(1, 0, t)).dropout(self.config.dropout, train);
        for block in &self.blocks {
            x = block.forward_t(&x, None, self.config.causal, train);
        }
        Ok(self.ln.forward(&x))
    }

    /// Groups `embed` (positions, mask token), `blocks.0` …, `norm`.
    pub fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut embed = vec!["pos_embedding"];
        if self.mask_token.is_some() {
            embed.push("mask_token");
        }
        let mut groups = vec![group(&self.base, "embed", &embed)];
        for i in 0..self.blocks.len() {
            groups.push(LayerGroup::new(
                format!("blocks.{i}"),
                vec![join_key(&self.base, &format!("layers.{i}"))],
            ));
        }
        groups.push(group(&self.base, "norm", &["ln"]));
        groups
    }
}

/// Decision Transformer hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionTransformerConfig {
    /// Width of a state vector.
    pub state_dim: i64,
    /// Width of an action vector (one-hot for discrete actions).
    pub act_dim: i64,
    /// Timesteps of context (the model sees `3 * context` tokens).
    pub context: i64,
    /// Largest timestep index + 1 (size of the timestep embedding).
    pub max_ep_len: i64,
    /// Squash predicted actions with tanh (continuous control).
    pub tanh_actions: bool,
    /// The transformer; its `max_len` is set to `3 * context` and `causal` to true.
    pub gpt: GptConfig,
}

impl Default for DecisionTransformerConfig {
    fn default() -> Self {
        DecisionTransformerConfig {
            state_dim: 17,
            act_dim: 6,
            context: 20,
            max_ep_len: 1000,
            tanh_actions: true,
            gpt: GptConfig::default(),
        }
    }
}

/// A Decision Transformer.
#[derive(Debug)]
pub struct DecisionTransformer {
    embed_return: nn::Linear,
    embed_state: nn::Linear,
    embed_action: nn::Linear,
    embed_timestep: nn::Embedding,
    embed_ln: nn::LayerNorm,
    gpt: Gpt,
    predict_action: nn::Linear,
    config: DecisionTransformerConfig,
    base: String,
}

/// Build a Decision Transformer under `p`.
pub fn decision_transformer(
    p: &nn::Path,
    config: &DecisionTransformerConfig,
) -> Result<DecisionTransformer> {
    positive("decision_transformer state_dim", config.state_dim)?;
    positive("decision_transformer act_dim", config.act_dim)?;
    positive("decision_transformer context", config.context)?;
    positive("decision_transformer max_ep_len", config.max_ep_len)?;
    let gpt_config = GptConfig { max_len: 3 * config.context, causal: true, ..config.gpt.clone() };
    let d = gpt_config.width;
    let lin = |name: &str, i: i64, o: i64| nn::linear(p / name, i, o, Default::default());
    Ok(DecisionTransformer {
        embed_return: lin("embed_return", 1, d),
        embed_state: lin("embed_state", config.state_dim, d),
        embed_action: lin("embed_action", config.act_dim, d),
        embed_timestep: nn::embedding(
            p / "embed_timestep",
            config.max_ep_len,
            d,
            Default::default(),
        ),
        embed_ln: layer_norm(p / "embed_ln", d, 1e-5),
        gpt: gpt(&(p / "gpt"), &gpt_config)?,
        predict_action: lin("predict_action", d, config.act_dim),
        config: DecisionTransformerConfig { gpt: gpt_config, ..config.clone() },
        base: path_prefix(p),
    })
}

impl DecisionTransformer {
    /// Predict the action at every timestep from the tokens up to and including its state.
    ///
    /// # Shapes
    /// `returns_to_go [B, K, 1]`, `states [B, K, state_dim]`, `actions [B, K, act_dim]`,
    /// `timesteps [B, K]` (int64) → `[B, K, act_dim]`, `K <= context`.
    pub fn forward_t(
        &self,
        returns_to_go: &Tensor,
        states: &Tensor,
        actions: &Tensor,
        timesteps: &Tensor,
        train: bool,
    ) -> Result<Tensor> {
        let s = states.size();
        let (b, k) = match s.as_slice() {
            [b, k, _] => (*b, *k),
            _ => {
                return Err(shape(
                    "states",
                    vec![-1, self.config.context, self.config.state_dim],
                    s,
                ))
            }
        };
        for (what, t, expected) in [
            ("returns_to_go", returns_to_go, vec![b, k, 1]),
            ("states", states, vec![b, k, self.config.state_dim]),
            ("actions", actions, vec![b, k, self.config.act_dim]),
            ("timesteps", timesteps, vec![b, k]),
        ] {
            if t.size() != expected {
                return Err(shape(what, expected, t.size()));
            }
        }
        let time = timesteps
            .to_kind(Kind::Int64)
            .clamp(0, self.config.max_ep_len - 1)
            .apply(&self.embed_timestep);
        let r = self.embed_return.forward(returns_to_go) + &time;
        let st = self.embed_state.forward(states) + &time;
        let a = self.embed_action.forward(actions) + &time;
        let d = self.config.gpt.width;
        // [B, K, 3, D] → [B, 3K, D]: (R_1, s_1, a_1, R_2, s_2, a_2, …)
        let tokens = Tensor::stack(&[r, st, a], 2).reshape([b, 3 * k, d]).apply(&self.embed_ln);
        let h = self.gpt.forward_tokens(&tokens, None, train)?.reshape([b, k, 3, d]);
        let pred = self.predict_action.forward(&h.select(2, 1)); // from state tokens
        Ok(if self.config.tanh_actions { pred.tanh() } else { pred })
    }

    /// Groups `embed` (all embedders), then the transformer's blocks and norm, `head`.
    pub fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut embed = group(
            &self.base,
            "embed",
            &["embed_return", "embed_state", "embed_action", "embed_timestep", "embed_ln"],
        );
        let mut groups = self.gpt.layer_groups();
        embed.prefixes.extend(groups.remove(0).prefixes);
        groups.insert(0, embed);
        groups.push(group(&self.base, "head", &["predict_action"]));
        groups
    }
}

fn shape(what: &str, expected: Vec<i64>, got: Vec<i64>) -> Error {
    Error::ShapeMismatch { what: format!("decision transformer {what}"), expected, got }
}
