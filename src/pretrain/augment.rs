//! Batched image augmentations on tensors, on the training device, drawn from libtorch's
//! generator (which the trainer seeds per step, so they replay exactly on resume):
//!
//! - [`random_shift`]: pad by replication and crop back at a random offset (DrQ, Kostrikov
//!   et al. 2020, <https://arxiv.org/abs/2004.13649>; used by ATC and SPR).
//! - [`simclr_view`]: SimCLR's chain (Chen et al. 2020, <https://arxiv.org/abs/2002.05709>,
//!   appendix A): random resized crop, horizontal flip, colour jitter with probability 0.8
//!   (brightness, contrast, saturation with strength `s`), grayscale with probability 0.2.
//!   Hue jitter and blur are left out (the paper drops blur for CIFAR-10 as well).
//! - [`rotate`]: rotations by multiples of 90° (RotNet).
//!
//! Inputs and outputs are float `[B, C, H, W]` in `[0, 1]`.

use tch::{Kind, Tensor};

/// `n` uniform numbers in `[0, 1)` from libtorch's generator, read back to the host.
fn uniform(n: i64) -> Vec<f64> {
    let t = Tensor::rand([n], (Kind::Double, tch::Device::Cpu));
    Vec::<f64>::try_from(&t).unwrap_or_else(|_| vec![0.5; n as usize])
}

/// Pad each image by `pad` pixels (replicating the border) and crop a random `H × W` window.
pub fn random_shift(x: &Tensor, pad: i64) -> Tensor {
    if pad <= 0 {
        return x.shallow_clone();
    }
    let s = x.size();
    let (b, h, w) = (s[0], s[2], s[3]);
    let padded = x.replication_pad2d([pad, pad, pad, pad]);
    let r = uniform(2 * b);
    let span = (2 * pad + 1) as f64;
    let crops: Vec<Tensor> = (0..b as usize)
        .map(|i| {
            let dy = (r[2 * i] * span) as i64;
            let dx = (r[2 * i + 1] * span) as i64;
            padded.get(i as i64).narrow(1, dy, h).narrow(2, dx, w)
        })
        .collect();
    Tensor::stack(&crops, 0)
}

/// Rotate every image by `k × 90°` counter-clockwise.
pub fn rotate(x: &Tensor, k: i64) -> Tensor {
    x.rot90(k.rem_euclid(4), [2, 3])
}

/// Settings of [`simclr_view`].
#[derive(Debug, Clone, Copy)]
pub struct ViewConfig {
    /// Smallest crop area as a fraction of the image (paper: 0.08).
    pub min_scale: f64,
    /// Colour-jitter strength `s` (paper: 1.0 on ImageNet, 0.5 on CIFAR-10).
    pub jitter: f64,
    /// Whether to flip horizontally with probability 0.5.
    pub flip: bool,
}

impl Default for ViewConfig {
    fn default() -> Self {
        ViewConfig { min_scale: 0.08, jitter: 0.5, flip: true }
    }
}

/// One random SimCLR view of every image (see the module docs).
pub fn simclr_view(x: &Tensor, cfg: &ViewConfig) -> Tensor {
    let s = x.size();
    let (b, c, h, w) = (s[0], s[1], s[2], s[3]);
    let r = uniform(8 * b);
    let crops: Vec<Tensor> = (0..b as usize)
        .map(|i| {
            let r = &r[8 * i..8 * i + 8];
            // Area fraction in [min_scale, 1], aspect ratio log-uniform in [3/4, 4/3].
            let area = cfg.min_scale + (1.0 - cfg.min_scale) * r[0];
            let log_ratio = (0.75f64).ln() + ((4.0f64 / 3.0).ln() - (0.75f64).ln()) * r[1];
            let ratio = log_ratio.exp();
            let ch = ((area / ratio).sqrt() * h as f64).round().clamp(1.0, h as f64) as i64;
            let cw = ((area * ratio).sqrt() * w as f64).round().clamp(1.0, w as f64) as i64;
            let y = ((h - ch + 1) as f64 * r[2]) as i64;
            let xo = ((w - cw + 1) as f64 * r[3]) as i64;
            let mut crop = x.get(i as i64).narrow(1, y, ch).narrow(2, xo, cw).unsqueeze(0);
            crop = crop.upsample_bilinear2d([h, w], false, None, None);
            if cfg.flip && r[4] < 0.5 {
                crop = crop.flip([3]);
            }
            crop
        })
        .collect();
    let mut v = Tensor::cat(&crops, 0); // [B, C, H, W]
    if cfg.jitter > 0.0 {
        v = color_jitter(&v, cfg.jitter, 0.8);
    }
    if c == 3 {
        let gray_p = Tensor::rand([b, 1, 1, 1], (Kind::Float, x.device())).lt(0.2);
        let g = grayscale(&v).expand_as(&v);
        v = g.where_self(&gray_p, &v);
    }
    v.clamp(0.0, 1.0)
}

/// Luma `[B, 1, H, W]` (ITU-R 601, as torchvision), or the single channel itself.
fn grayscale(x: &Tensor) -> Tensor {
    if x.size()[1] == 3 {
        let wts =
            Tensor::from_slice(&[0.299f32, 0.587, 0.114]).to_device(x.device()).view([1, 3, 1, 1]);
        (x * wts).sum_dim_intlist(1, true, Kind::Float)
    } else {
        x.shallow_clone()
    }
}

/// Brightness, contrast and saturation jitter with factors uniform in
/// `[1 − 0.8 s, 1 + 0.8 s]`, applied to each image with probability `p`.
fn color_jitter(x: &Tensor, s: f64, p: f64) -> Tensor {
    let b = x.size()[0];
    let opts = (Kind::Float, x.device());
    let factor = |n| 1.0 - 0.8 * s + 1.6 * s * Tensor::rand([n, 1, 1, 1], opts);
    let mut v = (x * factor(b)).clamp(0.0, 1.0);
    let mean = grayscale(&v).mean_dim(&[1i64, 2, 3][..], true, Kind::Float);
    v = ((&v - &mean) * factor(b) + &mean).clamp(0.0, 1.0);
    if x.size()[1] == 3 {
        let g = grayscale(&v);
        v = ((&v - &g) * factor(b) + &g).clamp(0.0, 1.0);
    }
    let apply = Tensor::rand([b, 1, 1, 1], opts).lt(p);
    v.where_self(&apply, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> Tensor {
        Tensor::arange(2 * 3 * 8 * 8, (Kind::Float, tch::Device::Cpu)).view([2, 3, 8, 8]) / 384.0
    }

    #[test]
    fn four_quarter_turns_are_the_identity_and_two_flip_both_axes() {
        let x = images();
        assert!(rotate(&rotate(&x, 1), 3).equal(&x));
        assert!(rotate(&x, 2).equal(&x.flip([2, 3])));
        assert!(rotate(&x, 4).equal(&x));
    }

    #[test]
    fn a_shift_is_a_window_of_the_padded_image() {
        tch::manual_seed(3);
        let x = images();
        let y = random_shift(&x, 2);
        assert_eq!(y.size(), x.size());
        let padded = x.replication_pad2d([2, 2, 2, 2]);
        for i in 0..2 {
            let found = (0..5).any(|dy| {
                (0..5).any(|dx| padded.get(i).narrow(1, dy, 8).narrow(2, dx, 8).equal(&y.get(i)))
            });
            assert!(found, "image {i} is not a crop of its padded self");
        }
    }

    #[test]
    fn simclr_views_stay_in_range_and_replay_under_the_same_seed() {
        let x = images();
        let cfg = ViewConfig::default();
        tch::manual_seed(5);
        let a = simclr_view(&x, &cfg);
        tch::manual_seed(5);
        let b = simclr_view(&x, &cfg);
        assert_eq!(a.size(), x.size());
        assert!(a.equal(&b));
        assert!(a.min().double_value(&[]) >= 0.0 && a.max().double_value(&[]) <= 1.0);
        assert!(!a.equal(&x));
    }
}
