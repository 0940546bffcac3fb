//! The random parameters of one [`Augment`] step for one image, drawn in one place for both
//! executors: [`Pipeline::apply`](super::Pipeline::apply) (one 8-bit image, [`Frame`]s on the
//! CPU) and [`Pipeline::apply_batch`](super::Pipeline::apply_batch) (a float tensor batch on
//! any device). Both read the same [`Drawn`] values from the same generator in the same
//! order, so for the same seeds they compute the same augmentation.
//!
//! The sampling is torchvision's (`RandomResizedCrop.get_params`, `ColorJitter.get_params`,
//! a coin `torch.rand(1) < p` before each random transform); only the generator differs
//! (Graft's [`EnvRng`] per sample instead of torch's global one).
//!
//! [`Frame`]: super::Frame

use graft_envs::EnvRng;

use super::color::{jitter_params, JitterParams};
use super::crop::{random_resized_crop_box, CropBox};
use super::pipeline::Augment;

/// What one step drew for one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Drawn {
    /// A step without randomness (resize, centre crop, normalisation).
    Fixed,
    /// The box of a random resized crop.
    Crop(CropBox),
    /// Whether a flip, grayscale or solarize step applies.
    Coin(bool),
    /// Colour jitter's order and factors, or `None` when its coin said no.
    Jitter(Option<JitterParams>),
    /// The blur's sigma, or `None` when its coin said no.
    Blur(Option<f32>),
    /// Quarter turns, 0..4.
    Rotate(usize),
    /// The shift window's top-left corner `(dy, dx)` in the padded image.
    Shift(usize, usize),
}

impl Augment {
    /// Draw this step's parameters for an image of `height x width` (its size when the step
    /// runs) from `rng`. Steps without randomness draw nothing.
    pub fn draw(&self, height: usize, width: usize, rng: &mut EnvRng) -> Drawn {
        match self {
            Augment::RandomResizedCrop { scale, ratio, .. } => {
                Drawn::Crop(random_resized_crop_box(height, width, *scale, *ratio, rng))
            }
            Augment::HorizontalFlip { p }
            | Augment::RandomGrayscale { p }
            | Augment::RandomSolarize { p, .. } => Drawn::Coin(rng.next_f64() < *p),
            Augment::ColorJitter { brightness, contrast, saturation, hue, p } => Drawn::Jitter(
                (rng.next_f64() < *p)
                    .then(|| jitter_params([*brightness, *contrast, *saturation, *hue], rng)),
            ),
            Augment::GaussianBlur { sigma, p, .. } => Drawn::Blur(
                (rng.next_f64() < *p).then(|| rng.uniform(sigma[0] as f64, sigma[1] as f64) as f32),
            ),
            Augment::RandomRotate90 => Drawn::Rotate(rng.below(4) as usize),
            Augment::RandomShift { pad, .. } => {
                let span = 2 * *pad as u64 + 1;
                Drawn::Shift(rng.below(span) as usize, rng.below(span) as usize)
            }
            Augment::Resize { .. } | Augment::CenterCrop { .. } | Augment::Normalize { .. } => {
                Drawn::Fixed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::sample_rng;

    #[test]
    fn a_coin_is_drawn_even_when_the_step_does_nothing() {
        // p = 0 never applies but still consumes one number, so the steps after it draw the
        // same values whatever the probabilities before them.
        let mut a = sample_rng(1, 0, 0, 0);
        let mut b = sample_rng(1, 0, 0, 0);
        assert_eq!(Augment::HorizontalFlip { p: 0.0 }.draw(4, 4, &mut a), Drawn::Coin(false));
        assert_eq!(Augment::RandomGrayscale { p: 1.0 }.draw(4, 4, &mut b), Drawn::Coin(true));
        assert_eq!(a.next_u64(), b.next_u64());
        let blur = Augment::GaussianBlur { kernel: 3, sigma: [0.5, 0.5], p: 1.0 };
        assert_eq!(blur.draw(4, 4, &mut a), Drawn::Blur(Some(0.5)));
        let shift = Augment::RandomShift { pad: 2, mode: super::super::PadMode::Zero };
        assert!(matches!(shift.draw(4, 4, &mut a), Drawn::Shift(dy, dx) if dy <= 4 && dx <= 4));
    }
}
