//! Denoising convolutional autoencoder: reconstruct the clean image from a corrupted one.
//!
//! Vincent et al. 2008, "Extracting and Composing Robust Features with Denoising
//! Autoencoders" (corruption: additive Gaussian noise and masking noise that zeroes a random
//! fraction of the inputs), made convolutional as in Masci et al. 2011, "Stacked
//! Convolutional Auto-Encoders for Hierarchical Feature Extraction". The zoo encoder maps the
//! corrupted image to its feature vector; a light decoder (a linear layer to a `32 × H/4 ×
//! W/4` map, two stride-2 transposed convolutions, sigmoid) rebuilds the image; the loss is
//! the mean squared error to the clean image in `[0, 1]`.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::models::{Encoder, ModelConfig};

use crate::pretrain::base::{check, PretextTask, TaskLoss, ENCODER};
use crate::pretrain::sources::Images;

/// Denoising-autoencoder hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DenoisingConfig {
    /// Standard deviation of the additive Gaussian noise (pixels in `[0, 1]`).
    pub noise_std: f64,
    /// Fraction of pixels set to zero (masking noise).
    pub mask_fraction: f64,
    /// Channels of the decoder's feature maps.
    pub decoder_channels: i64,
}

impl Default for DenoisingConfig {
    fn default() -> Self {
        DenoisingConfig { noise_std: 0.1, mask_fraction: 0.25, decoder_channels: 32 }
    }
}

/// The denoising-autoencoder task.
pub struct Denoising {
    data: Images,
    factor: f64,
    config: DenoisingConfig,
    encoder: Box<dyn Encoder>,
    fc: nn::Linear,
    up1: nn::ConvTranspose2D,
    up2: nn::ConvTranspose2D,
}

impl Denoising {
    /// Build the encoder and the decoder; image sides must be multiples of 4.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Images,
        factor: f64,
        config: &DenoisingConfig,
    ) -> Result<Self> {
        let [c, h, w] = data.shape();
        let name = "denoising";
        check(name, h % 4 == 0 && w % 4 == 0, || {
            format!("image sides must be multiples of 4, got {h}x{w}")
        })?;
        check(name, config.noise_std >= 0.0, || "noise_std must be >= 0".into())?;
        check(name, (0.0..1.0).contains(&config.mask_fraction), || {
            "mask_fraction must be in [0, 1)".into()
        })?;
        check(name, config.decoder_channels > 0, || "decoder_channels must be positive".into())?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let k = config.decoder_channels;
        let d = &root / "decoder";
        let fc =
            nn::linear(&d / "fc", encoder.output_dim(), k * (h / 4) * (w / 4), Default::default());
        let up = nn::ConvTransposeConfig { stride: 2, padding: 1, ..Default::default() };
        let up1 = nn::conv_transpose2d(&d / "up1", k, k, 4, up);
        let up2 = nn::conv_transpose2d(&d / "up2", k, c, 4, up);
        Ok(Denoising { data, factor, config: config.clone(), encoder, fc, up1, up2 })
    }
}

impl PretextTask for Denoising {
    fn name(&self) -> &'static str {
        "denoising"
    }

    fn num_items(&self) -> usize {
        self.data.len()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let clean = self.data.unit(indices); // [B, C, H, W]
        let s = clean.size();
        let opts = (Kind::Float, clean.device());
        let keep =
            Tensor::rand(s.as_slice(), opts).ge(self.config.mask_fraction).to_kind(Kind::Float);
        let noisy = ((&clean + Tensor::randn(s.as_slice(), opts) * self.config.noise_std) * keep)
            .clamp(0.0, 1.0);
        let z = self.encoder.forward_t(&(noisy * self.factor), train);
        let k = self.config.decoder_channels;
        let map = self.fc.forward(&z).relu().view([s[0], k, s[2] / 4, s[3] / 4]);
        let recon = self.up2.forward(&self.up1.forward(&map).relu()).sigmoid();
        Ok(TaskLoss::new(recon.mse_loss(&clean, tch::Reduction::Mean)))
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}
