//! Gaussian blur as torchvision's `GaussianBlur` (used by SimCLR, Chen et al. 2020, with a
//! kernel of 10% of the image side and sigma drawn from [0.1, 2.0]): a normalised sampled
//! Gaussian, applied separably with reflect padding (the border mirrored without repeating
//! the edge pixel).

use super::frame::Frame;

/// torchvision's `_get_gaussian_kernel1d`: `exp(-x² / 2σ²)` at `x = -(k-1)/2 … (k-1)/2`,
/// normalised to sum 1.
pub fn gaussian_kernel(size: usize, sigma: f32) -> Vec<f32> {
    let half = (size as f32 - 1.0) * 0.5;
    let pdf: Vec<f32> = (0..size)
        .map(|i| {
            let x =
                if size > 1 { -half + i as f32 * (2.0 * half) / (size as f32 - 1.0) } else { 0.0 };
            (-0.5 * (x / sigma) * (x / sigma)).exp()
        })
        .collect();
    let total: f32 = pdf.iter().sum();
    pdf.into_iter().map(|v| v / total).collect()
}

/// Mirror index `i` into `0..n` without repeating the edge (numpy / PyTorch `reflect`).
#[inline]
pub(crate) fn reflect(i: i64, n: i64) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = i.rem_euclid(period);
    (if m < n { m } else { period - m }) as usize
}

/// Blur with a `size`-tap kernel (odd) of standard deviation `sigma`, horizontally then
/// vertically.
pub fn gaussian_blur(f: &Frame, size: usize, sigma: f32) -> Frame {
    let k = gaussian_kernel(size, sigma);
    let r = (size / 2) as i64;
    let (h, w) = (f.height as i64, f.width as i64);
    let mut tmp = Frame::zeros(f.channels, f.height, f.width);
    for ch in 0..f.channels {
        for y in 0..f.height {
            let row = &f.data[(ch * f.height + y) * f.width..][..f.width];
            let out = &mut tmp.data[(ch * f.height + y) * f.width..][..f.width];
            for (x, o) in out.iter_mut().enumerate() {
                *o = k
                    .iter()
                    .enumerate()
                    .map(|(t, a)| a * row[reflect(x as i64 + t as i64 - r, w)])
                    .sum();
            }
        }
    }
    let mut dst = Frame::zeros(f.channels, f.height, f.width);
    for ch in 0..f.channels {
        for y in 0..f.height {
            let out = &mut dst.data[(ch * f.height + y) * f.width..][..f.width];
            for (t, a) in k.iter().enumerate() {
                let sy = reflect(y as i64 + t as i64 - r, h);
                let row = &tmp.data[(ch * f.height + sy) * f.width..][..f.width];
                out.iter_mut().zip(row).for_each(|(o, v)| *o += a * v);
            }
        }
    }
    dst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_is_normalised_symmetric_gaussian() {
        let k = gaussian_kernel(5, 1.0);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(k[0], k[4]);
        assert!((k[1] / k[2] - (-0.5f32).exp()).abs() < 1e-6);
    }

    #[test]
    fn reflect_mirrors_without_the_edge() {
        let got: Vec<usize> = (-3..7).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
    }

    #[test]
    fn blur_keeps_a_constant_image() {
        let f = Frame { data: vec![0.3; 2 * 5 * 4], channels: 2, height: 5, width: 4 };
        let b = gaussian_blur(&f, 3, 0.8);
        assert!(b.data.iter().all(|&x| (x - 0.3).abs() < 1e-6));
        // A kernel wider than the image mirrors repeatedly instead of failing.
        let tiny = Frame { data: vec![0.3; 4], channels: 1, height: 2, width: 2 };
        assert!(gaussian_blur(&tiny, 7, 2.0).data.iter().all(|&x| (x - 0.3).abs() < 1e-6));
    }
}
