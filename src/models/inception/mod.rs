//! Inception-v3 (Szegedy et al. 2016), exact to torchvision 0.26: [`network`] holds the
//! configuration and the network, `blocks` the Inception-A–E blocks and the auxiliary
//! classifier it is built from.

mod blocks;
pub mod network;

pub use network::{
    inception_v3, InceptionV3, InceptionV3Config, FEATURE_DIM, MIN_SIDE, MIN_SIDE_WITH_AUX,
};
