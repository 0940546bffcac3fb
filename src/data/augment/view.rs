//! [`ViewConfig`]: the one declaration of the random views that joint-embedding methods
//! compare — used by the loader presets (`simclr`, `simclr_cifar`), by SimCLR and by BYOL
//! (`src/pretrain/image/`). It expands into a [`Pipeline`] per view, so every transform is the
//! torchvision-exact one of this folder; [`Views`] runs the two pipelines on tensor batches.
//!
//! - SimCLR (Chen et al. 2020, <https://arxiv.org/abs/2002.05709>, appendix A): random
//!   resized crop (0.08–1, 3/4–4/3), flip, colour jitter of strength `s` —
//!   `ColorJitter(0.8s, 0.8s, 0.8s, 0.2s)` with p 0.8 — grayscale p 0.2, Gaussian blur p 0.5
//!   (left out on CIFAR-10). Graft's presets use `s = 0.5`, the paper's CIFAR strength.
//! - BYOL (Grill et al. 2020, <https://arxiv.org/abs/2006.07733>, table 6): the same crop and
//!   flip, jitter (0.4, 0.4, 0.2, 0.1) p 0.8, grayscale p 0.2, and asymmetric views: blur
//!   p 1.0 / 0.1, solarisation p 0 / 0.2.

use serde::{Deserialize, Deserializer, Serialize};
use tch::Tensor;

use super::pipeline::{Augment, Pipeline};
use super::tensor::{batch_rngs, torch_seed};
use crate::error::{Error, Result};

/// The settings of a pair of random views (see the module docs). Per-view probabilities are
/// `[first view, second view]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewConfig {
    /// Smallest random-crop area as a fraction of the image (crop scale `[min_scale, 1]`).
    pub min_scale: f64,
    /// Mirror left-right with probability 0.5 (off for digits and text).
    pub flip: bool,
    /// Colour-jitter strengths: brightness, contrast, saturation (factors in `[1 - x, 1 + x]`)
    /// and hue (shift in `[-x, x]`, at most 0.5); all zero leaves the jitter out.
    pub jitter: [f32; 4],
    /// Probability of applying the colour jitter.
    pub jitter_p: f64,
    /// Probability of grayscale.
    pub grayscale: f64,
    /// Probability of a Gaussian blur (kernel 10% of the side, made odd; sigma 0.1–2.0), per
    /// view.
    pub blur: [f64; 2],
    /// Probability of solarisation (threshold 0.5), per view.
    pub solarize: [f64; 2],
}

impl Default for ViewConfig {
    /// [`ViewConfig::simclr_cifar`].
    fn default() -> Self {
        ViewConfig::simclr_cifar()
    }
}

impl ViewConfig {
    /// SimCLR's views with blur (p 0.5 on both), jitter strength `s = 0.5`.
    pub fn simclr() -> Self {
        ViewConfig { blur: [0.5, 0.5], ..ViewConfig::simclr_cifar() }
    }

    /// SimCLR's CIFAR-10 views: no blur (the paper's setting for small images, and the
    /// default of the SimCLR task).
    pub fn simclr_cifar() -> Self {
        ViewConfig {
            min_scale: 0.08,
            flip: true,
            jitter: [0.4, 0.4, 0.4, 0.1],
            jitter_p: 0.8,
            grayscale: 0.2,
            blur: [0.0, 0.0],
            solarize: [0.0, 0.0],
        }
    }

    /// BYOL's asymmetric views (the default of the BYOL task).
    pub fn byol() -> Self {
        ViewConfig {
            jitter: [0.4, 0.4, 0.2, 0.1],
            blur: [1.0, 0.1],
            solarize: [0.0, 0.2],
            ..ViewConfig::simclr_cifar()
        }
    }

    /// The blur kernel for images of side `side`: 10% of it, made odd (SimCLR's rule; a
    /// kernel of 1, for images under 20 pixels, leaves them unchanged).
    pub fn blur_kernel(side: usize) -> usize {
        ((side as f64 * 0.1) as usize) | 1
    }

    /// The steps of view `view` (0 or 1) with outputs of `size` (`[height, width]`). A step
    /// whose probability is 0 is left out; the others run in SimCLR's order: crop, flip,
    /// jitter, grayscale, blur, solarize.
    pub fn pipeline(&self, size: [usize; 2], view: usize) -> Pipeline {
        let view = view.min(1);
        let mut steps = vec![Augment::RandomResizedCrop {
            size,
            scale: [self.min_scale, 1.0],
            ratio: [3.0 / 4.0, 4.0 / 3.0],
        }];
        if self.flip {
            steps.push(Augment::HorizontalFlip { p: 0.5 });
        }
        let [brightness, contrast, saturation, hue] = self.jitter;
        if self.jitter_p > 0.0 && self.jitter.iter().any(|&x| x != 0.0) {
            steps.push(Augment::ColorJitter {
                brightness,
                contrast,
                saturation,
                hue,
                p: self.jitter_p,
            });
        }
        if self.grayscale > 0.0 {
            steps.push(Augment::RandomGrayscale { p: self.grayscale });
        }
        if self.blur[view] > 0.0 {
            let kernel = Self::blur_kernel(size[0].min(size[1]));
            steps.push(Augment::GaussianBlur { kernel, sigma: [0.1, 2.0], p: self.blur[view] });
        }
        if self.solarize[view] > 0.0 {
            steps.push(Augment::RandomSolarize { threshold: 0.5, p: self.solarize[view] });
        }
        Pipeline { steps }
    }

    /// Read settings given in part (JSON, a Rhai map) over the preset `base`: the fields left
    /// out keep `base`'s values, unknown ones are refused. For a `#[serde(deserialize_with)]`
    /// whose default is not [`ViewConfig::default`] (BYOL's).
    pub fn deserialize_over<'de, D: Deserializer<'de>>(
        d: D,
        base: ViewConfig,
    ) -> std::result::Result<ViewConfig, D::Error> {
        use serde::de::Error as _;
        let given = serde_json::Value::deserialize(d)?;
        let mut merged = serde_json::to_value(base).map_err(D::Error::custom)?;
        match (given, &mut merged) {
            (serde_json::Value::Object(given), serde_json::Value::Object(merged)) => {
                merged.extend(given);
            }
            (other, _) => {
                return Err(D::Error::custom(format!("views: expected a map, got {other}")))
            }
        }
        ViewConfig::deserialize(merged).map_err(D::Error::custom)
    }

    /// Check the settings: `min_scale` in (0, 1], probabilities in [0, 1], jitter strengths
    /// non-negative with the hue's at most 0.5.
    pub fn validate(&self) -> Result<()> {
        if !(self.min_scale > 0.0 && self.min_scale <= 1.0) {
            return Err(Error::Invalid(format!(
                "views: min_scale {} must be in (0, 1]",
                self.min_scale
            )));
        }
        let probabilities = [self.jitter_p, self.grayscale, self.blur[0], self.blur[1]];
        let probabilities = probabilities.into_iter().chain(self.solarize);
        if let Some(p) = probabilities.into_iter().find(|p| !(0.0..=1.0).contains(p)) {
            return Err(Error::Invalid(format!("views: probability {p} is outside [0, 1]")));
        }
        for view in 0..2 {
            self.pipeline([1, 1], view)
                .validate()
                .map_err(|e| Error::Invalid(format!("views: {e}")))?;
        }
        Ok(())
    }
}

/// The two view pipelines of a [`ViewConfig`] for images of one size, run on tensor batches.
#[derive(Debug, Clone)]
pub struct Views {
    pipelines: [Pipeline; 2],
}

impl Views {
    /// Validate `config` and build its views for images of `size` (`[height, width]`; the
    /// crops are resized back to it).
    pub fn new(config: &ViewConfig, size: [usize; 2]) -> Result<Self> {
        config.validate()?;
        if size.contains(&0) {
            return Err(Error::Invalid(format!("views: image size {size:?} must be positive")));
        }
        Ok(Views { pipelines: [config.pipeline(size, 0), config.pipeline(size, 1)] })
    }

    /// The pipeline of view `view` (0 or 1).
    pub fn pipeline(&self, view: usize) -> &Pipeline {
        &self.pipelines[view.min(1)]
    }

    /// Both views of every image of `x` (float `[B, C, H, W]` in [0, 1]), stacked as
    /// `[2B, C, H, W]`: first views, then second views.
    ///
    /// Randomness: one seed drawn from libtorch's generator (which the pretraining trainer
    /// seeds per step, so views replay exactly on resume), then image `i` of view `v` draws
    /// its parameters from [`super::sample_rng`]`(seed, 0, i, v)`.
    pub fn pair(&self, x: &Tensor) -> Result<Tensor> {
        let b = x.size().first().copied().unwrap_or(0).max(0) as usize;
        let seed = torch_seed()?;
        let a = self.pipelines[0].apply_batch(x, &mut batch_rngs(seed, 0, b))?;
        let c = self.pipelines[1].apply_batch(x, &mut batch_rngs(seed, 1, b))?;
        Ok(Tensor::cat(&[a, c], 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_keep_the_loader_steps_and_byol_is_asymmetric() {
        let s = ViewConfig::simclr().pipeline([32, 32], 0);
        assert_eq!(s.steps.len(), 5);
        assert!(matches!(s.steps[4], Augment::GaussianBlur { kernel: 3, p, .. } if p == 0.5));
        assert_eq!(ViewConfig::simclr_cifar().pipeline([32, 32], 1).steps.len(), 4);
        let byol = ViewConfig::byol();
        let (first, second) = (byol.pipeline([64, 64], 0), byol.pipeline([64, 64], 1));
        assert!(matches!(first.steps[4], Augment::GaussianBlur { kernel: 7, p, .. } if p == 1.0));
        assert_eq!(first.steps.len(), 5, "no solarisation on BYOL's first view");
        assert!(matches!(second.steps[5], Augment::RandomSolarize { p, .. } if p == 0.2));
        let no_flip = ViewConfig { flip: false, ..ViewConfig::default() };
        assert!(!no_flip.pipeline([8, 8], 0).steps.contains(&Augment::HorizontalFlip { p: 0.5 }));
    }

    #[test]
    fn settings_given_in_part_keep_the_rest_of_their_preset() {
        #[derive(Deserialize)]
        struct Byol {
            #[serde(deserialize_with = "byol")]
            views: ViewConfig,
        }
        fn byol<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<ViewConfig, D::Error> {
            ViewConfig::deserialize_over(d, ViewConfig::byol())
        }
        let b: Byol = serde_json::from_str(r#"{"views": {"min_scale": 0.5}}"#).unwrap();
        assert_eq!(b.views, ViewConfig { min_scale: 0.5, ..ViewConfig::byol() });
        let err = serde_json::from_str::<Byol>(r#"{"views": {"blurr": [1, 1]}}"#).err().unwrap();
        assert!(err.to_string().contains("unknown field `blurr`"), "{err}");
        assert!(serde_json::from_str::<Byol>(r#"{"views": 3}"#).is_err());
    }

    #[test]
    fn bad_settings_are_refused_with_the_value() {
        let bad = ViewConfig { min_scale: 0.0, ..ViewConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("min_scale 0"));
        let bad = ViewConfig { solarize: [0.0, 1.5], ..ViewConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("1.5"));
        let bad = ViewConfig { jitter: [0.4, 0.4, 0.4, 0.7], ..ViewConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("hue"));
        assert!(ViewConfig::byol().validate().is_ok());
    }
}
