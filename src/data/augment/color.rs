//! Colour augmentations with torchvision's definitions on float images in [0, 1]
//! (`torchvision.transforms.functional`): brightness, contrast, saturation and hue
//! adjustment, ColorJitter's random factors in random order, grayscale with the ITU-R
//! 601-2 luma weights, solarisation and per-channel normalisation. SimCLR (Chen et al., 2020) showed
//! colour distortion to be the augmentation contrastive learning depends on most.

use graft_envs::EnvRng;

use super::frame::Frame;

/// ITU-R 601-2 luma weights, as torchvision's `rgb_to_grayscale` uses them.
pub const LUMA: [f32; 3] = [0.2989, 0.587, 0.114];

/// `clamp(ratio * a + (1 - ratio) * b, 0, 1)` per value: torchvision's `_blend`.
#[inline]
fn blend(a: f32, b: f32, ratio: f32) -> f32 {
    (ratio * a + (1.0 - ratio) * b).clamp(0.0, 1.0)
}

/// The luma plane of an RGB frame (a 1-channel frame is returned as it is).
pub fn luma(f: &Frame) -> Vec<f32> {
    if f.channels != 3 {
        return f.data[..f.plane()].to_vec();
    }
    let p = f.plane();
    let (r, g, b) = (&f.data[..p], &f.data[p..2 * p], &f.data[2 * p..]);
    (0..p).map(|i| LUMA[0] * r[i] + LUMA[1] * g[i] + LUMA[2] * b[i]).collect()
}

/// Grayscale with the same channel count: luma replicated into every channel
/// (torchvision's `rgb_to_grayscale(img, num_output_channels=3)`).
pub fn grayscale(f: &mut Frame) {
    if f.channels != 3 {
        return;
    }
    let y = luma(f);
    for ch in f.data.chunks_exact_mut(y.len()) {
        ch.copy_from_slice(&y);
    }
}

/// `adjust_brightness`: blend with black.
pub fn adjust_brightness(f: &mut Frame, factor: f32) {
    f.data.iter_mut().for_each(|x| *x = blend(*x, 0.0, factor));
}

/// `adjust_contrast`: blend with the mean of the luma (of the image itself when grey).
pub fn adjust_contrast(f: &mut Frame, factor: f32) {
    let y = luma(f);
    let mean = y.iter().sum::<f32>() / y.len() as f32;
    f.data.iter_mut().for_each(|x| *x = blend(*x, mean, factor));
}

/// `adjust_saturation`: blend with the grayscale image (no-op on grey images).
pub fn adjust_saturation(f: &mut Frame, factor: f32) {
    if f.channels != 3 {
        return;
    }
    let y = luma(f);
    for ch in f.data.chunks_exact_mut(y.len()) {
        ch.iter_mut().zip(&y).for_each(|(x, g)| *x = blend(*x, *g, factor));
    }
}

/// `adjust_hue`: shift the hue by `shift` (in turns, −0.5..0.5) through HSV, with
/// torchvision's tensor formulas (`_rgb2hsv`, `_hsv2rgb`). No-op on grey images.
///
/// Written without branches (selections instead), so the pixel loop vectorises: the colour
/// jitter of pretraining batches on the CPU runs through here ([`super::tensor`]).
pub fn adjust_hue(f: &mut Frame, shift: f32) {
    if f.channels != 3 {
        return;
    }
    let p = f.plane();
    let (r, rest) = f.data.split_at_mut(p);
    let (g, b) = rest.split_at_mut(p);
    for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
        let (h, s, v) = rgb_to_hsv(*r, *g, *b);
        // torch's `%` on floats: a - floor(a) for a divisor of 1.
        let h = h + shift;
        (*r, *g, *b) = hsv_to_rgb(h - floor(h), s, v);
    }
}

/// `x.floor()` for |x| < 2^31 in operations that vectorise (truncate, then step down below
/// zero); exact in that range, which holds every hue value here.
#[inline(always)]
fn floor(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// torchvision's `_rgb2hsv` for one pixel.
#[inline(always)]
fn rgb_to_hsv(r: f32, g: f32, b: f32) -> (f32, f32, f32) {
    let maxc = r.max(g).max(b);
    let minc = r.min(g).min(b);
    let eqc = maxc == minc;
    let cr = maxc - minc;
    let s = cr / if eqc { 1.0 } else { maxc };
    let div = if eqc { 1.0 } else { cr };
    let (rc, gc, bc) = ((maxc - r) / div, (maxc - g) / div, (maxc - b) / div);
    let h = if maxc == r {
        bc - gc
    } else if maxc == g {
        2.0 + rc - bc
    } else {
        4.0 + gc - rc
    };
    // fmod(x, 1) for x >= 0 is exactly x - floor(x).
    let x = h / 6.0 + 1.0;
    (x - floor(x), s, maxc)
}

/// torchvision's `_hsv2rgb` for one pixel.
#[inline(always)]
fn hsv_to_rgb(h: f32, s: f32, v: f32) -> (f32, f32, f32) {
    let i = floor(h * 6.0);
    let f = h * 6.0 - i;
    let p = (v * (1.0 - s)).clamp(0.0, 1.0);
    let q = (v * (1.0 - s * f)).clamp(0.0, 1.0);
    let t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0);
    // i % 6 (Python's), then the sector's (r, g, b) among (v, q, p, t).
    let k = i - floor(i / 6.0) * 6.0;
    let r = if k == 0.0 || k == 5.0 {
        v
    } else if k == 1.0 {
        q
    } else if k == 4.0 {
        t
    } else {
        p
    };
    let g = if k == 0.0 {
        t
    } else if k == 1.0 || k == 2.0 {
        v
    } else if k == 3.0 {
        q
    } else {
        p
    };
    let b = if k == 0.0 || k == 1.0 {
        p
    } else if k == 2.0 {
        t
    } else if k == 3.0 || k == 4.0 {
        v
    } else {
        q
    };
    (r, g, b)
}

/// ColorJitter's drawn parameters: the order of the four adjustments (0 brightness,
/// 1 contrast, 2 saturation, 3 hue) and each factor (`None`: not applied).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JitterParams {
    /// A permutation of 0..4.
    pub order: [usize; 4],
    /// Brightness, contrast, saturation factors and hue shift.
    pub factors: [Option<f32>; 4],
}

/// torchvision's `ColorJitter.get_params`: a random order, brightness/contrast/saturation
/// factors uniform in `[max(0, 1 - s), 1 + s]` and a hue shift uniform in `[-h, h]`;
/// a strength of 0 leaves that adjustment out.
pub fn jitter_params(strength: [f32; 4], rng: &mut EnvRng) -> JitterParams {
    let mut order = [0, 1, 2, 3];
    crate::data::images::shuffle(&mut order, rng);
    let mut factors = [None; 4];
    for (k, &s) in strength.iter().enumerate() {
        if s > 0.0 {
            let (lo, hi) = if k == 3 { (-s, s) } else { ((1.0 - s).max(0.0), 1.0 + s) };
            factors[k] = Some(rng.uniform(lo as f64, hi as f64) as f32);
        }
    }
    JitterParams { order, factors }
}

/// Apply drawn jitter parameters in their order.
pub fn color_jitter(f: &mut Frame, params: &JitterParams) {
    for &k in &params.order {
        if let Some(x) = params.factors[k] {
            match k {
                0 => adjust_brightness(f, x),
                1 => adjust_contrast(f, x),
                2 => adjust_saturation(f, x),
                _ => adjust_hue(f, x),
            }
        }
    }
}

/// torchvision's `solarize` on a float image: values `>= threshold` become `1 - x`.
pub fn solarize(f: &mut Frame, threshold: f32) {
    f.data.iter_mut().filter(|x| **x >= threshold).for_each(|x| *x = 1.0 - *x);
}

/// `(x - mean[c]) / std[c]` per channel (one value each is broadcast to every channel).
pub fn normalize(f: &mut Frame, mean: &[f32], std: &[f32]) {
    let p = f.plane();
    for (c, ch) in f.data.chunks_exact_mut(p).enumerate() {
        let (m, s) = (mean[c.min(mean.len() - 1)], std[c.min(std.len() - 1)]);
        ch.iter_mut().for_each(|x| *x = (*x - m) / s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsv_round_trip_and_primary_hues() {
        for &(r, g, b) in &[(0.2f32, 0.7, 0.4), (0.9, 0.1, 0.3), (0.5, 0.5, 0.5), (0.1, 0.2, 0.9)] {
            let (h, s, v) = rgb_to_hsv(r, g, b);
            let (r2, g2, b2) = hsv_to_rgb(h, s, v);
            assert!((r - r2).abs() < 1e-6 && (g - g2).abs() < 1e-6 && (b - b2).abs() < 1e-6);
        }
        assert!((rgb_to_hsv(0.0, 1.0, 0.0).0 - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(
            (floor(-0.5), floor(0.0), floor(1.0), floor(1.5), floor(-1.0)),
            (-1.0, 0.0, 1.0, 1.0, -1.0)
        );
        // A third of a turn takes red to green.
        let (r, g, b) = hsv_to_rgb((0.0 + 1.0 / 3.0f32) % 1.0, 1.0, 1.0);
        assert!(r.abs() < 1e-6 && (g - 1.0).abs() < 1e-6 && b.abs() < 1e-6);
    }

    #[test]
    fn contrast_zero_gives_the_mean_luma() {
        let mut f =
            Frame { data: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0], channels: 3, height: 1, width: 2 };
        adjust_contrast(&mut f, 0.0);
        // Planes R = [1, 0], G = [0, 0], B = [1, 0].
        let mean = (LUMA[0] + LUMA[2]) / 2.0;
        assert!(f.data.iter().all(|&x| (x - mean).abs() < 1e-6), "{:?} vs {mean}", f.data);
    }
}
