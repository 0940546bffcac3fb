//! Geometric crops and resizing: torchvision's `RandomResizedCrop` (the crop of Inception,
//! Szegedy et al. 2015, used by SimCLR, Chen et al. 2020, with scale 0.08–1 and aspect ratio
//! 3/4–4/3), antialiased bilinear resizing, and DrQ's random shift (Kostrikov et al., "Image
//! Augmentation Is All You Need", 2020: replicate-pad by 4, crop back at a random offset).

use graft_envs::EnvRng;

use super::frame::Frame;

/// A crop box: top row, left column, height, width (torchvision's `i, j, h, w`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropBox {
    /// Top row.
    pub top: usize,
    /// Left column.
    pub left: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

/// Python's `int(round(x))`: round half to even.
fn py_round(x: f64) -> i64 {
    x.round_ties_even() as i64
}

/// torchvision's `RandomResizedCrop.get_params`: up to 10 attempts at an area fraction drawn
/// uniformly from `scale` and an aspect ratio drawn log-uniformly from `ratio`; the first box
/// that fits is placed uniformly. After 10 misses: the central crop with the aspect ratio
/// clamped into `ratio` (the whole image when its ratio is inside).
pub fn random_resized_crop_box(
    height: usize,
    width: usize,
    scale: [f64; 2],
    ratio: [f64; 2],
    rng: &mut EnvRng,
) -> CropBox {
    let area = (height * width) as f64;
    let (lr0, lr1) = (ratio[0].ln(), ratio[1].ln());
    for _ in 0..10 {
        let target = area * rng.uniform(scale[0], scale[1]);
        let aspect = rng.uniform(lr0, lr1).exp();
        let w = py_round((target * aspect).sqrt());
        let h = py_round((target / aspect).sqrt());
        if 0 < w && w as usize <= width && 0 < h && h as usize <= height {
            let (h, w) = (h as usize, w as usize);
            let top = rng.below((height - h + 1) as u64) as usize;
            let left = rng.below((width - w + 1) as u64) as usize;
            return CropBox { top, left, height: h, width: w };
        }
    }
    center_fallback(height, width, ratio)
}

/// The fallback of [`random_resized_crop_box`] after 10 failed attempts.
pub fn center_fallback(height: usize, width: usize, ratio: [f64; 2]) -> CropBox {
    let in_ratio = width as f64 / height as f64;
    let (lo, hi) = (ratio[0].min(ratio[1]), ratio[0].max(ratio[1]));
    let (h, w) = if in_ratio < lo {
        ((py_round(width as f64 / lo) as usize).clamp(1, height), width)
    } else if in_ratio > hi {
        (height, (py_round(height as f64 * hi) as usize).clamp(1, width))
    } else {
        (height, width)
    };
    CropBox { top: (height - h) / 2, left: (width - w) / 2, height: h, width: w }
}

/// Per output index: the first input index and the normalised weights of the antialiased
/// bilinear (triangle) filter, as PyTorch's `_upsample_bilinear2d_aa` computes them: the
/// filter is stretched by the scale when shrinking, so every input pixel contributes (PIL's
/// resampling); when enlarging it is plain half-pixel bilinear with clamped edges.
pub(crate) fn aa_weights(input: usize, output: usize) -> Vec<(usize, Vec<f32>)> {
    let mut rows: Vec<(usize, Vec<f32>)> = Vec::with_capacity(output);
    for_each_aa_weight(input, output, |o, j, w| {
        if o == rows.len() {
            rows.push((j, Vec::new()));
        }
        rows[o].1.push(w);
    });
    rows
}

/// The weights of [`aa_weights`] without collecting them: `emit(o, j, w)` for every output
/// index `o` (in order), each of its input indices `j` (in order) and its weight `w`.
pub(crate) fn for_each_aa_weight(
    input: usize,
    output: usize,
    mut emit: impl FnMut(usize, usize, f32),
) {
    let scale = input as f64 / output as f64;
    let support = if scale >= 1.0 { scale } else { 1.0 };
    let inv = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
    let mut w: Vec<f64> = Vec::new();
    for i in 0..output {
        let center = scale * (i as f64 + 0.5);
        let lo = ((center - support + 0.5) as i64).max(0) as usize;
        let hi = ((center + support + 0.5) as i64).min(input as i64) as usize;
        w.clear();
        w.extend((lo..hi).map(|j| (1.0 - ((j as f64 - center + 0.5) * inv).abs()).max(0.0)));
        let total: f64 = w.iter().sum();
        if total > 0.0 {
            w.iter_mut().for_each(|x| *x /= total);
        }
        for (k, &x) in w.iter().enumerate() {
            emit(i, lo + k, x as f32);
        }
    }
}

/// Crop `b` out of `src` and resize it to `out_h x out_w` with antialiased bilinear
/// interpolation (torchvision's `F.resized_crop(..., BILINEAR, antialias=True)` on a float
/// tensor). Width is resampled first, then height.
pub fn resized_crop(src: &Frame, b: CropBox, out_h: usize, out_w: usize) -> Frame {
    let c = src.channels;
    if b.height == out_h && b.width == out_w {
        return crop(src, b);
    }
    let wx = aa_weights(b.width, out_w);
    let wy = aa_weights(b.height, out_h);
    // Horizontal pass over the crop's rows: [C, b.height, out_w].
    let mut tmp = vec![0.0f32; c * b.height * out_w];
    for ch in 0..c {
        for y in 0..b.height {
            let row = &src.data[(ch * src.height + b.top + y) * src.width + b.left..][..b.width];
            let out = &mut tmp[(ch * b.height + y) * out_w..][..out_w];
            for (o, (lo, w)) in out.iter_mut().zip(&wx) {
                *o = w.iter().zip(&row[*lo..]).map(|(a, v)| a * v).sum();
            }
        }
    }
    // Vertical pass: [C, out_h, out_w].
    let mut dst = Frame::zeros(c, out_h, out_w);
    for ch in 0..c {
        for (y, (lo, w)) in wy.iter().enumerate() {
            let out = &mut dst.data[(ch * out_h + y) * out_w..][..out_w];
            for (k, a) in w.iter().enumerate() {
                let row = &tmp[(ch * b.height + lo + k) * out_w..][..out_w];
                for (o, v) in out.iter_mut().zip(row) {
                    *o += a * v;
                }
            }
        }
    }
    dst
}

/// The pixels inside `b` (no resampling). The box must lie inside the frame.
pub fn crop(src: &Frame, b: CropBox) -> Frame {
    let mut dst = Frame::zeros(src.channels, b.height, b.width);
    for ch in 0..src.channels {
        for y in 0..b.height {
            let from = (ch * src.height + b.top + y) * src.width + b.left;
            let to = (ch * b.height + y) * b.width;
            dst.data[to..to + b.width].copy_from_slice(&src.data[from..from + b.width]);
        }
    }
    dst
}

/// How [`pad_crop`] fills the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// Repeat the edge pixel (DrQ's `ReplicationPad2d`).
    Replicate,
    /// Zeros (torchvision's `RandomCrop(padding=4)` for CIFAR).
    Zero,
}

/// Pad `src` by `pad` on every side, then take the `height x width` window of the original
/// size whose top-left corner is `(dy, dx)` in the padded image (`0 ≤ dy, dx ≤ 2 * pad`).
/// `(pad, pad)` returns the input unchanged.
pub fn pad_crop(src: &Frame, pad: usize, dy: usize, dx: usize, mode: PadMode) -> Frame {
    let (h, w) = (src.height, src.width);
    let mut dst = Frame::zeros(src.channels, h, w);
    for ch in 0..src.channels {
        for y in 0..h {
            let sy = y as i64 + dy as i64 - pad as i64;
            if mode == PadMode::Zero && !(0..h as i64).contains(&sy) {
                continue;
            }
            let sy = sy.clamp(0, h as i64 - 1) as usize;
            for x in 0..w {
                let sx = x as i64 + dx as i64 - pad as i64;
                if mode == PadMode::Zero && !(0..w as i64).contains(&sx) {
                    continue;
                }
                let sx = sx.clamp(0, w as i64 - 1) as usize;
                dst.data[(ch * h + y) * w + x] = src.at(ch, sy, sx);
            }
        }
    }
    dst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_rounding_is_half_to_even() {
        assert_eq!((py_round(2.5), py_round(3.5), py_round(-0.5), py_round(2.6)), (2, 4, 0, 3));
    }

    #[test]
    fn fallback_clamps_the_aspect_ratio() {
        // 10 wide, 40 tall: ratio 0.25 < 3/4 → full width, height round(10 / 0.75) = 13.
        let b = center_fallback(40, 10, [0.75, 4.0 / 3.0]);
        assert_eq!(b, CropBox { top: 13, left: 0, height: 13, width: 10 });
        let b = center_fallback(10, 40, [0.75, 4.0 / 3.0]);
        assert_eq!(b, CropBox { top: 0, left: 13, height: 10, width: 13 });
        assert_eq!(
            center_fallback(8, 8, [0.75, 4.0 / 3.0]),
            CropBox { top: 0, left: 0, height: 8, width: 8 }
        );
    }

    #[test]
    fn aa_weights_are_identity_at_scale_one_and_averages_when_halving() {
        for (lo, w) in aa_weights(5, 5).iter().map(|(l, w)| (*l, w.clone())) {
            assert_eq!(w[0], 1.0);
            assert!(w[1..].iter().all(|&x| x == 0.0), "{lo}: {w:?}");
        }
        // Halving: output 0 centred at 1.0 in input coordinates, support 2: inputs 0..2 with
        // triangle weights 0.75, 0.75 (and 0.25 on input 2) before normalising.
        let w = aa_weights(4, 2);
        assert_eq!(w[0].0, 0);
        assert!((w[0].1[0] - 3.0 / 7.0).abs() < 1e-6 && (w[0].1[2] - 1.0 / 7.0).abs() < 1e-6);
    }

    #[test]
    fn pad_crop_centre_is_identity_and_shift_replicates_edges() {
        let f =
            Frame { data: (0..9).map(|x| x as f32).collect(), channels: 1, height: 3, width: 3 };
        assert_eq!(pad_crop(&f, 4, 4, 4, PadMode::Replicate), f);
        let s = pad_crop(&f, 4, 0, 0, PadMode::Replicate);
        assert!(s.data.iter().all(|&x| x == 0.0));
        let z = pad_crop(&f, 1, 0, 0, PadMode::Zero);
        assert_eq!(z.data, vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 3.0, 4.0]);
    }
}
