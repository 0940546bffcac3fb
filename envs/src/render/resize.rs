//! Area-averaging resize of RGB frames, for renders at a size other than the env's own.

use image::RgbImage;

use crate::error::{EnvError, Result};

/// Resize an RGB image into `out` (HWC bytes, `width * height * 3`) by averaging the source
/// pixels each target pixel covers (area interpolation, like OpenCV's `INTER_AREA` when
/// shrinking; nearest source pixel when growing).
pub fn resize_rgb_into(src: &RgbImage, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
    let need = width as usize * height as usize * 3;
    if out.len() != need {
        return Err(EnvError::LengthMismatch {
            what: "frame buffer".into(),
            expected: need,
            got: out.len(),
        });
    }
    if width == 0 || height == 0 {
        return Err(EnvError::Other(format!("cannot render a {width}x{height} frame")));
    }
    let (sw, sh) = src.dimensions();
    let raw = src.as_raw();
    for ty in 0..height {
        let y0 = (ty as u64 * sh as u64 / height as u64) as u32;
        let y1 = (((ty as u64 + 1) * sh as u64).div_ceil(height as u64) as u32).clamp(y0 + 1, sh);
        for tx in 0..width {
            let x0 = (tx as u64 * sw as u64 / width as u64) as u32;
            let x1 =
                (((tx as u64 + 1) * sw as u64).div_ceil(width as u64) as u32).clamp(x0 + 1, sw);
            let mut acc = [0u32; 3];
            for y in y0..y1 {
                let row = (y * sw) as usize * 3;
                for x in x0..x1 {
                    let p = row + x as usize * 3;
                    acc[0] += raw[p] as u32;
                    acc[1] += raw[p + 1] as u32;
                    acc[2] += raw[p + 2] as u32;
                }
            }
            let n = (y1 - y0) * (x1 - x0);
            let o = (ty * width + tx) as usize * 3;
            for c in 0..3 {
                out[o + c] = ((acc[c] + n / 2) / n) as u8;
            }
        }
    }
    Ok(())
}
