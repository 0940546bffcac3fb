//! Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words: Transformers
//! for Image Recognition at Scale", <https://arxiv.org/abs/2010.11929>), built as torchvision
//! 0.26's `VisionTransformer`: `conv_proj` patch embedding, `class_token`,
//! `encoder.pos_embedding`, `encoder.layers.encoder_layer_{i}` pre-norm blocks, `encoder.ln`,
//! `heads.head`. Presets tiny/small/base follow DeiT (Touvron et al. 2021) and ViT-B/16.
//!
//! Pooling: `cls` (a learned class token, torchvision's choice) or `mean` (no class token;
//! the average over patch tokens, as in timm's `global_pool="avg"`).
//!
//! Groups: `patch_embed` (conv_proj, class_token, pos_embedding), `blocks.0` … `blocks.{N-1}`,
//! `norm` (encoder.ln), `head` (heads.head).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::base::{group, join_key, path_prefix, positive, Encoder, LayerGroup};
use super::input::InputShape;
use super::mlp::Activation;
use super::transformer::{layer_norm, BlockConfig, TransformerBlock};
use crate::error::{Error, Result};

/// How the token sequence becomes one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// Output of a learned class token prepended to the patches.
    Cls,
    /// Mean of the patch tokens (no class token).
    Mean,
}

/// ViT hyperparameters. Defaults: ViT-B/16 at 224×224 with 1000 classes (torchvision's
/// `vit_b_16`, 86,567,656 parameters).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VitConfig {
    /// Input image side (square images).
    pub image_size: i64,
    /// Patch side; must divide `image_size`.
    pub patch_size: i64,
    /// Input channels.
    pub in_channels: i64,
    /// Number of transformer blocks.
    pub depth: usize,
    /// Token width.
    pub width: i64,
    /// Attention heads; must divide `width`.
    pub heads: i64,
    /// MLP hidden width as a multiple of `width`.
    pub mlp_ratio: f64,
    /// Dropout on embeddings, after attention and in the MLP.
    pub dropout: f64,
    /// Dropout on attention weights.
    pub attention_dropout: f64,
    /// Pooling of the output tokens.
    pub pool: Pool,
    /// Classes of `heads.head`; `None` builds features only.
    pub num_classes: Option<i64>,
}

impl Default for VitConfig {
    fn default() -> Self {
        VitConfig {
            image_size: 224,
            patch_size: 16,
            in_channels: 3,
            depth: 12,
            width: 768,
            heads: 12,
            mlp_ratio: 4.0,
            dropout: 0.0,
            attention_dropout: 0.0,
            pool: Pool::Cls,
            num_classes: Some(1000),
        }
    }
}

impl VitConfig {
    /// ViT-Ti/16 (DeiT-tiny): width 192, 3 heads, 12 blocks.
    pub fn tiny() -> Self {
        VitConfig { width: 192, heads: 3, ..Self::default() }
    }

    /// ViT-S/16 (DeiT-small): width 384, 6 heads, 12 blocks.
    pub fn small() -> Self {
        VitConfig { width: 384, heads: 6, ..Self::default() }
    }

    /// ViT-B/16: width 768, 12 heads, 12 blocks.
    pub fn base() -> Self {
        Self::default()
    }

    /// Hidden width of the MLP (`width * mlp_ratio`, rounded).
    pub fn mlp_dim(&self) -> i64 {
        (self.width as f64 * self.mlp_ratio).round() as i64
    }

    /// Number of patches per image.
    pub fn num_patches(&self) -> i64 {
        let side = self.image_size / self.patch_size.max(1);
        side * side
    }

    /// Sequence length, class token included.
    pub fn seq_len(&self) -> i64 {
        self.num_patches() + i64::from(self.pool == Pool::Cls)
    }

    fn validate(&self) -> Result<()> {
        positive("vit image_size", self.image_size)?;
        positive("vit patch_size", self.patch_size)?;
        positive("vit in_channels", self.in_channels)?;
        positive("vit width", self.width)?;
        positive("vit heads", self.heads)?;
        positive("vit mlp width", self.mlp_dim())?;
        if let Some(n) = self.num_classes {
            positive("vit num_classes", n)?;
        }
        if self.image_size % self.patch_size != 0 {
            return Err(Error::Invalid(format!(
                "model config: vit patch_size {} does not divide image_size {}",
                self.patch_size, self.image_size
            )));
        }
        if self.width % self.heads != 0 {
            return Err(Error::Invalid(format!(
                "model config: vit heads {} do not divide width {}",
                self.heads, self.width
            )));
        }
        for (name, p) in [("dropout", self.dropout), ("attention_dropout", self.attention_dropout)]
        {
            if !(0.0..1.0).contains(&p) {
                return Err(Error::Invalid(format!(
                    "model config: vit {name} must be in [0, 1), got {p}"
                )));
            }
        }
        Ok(())
    }
}

/// A Vision Transformer.
#[derive(Debug)]
pub struct Vit {
    conv_proj: nn::Conv2D,
    class_token: Option<Tensor>,
    pos_embedding: Tensor,
    blocks: Vec<TransformerBlock>,
    ln: nn::LayerNorm,
    head: Option<nn::Linear>,
    config: VitConfig,
    base: String,
}

/// Build a ViT under `p`.
pub fn vit(p: &nn::Path, config: &VitConfig) -> Result<Vit> {
    config.validate()?;
    let (d, ps) = (config.width, config.patch_size);
    let fan_in = (config.in_channels * ps * ps) as f64;
    let conv_proj = nn::conv2d(
        p / "conv_proj",
        config.in_channels,
        d,
        ps,
        nn::ConvConfig {
            stride: ps,
            ws_init: nn::Init::Randn { mean: 0.0, stdev: (1.0 / fan_in).sqrt() },
            bs_init: nn::Init::Const(0.0),
            ..Default::default()
        },
    );
    let class_token = (config.pool == Pool::Cls).then(|| p.zeros("class_token", &[1, 1, d]));
    let ep = p / "encoder";
    let pos_embedding = ep.var(
        "pos_embedding",
        &[1, config.seq_len(), d],
        nn::Init::Randn { mean: 0.0, stdev: 0.02 },
    );
    let block_config = BlockConfig {
        dim: d,
        heads: config.heads,
        mlp_dim: config.mlp_dim(),
        dropout: config.dropout,
        attention_dropout: config.attention_dropout,
        eps: 1e-6,
        activation: Activation::Gelu,
    };
    let lp = &ep / "layers";
    let blocks = (0..config.depth)
        .map(|i| TransformerBlock::new(&(&lp / format!("encoder_layer_{i}")), block_config))
        .collect();
    let ln = layer_norm(&ep / "ln", d, 1e-6);
    let zeros = nn::LinearConfig {
        ws_init: nn::Init::Const(0.0),
        bs_init: Some(nn::Init::Const(0.0)),
        bias: true,
    };
    let head = config.num_classes.map(|n| nn::linear(p / "heads" / "head", d, n, zeros));
    Ok(Vit {
        conv_proj,
        class_token,
        pos_embedding,
        blocks,
        ln,
        head,
        config: config.clone(),
        base: path_prefix(p),
    })
}

impl Vit {
    /// The configuration it was built from.
    pub fn config(&self) -> &VitConfig {
        &self.config
    }

    /// All output tokens after the final LayerNorm.
    ///
    /// # Shapes
    /// `[B, C, S, S]` → `[B, seq_len, width]`.
    pub fn tokens(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = self.conv_proj.forward(xs); // [B, D, S/P, S/P]
        let b = x.size()[0];
        let mut x = x.flatten(2, -1).transpose(1, 2); // [B, N, D]
        if let Some(cls) = &self.class_token {
            x = Tensor::cat(&[cls.expand([b, -1, -1], false), x], 1); // [B, 1+N, D]
        }
        let mut x = (x + &self.pos_embedding).dropout(self.config.dropout, train);
        for block in &self.blocks {
            x = block.forward_t(&x, None, false, train);
        }
        self.ln.forward(&x)
    }
}

impl Vit {
    /// Encode only the patches `keep` (`[B, K]` patch indices, int64) of each image, with
    /// their position embeddings and the class token in front (if any): the encoder pass of a
    /// masked autoencoder (He et al. 2022, "Masked Autoencoders Are Scalable Vision
    /// Learners", <https://arxiv.org/abs/2111.06377>).
    ///
    /// # Shapes
    /// `[B, C, S, S]`, `[B, K]` → `[B, K (+1 with a class token), width]`.
    pub fn tokens_visible(&self, xs: &Tensor, keep: &Tensor, train: bool) -> Tensor {
        let x = self.embed_patches(xs, keep); // [B, K, D]
        let (b, d) = (x.size()[0], x.size()[2]);
        let cls = i64::from(self.class_token.is_some());
        let n = self.config.num_patches();
        let idx = keep.unsqueeze(-1).expand([-1, -1, d], false);
        let pos = self.pos_embedding.narrow(1, cls, n).expand([b, n, d], false);
        let mut x = x + pos.gather(1, &idx, false); // patch positions
        if let Some(tok) = &self.class_token {
            let tok = tok + self.pos_embedding.narrow(1, 0, 1);
            x = Tensor::cat(&[tok.expand([b, -1, -1], false), x], 1);
        }
        let mut x = x.dropout(self.config.dropout, train);
        for block in &self.blocks {
            x = block.forward_t(&x, None, false, train);
        }
        self.ln.forward(&x)
    }
}

impl Vit {
    /// The patch embedding (`conv_proj`) of only the patches `keep` (`[B, K]`, int64).
    ///
    /// The convolution's kernel equals its stride, so each output token is an affine map of
    /// one patch: the same weights as a `[D, C·P·P]` matrix applied to the patches flattened
    /// in the kernel's `(c, y, x)` order. Embedding the kept patches only skips the 75 % of
    /// the convolution (and of its weight gradient) whose tokens MAE drops anyway.
    ///
    /// # Shapes
    /// `[B, C, S, S]`, `[B, K]` → `[B, K, width]`.
    fn embed_patches(&self, xs: &Tensor, keep: &Tensor) -> Tensor {
        let (b, c, p) = (xs.size()[0], self.config.in_channels, self.config.patch_size);
        let g = self.config.image_size / p;
        let cpp = c * p * p;
        // [B, C, g, P, g, P] → [B, g, g, C, P, P] → [B, N, C·P·P], patches row-major as the
        // convolution's output positions.
        let patches = xs.reshape([b, c, g, p, g, p]).permute([0, 2, 4, 1, 3, 5]);
        let patches = patches.reshape([b, g * g, cpp]);
        let kept = patches.gather(1, &keep.unsqueeze(-1).expand([-1, -1, cpp], false), false);
        let w = self.conv_proj.ws.view([self.config.width, cpp]);
        kept.linear(&w, self.conv_proj.bs.as_ref())
    }
}

impl nn::ModuleT for Vit {
    /// # Shapes
    /// `[B, C, S, S]` → `[B, num_classes]`, or `[B, width]` without a head.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let tokens = self.tokens(xs, train);
        let x = match self.config.pool {
            Pool::Cls => tokens.select(1, 0),
            Pool::Mean => tokens.mean_dim(1, false, Kind::Float),
        }; // [B, D]
        match &self.head {
            Some(head) => head.forward(&x),
            None => x,
        }
    }
}

impl Encoder for Vit {
    fn input_shape(&self) -> Option<InputShape> {
        let c = &self.config;
        Some(InputShape::Image {
            channels: c.in_channels,
            height: c.image_size,
            width: c.image_size,
        })
    }

    fn output_dim(&self) -> i64 {
        self.config.num_classes.unwrap_or(self.config.width)
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut embed = vec!["conv_proj", "encoder.pos_embedding"];
        if self.class_token.is_some() {
            embed.push("class_token");
        }
        let mut groups = vec![group(&self.base, "patch_embed", &embed)];
        for i in 0..self.blocks.len() {
            groups.push(LayerGroup::new(
                format!("blocks.{i}"),
                vec![join_key(&self.base, &format!("encoder.layers.encoder_layer_{i}"))],
            ));
        }
        groups.push(group(&self.base, "norm", &["encoder.ln"]));
        if self.head.is_some() {
            groups.push(group(&self.base, "head", &["heads.head"]));
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// The MAE encoder pass embeds kept patches as a matrix product instead of the
    /// convolution; with every patch kept in a shuffled order it must equal the full forward
    /// pass (convolution, all tokens) with its tokens in that order, since attention without a
    /// mask is permutation-equivariant and everything else acts per token.
    #[test]
    fn visible_tokens_of_every_patch_shuffled_equal_the_full_pass_shuffled() {
        tch::manual_seed(7);
        let vs = nn::VarStore::new(Device::Cpu);
        let config = VitConfig {
            image_size: 16,
            patch_size: 4,
            in_channels: 3,
            depth: 2,
            width: 24,
            heads: 3,
            num_classes: None,
            ..VitConfig::default()
        };
        let model = vit(&vs.root(), &config).unwrap();
        // A class token that is not zero, so its place in front is checked too.
        tch::no_grad(|| {
            let _ = model.class_token.as_ref().unwrap().shallow_clone().normal_(0.0, 1.0);
        });
        let x = Tensor::rand([2, 3, 16, 16], (Kind::Float, Device::Cpu));
        let perm = Tensor::rand([2, 16], (Kind::Float, Device::Cpu)).argsort(1, false);
        let full = model.tokens(&x, false); // [2, 17, 24]
        let order = Tensor::cat(&[Tensor::zeros([2, 1], (Kind::Int64, Device::Cpu)), &perm + 1], 1);
        let want = full.gather(1, &order.unsqueeze(-1).expand([-1, -1, 24], false), false);
        let got = model.tokens_visible(&x, &perm, false);
        let err = (got - &want).abs().max().double_value(&[]);
        assert!(err < 1e-5, "max difference {err}");
        // A subset of patches: the class token and the kept tokens' embeddings before the
        // blocks are the same as the convolution's, so only attention makes them differ.
        let keep = perm.narrow(1, 0, 4);
        assert_eq!(model.tokens_visible(&x, &keep, false).size(), vec![2, 5, 24]);
    }
}
