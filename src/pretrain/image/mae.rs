//! Masked autoencoder (MAE) for a ViT: hide 75 % of the patches, encode only the visible
//! ones, and reconstruct the hidden patches' pixels with a light transformer decoder.
//!
//! He et al. 2022, "Masked Autoencoders Are Scalable Vision Learners"
//! (<https://arxiv.org/abs/2111.06377>): random masking per image (a uniform shuffle, keep
//! the first 25 %), the encoder sees visible patches only
//! ([`crate::models::Vit::tokens_visible`]), the decoder embeds them to its own width, adds
//! a shared learned `[MASK]` token at the hidden places and position embeddings, runs a few
//! blocks, and predicts each patch's pixels; the loss is the mean squared error on hidden
//! patches, against patch pixels normalised by their own mean and variance (§3, "normalized
//! pixels"). The paper's decoder is 8 blocks of width 512; the default here is 2 of 128,
//! for small images, and its position embeddings are learned rather than sine-cosine.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::models::mlp::Activation;
use crate::models::transformer::{BlockConfig, TransformerBlock};
use crate::models::{vit, Encoder, ModelConfig, Pool, Vit};

use crate::pretrain::base::{check, PretextTask, TaskLoss, ENCODER};
use crate::pretrain::sources::Images;

/// MAE hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaeConfig {
    /// Fraction of patches hidden.
    pub mask_ratio: f64,
    /// Decoder width.
    pub decoder_width: i64,
    /// Decoder blocks.
    pub decoder_depth: usize,
    /// Decoder attention heads.
    pub decoder_heads: i64,
    /// Normalise each target patch by its mean and standard deviation.
    pub norm_pix_loss: bool,
}

impl Default for MaeConfig {
    fn default() -> Self {
        MaeConfig {
            mask_ratio: 0.75,
            decoder_width: 128,
            decoder_depth: 2,
            decoder_heads: 4,
            norm_pix_loss: true,
        }
    }
}

/// The MAE task.
pub struct Mae {
    data: Images,
    factor: f64,
    config: MaeConfig,
    encoder: Vit,
    embed: nn::Linear,
    mask_token: Tensor,
    pos: Tensor,
    blocks: Vec<TransformerBlock>,
    norm: nn::LayerNorm,
    predict: nn::Linear,
    patch: i64,
    patches: i64,
}

impl Mae {
    /// Build the ViT encoder and the decoder; the model must be a ViT.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Images,
        factor: f64,
        config: &MaeConfig,
    ) -> Result<Self> {
        let ModelConfig::Vit(vc) = model else {
            return Err(Error::Invalid(format!("mae needs a vit model, got '{}'", model.kind())));
        };
        let name = "mae";
        check(name, config.mask_ratio > 0.0 && config.mask_ratio < 1.0, || {
            "mask_ratio must be in (0, 1)".into()
        })?;
        check(
            name,
            config.decoder_width > 0
                && config.decoder_heads > 0
                && config.decoder_width % config.decoder_heads == 0,
            || "decoder_heads must divide a positive decoder_width".into(),
        )?;
        let [c, h, w] = data.shape();
        check(name, h == vc.image_size && w == vc.image_size && c == vc.in_channels, || {
            format!(
                "images are {c}x{h}x{w} but the vit expects {}x{s}x{s}",
                vc.in_channels,
                s = vc.image_size
            )
        })?;
        let root = vs.root();
        let encoder = vit(&(&root / ENCODER), vc)?;
        let dw = config.decoder_width;
        let d = &root / "decoder";
        let patches = vc.num_patches();
        let block = BlockConfig {
            dim: dw,
            heads: config.decoder_heads,
            mlp_dim: 4 * dw,
            dropout: 0.0,
            attention_dropout: 0.0,
            eps: 1e-6,
            activation: Activation::Gelu,
        };
        let p = vc.patch_size;
        Ok(Mae {
            embed: nn::linear(&d / "embed", vc.width, dw, Default::default()),
            mask_token: d.var(
                "mask_token",
                &[1, 1, dw],
                nn::Init::Randn { mean: 0.0, stdev: 0.02 },
            ),
            pos: d.var(
                "pos_embedding",
                &[1, patches, dw],
                nn::Init::Randn { mean: 0.0, stdev: 0.02 },
            ),
            blocks: (0..config.decoder_depth)
                .map(|i| TransformerBlock::new(&(&d / "layers" / i), block))
                .collect(),
            norm: nn::layer_norm(&d / "ln", vec![dw], Default::default()),
            predict: nn::linear(&d / "pred", dw, p * p * c, Default::default()),
            data,
            factor,
            config: config.clone(),
            encoder,
            patch: p,
            patches,
        })
    }

    /// `[B, C, H, W]` → `[B, N, p·p·C]`, patches in row-major order (as the ViT's conv).
    fn patchify(&self, x: &Tensor) -> Tensor {
        let s = x.size();
        let (b, c, p) = (s[0], s[1], self.patch);
        let (gh, gw) = (s[2] / p, s[3] / p);
        x.view([b, c, gh, p, gw, p]).permute([0, 2, 4, 3, 5, 1]).reshape([b, gh * gw, p * p * c])
    }
}

impl PretextTask for Mae {
    fn name(&self) -> &'static str {
        "mae"
    }

    fn num_items(&self) -> usize {
        self.data.len()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let x = self.data.unit(indices);
        let (b, n) = (indices.len() as i64, self.patches);
        let keep_n = ((n as f64) * (1.0 - self.config.mask_ratio)).round().max(1.0) as i64;
        let dev = x.device();
        // A random shuffle per image: argsort of uniform noise; keep the first keep_n.
        let shuffle = Tensor::rand([b, n], (Kind::Float, dev)).argsort(1, false);
        let restore = shuffle.argsort(1, false);
        let keep = shuffle.narrow(1, 0, keep_n);
        let input = if self.factor == 1.0 { x.shallow_clone() } else { &x * self.factor };
        let latent = self.encoder.tokens_visible(&input, &keep, train);
        let cls = i64::from(self.encoder.config().pool == Pool::Cls);
        let visible = self.embed.forward(&latent.narrow(1, cls, keep_n)); // [B, K, Dd]
        let dw = self.config.decoder_width;
        let full = Tensor::cat(&[visible, self.mask_token.expand([b, n - keep_n, dw], false)], 1);
        let idx = restore.unsqueeze(-1).expand([-1, -1, dw], false);
        let mut y = full.gather(1, &idx, false) + &self.pos; // back in patch order
        for block in &self.blocks {
            y = block.forward_t(&y, None, false, train);
        }
        // The loss is over the hidden patches only, so only their tokens are normalised and
        // projected to pixels (the rest of the shuffle, in shuffle order: the mean does not
        // care), and only their targets are built.
        let hidden = shuffle.narrow(1, keep_n, n - keep_n).unsqueeze(-1); // [B, M, 1]
        let y = y.gather(1, &hidden.expand([-1, -1, dw], false), false);
        let pred = self.predict.forward(&self.norm.forward(&y)); // [B, M, p·p·C]
        let ppc = pred.size()[2];
        let mut target = self.patchify(&x).gather(1, &hidden.expand([-1, -1, ppc], false), false);
        if self.config.norm_pix_loss {
            let mean = target.mean_dim(-1, true, Kind::Float);
            let var = target.var_dim(-1, true, true);
            target = (target - mean) / (var + 1e-6).sqrt();
        }
        // Mean over hidden patches of the per-patch mean squared error.
        let loss = (pred - target).square().mean(Kind::Float);
        Ok(TaskLoss::new(loss))
    }

    fn encoder(&self) -> &dyn Encoder {
        &self.encoder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::VitConfig;
    use tch::Device;

    /// The loss as first written (and as the reference MAE code computes it): pixels
    /// predicted for every patch, per-patch errors averaged under the 0/1 mask of hidden
    /// patches.
    fn masked_mean_over_all_patches(mae: &Mae, indices: &[usize]) -> Tensor {
        let x = mae.data.unit(indices);
        let (b, n) = (indices.len() as i64, mae.patches);
        let keep_n = ((n as f64) * (1.0 - mae.config.mask_ratio)).round().max(1.0) as i64;
        let shuffle = Tensor::rand([b, n], (Kind::Float, Device::Cpu)).argsort(1, false);
        let restore = shuffle.argsort(1, false);
        let keep = shuffle.narrow(1, 0, keep_n);
        // The encoder pass is checked against the convolution in models::vit's tests.
        let latent = mae.encoder.tokens_visible(&x, &keep, false);
        let visible = mae.embed.forward(&latent.narrow(1, 1, keep_n));
        let dw = mae.config.decoder_width;
        let full = Tensor::cat(&[visible, mae.mask_token.expand([b, n - keep_n, dw], false)], 1);
        let idx = restore.unsqueeze(-1).expand([-1, -1, dw], false);
        let mut y = full.gather(1, &idx, false) + &mae.pos;
        for block in &mae.blocks {
            y = block.forward_t(&y, None, false, false);
        }
        let pred = mae.predict.forward(&mae.norm.forward(&y));
        let target = mae.patchify(&x);
        let mean = target.mean_dim(-1, true, Kind::Float);
        let var = target.var_dim(-1, true, true);
        let target = (target - mean) / (var + 1e-6).sqrt();
        let hidden = restore.ge(keep_n).to_kind(Kind::Float);
        let per_patch = (pred - target).square().mean_dim(-1, false, Kind::Float);
        (per_patch * &hidden).sum(Kind::Float) / hidden.sum(Kind::Float)
    }

    #[test]
    fn hidden_patch_loss_equals_the_masked_mean_over_all_patches() {
        tch::manual_seed(3);
        let images = Tensor::randint(256, [6, 3, 16, 16], (Kind::Uint8, Device::Cpu));
        let data = Images::new(images, None).unwrap();
        let model = ModelConfig::Vit(VitConfig {
            image_size: 16,
            patch_size: 4,
            depth: 2,
            width: 24,
            heads: 3,
            num_classes: None,
            ..VitConfig::default()
        });
        let vs = nn::VarStore::new(Device::Cpu);
        let mut mae = Mae::new(&vs, &model, data, 1.0, &MaeConfig::default()).unwrap();
        let idx = [0, 2, 3, 5];
        // The same masks on both sides: the same seed before each draws them.
        tch::manual_seed(11);
        let got = mae.loss(&idx, false).unwrap().loss.double_value(&[]);
        tch::manual_seed(11);
        let want = masked_mean_over_all_patches(&mae, &idx).double_value(&[]);
        assert!((got - want).abs() <= 1e-5 * want.abs(), "{got} vs {want}");
        assert!(want > 0.1, "an untrained decoder's loss on normalised pixels is near 1: {want}");
    }
}
