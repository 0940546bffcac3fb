//! What one example must look like for a model's input layer ([`InputShape`]), and the check
//! made where a user's model meets a user's data ([`check_input`]): a state encoder given
//! pixels, or a 64x64 CNN given 40x40 frames, is refused by name before the first forward
//! pass instead of panicking inside libtorch (`mat1 and mat2 shapes cannot be multiplied`).

use std::fmt;

use super::base::Encoder;
use crate::error::{Error, Result};

/// The shape of one example (no batch axis) a model's input layer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputShape {
    /// A vector of this many values.
    Vector(i64),
    /// A `[channels, height, width]` image of exactly this size.
    Image { channels: i64, height: i64, width: i64 },
    /// A `[channels, H, W]` image of any size whose sides are at least `min_side`
    /// (networks that end in adaptive pooling).
    AnyImage { channels: i64, min_side: i64 },
}

impl InputShape {
    /// Whether one example of shape `shape` fits.
    pub fn accepts(&self, shape: &[i64]) -> bool {
        match (*self, shape) {
            (InputShape::Vector(n), [m]) => n == *m,
            (InputShape::Image { channels, height, width }, [c, h, w]) => {
                (channels, height, width) == (*c, *h, *w)
            }
            (InputShape::AnyImage { channels, min_side }, [c, h, w]) => {
                channels == *c && *h >= min_side && *w >= min_side
            }
            _ => false,
        }
    }
}

impl fmt::Display for InputShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InputShape::Vector(n) => write!(f, "vectors of {n} values"),
            InputShape::Image { channels, height, width } => {
                write!(f, "[{channels}, {height}, {width}] images")
            }
            InputShape::AnyImage { channels, min_side } => {
                write!(f, "images of {channels} channels, at least {min_side}x{min_side}")
            }
        }
    }
}

/// Refuse data whose examples have a shape (`item`, no batch axis) that `model`'s input layer
/// cannot take; `data` names the data in the message. Encoders that do not declare their
/// input ([`Encoder::input_shape`] is `None`) are not checked.
pub fn check_input(model: &dyn Encoder, item: &[i64], data: &str) -> Result<()> {
    match model.input_shape() {
        Some(InputShape::AnyImage { channels, min_side }) if matches!(item, [c, h, w] if *c == channels && (*h < min_side || *w < min_side)) => {
            Err(Error::InputTooSmall {
                model: "the model's input layer".into(),
                min_side,
                data: format!("{data} (examples of shape [C, H, W])"),
                got: item.to_vec(),
            })
        }
        Some(input) if !input.accepts(item) => Err(Error::Invalid(format!(
            "the model does not fit the data: {data} has examples of shape {item:?}, but the \
             model's input layer takes {input} (was it built or pretrained for other data?)"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_accepted_exactly_or_by_their_minimum() {
        assert!(InputShape::Vector(4).accepts(&[4]));
        assert!(!InputShape::Vector(4).accepts(&[3, 40, 40]));
        let img = InputShape::Image { channels: 3, height: 40, width: 40 };
        assert!(img.accepts(&[3, 40, 40]) && !img.accepts(&[3, 40, 41]) && !img.accepts(&[120]));
        let any = InputShape::AnyImage { channels: 3, min_side: 32 };
        assert!(any.accepts(&[3, 32, 200]) && !any.accepts(&[3, 31, 200]));
        assert!(!any.accepts(&[1, 64, 64]));
        assert_eq!(img.to_string(), "[3, 40, 40] images");
    }
}
