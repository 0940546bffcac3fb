//! [`Frame`]: the float image every augmentation works on (CHW, values in [0, 1] until
//! normalisation), and [`sample_rng`], the per-sample random stream.
//!
//! Randomness is drawn from a generator seeded by `(seed, epoch, index, view)` alone, so a
//! sample's augmentation does not depend on which worker thread processes it or when: the
//! same seed gives the same batches on any number of threads.

use graft_envs::EnvRng;

use crate::data::images::Image;

/// A float image, channels-first: `data[(c * height + y) * width + x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Values, `channels * height * width` of them.
    pub data: Vec<f32>,
    /// Channels (1 or 3).
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl Frame {
    /// A frame of zeros.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Frame {
        Frame { data: vec![0.0; channels * height * width], channels, height, width }
    }

    /// An 8-bit HWC image as a CHW frame with values `byte / 255` (torchvision's
    /// `ToTensor` / `ConvertImageDtype(float32)`).
    pub fn from_image(img: &Image) -> Frame {
        let (c, plane) = (img.channels, img.height * img.width);
        let mut data = vec![0.0f32; c * plane];
        for (p, px) in img.data.chunks_exact(c).enumerate() {
            for (k, &v) in px.iter().enumerate() {
                data[k * plane + p] = f32::from(v) / 255.0;
            }
        }
        Frame { data, channels: c, height: img.height, width: img.width }
    }

    /// The pixels of `img` inside the box (`top`, `left`, `height`, `width`) as a frame,
    /// converted like [`Frame::from_image`]: a crop taken before conversion, so a large photo
    /// is never converted to floats whole.
    pub fn from_image_region(
        img: &Image,
        top: usize,
        left: usize,
        height: usize,
        width: usize,
    ) -> Frame {
        let c = img.channels;
        let plane = height * width;
        let mut data = vec![0.0f32; c * plane];
        for y in 0..height {
            let row = &img.data[((top + y) * img.width + left) * c..][..width * c];
            for (x, px) in row.chunks_exact(c).enumerate() {
                for (k, &v) in px.iter().enumerate() {
                    data[k * plane + y * width + x] = f32::from(v) / 255.0;
                }
            }
        }
        Frame { data, channels: c, height, width }
    }

    /// Values `x * 255` rounded to bytes (clamped), in CHW order: the loader's `uint8` output.
    pub fn to_u8(&self) -> Vec<u8> {
        self.data.iter().map(|&x| (x.clamp(0.0, 1.0) * 255.0).round() as u8).collect()
    }

    /// Pixels in one plane.
    pub fn plane(&self) -> usize {
        self.height * self.width
    }

    /// `[channels, height, width]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// Value at channel `c`, row `y`, column `x`.
    #[inline]
    pub fn at(&self, c: usize, y: usize, x: usize) -> f32 {
        self.data[(c * self.height + y) * self.width + x]
    }
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for view `view` of sample `index` in epoch `epoch` of a run seeded `seed`.
pub fn sample_rng(seed: u64, epoch: u64, index: u64, view: u64) -> EnvRng {
    let mut h = mix(seed ^ 0x6772_6166_745f_696d); // "graft_im"
    for part in [epoch, index, view] {
        h = mix(h.wrapping_add(0x9E37_79B9_7F4A_7C15) ^ part);
    }
    EnvRng::seed_from(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_from_image_is_chw_over_255() {
        let img = Image::new(vec![0, 51, 255, 10, 20, 30], 1, 2, 3).unwrap();
        let f = Frame::from_image(&img);
        assert_eq!(f.shape(), [3, 1, 2]);
        assert_eq!(f.at(1, 0, 0), 51.0 / 255.0);
        assert_eq!(f.at(2, 0, 1), 30.0 / 255.0);
        assert_eq!(f.to_u8(), vec![0, 10, 51, 20, 255, 30]);
        let r = Frame::from_image_region(&img, 0, 1, 1, 1);
        assert_eq!(r.data, vec![10.0 / 255.0, 20.0 / 255.0, 30.0 / 255.0]);
    }

    #[test]
    fn sample_streams_differ_by_every_coordinate() {
        let a = sample_rng(1, 2, 3, 0).next_u64();
        assert_eq!(a, sample_rng(1, 2, 3, 0).next_u64());
        for b in [
            sample_rng(0, 2, 3, 0),
            sample_rng(1, 3, 3, 0),
            sample_rng(1, 2, 4, 0),
            sample_rng(1, 2, 3, 1),
        ] {
            assert_ne!(a, b.clone().next_u64());
        }
    }
}
